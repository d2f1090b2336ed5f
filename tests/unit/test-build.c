/* Unit tests of lib/build that need no package repository: finding the Lethe tools,
 * the development key, and the refusals that come before any work (nothing may be
 * created beside the output directory then). The whole pipeline is tested by
 * tests/interop/build-*.sh. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/build.h>

#include "../../lib/build/build-internal.h" /* the tools stage, tested alone */
#include "helpers.h"

static char *tmpdir(void)
{
	return ut_mkdtemp("build");
}

static void test_find_tool(void **state)
{
	char *p = NULL;

	setenv("LETHE_TEST_TOOL", "/bin/sh", 1);
	assert_int_equal(lethe_build_find_tool("no-such-tool", "LETHE_TEST_TOOL", &p), 0);
	assert_string_equal(p, "/bin/sh");
	free(p);
	p = NULL;
	setenv("LETHE_TEST_TOOL", "/nonexistent/tool", 1);
	assert_int_equal(lethe_build_find_tool("no-such-tool", "LETHE_TEST_TOOL", &p), -ENOENT);
	assert_non_null(strstr(lethe_error_message(), "$LETHE_TEST_TOOL"));
	unsetenv("LETHE_TEST_TOOL");
	assert_int_equal(lethe_build_find_tool("no-such-tool", "LETHE_TEST_TOOL", &p), -ENOENT);
	assert_null(p);
}

static void test_dev_key(void **state)
{
	char *dir = tmpdir(), *sec = NULL, *sec2 = NULL, *pub, *pub1 = NULL, *pub2 = NULL;
	size_t len;
	struct stat st;

	setenv("XDG_CONFIG_HOME", dir, 1);
	assert_int_equal(lethe_build_dev_key(&sec), 0);
	assert_non_null(strstr(sec, "/lethe/dev.key"));
	assert_int_equal(strncmp(sec, dir, strlen(dir)), 0);
	assert_int_equal(stat(sec, &st), 0);
	assert_int_equal(st.st_mode & 077, 0); /* a secret key: owner only */
	pub = lethe_path_join(dir, "lethe/dev.pub");
	assert_int_equal(lethe_file_read(pub, 4096, &pub1, &len), 0);
	/* Made once, then reused. */
	assert_int_equal(lethe_build_dev_key(&sec2), 0);
	assert_string_equal(sec, sec2);
	assert_int_equal(lethe_file_read(pub, 4096, &pub2, &len), 0);
	assert_string_equal(pub1, pub2);
	unsetenv("XDG_CONFIG_HOME");
	free(pub1);
	free(pub2);
	free(pub);
	free(sec);
	free(sec2);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(dir);
}

/* Before resolving anything: a spec that does not load, an output path that is a file,
 * a directory that holds something else than a build. Nothing is created. */
static void test_refusals(void **state)
{
	static const char spec_text[] = "name: t\nversion: \"1\"\npackages: [busybox-static]\n";
	char *dir = tmpdir(), *spec = lethe_path_join(dir, "t.yaml");
	char *file = lethe_path_join(dir, "file"), *other = lethe_path_join(dir, "other");
	char *inner = lethe_path_join(dir, "other/x");
	struct lethe_build_options o = { .spec_path = spec, .outdir = file };
	struct lethe_build_result res = { 0 };

	assert_int_equal(lethe_file_write_atomic(spec, spec_text, strlen(spec_text), 0644), 0);
	assert_int_equal(lethe_file_write_atomic(file, "x", 1, 0644), 0);
	assert_int_equal(mkdir(other, 0755), 0);
	assert_int_equal(lethe_file_write_atomic(inner, "x", 1, 0644), 0);

	assert_int_equal(lethe_build(&o, &res), -EEXIST);
	assert_non_null(strstr(lethe_error_message(), "not a directory"));
	o.outdir = other;
	assert_int_equal(lethe_build(&o, &res), -EEXIST);
	assert_non_null(strstr(lethe_error_message(), "does not hold a Lethe build"));
	/* A firewall rule that could only fail at boot is refused before any work. */
	static const char bad_fw[] = "name: t\nversion: \"1\"\npackages: [busybox-static]\n"
				     "firewall:\n  out:\n    allow: [ { proto: udp, port: 0 } ]\n";
	assert_int_equal(lethe_file_write_atomic(spec, bad_fw, strlen(bad_fw), 0644), 0);
	o.outdir = "/nonexistent/out";
	assert_int_equal(lethe_build(&o, &res), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "line 6"));
	o.spec_path = "/nonexistent/spec.yaml";
	o.outdir = "/nonexistent/out";
	assert_true(lethe_build(&o, &res) < 0);
	assert_int_equal(access("/nonexistent", F_OK), -1);
	assert_int_equal(count_entries(dir), 3); /* t.yaml, file, other: nothing beside */
	assert_int_equal(count_entries(other), 1);
	assert_null(res.artifacts);

	free(spec);
	free(file);
	free(other);
	free(inner);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(dir);
}

