/* Unit tests of lib/release: the artifact name table, the verified handle (signature,
 * every checksum, the root hash, the verity tree; files kept open so that a swap after
 * the check is never seen) and the layout probe `lethe build -o` relies on. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/release.h>
#include <lethe/verity.h>

#define DATA_SIZE (64u * 4096)

static char tmpdir[] = "/tmp/lethe-test-release.XXXXXX";
static struct lethe_sign_pubkey pub;
static struct lethe_sign_seckey *key;
static char roothash_hex[129];

static char *path(const char *dir, const char *name)
{
	char *p = lethe_path_join(dir, name);

	assert_non_null(p);
	return p;
}

static void put(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = path(dir, name);

	assert_int_equal(lethe_file_write_atomic(p, data, len, 0644), 0);
	free(p);
}

static void put_str(const char *dir, const char *name, const char *text)
{
	put(dir, name, text, strlen(text));
}

static void flip(const char *dir, const char *name, off_t off)
{
	char *p = path(dir, name);
	int fd = open(p, O_RDWR);
	uint8_t c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
	free(p);
}

/* SHA256SUMS over every regular non-SHA256SUMS file of dir, and its signature. */
static void sign_dir(const char *dir)
{
	static const char *const all[] = { "rootfs.erofs", "rootfs.verity", "roothash",
					   "cmdline",	   "disk.img",	    "vmlinuz",
					   "initramfs.img" };
	const char *names[LETHE_ARRAY_SIZE(all)];
	char *sums = path(dir, "SHA256SUMS"), *sig = path(dir, "SHA256SUMS.minisig");
	size_t n = 0;

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(all); i++) {
		char *p = path(dir, all[i]);

		if (access(p, F_OK) == 0)
			names[n++] = all[i];
		free(p);
	}
	assert_int_equal(lethe_sums_write(sums, dir, names, n), 0);
	assert_int_equal(lethe_sign_file(key, sums, NULL, true, sig), 0);
	free(sums);
	free(sig);
}

/* A release in tmpdir/name: a root file system with its real verity tree, roothash,
 * a cmdline that names the same hash, a disk.img, signed. */
static char *make_release(const char *name)
{
	char *dir = path(tmpdir, name), *data_p, *hash_p, line[256];
	struct lethe_verity_params p;
	uint8_t *data = malloc(DATA_SIZE), rh[64];

	assert_int_equal(mkdir(dir, 0755), 0);
	for (size_t i = 0; i < DATA_SIZE; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 11);
	put(dir, "rootfs.erofs", data, DATA_SIZE);
	put(dir, "disk.img", data, DATA_SIZE / 2);
	put_str(dir, "vmlinuz", "kernel");
	put_str(dir, "initramfs.img", "initramfs");
	free(data);
	data_p = path(dir, "rootfs.erofs");
	hash_p = path(dir, "rootfs.verity");
	lethe_verity_params_init(&p);
	assert_int_equal(lethe_verity_salt_from_seed(&p, "test"), 0);
	assert_int_equal(lethe_verity_format(data_p, hash_p, &p, rh, sizeof(rh)), 0);
	lethe_hex_encode(rh, 32, roothash_hex);
	snprintf(line, sizeof(line), "%s\n", roothash_hex);
	put_str(dir, "roothash", line);
	snprintf(line, sizeof(line), "console=ttyS0 lethe.roothash=%s ro\n", roothash_hex);
	put_str(dir, "cmdline", line);
	sign_dir(dir);
	free(data_p);
	free(hash_p);
	return dir;
}

static int setup(void **state)
{
	char *pubp, *secp;

	assert_non_null(mkdtemp(tmpdir));
	pubp = path(tmpdir, "k.pub");
	secp = path(tmpdir, "k.key");
	assert_int_equal(lethe_sign_keygen(pubp, secp, NULL, NULL, &pub), 0);
	assert_int_equal(lethe_sign_seckey_load(secp, NULL, &key), 0);
	free(pubp);
	free(secp);
	return 0;
}

static int teardown(void **state)
{
	lethe_sign_seckey_free(key);
	lethe_rm_rf(tmpdir);
	return 0;
}

