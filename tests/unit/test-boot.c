/* Unit tests of lib/boot: module resolution, the initramfs, the cmdline. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include <lethe/boot.h>
#include <lethe/release.h>
#include <lethe/hardening.h>

#include "helpers.h"

static char tmpdir[] = "/tmp/lethe-test-boot.XXXXXX";

static void put(const char *rel, const char *text)
{
	ut_put(tmpdir, rel, text, 0644);
}

/* A fake kernel package: virtio_blk needs virtio and virtio_ring, virtio needs
 * virtio_ring; dm-verity needs dm-mod; ext4 is built in. */
static int setup(void **state)
{
	assert_non_null(mkdtemp(tmpdir));
	put("k/boot/vmlinuz-9.9-test", "KERNEL");
	put("k/lib/modules/9.9-test/modules.dep",
	    "kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko "
	    "kernel/drivers/virtio/virtio_ring.ko\n"
	    "kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko\n"
	    "\n"
	    "kernel/drivers/virtio/virtio_ring.ko:\n"
	    "kernel/drivers/md/dm-verity.ko: kernel/drivers/md/dm-mod.ko\n"
	    "kernel/drivers/md/dm-mod.ko:\n"
	    "kernel/a.ko: kernel/b.ko\n"
	    "kernel/b.ko: kernel/a.ko\n");
	/* loop is built in here: lethe-init always asks for it (lethe.toram). */
	put("k/lib/modules/9.9-test/modules.builtin",
	    "kernel/fs/ext4/ext4.ko\nkernel/drivers/block/loop.ko\n");
	put("k/lib/modules/9.9-test/kernel/drivers/block/virtio_blk.ko", "BLK");
	put("k/lib/modules/9.9-test/kernel/drivers/virtio/virtio.ko", "VIRTIO");
	put("k/lib/modules/9.9-test/kernel/drivers/virtio/virtio_ring.ko", "RING");
	put("k/lib/modules/9.9-test/kernel/drivers/md/dm-verity.ko", "VERITY");
	put("k/lib/modules/9.9-test/kernel/drivers/md/dm-mod.ko", "DMMOD");
	put("init", "#!/bin/sh\n");
	return 0;
}

static int teardown(void **state)
{
	lethe_rm_rf(tmpdir);
	return 0;
}

static char *kdir(void)
{
	return lethe_path_join(tmpdir, "k");
}

static void test_kernel_version(void **state)
{
	char *k = kdir(), *v = NULL;

	assert_int_equal(lethe_boot_kernel_version(k, &v), 0);
	assert_string_equal(v, "9.9-test");
	free(v);
	free(k);
}

static void test_modules_order(void **state)
{
	struct lethe_strv want = { 0 };
	struct lethe_boot_modules m = { 0 };
	char *k = kdir();

	lethe_strv_push(&want, "virtio-blk");
	lethe_strv_push(&want, "dm_verity");
	lethe_strv_push(&want, "virtio");
	lethe_strv_push(&want, "ext4");
	assert_int_equal(lethe_boot_modules_resolve(k, "9.9-test", &want, &m), 0);
	assert_int_equal(m.n, 5);
	assert_string_equal(m.v[0].name, "virtio_ring");
	assert_string_equal(m.v[1].name, "virtio");
	assert_string_equal(m.v[2].name, "virtio_blk");
	assert_string_equal(m.v[2].path, "kernel/drivers/block/virtio_blk.ko");
	assert_string_equal(m.v[3].name, "dm_mod");
	assert_string_equal(m.v[4].name, "dm_verity");
	assert_int_equal(m.builtin.n, 1);
	assert_string_equal(m.builtin.v[0], "ext4");
	lethe_boot_modules_release(&m);
	lethe_strv_release(&want);
	free(k);
}

static void test_modules_errors(void **state)
{
	struct lethe_strv want = { 0 };
	struct lethe_boot_modules m = { 0 };
	char *k = kdir();

	lethe_strv_push(&want, "nosuchmod");
	assert_int_equal(lethe_boot_modules_resolve(k, "9.9-test", &want, &m), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "nosuchmod"));
	lethe_strv_release(&want);
	lethe_strv_push(&want, "a");
	assert_int_equal(lethe_boot_modules_resolve(k, "9.9-test", &want, &m), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "cycle"));
	lethe_strv_release(&want);
	assert_int_equal(lethe_boot_modules_resolve(k, "0.0-none", &want, &m), -ENOENT);
	free(k);
}

