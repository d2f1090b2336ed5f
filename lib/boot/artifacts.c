/* The boot artifacts of a build in one call: vmlinuz, initramfs.img and cmdline. */
#include <errno.h>

#include <lethe/boot.h>
#include <lethe/release.h>

#include "boot-internal.h"

#define MAX_KERNEL_SIZE (128u << 20)

const enum lethe_release_artifact lethe_boot_artifacts[LETHE_BOOT_N_ARTIFACTS] = {
	LETHE_ARTIFACT_KERNEL,
	LETHE_ARTIFACT_INITRAMFS,
	LETHE_ARTIFACT_CMDLINE,
};

static int copy_kernel(const char *kernel_dir, const char *version, const char *dest)
{
	struct lethe_buf src = { 0 };
	char *data = NULL;
	size_t len;
	int r;

	r = lethe_buf_printf(&src, "boot/vmlinuz-%s", version);
	if (r < 0)
		return r;
	/* Never through a link: the package's vmlinuz must be its own regular file. */
	r = boot_kernel_read(kernel_dir, src.data, MAX_KERNEL_SIZE, &data, &len);
	if (r >= 0)
		r = lethe_file_write_atomic(dest, data, len, 0644);
	free(data);
	lethe_buf_release(&src);
	return r;
}

static char *out_path(const char *outdir, const char *name)
{
	return lethe_path_join(outdir, name);
}

/* The kernel profile's modules, the spec's, and those lethe-init needs whatever the
 * spec says: loop, for lethe.toram's copy of the boot medium in RAM and for the
 * partitions of a CD-ROM. */
static int wanted_modules(const struct lethe_spec_kernel *kernel, struct lethe_strv *ret)
{
	static const char *const init_modules[] = { "loop" };
	const char *const *prof =
		kernel ? lethe_kernel_profile_get(kernel->profile)->modules : NULL;
	int r = 0;

	for (; prof && *prof && r >= 0; prof++)
		r = lethe_strv_push(ret, *prof);
	for (size_t i = 0; kernel && i < kernel->modules.n && r >= 0; i++)
		if (!lethe_strv_contains(ret, kernel->modules.v[i]))
			r = lethe_strv_push(ret, kernel->modules.v[i]);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(init_modules) && r >= 0; i++)
		if (!lethe_strv_contains(ret, init_modules[i]))
			r = lethe_strv_push(ret, init_modules[i]);
	return r;
}

int lethe_boot_make_artifacts(const struct lethe_boot_artifacts *a)
{
	struct lethe_boot_modules mods = { 0 };
	struct lethe_strv wanted = { 0 };
	char *version = NULL, *cmdline = NULL, *p = NULL;
	struct lethe_buf line = { 0 };
	int r;

	r = lethe_boot_kernel_version(a->kernel_dir, &version);
	if (r < 0)
		return r;
	r = lethe_boot_depmod(a->kernel_dir, version);
	if (r >= 0)
		r = wanted_modules(a->kernel, &wanted);
	if (r < 0)
		goto out;
	r = lethe_boot_modules_resolve(a->kernel_dir, version, &wanted, &mods);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < mods.builtin.n; i++)
		lethe_log(LETHE_LOG_INFO, "kernel module '%s' is built into %s: nothing to load",
			  mods.builtin.v[i], version);
	p = out_path(a->outdir, lethe_release_name(LETHE_ARTIFACT_KERNEL));
	r = p ? copy_kernel(a->kernel_dir, version, p) : -ENOMEM;
	free(p);
	if (r < 0)
		goto out;
	p = out_path(a->outdir, lethe_release_name(LETHE_ARTIFACT_INITRAMFS));
	r = p ? lethe_boot_initramfs_write(
			p, &(struct lethe_boot_initramfs){ .init = a->init,
							   .kernel_dir = a->kernel_dir,
							   .version = version,
							   .modules = &mods,
							   .mtime = a->mtime })
	      : -ENOMEM;
	free(p);
	if (r < 0)
		goto out;
	r = lethe_boot_cmdline_make(a->kernel, a->roothash_hex, &cmdline);
	if (r >= 0)
		r = lethe_buf_printf(&line, "%s\n", cmdline);
	p = out_path(a->outdir, lethe_release_name(LETHE_ARTIFACT_CMDLINE));
	if (r >= 0)
		r = p ? lethe_file_write_atomic(p, line.data, line.len, 0644) : -ENOMEM;
	free(p);
out:
	lethe_buf_release(&line);
	free(cmdline);
	lethe_strv_release(&wanted);
	lethe_boot_modules_release(&mods);
	free(version);
	return r;
}