static void test_names(void **state)
{
	for (unsigned a = 0; a < LETHE_ARTIFACT_MAX; a++) {
		enum lethe_release_artifact back;

		assert_non_null(lethe_release_names[a]);
		assert_int_equal(lethe_release_artifact_from_name(lethe_release_names[a], &back),
				 0);
		assert_int_equal(back, a); /* each name once */
	}
	assert_string_equal(lethe_release_name(LETHE_ARTIFACT_DISK), "disk.img");
	assert_string_equal(lethe_release_name(LETHE_ARTIFACT_SIG), "SHA256SUMS.minisig");
	{
		enum lethe_release_artifact a;

		assert_int_equal(lethe_release_artifact_from_name("notes.txt", &a), -ENOENT);
	}
}

static int count_calls;
static void count_fn(const struct lethe_sums_entry *e, int result, void *userdata)
{
	count_calls++;
	if (result < 0)
		(*(int *)userdata)++;
}

static void test_open(void **state)
{
	char *dir = make_release("good"), fdp[32];
	struct lethe_release_options o = { .flags = LETHE_RELEASE_OPEN_VERITY };
	struct lethe_release *rel = NULL;
	uint64_t size;
	uint8_t d[32];

	assert_int_equal(lethe_release_open_opts(dir, &pub, &o, &rel), 0);
	assert_true(lethe_release_signed(rel));
	assert_int_equal(lethe_release_n_listed(rel), 7);
	assert_string_equal(lethe_release_roothash(rel), roothash_hex);
	assert_non_null(strstr(lethe_release_cmdline(rel), "console=ttyS0 lethe.roothash="));
	assert_null(strchr(lethe_release_cmdline(rel), '\n'));
	assert_true(lethe_release_has(rel, LETHE_ARTIFACT_DISK));
	assert_false(lethe_release_has(rel, LETHE_ARTIFACT_MANIFEST));
	assert_int_equal(lethe_release_fd(rel, LETHE_ARTIFACT_MANIFEST), -ENOENT);
	assert_int_equal(lethe_release_info(rel, LETHE_ARTIFACT_DISK, &size, d), 0);
	assert_int_equal(size, DATA_SIZE / 2);
	assert_int_equal(lethe_release_fd_path(rel, LETHE_ARTIFACT_DISK, fdp), 0);
	assert_int_equal(strncmp(fdp, "/proc/self/fd/", 14), 0);
	{
		int fds[LETHE_ARTIFACT_MAX];

		assert_int_equal(lethe_release_fds(rel, LETHE_ARTIFACT_MAX, fds), 7);
	}
	lethe_release_free(rel);
	assert_null(lethe_release_free(NULL));
	free(dir);
}

/* After the check, the directory's disk.img is replaced by another file: the handle
 * still reads the verified one, by descriptor and by its /proc/self/fd path. */
static void test_swap_after_open(void **state)
{
	char *dir = make_release("swap"), *img = path(dir, "disk.img"), fdp[32];
	struct lethe_release *rel = NULL;
	uint8_t want[32], got[32];

	assert_int_equal(lethe_release_open(dir, &pub, &rel), 0);
	assert_int_equal(lethe_release_info(rel, LETHE_ARTIFACT_DISK, NULL, want), 0);
	put_str(dir, "disk.img", "an attacker's image"); /* a new inode renamed over it */
	assert_int_equal(lethe_release_fd_path(rel, LETHE_ARTIFACT_DISK, fdp), 0);
	assert_int_equal(lethe_sums_sha256_file(AT_FDCWD, fdp, got), 0);
	assert_memory_equal(want, got, 32);
	assert_int_equal(lethe_sums_sha256_file(AT_FDCWD, img, got), 0);
	assert_memory_not_equal(want, got, 32);
	lethe_release_free(rel);
	free(img);
	free(dir);
}