/* Read the initramfs back: names, in order, with owner, mtime and content checked. */
static void check_initramfs(const char *path)
{
	static const char *const names[] = {
		"dev",
		"dev/console",
		"etc",
		"etc/lethe",
		"etc/lethe/modules",
		"init",
		"lib",
		"lib/modules",
		"lib/modules/9.9-test",
		"lib/modules/9.9-test/kernel",
		"lib/modules/9.9-test/kernel/drivers",
		"lib/modules/9.9-test/kernel/drivers/md",
		"lib/modules/9.9-test/kernel/drivers/md/dm-mod.ko",
		"lib/modules/9.9-test/kernel/drivers/md/dm-verity.ko",
		"newroot",
		"proc",
		"run",
		"sys",
	};
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	size_t i = 0;
	char buf[256];

	archive_read_support_format_cpio(a);
	archive_read_support_filter_gzip(a);
	assert_int_equal(archive_read_open_filename(a, path, 4096), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		assert_true(i < LETHE_ARRAY_SIZE(names));
		assert_string_equal(archive_entry_pathname(e), names[i]);
		assert_int_equal(archive_entry_uid(e), 0);
		assert_int_equal(archive_entry_mtime(e), 1700000000);
		if (!strcmp(names[i], "etc/lethe/modules")) {
			la_ssize_t n = archive_read_data(a, buf, sizeof(buf) - 1);

			assert_true(n > 0);
			buf[n] = '\0';
			assert_non_null(strstr(buf, "\n# built in: ext4\n"));
			assert_non_null(strstr(
				buf, "\n/lib/modules/9.9-test/kernel/drivers/md/dm-mod.ko\n"
				     "/lib/modules/9.9-test/kernel/drivers/md/dm-verity.ko\n"));
		}
		if (strstr(names[i], "dm-verity.ko")) {
			assert_int_equal(archive_read_data(a, buf, sizeof(buf)), 6);
			assert_memory_equal(buf, "VERITY", 6);
		}
		if (!strcmp(names[i], "init"))
			assert_int_equal(archive_entry_perm(e), 0755);
		i++;
	}
	assert_int_equal(i, LETHE_ARRAY_SIZE(names));
	archive_read_free(a);
}

