/* Unit tests of persistence: the spec section (lib/spec/persistence.c) and the store
 * (lib/persist): parameters, refusals, and a LUKS2 volume made and opened on a file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/sysmacros.h>
#include <unistd.h>

#include <lethe/core.h>
#include <lethe/persist.h>
#include <lethe/spec.h>

#include "helpers.h"

#define HEAD "name: t\nversion: \"1\"\npackages: [busybox-static]\n"
#define DEV  "  device: PARTLABEL=lethe-store\n"

static struct lethe_spec *spec_ok(const char *text)
{
	struct lethe_spec *spec = NULL;

	lethe_error_clear();
	if (lethe_spec_parse("t.yaml", NULL, text, strlen(text), &spec) < 0)
		fail_msg("spec failed: %s", lethe_error_message());
	return spec;
}

/* Off unless present; the defaults when present. */
static void test_spec_defaults(void **state)
{
	struct lethe_spec *spec = spec_ok(HEAD);

	(void)state;
	assert_null(spec->persistence);
	assert_int_equal(spec->memory_mib, 512);
	assert_false(lethe_strv_contains(&spec->packages, "libcryptsetup12"));
	spec = lethe_spec_free(spec);

	spec = spec_ok(HEAD "persistence:\n" DEV "  directories: [/home/user, /etc/ssh]\n");
	assert_non_null(spec->persistence);
	assert_string_equal(spec->persistence->device, "PARTLABEL=lethe-store");
	assert_int_equal(spec->persistence->directories.n, 2);
	assert_string_equal(spec->persistence->directories.v[1], "/etc/ssh");
	assert_int_equal(spec->persistence->unlock, LETHE_SPEC_UNLOCK_PASSPHRASE);
	assert_int_equal(spec->persistence->cipher, LETHE_SPEC_CIPHER_AUTO);
	assert_int_equal(spec->persistence->kdf_memory_kib, 256 * 1024);
	assert_int_equal(spec->persistence->kdf_iterations, 4);
	assert_int_equal(spec->persistence->kdf_parallel, 1);
	/* What the boot needs to open the store comes with the image. */
	assert_true(lethe_strv_contains(&spec->packages, "libcryptsetup12"));
	assert_true(lethe_strv_contains(&spec->packages, "e2fsprogs"));
	assert_int_equal(spec->kernel.modules.n, 0); /* no kernel: no modules */
	spec = lethe_spec_free(spec);

	spec = spec_ok(HEAD "kernel: {package: linux-image-cloud-amd64, modules: [xts]}\n"
			    "persistence:\n" DEV "  directories: [/home]\n");
	assert_true(lethe_strv_contains(&spec->kernel.modules, "dm-crypt"));
	assert_true(lethe_strv_contains(&spec->kernel.modules, "ecb"));
	assert_true(lethe_strv_contains(&spec->kernel.modules, "adiantum"));
	assert_int_equal(spec->kernel.modules.n, 7); /* xts once */
	spec = lethe_spec_free(spec);

	spec = spec_ok(HEAD "memory: 2g\npersistence:\n"
			    "  device: UUID=0b3e6a1c-95a0-4d4b-8c1e-2f5d9a7b6c10\n"
			    "  directories: [/root, /var/lib/tor]\n"
			    "  unlock: keyfile\n"
			    "  keyfile: {device: PARTLABEL=keys, path: /store.key}\n"
			    "  cipher: adiantum\n"
			    "  kdf: {memory: 1g, iterations: 6, parallel: 2}\n");
	assert_int_equal(spec->memory_mib, 2048);
	assert_int_equal(spec->persistence->unlock, LETHE_SPEC_UNLOCK_KEYFILE);
	assert_string_equal(spec->persistence->keyfile_device, "PARTLABEL=keys");
	assert_string_equal(spec->persistence->keyfile_path, "/store.key");
	assert_int_equal(spec->persistence->cipher, LETHE_SPEC_CIPHER_ADIANTUM);
	assert_int_equal(spec->persistence->kdf_memory_kib, 1024 * 1024);
	assert_int_equal(spec->persistence->kdf_iterations, 6);
	assert_int_equal(spec->persistence->kdf_parallel, 2);
	lethe_spec_free(spec);
}

