/* The Unified Kernel Image: Debian's systemd-stub with the image's os-release, cmdline,
 * kernel version, initramfs and kernel added as sections by objcopy, then made
 * reproducible and checked section by section. There is no ukify in Debian 12. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/uefi.h>

#include "uefi-internal.h"

#define PAGE		 4096u
#define MAX_SECTION_FILE (512u << 20)

const char *lethe_uefi_tool_path(enum lethe_uefi_file f)
{
	const char *env =
		f == LETHE_UEFI_FILE_STUB ? LETHE_UEFI_STUB_ENV : LETHE_UEFI_SYSTEMD_BOOT_ENV;
	const char *v = getenv(env);

	if (v && *v)
		return v;
	return f == LETHE_UEFI_FILE_STUB ? LETHE_UEFI_STUB : LETHE_UEFI_SYSTEMD_BOOT;
}

static int need_file(const char *path, const char *what, const char *package)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || access(path, R_OK) < 0)
		return lethe_error(-ENOENT, "cannot read %s '%s': %s (install %s)", what, path,
				   errno ? strerror(errno) : "not a regular file", package);
	return 0;
}

static int need_program(const char *name, const char *package)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	char p[256];

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof(p), "%s/%s", dirs[i], name);
		if (access(p, X_OK) == 0)
			return 0;
	}
	return lethe_error(-ENOENT, "cannot find '%s' for the UEFI boot files (install %s)", name,
			   package);
}

int lethe_uefi_check_tools(void)
{
	int r;

	errno = 0;
	r = need_file(lethe_uefi_tool_path(LETHE_UEFI_FILE_STUB), "the UKI stub",
		      "systemd-boot-efi");
	if (r >= 0)
		r = need_file(lethe_uefi_tool_path(LETHE_UEFI_FILE_SYSTEMD_BOOT), "the boot loader",
			      "systemd-boot-efi");
	if (r >= 0)
		r = need_program("objcopy", "binutils");
	if (r >= 0)
		r = need_program("mkfs.vfat", "dosfstools");
	if (r >= 0)
		r = need_program("mmd", "mtools");
	if (r >= 0)
		r = need_program("mcopy", "mtools");
	return r;
}

static int read_pe(const char *path, struct lethe_buf *ret_buf, struct lethe_pe *ret_pe)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	r = lethe_file_read(path, LETHE_PE_MAX_SIZE, &data, &len);
	if (r < 0)
		return lethe_error(r, "cannot read '%s': %s", path, strerror(-r));
	r = lethe_pe_parse(data, len, path, ret_pe);
	if (r >= 0 && ret_buf)
		r = lethe_buf_append(ret_buf, data, len);
	free(data);
	return r;
}

struct section_in {
	const char *name;
	const char *path; /* a file to add */
	uint64_t size;
	uint64_t vma;
};

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE - 1) / PAGE * PAGE;
}