static void test_initramfs_reproducible(void **state)
{
	struct lethe_strv want = { 0 };
	struct lethe_boot_modules m = { 0 };
	char *k = kdir(), *init = lethe_path_join(tmpdir, "init");
	char *p1 = lethe_path_join(tmpdir, "i1.img"), *p2 = lethe_path_join(tmpdir, "i2.img");
	char *d1 = NULL, *d2 = NULL;
	size_t l1, l2;

	lethe_strv_push(&want, "dm-verity");
	lethe_strv_push(&want, "ext4"); /* built in: a comment in the list, no file */
	assert_int_equal(lethe_boot_modules_resolve(k, "9.9-test", &want, &m), 0);
	struct lethe_boot_initramfs o = { .init = init,
					  .kernel_dir = k,
					  .version = "9.9-test",
					  .modules = &m,
					  .mtime = 1700000000 };
	if (lethe_boot_initramfs_write(p1, &o) < 0)
		fail_msg("%s", lethe_error_message());
	sleep(1); /* a time that leaked into the output would differ now */
	assert_int_equal(lethe_boot_initramfs_write(p2, &o), 0);
	assert_int_equal(lethe_file_read(p1, 1 << 20, &d1, &l1), 0);
	assert_int_equal(lethe_file_read(p2, 1 << 20, &d2, &l2), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(d1, d2, l1);
	assert_int_equal((unsigned char)d1[0], 0x1f); /* gzip */
	check_initramfs(p1);
	free(d1);
	free(d2);
	free(p1);
	free(p2);
	free(init);
	free(k);
	lethe_boot_modules_release(&m);
	lethe_strv_release(&want);
}

static void test_cmdline_split(void **state)
{
	struct lethe_strv w = { 0 };

	assert_int_equal(lethe_boot_cmdline_split("  a=1 b=\"x y\"  \"c d\" e\n", &w), 0);
	assert_int_equal(w.n, 4);
	assert_string_equal(w.v[0], "a=1");
	assert_string_equal(w.v[1], "b=x y");
	assert_string_equal(w.v[2], "c d");
	assert_string_equal(w.v[3], "e");
	lethe_strv_release(&w);
	assert_int_equal(lethe_boot_cmdline_split("a=\"open", &w), -EBADMSG);
	lethe_strv_release(&w);
	assert_int_equal(lethe_boot_cmdline_key_len("lockdown=integrity"), 8);
	assert_int_equal(lethe_boot_cmdline_key_len("slab_nomerge"), 12);
}

static void test_cmdline_make(void **state)
{
	struct lethe_spec_kernel k = { 0 };
	const char *rh = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char *c = NULL;

	lethe_strv_push(&k.cmdline, "quiet");
	lethe_strv_push(&k.cmdline, "lethe.motd=hello world");
	lethe_strv_push(&k.unsafe, "init_on_free");
	lethe_strv_push(&k.unsafe, "lockdown=integrity");
	lethe_strv_push(&k.unsafe, "vsyscall=emulate"); /* names nothing on the line */
	assert_int_equal(lethe_boot_cmdline_make(&k, rh, &c), 0);
	assert_string_equal(c, "console=ttyS0 quiet lethe.motd=\"hello world\" init_on_alloc=1 "
			       "slab_nomerge page_alloc.shuffle=1 randomize_kstack_offset=on "
			       "vsyscall=none debugfs=off module.sig_enforce=1 "
			       "lethe.roothash=00112233445566778899"
			       "aabbccddeeff00112233445566778899aabbccddeeff");
	free(c);
	assert_int_equal(lethe_boot_cmdline_make(NULL, "ABCD", &c), -EBADMSG);
	lethe_strv_push(&k.cmdline, "lethe.roothash=00");
	assert_int_equal(lethe_boot_cmdline_make(&k, rh, &c), -EBADMSG);
	lethe_strv_release(&k.cmdline);
	lethe_strv_release(&k.unsafe);
	assert_int_equal(lethe_boot_cmdline_make(NULL, rh, &c), 0);
	assert_non_null(strstr(c, "init_on_free=1 init_on_alloc=1 "));
	assert_non_null(strstr(c, " lockdown=integrity module.sig_enforce=1 lethe.roothash="));
	free(c);
}

/* Every spelling that undoes a default, and what it undoes. */
static const struct {
	const char *word, *undoes;
} weakening[] = {
	{ "init_on_free=0", "init_on_free=1" },
	{ "init-on-free=0", "init_on_free=1" },
	{ "init_on-free=off", "init_on_free=1" },
	{ "init_on_free", "init_on_free=1" },
	{ "page_poison=1", "init_on_free=1" },
	{ "slub_debug=P", "init_on_free=1" },
	{ "slab_debug", "init_on_free=1" },
	{ "init_on_alloc=0", "init_on_alloc=1" },
	{ "init-on-alloc=n", "init_on_alloc=1" },
	{ "slab_merge", "slab_nomerge" },
	{ "slab-merge", "slab_nomerge" },
	{ "slub_merge", "slab_nomerge" },
	{ "slab_merge_now", "slab_nomerge" }, /* __setup() matches by prefix */
	{ "slab_nomerge=0", "slab_nomerge" },
	{ "page_alloc.shuffle=0", "page_alloc.shuffle=1" },
	{ "page-alloc.shuffle=0", "page_alloc.shuffle=1" },
	{ "randomize_kstack_offset=off", "randomize_kstack_offset=on" },
	{ "randomize-kstack-offset=0", "randomize_kstack_offset=on" },
	{ "vsyscall=emulate", "vsyscall=none" },
	{ "vsyscall=xonly", "vsyscall=none" },
	{ "debugfs=on", "debugfs=off" },
	{ "debugfs=no-mount", "debugfs=off" },
	{ "lockdown=none", "lockdown=integrity" },
	{ "lsm=yama,apparmor", "lockdown=integrity" },
	{ "lsm=", "lockdown=integrity" },
	{ "security=apparmor", "lockdown=integrity" },
	{ "module.sig_enforce=0", "module.sig_enforce=1" },
	{ "module.sig-enforce=0", "module.sig_enforce=1" },
	{ "nokaslr", "kaslr" },
	{ "mitigations=off", "mitigations" },
	{ "nopti", "mitigations" },
	{ "spectre_v2=off", "mitigations" },
	{ "nospectre-v2", "mitigations" },
};

/* Harmless words, and those that keep a default or make it stronger. */
static const char *const harmless[] = {
	"quiet",
	"loglevel=3",
	"init_on_free=1",
	"init-on-free=1",
	"slab_nomerge",
	"slab-nomerge",
	"lockdown=confidentiality",
	"lsm=lockdown,yama,apparmor",
	"mitigations=auto,nosmt",
	"spectre_v2=on",
	"module_blacklist=floppy",
	"page_alloc.shuffle=1",
	"debugfs=off",
	"pti=on",
};

static void test_cmdline_weakening(void **state)
{
	const char *rh = "00112233445566778899aabbccddeeff";

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(weakening); i++) {
		struct lethe_spec_kernel k = { 0 };
		const char *def = NULL;
		char *c = NULL;

		print_message("%s\n", weakening[i].word);
		assert_int_equal(lethe_boot_cmdline_check(weakening[i].word, NULL, &def),
				 -LETHE_E_INVALID);
		assert_non_null(def);
		assert_string_equal(def, weakening[i].undoes);
		lethe_strv_push(&k.cmdline, weakening[i].word);
		assert_int_equal(lethe_boot_cmdline_make(&k, rh, &c), -LETHE_E_INVALID);
		assert_non_null(strstr(lethe_error_message(), "overrides the hardening default"));
		/* Named in kernel.unsafe (every default it undoes), it is allowed. */
		for (size_t j = 0; j < LETHE_HARDENING_N_PARAMS; j++)
			if (lethe_hardening_undoes(&lethe_hardening_params[j], weakening[i].word))
				lethe_strv_push(&k.unsafe,
						lethe_hardening_id(&lethe_hardening_params[j]));
		assert_int_equal(lethe_boot_cmdline_make(&k, rh, &c), 0);
		assert_non_null(strstr(c, weakening[i].word));
		/* The waived default is not written after the spec's word. */
		if (strcmp(weakening[i].undoes, "kaslr") &&
		    strcmp(weakening[i].undoes, "mitigations"))
			assert_null(strstr(strstr(c, weakening[i].word) + strlen(weakening[i].word),
					   weakening[i].undoes));
		free(c);
		lethe_strv_release(&k.cmdline);
		lethe_strv_release(&k.unsafe);
	}
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(harmless); i++) {
		print_message("%s\n", harmless[i]);
		assert_int_equal(lethe_boot_cmdline_check(harmless[i], NULL, NULL), 0);
	}
	assert_int_equal(lethe_boot_cmdline_check("--", NULL, NULL), -LETHE_E_INVALID);
	assert_int_equal(lethe_boot_cmdline_check("lethe.roothash=00", NULL, NULL),
			 -LETHE_E_INVALID);
}