static const struct {
	const char *text, *message;
} bad[] = {
	{ HEAD "persistence: {}\n",
	  "spec 't.yaml' line 4 column 14: missing required key 'device'" },
	{ HEAD "persistence:\n" DEV,
	  "spec 't.yaml' line 5 column 3: missing required key 'directories'" },
	{ HEAD "persistence:\n  device: /dev/sdb1\n  directories: [/home]\n",
	  "spec 't.yaml' line 5 column 11: persistence.device '/dev/sdb1' must be UUID=<LUKS "
	  "UUID, lowercase> or PARTLABEL=<1-36 of [A-Za-z0-9._-]>" },
	{ HEAD "persistence:\n  device: UUID=0B3E6A1C-95A0-4D4B-8C1E-2F5D9A7B6C10\n"
	       "  directories: [/home]\n",
	  "spec 't.yaml' line 5 column 11: persistence.device "
	  "'UUID=0B3E6A1C-95A0-4D4B-8C1E-2F5D9A7B6C10' must be UUID=<LUKS UUID, lowercase> or "
	  "PARTLABEL=<1-36 of [A-Za-z0-9._-]>" },
	{ HEAD "persistence:\n" DEV "  directories: [/opt/data]\n",
	  "spec 't.yaml' line 6 column 17: persistence directory '/opt/data' is not under "
	  "/home, /root, /etc or /var: nothing else may persist" },
	{ HEAD "persistence:\n" DEV "  directories: [/homework]\n",
	  "spec 't.yaml' line 6 column 17: persistence directory '/homework' is not under "
	  "/home, /root, /etc or /var: nothing else may persist" },
	{ HEAD "persistence:\n" DEV "  directories: [home/user]\n",
	  "spec 't.yaml' line 6 column 17: persistence directory 'home/user' must be an "
	  "absolute path without '.', '..', '//' or a trailing '/' (at most 1024 bytes)" },
	{ HEAD "persistence:\n" DEV "  directories: [/home/../usr]\n",
	  "spec 't.yaml' line 6 column 17: persistence directory '/home/../usr' must be an "
	  "absolute path without '.', '..', '//' or a trailing '/' (at most 1024 bytes)" },
	{ HEAD "persistence:\n" DEV "  directories: [/etc]\n",
	  "spec 't.yaml' line 6 column 17: persistence directory '/etc' would keep all of "
	  "/etc; name the directories inside it that must persist" },
	{ HEAD "persistence:\n" DEV "  directories: [/etc/lethe]\n",
	  "spec 't.yaml' line 6 column 17: persistence directory '/etc/lethe' would keep "
	  "/etc/lethe, which must come from the verified image" },
	{ HEAD "persistence:\n" DEV "  directories: [/var/lib]\n",
	  "spec 't.yaml' line 6 column 17: persistence directory '/var/lib' would keep "
	  "/var/lib/dpkg, which must come from the verified image" },
	{ HEAD "persistence:\n" DEV "  directories: [/home, /home/user]\n",
	  "spec 't.yaml' line 6 column 24: persistence directory '/home/user' overlaps "
	  "'/home' (line 6); list only the outer one" },
	{ HEAD "persistence:\n" DEV "  directories: []\n",
	  "spec 't.yaml' line 6 column 16: persistence.directories must list 1 to 64 "
	  "directories" },
	{ HEAD "persistence:\n" DEV "  directories: [/home]\n  unlock: tpm\n",
	  "spec 't.yaml' line 7 column 11: persistence.unlock must be 'passphrase' or "
	  "'keyfile', not 'tpm'" },
	{ HEAD "persistence:\n" DEV "  directories: [/home]\n  unlock: keyfile\n",
	  "spec 't.yaml' line 7 column 11: 'unlock: keyfile' needs persistence.keyfile "
	  "(device and path)" },
	{ HEAD "persistence:\n" DEV "  directories: [/home]\n"
	       "  keyfile: {device: PARTLABEL=k, path: /k}\n",
	  "spec 't.yaml' line 7 column 12: persistence.keyfile needs 'unlock: keyfile'" },
	{ HEAD "persistence:\n" DEV "  directories: [/home]\n  unlock: keyfile\n"
	       "  keyfile: {device: PARTLABEL=lethe-store, path: /k}\n",
	  "spec 't.yaml' line 8 column 12: persistence.keyfile.device must be a second "
	  "device, not the store" },
	{ HEAD "persistence:\n" DEV "  directories: [/home]\n  cipher: aes-cbc\n",
	  "spec 't.yaml' line 7 column 11: persistence.cipher must be auto, aes-xts or "
	  "adiantum, not 'aes-cbc'" },
	{ HEAD "persistence:\n" DEV "  directories: [/home]\n  kdf: {iterations: 2}\n",
	  "spec 't.yaml' line 7 column 21: persistence.kdf.iterations must be a number from 4 "
	  "to 1000, not '2'" },
	{ HEAD "persistence:\n" DEV "  directories: [/home]\n  kdf: {memory: 1m}\n",
	  "spec 't.yaml' line 7 column 17: persistence.kdf.memory must be 8 MiB to 4096 MiB "
	  "(bytes with k, m or g), not '1m'" },
	{ HEAD "persistence:\n" DEV "  directories: [/home]\n  kdf: {memroy: 64m}\n",
	  "spec 't.yaml' line 7 column 9: unknown key 'memroy' (did you mean 'memory'?)" },
	/* The build refuses a cost the image's RAM cannot meet, and names the numbers. */
	{ HEAD "persistence:\n" DEV "  directories: [/home]\n  kdf: {memory: 512m}\n",
	  "spec 't.yaml' line 7 column 8: persistence.kdf.memory 512 MiB cannot be met by "
	  "memory 512 MiB: Argon2id may use at most half of the image's RAM (256 MiB) to "
	  "unlock; lower kdf.memory or raise memory" },
	{ HEAD "memory: 256m\npersistence:\n" DEV "  directories: [/home]\n",
	  "spec 't.yaml' line 6 column 3: persistence.kdf.memory 256 MiB cannot be met by "
	  "memory 256 MiB: Argon2id may use at most half of the image's RAM (128 MiB) to "
	  "unlock; lower kdf.memory or raise memory" },
	{ HEAD "memory: 64m\n",
	  "spec 't.yaml' line 4 column 9: memory must be 128 MiB to 1048576 MiB (bytes with k, "
	  "m or g), not '64m'" },
	{ HEAD "drop: [e2fsprogs]\npersistence:\n" DEV "  directories: [/home]\n",
	  "spec 't.yaml' line 6 column 3: persistence needs package 'e2fsprogs', which drop "
	  "removes" },
	{ HEAD "persistence: yes\n",
	  "spec 't.yaml' line 4 column 14: persistence must be a mapping, not a scalar" },
};

