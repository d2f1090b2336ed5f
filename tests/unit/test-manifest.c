/* Unit tests of lib/manifest: exact mtree text for a small tree, encoding of awkward
 * names, determinism, and the real mtree(8) accepting it (when installed). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/fim.h>
#include <lethe/manifest.h>

#include "helpers.h"

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	ut_put(dir, name, text, mode);
}

static char *make_tree(void)
{
	char tmpl[] = "/tmp/lethe-test-manifest.XXXXXX";
	char *dir, *p;

	assert_non_null(mkdtemp(tmpl));
	dir = strdup(tmpl);
	assert_int_equal(chmod(dir, 0755), 0);
	p = lethe_path_join(dir, "etc");
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(chmod(p, 0755), 0);
	free(p);
	write_file(dir, "etc/hostname", "lethe\n", 0644);
	write_file(dir, "b file#1", "", 04755);
	p = lethe_path_join(dir, "lnk");
	assert_int_equal(symlink("etc/host name", p), 0);
	free(p);
	return dir;
}

static void test_exact_text(void **state)
{
	char *dir = make_tree(), *text = NULL, *again = NULL;
	size_t len, len2;
	struct lethe_manifest_stats st;
	char expect[1024];
	uid_t u = getuid();
	gid_t g = getgid();

	assert_int_equal(lethe_manifest_generate(dir, &text, &len, &st), 0);
	snprintf(expect, sizeof(expect),
		 "#mtree\n"
		 ". type=dir mode=0755 uid=%u gid=%u\n"
		 "./b\\040file\\0431 type=file mode=4755 uid=%u gid=%u size=0 "
		 "sha256digest=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
		 "./etc type=dir mode=0755 uid=%u gid=%u\n"
		 "./etc/hostname type=file mode=0644 uid=%u gid=%u size=6 "
		 "sha256digest=6f67cbc2c83b1fb5ce59739e41454989314c7095137e456ed40df68e9ad2c163\n"
		 "./lnk type=link mode=0777 uid=%u gid=%u link=etc/host\\040name\n",
		 u, g, u, g, u, g, u, g, u, g);
	assert_string_equal(text, expect);
	assert_int_equal(len, strlen(expect));
	assert_int_equal(st.files, 2);
	assert_int_equal(st.dirs, 2);
	assert_int_equal(st.links, 1);
	assert_int_equal(st.bytes, 6);

	/* Same tree, same bytes. */
	assert_int_equal(lethe_manifest_generate(dir, &again, &len2, NULL), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(text, again, len);
	free(again);

	/* A changed file changes the text. */
	write_file(dir, "etc/hostname", "other\n", 0644);
	assert_int_equal(lethe_manifest_generate(dir, &again, &len2, NULL), 0);
	assert_string_not_equal(text, again);
	free(again);
	free(text);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(dir);
}

static void test_encode(void **state)
{
	struct lethe_buf b = { 0 };

	assert_int_equal(lethe_fim_encode(&b, "a b\tc\nd\\e#f*g?h[i\x7f\xc3\xbc/j", ""), 0);
	assert_string_equal(b.data,
			    "a\\040b\\011c\\012d\\134e\\043f\\052g\\077h\\133i\\177\\303\\274/j");
	lethe_buf_release(&b);
}

static void test_missing_root(void **state)
{
	char *text = NULL;

	assert_int_equal(lethe_manifest_generate("/nonexistent/lethe", &text, NULL, NULL), -ENOENT);
	assert_null(text);
	assert_non_null(strstr(lethe_error_message(), "/nonexistent/lethe"));
}

/* The real mtree(8) (mtree-netbsd) checks a tree against the manifest: clean on the
 * tree it describes, complaining once a file changes. */
static void test_real_mtree(void **state)
{
	char *dir, *spec, cmd[1024];
	char nl_name[] = "we\nird \\ name";

	if (access("/usr/bin/mtree", X_OK) < 0) {
		skip();
		return;
	}
	dir = make_tree();
	write_file(dir, nl_name, "x", 0600);
	spec = ut_beside(dir, "manifest.mtree");
	assert_int_equal(lethe_manifest_write(dir, spec, NULL), 0);
	snprintf(cmd, sizeof(cmd), "out=$(mtree -f '%s' -p '%s' 2>&1) && [ -z \"$out\" ]", spec,
		 dir);
	assert_int_equal(system(cmd), 0);
	write_file(dir, "etc/hostname", "changed\n", 0644);
	assert_int_not_equal(system(cmd), 0);
	unlink(spec);
	free(spec);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_text),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_missing_root),
		cmocka_unit_test(test_real_mtree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