/* The defaults come after the spec's words: the kernel takes the last occurrence. */
static void test_cmdline_defaults_last(void **state)
{
	struct lethe_spec_kernel k = { 0 };
	struct lethe_strv w = { 0 };
	char *c = NULL;

	lethe_strv_push(&k.cmdline, "quiet");
	assert_int_equal(lethe_boot_cmdline_make(&k, "00112233445566778899aabbccddeeff", &c), 0);
	assert_int_equal(lethe_boot_cmdline_split(c, &w), 0);
	assert_string_equal(w.v[1], "quiet");
	for (size_t i = 0, j = 2; i < LETHE_HARDENING_N_PARAMS; i++)
		if (lethe_hardening_params[i].word)
			assert_string_equal(w.v[j++], lethe_hardening_params[i].word);
	free(c);
	lethe_strv_release(&w);
	lethe_strv_release(&k.cmdline);
}

/* The spec check refuses the same words, naming the spec file and line. */
static void test_cmdline_spec_check(void **state)
{
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(weakening); i++) {
		struct lethe_spec *spec = NULL;
		char text[512], want[256];

		snprintf(text, sizeof(text),
			 "name: t\nversion: \"1\"\npackages: [busybox-static]\nkernel:\n"
			 "  cmdline: [quiet, \"%s\"]\n",
			 weakening[i].word);
		snprintf(want, sizeof(want),
			 "spec 'w.yaml' line 5 column 12: kernel.cmdline '%s' overrides the "
			 "hardening default '%s'; name it in kernel.unsafe instead",
			 weakening[i].word, weakening[i].undoes);
		lethe_error_clear();
		assert_int_equal(lethe_spec_parse("w.yaml", NULL, text, strlen(text), &spec),
				 -LETHE_E_INVALID);
		assert_non_null(lethe_error_message());
		assert_string_equal(lethe_error_message(), want);
		/* Waived by kernel.unsafe (by name), the same word is accepted. */
		struct lethe_buf names = { 0 };

		for (size_t j = 0; j < LETHE_HARDENING_N_PARAMS; j++)
			if (lethe_hardening_undoes(&lethe_hardening_params[j], weakening[i].word))
				lethe_buf_printf(&names, "%s%s", names.len ? ", " : "",
						 lethe_hardening_params[j].name);
		snprintf(text, sizeof(text),
			 "name: t\nversion: \"1\"\npackages: [busybox-static]\nkernel:\n"
			 "  unsafe: [%s]\n  cmdline: [quiet, \"%s\"]\n",
			 names.data, weakening[i].word);
		lethe_buf_release(&names);
		assert_int_equal(lethe_spec_parse("w.yaml", NULL, text, strlen(text), &spec), 0);
		spec = lethe_spec_free(spec);
	}
}