static void test_refused(void **state)
{
	char *dir = make_release("bad"), *img = path(dir, "disk.img");
	struct lethe_release *rel = NULL;
	struct lethe_sign_pubkey other = pub;
	int failed = 0;
	struct lethe_release_options o = { .fn = count_fn, .userdata = &failed };

	/* one changed byte in a listed file: every file is heard of, one failed */
	flip(dir, "disk.img", 4321);
	count_calls = 0;
	assert_int_equal(lethe_release_open_opts(dir, &pub, &o, &rel), -EBADMSG);
	assert_null(rel);
	assert_non_null(strstr(lethe_error_message(), "'disk.img' does not match"));
	assert_int_equal(count_calls, 7);
	assert_int_equal(failed, 1);
	flip(dir, "disk.img", 4321);
	assert_int_equal(lethe_release_open(dir, &pub, &rel), 0);
	rel = lethe_release_free(rel);

	/* another key with the same id */
	other.pk[0] ^= 1;
	assert_true(lethe_error_is_check(lethe_release_open(dir, &other, &rel)));
	assert_null(rel);

	/* no key: refused unless asked for, then checked but not signed */
	assert_int_equal(lethe_release_open(dir, NULL, &rel), -EINVAL);
	o = (struct lethe_release_options){ .flags = LETHE_RELEASE_OPEN_UNSIGNED };
	assert_int_equal(lethe_release_open_opts(dir, NULL, &o, &rel), 0);
	assert_false(lethe_release_signed(rel));
	rel = lethe_release_free(rel);

	/* a listed file that is a symbolic link (to the same bytes) */
	{
		char *real = path(dir, "disk.real");

		assert_int_equal(rename(img, real), 0);
		assert_int_equal(symlink("disk.real", img), 0);
		assert_int_equal(lethe_release_open(dir, &pub, &rel), -EBADMSG);
		assert_non_null(strstr(lethe_error_message(), "a symbolic link"));
		assert_int_equal(unlink(img), 0);
		assert_int_equal(rename(real, img), 0);
		free(real);
	}
	lethe_release_free(rel);
	free(img);
	free(dir);
}

/* Re-signed releases whose files do not agree with each other. */
/* only: the other listed files are neither opened nor hashed (a tampered or missing
 * disk.img does not matter to a verb that reads the root); a wanted file is still
 * checked. unhashed: opened, its signed digest given, the bytes left to the caller. */
static void test_only(void **state)
{
	char *dir = make_release("only"), *img = path(dir, "disk.img");
	const uint64_t root = LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_ROOTFS) |
			      LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_VERITY) |
			      LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_CMDLINE);
	struct lethe_release_options o = { .flags = LETHE_RELEASE_OPEN_VERITY, .only = root };
	struct lethe_release *rel = NULL;
	uint8_t want[32], got[32];
	int failed = 0;

	flip(dir, "disk.img", 100);
	assert_int_equal(lethe_release_open(dir, &pub, &rel), -EBADMSG);
	o.fn = count_fn, o.userdata = &failed, count_calls = 0;
	assert_int_equal(lethe_release_open_opts(dir, &pub, &o, &rel), 0);
	assert_int_equal(count_calls, 3);
	assert_int_equal(failed, 0);
	assert_int_equal(lethe_release_n_listed(rel), 7);
	assert_true(lethe_release_has(rel, LETHE_ARTIFACT_ROOTFS));
	assert_false(lethe_release_has(rel, LETHE_ARTIFACT_DISK));
	assert_false(lethe_release_has(rel, LETHE_ARTIFACT_ROOTHASH));
	assert_string_equal(lethe_release_roothash(rel), roothash_hex);
	rel = lethe_release_free(rel);
	assert_int_equal(unlink(img), 0);
	assert_int_equal(lethe_release_open_opts(dir, &pub, &o, &rel), 0);
	rel = lethe_release_free(rel);
	/* a wanted file that does not match is refused as without only */
	o.fn = NULL;
	flip(dir, "rootfs.erofs", 5000);
	assert_int_equal(lethe_release_open_opts(dir, &pub, &o, &rel), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "rootfs.erofs"));
	/* unhashed (and no verity check): opened, not hashed; the digest is the signed one */
	o = (struct lethe_release_options){ .only = root,
					    .unhashed = LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_ROOTFS) };
	assert_int_equal(lethe_release_open_opts(dir, &pub, &o, &rel), 0);
	assert_int_equal(lethe_release_info(rel, LETHE_ARTIFACT_ROOTFS, NULL, want), 0);
	assert_int_equal(
		lethe_sha256_fd(lethe_release_fd(rel, LETHE_ARTIFACT_ROOTFS), 0, got, NULL), 0);
	assert_memory_not_equal(want, got, 32); /* the caller's hash is what catches it */
	rel = lethe_release_free(rel);
	/* cmdline's text is kept, so it is hashed even when asked not to be */
	flip(dir, "rootfs.erofs", 5000);
	flip(dir, "cmdline", 0);
	o.unhashed |= LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_CMDLINE);
	assert_int_equal(lethe_release_open_opts(dir, &pub, &o, &rel), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "cmdline"));
	free(img);
	free(dir);
}