static void test_spec_refusals(void **state)
{
	unsigned failed = 0;

	(void)state;
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(bad); i++) {
		struct lethe_spec *spec = NULL;
		const char *msg;
		int r;

		lethe_error_clear();
		r = lethe_spec_parse("t.yaml", NULL, bad[i].text, strlen(bad[i].text), &spec);
		msg = lethe_error_message();
		if (r == -EBADMSG && !spec && msg && !strcmp(msg, bad[i].message))
			continue;
		print_error("row %zu: r=%d\n  expected: %s\n  actual:   %s\n", i, r, bad[i].message,
			    msg ? msg : "(none)");
		lethe_spec_free(spec);
		failed++;
	}
	assert_int_equal(failed, 0);
}

static void test_device_parse(void **state)
{
	enum lethe_spec_persist_by by;
	const char *id;

	(void)state;
	assert_int_equal(lethe_spec_persist_device_parse("PARTLABEL=a", &by, &id), 0);
	assert_int_equal(by, LETHE_SPEC_PERSIST_BY_PARTLABEL);
	assert_string_equal(id, "a");
	assert_int_equal(lethe_spec_persist_device_parse(
				 "UUID=0b3e6a1c-95a0-4d4b-8c1e-2f5d9a7b6c10", &by, &id),
			 0);
	assert_int_equal(by, LETHE_SPEC_PERSIST_BY_UUID);
	assert_int_equal(lethe_spec_persist_device_parse("UUID=0b3e6a1c-95a0-4d4b-8c1e-2f5d9a7b6c1",
							 &by, &id),
			 -EINVAL);
	assert_int_equal(lethe_spec_persist_device_parse(
				 "UUID=0b3e6a1c+95a0-4d4b-8c1e-2f5d9a7b6c10", &by, &id),
			 -EINVAL);
	assert_int_equal(lethe_spec_persist_device_parse("PARTLABEL=", &by, &id), -EINVAL);
	assert_int_equal(lethe_spec_persist_device_parse("PARTLABEL=a b", &by, &id), -EINVAL);
	assert_int_equal(lethe_spec_persist_device_parse("LABEL=a", &by, &id), -EINVAL);
	assert_int_equal(lethe_spec_kdf_memory_limit_kib(512), 256 * 1024);
}