static void test_make_artifacts(void **state)
{
	struct lethe_spec_kernel k = { 0 };
	char *kd = kdir(), *init = lethe_path_join(tmpdir, "init");
	char *out = lethe_path_join(tmpdir, "out"), *p, *data;
	size_t len;

	lethe_strv_push(&k.modules, "virtio_blk");
	assert_int_equal(lethe_mkdir_p(out, 0755), 0);
	struct lethe_boot_artifacts a = { .outdir = out,
					  .kernel = &k,
					  .kernel_dir = kd,
					  .init = init,
					  .roothash_hex = "0123456789abcdef0123456789abcdef",
					  .mtime = 1 };
	assert_int_equal(lethe_boot_make_artifacts(&a), 0);
	p = lethe_path_join(out, "vmlinuz");
	assert_int_equal(lethe_file_read(p, 100, &data, &len), 0);
	assert_string_equal(data, "KERNEL");
	free(data);
	free(p);
	p = lethe_path_join(out, "cmdline");
	assert_int_equal(lethe_file_read(p, 4096, &data, &len), 0);
	assert_non_null(strstr(data, " lethe.roothash=0123456789abcdef0123456789abcdef\n"));
	assert_int_equal(data[len - 1], '\n');
	assert_null(strchr(data, '\n') + 1 - data < (ptrdiff_t)len ? "two lines" : NULL);
	free(data);
	free(p);
	for (size_t i = 0; i < LETHE_BOOT_N_ARTIFACTS; i++) {
		p = lethe_path_join(out, lethe_release_name(lethe_boot_artifacts[i]));
		assert_int_equal(access(p, R_OK), 0);
		free(p);
	}
	/* A profile's modules join the spec's: this kernel has no xhci_pci. */
	k.profile = LETHE_KERNEL_PROFILE_HARDWARE;
	lethe_error_clear();
	assert_int_equal(lethe_boot_make_artifacts(&a), -LETHE_E_INVALID);
	assert_non_null(strstr(lethe_error_message(), "has no module 'virtio_pci'"));
	lethe_strv_release(&k.modules);
	free(out);
	free(init);
	free(kd);
}

/* Soft dependencies (modules.softdep, from modinfo softdep=) join the closure: pre:
 * before the module, post: after it; absent ones are soft, soft cycles are no error. */