static void test_roothash(void **state)
{
	char *dir = make_release("rh"), line[320];
	struct lethe_release_options o = { .flags = LETHE_RELEASE_OPEN_VERITY };
	struct lethe_release *rel = NULL;

	/* the verity tree does not cover this root file system */
	flip(dir, "rootfs.erofs", 3 * 4096 + 5);
	sign_dir(dir);
	assert_int_equal(lethe_release_open(dir, &pub, &rel), 0); /* checksums alone pass */
	rel = lethe_release_free(rel);
	assert_int_equal(lethe_release_open_opts(dir, &pub, &o, &rel), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "rootfs.erofs against rootfs.verity"));
	flip(dir, "rootfs.erofs", 3 * 4096 + 5);

	/* cmdline and roothash name different hashes */
	snprintf(line, sizeof(line), "lethe.roothash=%064x\n", 7);
	put_str(dir, "cmdline", line);
	sign_dir(dir);
	assert_int_equal(lethe_release_open(dir, &pub, &rel), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "differ"));

	/* twice in the cmdline */
	snprintf(line, sizeof(line), "lethe.roothash=%s lethe.roothash=%s\n", roothash_hex,
		 roothash_hex);
	put_str(dir, "cmdline", line);
	sign_dir(dir);
	assert_int_equal(lethe_release_open(dir, &pub, &rel), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "more than once"));

	/* only the cmdline gives it */
	snprintf(line, sizeof(line), "lethe.roothash=%s\n", roothash_hex);
	put_str(dir, "cmdline", line);
	{
		char *rh = path(dir, "roothash");

		assert_int_equal(unlink(rh), 0);
		free(rh);
	}
	sign_dir(dir);
	assert_int_equal(lethe_release_open_opts(dir, &pub, &o, &rel), 0);
	assert_string_equal(lethe_release_roothash(rel), roothash_hex);
	lethe_release_free(rel);
	free(dir);
}

/* What `lethe build -o` may replace: a release by its layout, nothing else. */
static void test_probe(void **state)
{
	char *dir = make_release("probe"), *dl = path(tmpdir, "downloads"), *sub;

	put_str(dir, "SHA256SUMS.minisig", "x"); /* the signature is not checked */
	assert_int_equal(lethe_release_probe(dir), 0);
	put_str(dir, "notes.txt", "mine");
	assert_int_equal(lethe_release_probe(dir), -ENOTEMPTY);
	assert_non_null(strstr(lethe_error_message(), "notes.txt"));
	sub = path(dir, "notes.txt");
	assert_int_equal(unlink(sub), 0);
	free(sub);
	/* an artifact name that SHA256SUMS does not list */
	put_str(dir, "manifest.mtree", "#mtree\n");
	assert_int_equal(lethe_release_probe(dir), -ENOTEMPTY);
	assert_non_null(strstr(lethe_error_message(), "does not list"));
	sub = path(dir, "manifest.mtree");
	assert_int_equal(unlink(sub), 0);
	free(sub);
	/* a subdirectory */
	sub = path(dir, "cmdline.d");
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(lethe_release_probe(dir), -ENOTEMPTY);
	assert_int_equal(rmdir(sub), 0);
	free(sub);
	assert_int_equal(lethe_release_probe(dir), 0);

	/* a downloads folder with a SHA256SUMS of its own */
	assert_int_equal(mkdir(dl, 0755), 0);
	put_str(dl, "debian.iso", "iso");
	put_str(dl, "SHA256SUMS",
		"0000000000000000000000000000000000000000000000000000000000000000  debian.iso\n");
	assert_int_equal(lethe_release_probe(dl), -ENOTEMPTY);
	put_str(dl, "SHA256SUMS.minisig", "x");
	assert_int_equal(lethe_release_probe(dl), -ENOTEMPTY);
	/* only artifact names, but SHA256SUMS lists one that is not there */
	sub = path(dl, "debian.iso");
	assert_int_equal(unlink(sub), 0);
	free(sub);
	put_str(dl, "SHA256SUMS",
		"0000000000000000000000000000000000000000000000000000000000000000  disk.img\n");
	assert_int_equal(lethe_release_probe(dl), -ENOTEMPTY);
	put_str(dl, "disk.img", "x");
	assert_int_equal(lethe_release_probe(dl), 0);
	assert_true(lethe_release_probe("/nonexistent") < 0);
	free(dl);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_swap_after_open),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_only),
		cmocka_unit_test(test_roothash),
		cmocka_unit_test(test_probe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
