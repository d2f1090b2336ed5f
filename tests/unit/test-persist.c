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
	{ HEAD "persistence: {}\n", "spec 't.yaml' line 4 column 14: missing required key 'device'" },
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
		print_error("row %zu: r=%d\n  expected: %s\n  actual:   %s\n", i, r,
			    bad[i].message, msg ? msg : "(none)");
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
	assert_int_equal(
		lethe_spec_persist_device_parse("UUID=0b3e6a1c-95a0-4d4b-8c1e-2f5d9a7b6c10", &by,
						&id),
		0);
	assert_int_equal(by, LETHE_SPEC_PERSIST_BY_UUID);
	assert_int_equal(lethe_spec_persist_device_parse("UUID=0b3e6a1c-95a0-4d4b-8c1e-2f5d9a7b6c1",
							 &by, &id),
			 -EINVAL);
	assert_int_equal(
		lethe_spec_persist_device_parse("UUID=0b3e6a1c+95a0-4d4b-8c1e-2f5d9a7b6c10", &by,
						&id),
		-EINVAL);
	assert_int_equal(lethe_spec_persist_device_parse("PARTLABEL=", &by, &id), -EINVAL);
	assert_int_equal(lethe_spec_persist_device_parse("PARTLABEL=a b", &by, &id), -EINVAL);
	assert_int_equal(lethe_spec_persist_device_parse("LABEL=a", &by, &id), -EINVAL);
	assert_int_equal(lethe_spec_kdf_memory_limit_kib(512), 256 * 1024);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_defaults),
		cmocka_unit_test(test_spec_refusals),
		cmocka_unit_test(test_device_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