static int write_text(const char *dir, const char *name, const char *text, char **ret)
{
	char *p = lethe_path_join(dir, name);
	int r;

	if (!p)
		return -ENOMEM;
	r = lethe_file_write_atomic(p, text, strlen(text), 0644);
	if (r < 0) {
		r = lethe_error(r, "cannot write '%s': %s", p, strerror(-r));
		free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/* objcopy STUB OUT with every section added at its address. */
static int run_objcopy(const char *stub, const char *out, struct section_in *s, size_t n)
{
	struct lethe_strv argv = { 0 };
	struct lethe_buf b = { 0 };
	int r = lethe_strv_push(&argv, "objcopy");

	for (size_t i = 0; i < n && r >= 0; i++) {
		lethe_buf_release(&b);
		r = lethe_buf_printf(&b, "%s=%s", s[i].name, s[i].path);
		if (r >= 0)
			r = lethe_strv_push(&argv, "--add-section");
		if (r >= 0)
			r = lethe_strv_push(&argv, b.data);
		lethe_buf_release(&b);
		if (r >= 0)
			r = lethe_buf_printf(&b, "%s=0x%" PRIx64, s[i].name, s[i].vma);
		if (r >= 0)
			r = lethe_strv_push(&argv, "--change-section-vma");
		if (r >= 0)
			r = lethe_strv_push(&argv, b.data);
	}
	if (r >= 0)
		r = lethe_strv_push(&argv, stub);
	if (r >= 0)
		r = lethe_strv_push(&argv, out);
	if (r >= 0)
		r = uefi_run(argv.v, -1);
	lethe_buf_release(&b);
	lethe_strv_release(&argv);
	return r;
}

/* Each added section holds exactly its file, at its address. */
static int check_sections(const struct lethe_buf *uki, const struct lethe_pe *pe, const char *out,
			  const struct section_in *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct lethe_pe_section *sec = lethe_pe_find(pe, s[i].name);
		char *want = NULL;
		size_t len = 0;
		int r;

		if (!sec || sec->vaddr != s[i].vma || lethe_pe_section_len(sec) != s[i].size)
			return lethe_error(-LETHE_E_INVALID,
					   "'%s': objcopy did not place section "
					   "%s as asked",
					   out, s[i].name);
		r = lethe_file_read(s[i].path, MAX_SECTION_FILE, &want, &len);
		if (r < 0)
			return lethe_error(r, "cannot read '%s': %s", s[i].path, strerror(-r));
		r = len == s[i].size && !memcmp(uki->data + sec->raw_offset, want, len)
			    ? 0
			    : lethe_error(-LETHE_E_INVALID, "'%s': section %s does not hold '%s'",
					  out, s[i].name, s[i].path);
		free(want);
		if (r < 0)
			return r;
	}
	return 0;
}

int lethe_uki_make(const struct lethe_uki_options *o)
{
	const char *stub = o->stub ? o->stub : lethe_uefi_tool_path(LETHE_UEFI_FILE_STUB);
	struct section_in s[5] = {
		{ .name = ".osrel" },
		{ .name = ".cmdline" },
		{ .name = ".uname" },
		{ .name = ".initrd", .path = o->initrd_path },
		{ .name = ".linux", .path = o->linux_path },
	};
	char *osrel = NULL, *cmdline = NULL, *uname = NULL, *raw = NULL;
	struct lethe_buf uki = { 0 };
	struct lethe_pe *pe = calloc(1, sizeof(*pe));
	size_t n = LETHE_ARRAY_SIZE(s);
	uint64_t vma;
	int r;

	if (!pe)
		return -ENOMEM;
	if (strchr(o->cmdline, '\n')) {
		r = lethe_error(-LETHE_E_INVALID, "the UKI's cmdline must be one line");
		goto out;
	}
	r = read_pe(stub, NULL, pe);
	if (r < 0)
		goto out;
	if (lethe_pe_find(pe, ".linux") || lethe_pe_find(pe, ".cmdline")) {
		r = lethe_error(-LETHE_E_INVALID,
				"'%s' already has UKI sections: not a bare "
				"systemd-stub",
				stub);
		goto out;
	}
	r = write_text(o->workdir, "uki.osrel", o->osrel, &osrel);
	if (r >= 0)
		r = write_text(o->workdir, "uki.cmdline", o->cmdline, &cmdline);
	if (r >= 0 && o->uname)
		r = write_text(o->workdir, "uki.uname", o->uname, &uname);
	if (r >= 0)
		r = (raw = lethe_path_join(o->workdir, "uki.raw")) ? 0 : -ENOMEM;
	if (r < 0)
		goto out;
	s[0].path = osrel;
	s[1].path = cmdline;
	s[2].path = uname;
	if (!uname) { /* no .uname: drop it from the list */
		memmove(&s[2], &s[3], 2 * sizeof(s[0]));
		n--;
	}
	/* Placed after the stub's last section: the man page's fixed addresses would
	 * overlap a kernel larger than 16 MiB. */
	vma = page_up(pe->image_end);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (stat(s[i].path, &st) < 0) {
			r = lethe_error(-errno, "cannot read '%s': %m", s[i].path);
			goto out;
		}
		s[i].size = (uint64_t)st.st_size;
		s[i].vma = vma;
		vma = page_up(vma + s[i].size);
		if (vma > UINT32_MAX / 2) {
			r = lethe_error(-EFBIG, "the UKI would be larger than 2 GiB");
			goto out;
		}
	}
	r = run_objcopy(stub, raw, s, n);
	if (r >= 0)
		r = read_pe(raw, &uki, pe);
	if (r >= 0)
		r = check_sections(&uki, pe, o->output, s, n);
	/* objcopy writes the time into TimeDateStamp, whatever SOURCE_DATE_EPOCH says. */
	if (r >= 0)
		r = lethe_pe_normalize(&uki, o->output);
	if (r >= 0) {
		r = lethe_file_write_atomic(o->output, uki.data, uki.len, 0644);
		if (r < 0)
			r = lethe_error(r, "cannot write '%s': %s", o->output, strerror(-r));
	}
out:
	for (size_t i = 0; i < 3; i++) {
		char *p = i == 0 ? osrel : i == 1 ? cmdline : uname;

		if (p)
			unlink(p);
	}
	if (raw)
		unlink(raw);
	free(osrel);
	free(cmdline);
	free(uname);
	free(raw);
	free(pe);
	lethe_buf_release(&uki);
	return r;
}

int lethe_uki_read_section(const char *path, const char *name, char **ret_data, size_t *ret_len)
{
	struct lethe_buf b = { 0 };
	struct lethe_pe *pe = malloc(sizeof(*pe));
	const struct lethe_pe_section *s;
	char *copy;
	int r;

	if (!pe)
		return -ENOMEM;
	r = read_pe(path, &b, pe);
	if (r < 0)
		goto out;
	s = lethe_pe_find(pe, name);
	if (!s) {
		r = lethe_error(-ENOENT, "'%s' has no section %s", path, name);
		goto out;
	}
	copy = malloc((size_t)lethe_pe_section_len(s) + 1);
	if (!copy) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(copy, b.data + s->raw_offset, lethe_pe_section_len(s));
	copy[lethe_pe_section_len(s)] = '\0';
	*ret_data = copy;
	*ret_len = lethe_pe_section_len(s);
out:
	lethe_buf_release(&b);
	free(pe);
	return r;
}