/* issue 10.4: a directory with a SHA256SUMS among other files is no build, and is
 * refused untouched; an existing empty directory survives a build that fails. */
static void test_outdir_kept(void **state)
{
	static const char spec_text[] = "name: t\nversion: \"1\"\npackages: [busybox-static]\n";
	char *dir = tmpdir(), *spec = lethe_path_join(dir, "t.yaml");
	char *dl = lethe_path_join(dir, "downloads"), *empty = lethe_path_join(dir, "empty");
	char *p = lethe_path_join(dl, "SHA256SUMS"), *q = lethe_path_join(dl, "debian.iso");
	struct lethe_build_options o = { .spec_path = spec,
					 .outdir = dl,
					 .image_tool = "/bin/true" };
	struct lethe_build_result res = { 0 };

	assert_int_equal(lethe_file_write_atomic(spec, spec_text, strlen(spec_text), 0644), 0);
	assert_int_equal(mkdir(dl, 0755), 0);
	assert_int_equal(lethe_file_write_atomic(q, "iso", 3, 0644), 0);
	assert_int_equal(lethe_file_write_atomic(p, "x", 1, 0644), 0);
	assert_int_equal(lethe_build(&o, &res), -EEXIST);
	assert_non_null(strstr(lethe_error_message(), "does not hold a Lethe build"));
	assert_non_null(strstr(lethe_error_message(), "debian.iso"));
	assert_int_equal(count_entries(dl), 2);

	/* a build that fails after the output directory was looked at (no lethe-init) */
	assert_int_equal(mkdir(empty, 0700), 0);
	o.outdir = empty;
	setenv("LETHE_INIT", "/nonexistent/lethe-init", 1);
	assert_true(lethe_build(&o, &res) < 0);
	unsetenv("LETHE_INIT");
	assert_non_null(strstr(lethe_error_message(), "LETHE_INIT"));
	assert_int_equal(access(empty, F_OK), 0);
	assert_int_equal(count_entries(dir), 3); /* t.yaml, downloads, empty */

	free(p);
	free(q);
	free(spec);
	free(dl);
	free(empty);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(dir);
}

/* The tools stage: files in place with their modes and the epoch as time; and never
 * written through a symbolic link that a package put in the root. */
static void test_tools_stage(void **state)
{
	char *dir = tmpdir(), *root = lethe_path_join(dir, "root");
	char *outside = lethe_path_join(dir, "outside"), *p, *link;
	struct lethe_spec spec = { .path = (char *)"/etc/hostname" };
	struct lethe_build_ctx ctx = { .spec = &spec,
				       .root = root,
				       .epoch = 1700000000,
				       .image_tool = (char *)"/bin/sh",
				       .init = (char *)"/bin/true" };
	struct stat st;

	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(build_stage_tools(&ctx), 0);
	p = lethe_path_join(root, "usr/lib/lethe/lethe-init");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_mtime, 1700000000);
	free(p);
	p = lethe_path_join(root, "etc/lethe/spec.yaml");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(p);
	p = lethe_path_join(root, "usr/lib/lethe");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mtime, 1700000000);
	free(p);
	assert_int_equal(count_entries(root), 2); /* etc, usr */

	/* usr/lib/lethe -> an absolute path outside the root. */
	assert_int_equal(lethe_rm_rf(root), 0);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	p = lethe_path_join(root, "usr/lib");
	assert_int_equal(lethe_mkdir_p(p, 0755), 0);
	link = lethe_path_join(p, "lethe");
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(build_stage_tools(&ctx), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "usr/lib/lethe"));
	assert_int_equal(count_entries(outside), 0);
	free(link);
	free(p);

	free(root);
	free(outside);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_tool),   cmocka_unit_test(test_dev_key),
		cmocka_unit_test(test_refusals),    cmocka_unit_test(test_outdir_kept),
		cmocka_unit_test(test_tools_stage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