static void test_modules_softdep(void **state)
{
	char *kd = lethe_path_join(tmpdir, "s");
	struct lethe_boot_modules m = { 0 };
	struct lethe_strv want = { 0 };

	put("s/lib/modules/2.0/modules.dep",
	    "kernel/crypto/xts.ko:\nkernel/crypto/ecb.ko: kernel/crypto/cipher.ko\n"
	    "kernel/crypto/cipher.ko:\nkernel/drivers/md/dm-crypt.ko: kernel/drivers/md/dm-mod.ko\n"
	    "kernel/drivers/md/dm-mod.ko:\nkernel/crypto/essiv.ko:\nkernel/x/p.ko:\nkernel/x/"
	    "q.ko:\n");
	put("s/lib/modules/2.0/modules.softdep",
	    "# Soft dependencies extracted from modules themselves.\n"
	    "softdep xts pre: ecb\n"
	    "softdep dm_crypt pre: not-here\nsoftdep dm_crypt post: essiv\n"
	    "softdep p pre: q\nsoftdep q pre: p\n");
	lethe_strv_push(&want, "xts");
	lethe_strv_push(&want, "dm-crypt");
	lethe_strv_push(&want, "p");
	assert_int_equal(lethe_boot_modules_resolve(kd, "2.0", &want, &m), 0);
	assert_int_equal(m.n, 8);
	assert_string_equal(m.v[0].name, "cipher");
	assert_string_equal(m.v[1].name, "ecb");
	assert_string_equal(m.v[2].name, "xts");
	assert_string_equal(m.v[3].name, "dm_mod");
	assert_string_equal(m.v[4].name, "dm_crypt");
	assert_string_equal(m.v[5].name, "essiv");
	assert_string_equal(m.v[6].name, "q");
	assert_string_equal(m.v[7].name, "p");
	lethe_boot_modules_release(&m);
	/* A name before pre:/post: (cifs has MODULE_SOFTDEP("gcm")) is ignored, as by
	 * modprobe; a line that is not softdep is an error naming the line. */
	put("s/lib/modules/2.0/modules.softdep", "softdep xts ecb\n");
	assert_int_equal(lethe_boot_modules_resolve(kd, "2.0", &want, &m), 0);
	assert_string_equal(m.v[0].name, "xts");
	lethe_boot_modules_release(&m);
	put("s/lib/modules/2.0/modules.softdep", "# c\nalias xts ecb\n");
	assert_int_equal(lethe_boot_modules_resolve(kd, "2.0", &want, &m), -LETHE_E_INVALID);
	assert_non_null(strstr(lethe_error_message(), "modules.softdep' line 2"));
	lethe_strv_release(&want);
	/* A soft dependency may name an alias (libcrc32c: "pre: crc32c"): every module
	 * with that plain alias comes first; wildcard aliases are not matched. */
	put("s/lib/modules/2.0/modules.dep",
	    "kernel/lib/libcrc32c.ko:\nkernel/crypto/crc32c_generic.ko:\n"
	    "kernel/arch/x86/crypto/crc32c-intel.ko:\nkernel/x/other.ko:\n");
	put("s/lib/modules/2.0/modules.softdep", "softdep libcrc32c pre: crc32c\n");
	put("s/lib/modules/2.0/modules.alias",
	    "alias crypto-crc32c crc32c_intel\nalias crc32c crc32c_intel\n"
	    "alias crc32c crc32c_generic\nalias crc32* other\nalias crc32cx other\n");
	lethe_strv_push(&want, "libcrc32c");
	assert_int_equal(lethe_boot_modules_resolve(kd, "2.0", &want, &m), 0);
	assert_int_equal(m.n, 3);
	assert_string_equal(m.v[0].name, "crc32c_intel");
	assert_string_equal(m.v[1].name, "crc32c_generic");
	assert_string_equal(m.v[2].name, "libcrc32c");
	lethe_boot_modules_release(&m);
	lethe_strv_release(&want);
	free(kd);
}