/* lethe.persistence on the cmdline (the boot menu's entry), read by lethe-init. */
static void test_cmdline(void **state)
{
	static const char *const on[] = { "quiet lethe.persistence", "lethe.persistence=1",
					  "lethe.persistence=yes x" };
	static const char *const off[] = { "quiet", "lethe.persistence=0", "persistence",
					   "lethe.persistencex", "xlethe.persistence" };
	struct lethe_cmdline c;

	(void)state;
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(on); i++) {
		assert_int_equal(lethe_cmdline_parse(on[i], strlen(on[i]), &c), 0);
		assert_true(c.persistence);
	}
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(off); i++) {
		assert_int_equal(lethe_cmdline_parse(off[i], strlen(off[i]), &c), 0);
		assert_false(c.persistence);
	}
	assert_int_equal(lethe_cmdline_parse("lethe.persistence=maybe", 23, &c), -EBADMSG);
}

/* A fake sysfs and /proc: disk sda (8:0) with partitions sda1 (8:1, mounted at /) and
 * sda2 (8:2); disk sdb (8:16) with sdb1 (8:17, free); disk sdc (8:32) held by a dm
 * device; disk sdd (8:48) backing dm-0 (253:0), which is mounted; sde (8:64) swap. */
static void fake_block(const char *root, const char *path, const char *dev, bool partition)
{
	char rel[256], link[256], target[512], *l;

	snprintf(rel, sizeof(rel), "sys/%s/dev", path);
	snprintf(target, sizeof(target), "%s\n", dev);
	ut_put(root, rel, target, 0644);
	if (partition) {
		snprintf(rel, sizeof(rel), "sys/%s/partition", path);
		ut_put(root, rel, "1\n", 0644);
	}
	snprintf(rel, sizeof(rel), "sys/%s/holders", path);
	l = ut_path(root, rel);
	assert_int_equal(lethe_mkdir_p(l, 0755), 0);
	free(l);
	snprintf(link, sizeof(link), "sys/dev/block/%s", dev);
	l = ut_path(root, link);
	snprintf(target, sizeof(target), "%s/sys/%s", root, path);
	free(l);
	l = ut_path(root, "sys/dev/block");
	assert_int_equal(lethe_mkdir_p(l, 0755), 0);
	free(l);
	l = ut_path(root, link);
	assert_int_equal(symlink(target, l), 0);
	free(l);
}

static bool fake_node(const char *root, const char *name, unsigned ma, unsigned mi)
{
	char *p = ut_path(root, name);
	bool ok = mknod(p, S_IFBLK | 0600, makedev(ma, mi)) == 0;

	free(p);
	return ok;
}

static void test_check_target(void **state)
{
	char *root = ut_mkdtemp("persist-probe"), *sys, *proc, *dev;
	struct lethe_persist_probe probe;
	char *swapdev = NULL, swaps[512];

	(void)state;
	fake_block(root, "block/sda", "8:0", false);
	fake_block(root, "block/sda/sda1", "8:1", true);
	fake_block(root, "block/sda/sda2", "8:2", true);
	fake_block(root, "block/sdb", "8:16", false);
	fake_block(root, "block/sdb/sdb1", "8:17", true);
	fake_block(root, "block/sdc", "8:32", false);
	ut_put(root, "sys/block/sdc/holders/dm-1", "", 0644);
	fake_block(root, "block/sdd", "8:48", false);
	fake_block(root, "block/dm-0", "253:0", false);
	ut_put(root, "sys/block/dm-0/slaves/sdd/dev", "8:48\n", 0644);
	fake_block(root, "block/sde", "8:64", false);
	ut_put(root, "proc/self/mountinfo",
	       "20 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
	       "21 20 0:5 / /dev rw - devtmpfs udev rw\n"
	       "22 20 253:0 / /srv ro - erofs /dev/mapper/root ro\n",
	       0644);
	if (!fake_node(root, "sda", 8, 0)) {
		free(root);
		skip(); /* no CAP_MKNOD here */
	}
	assert_true(fake_node(root, "sda2", 8, 2) && fake_node(root, "sdb", 8, 16) &&
		    fake_node(root, "sdb1", 8, 17) && fake_node(root, "sdc", 8, 32) &&
		    fake_node(root, "sdd", 8, 48) && fake_node(root, "sde", 8, 64));
	swapdev = ut_path(root, "sde");
	snprintf(swaps, sizeof(swaps), "Filename Type Size Used Priority\n%s partition 1024 0 -2\n",
		 swapdev);
	ut_put(root, "proc/swaps", swaps, 0644);
	sys = ut_path(root, "sys");
	proc = ut_path(root, "proc");
	probe = (struct lethe_persist_probe){ .sysfs = sys, .proc = proc };

	/* The disk of the mounted root, whole or another partition of it. */
	dev = ut_path(root, "sda");
	assert_int_equal(lethe_persist_check_target(&probe, dev), -EBUSY);
	assert_non_null(strstr(lethe_error_message(), "is mounted at '/'"));
	free(dev);
	dev = ut_path(root, "sda2");
	assert_int_equal(lethe_persist_check_target(&probe, dev), -EBUSY);
	free(dev);
	/* A free disk and its partition. */
	dev = ut_path(root, "sdb");
	assert_int_equal(lethe_persist_check_target(&probe, dev), 0);
	free(dev);
	dev = ut_path(root, "sdb1");
	assert_int_equal(lethe_persist_check_target(&probe, dev), 0);
	free(dev);
	/* Held by device-mapper. */
	dev = ut_path(root, "sdc");
	assert_int_equal(lethe_persist_check_target(&probe, dev), -EBUSY);
	assert_non_null(strstr(lethe_error_message(), "device-mapper"));
	free(dev);
	/* Below a mounted dm device (the verified root of a running Lethe). */
	dev = ut_path(root, "sdd");
	assert_int_equal(lethe_persist_check_target(&probe, dev), -EBUSY);
	assert_non_null(strstr(lethe_error_message(), "is mounted at '/srv'"));
	free(dev);
	/* Swap. */
	assert_int_equal(lethe_persist_check_target(&probe, swapdev), -EBUSY);
	assert_non_null(strstr(lethe_error_message(), "is swap"));
	/* A regular file (an image) is fine; a directory is not. */
	dev = ut_path(root, "proc/swaps");
	assert_int_equal(lethe_persist_check_target(&probe, dev), 0);
	free(dev);
	assert_int_equal(lethe_persist_check_target(&probe, root), -EINVAL);
	free(swapdev);
	free(sys);
	free(proc);
	free(root);
}

/* PARTLABEL= from the partition names the kernel read (uevent). */
static void test_find_partlabel(void **state)
{
	char *root = ut_mkdtemp("persist-find"), *sys, *found = NULL;
	struct lethe_persist_probe probe;

	(void)state;
	ut_put(root, "sys/class/block/vda1/uevent",
	       "MAJOR=254\nMINOR=1\nDEVNAME=vda1\n"
	       "DEVTYPE=partition\nPARTN=1\nPARTNAME=root-x86-64\n",
	       0644);
	ut_put(root, "sys/class/block/vdb1/uevent",
	       "MAJOR=254\nMINOR=17\nDEVNAME=vdb1\nDEVTYPE=partition\nPARTNAME=lethe-store\n",
	       0644);
	ut_put(root, "sys/class/block/dm-0/uevent", "DEVNAME=dm-0\nPARTNAME=lethe-store\n", 0644);
	sys = ut_path(root, "sys");
	probe = (struct lethe_persist_probe){ .sysfs = sys };
	assert_int_equal(lethe_persist_find(&probe, "PARTLABEL=lethe-store", &found), 0);
	assert_string_equal(found, "/dev/vdb1");
	free(found);
	assert_int_equal(lethe_persist_find(&probe, "PARTLABEL=lethe", &found), -ENOENT);
	ut_put(root, "sys/class/block/vdc1/uevent", "DEVNAME=vdc1\nPARTNAME=lethe-store\n", 0644);
	assert_int_equal(lethe_persist_find(&probe, "PARTLABEL=lethe-store", &found), -ENOTUNIQ);
	assert_int_equal(lethe_persist_find(&probe, "/dev/vdb1", &found), -EINVAL);
	free(sys);
	free(root);
}

static void test_params(void **state)
{
	struct lethe_spec *spec =
		spec_ok(HEAD "persistence:\n" DEV "  directories: [/home]\n  kdf: {memory: 64m}\n");
	struct lethe_persist_params p;

	(void)state;
	lethe_persist_params_from_spec(spec->persistence, true, &p);
	assert_string_equal(p.cipher, "aes");
	assert_string_equal(p.mode, "xts-plain64");
	assert_int_equal(p.key_bytes, 64);
	assert_int_equal(p.kdf_memory_kib, 65536);
	lethe_persist_params_from_spec(spec->persistence, false, &p);
	assert_string_equal(p.cipher, "xchacha12,aes");
	assert_string_equal(p.mode, "adiantum-plain64");
	assert_int_equal(p.key_bytes, 32);
	lethe_spec_free(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_defaults), cmocka_unit_test(test_spec_refusals),
		cmocka_unit_test(test_device_parse),  cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_check_target),  cmocka_unit_test(test_find_partlabel),
		cmocka_unit_test(test_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