/* A package h whose files are links to a host file: nothing of it may be read. */
static void test_kernel_links(void **state)
{
	char *kd = lethe_path_join(tmpdir, "h"), *host = lethe_path_join(tmpdir, "host-secret");
	char *out = lethe_path_join(tmpdir, "hout"), *init = lethe_path_join(tmpdir, "init");
	char *vmlinuz = lethe_path_join(kd, "boot/vmlinuz-1.0");
	char *mod = lethe_path_join(kd, "lib/modules/1.0/kernel/m.ko");
	char *v = NULL, *data = NULL;
	struct lethe_spec_kernel k = { 0 };
	struct lethe_boot_modules m = { 0 };
	struct lethe_strv want = { 0 };
	size_t len;

	put("host-secret", "HOSTSECRET");
	put("h/lib/modules/1.0/kernel/payload.txt", "PAYLOAD");
	put("h/lib/modules/1.0/modules.builtin", "kernel/drivers/block/loop.ko\n");
	/* A shipped modules.dep that makes a text file a module: depmod replaces it. */
	put("h/lib/modules/1.0/modules.dep",
	    "kernel/m.ko: kernel/payload.txt\nkernel/payload.txt:\n");
	assert_int_equal(lethe_mkdir_p(out, 0755), 0);
	assert_int_equal(lethe_mkdir_p(strrchr(vmlinuz, '/') ? kd : kd, 0755), 0);
	put("h/boot/.keep", "");
	assert_int_equal(symlink(host, vmlinuz), 0);
	put("h/lib/modules/1.0/kernel/m.ko", "MODULE");
	lethe_strv_push(&k.modules, "m");
	struct lethe_boot_artifacts a = { .outdir = out,
					  .kernel = &k,
					  .kernel_dir = kd,
					  .init = init,
					  .roothash_hex = "0123456789abcdef0123456789abcdef",
					  .mtime = 1 };

	/* boot/vmlinuz-1.0 -> the host file. */
	assert_int_equal(lethe_boot_make_artifacts(&a), -LETHE_E_INVALID);
	assert_non_null(strstr(lethe_error_message(), "'boot/vmlinuz-1.0' is a symbolic link"));
	/* The shipped modules.dep is gone: depmod made a new one without payload.txt. */
	lethe_strv_push(&want, "payload");
	assert_int_equal(lethe_boot_modules_resolve(kd, "1.0", &want, &m), -LETHE_E_INVALID);
	lethe_strv_release(&want);
	assert_int_equal(lethe_file_read(mod, 100, &data, &len), 0);
	free(data);
	/* A real vmlinuz, and the module a link to the host file. */
	assert_int_equal(unlink(vmlinuz), 0);
	put("h/boot/vmlinuz-1.0", "KERNEL");
	assert_int_equal(unlink(mod), 0);
	assert_int_equal(symlink(host, mod), 0);
	assert_int_equal(lethe_boot_make_artifacts(&a), -LETHE_E_INVALID);
	assert_non_null(
		strstr(lethe_error_message(), "'lib/modules/1.0/kernel/m.ko' is a symbolic link"));
	/* A relative link that stays in the package is refused as well: only regular files. */
	assert_int_equal(unlink(mod), 0);
	assert_int_equal(symlink("payload.txt", mod), 0);
	assert_int_equal(lethe_boot_make_artifacts(&a), -LETHE_E_INVALID);
	/* A directory link: lib/modules/1.0/kernel -> the host's directory. */
	assert_int_equal(unlink(mod), 0);
	/* boot/ itself a link to the host's /boot. */
	char *boot = lethe_path_join(kd, "boot");
	assert_int_equal(lethe_rm_rf(boot), 0);
	assert_int_equal(symlink(tmpdir, boot), 0);
	assert_int_equal(lethe_boot_kernel_version(kd, &v), -LETHE_E_INVALID);
	assert_null(v);
	/* lib/modules/VERSION a link: depmod would write into the host's directory. */
	assert_int_equal(unlink(boot), 0);
	put("h/boot/vmlinuz-1.0", "KERNEL");
	char *mdir = lethe_path_join(kd, "lib/modules/1.0"),
	     *mdir2 = lethe_path_join(kd, "lib/modules/elsewhere");
	assert_int_equal(rename(mdir, mdir2), 0);
	assert_int_equal(symlink(mdir2, mdir), 0);
	assert_int_equal(lethe_boot_depmod(kd, "1.0"), -LETHE_E_INVALID);
	assert_non_null(strstr(lethe_error_message(), "'lib/modules/1.0' is a symbolic link"));
	/* Nothing written holds the host file's bytes. */
	for (size_t i = 0; i < LETHE_BOOT_N_ARTIFACTS; i++) {
		char *p = lethe_path_join(out, lethe_release_name(lethe_boot_artifacts[i]));

		if (lethe_file_read(p, 1 << 24, &data, &len) == 0) {
			assert_null(memmem(data, len, "HOSTSECRET", 10));
			free(data);
		}
		free(p);
	}
	lethe_error_clear();
	lethe_boot_modules_release(&m);
	lethe_strv_release(&k.modules);
	free(mdir);
	free(mdir2);
	free(boot);
	free(vmlinuz);
	free(mod);
	free(kd);
	free(host);
	free(out);
	free(init);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_version),
		cmocka_unit_test(test_modules_order),
		cmocka_unit_test(test_modules_errors),
		cmocka_unit_test(test_initramfs_reproducible),
		cmocka_unit_test(test_cmdline_split),
		cmocka_unit_test(test_cmdline_make),
		cmocka_unit_test(test_cmdline_weakening),
		cmocka_unit_test(test_cmdline_defaults_last),
		cmocka_unit_test(test_cmdline_spec_check),
		cmocka_unit_test(test_make_artifacts),
		cmocka_unit_test(test_kernel_links),
		cmocka_unit_test(test_modules_softdep),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
