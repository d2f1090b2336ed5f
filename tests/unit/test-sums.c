/* Unit tests of lib/sums: SHA256SUMS writing, strict parsing and checking. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/sums.h>
#include <lethe/util.h>

#include "helpers.h"

#define ABC_SHA256   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char dir[64];

/* dir/name in a static buffer. */
static const char *at(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static void put(const char *name, const char *text)
{
	char *p = ut_path(dir, name);

	ut_write(p, text, strlen(text), 0644);
	free(p);
}

static int setup(void **state)
{
	ut_mkdtemp_in(dir, sizeof(dir), "sums");
	return 0;
}

static int teardown(void **state)
{
	lethe_rm_rf(dir);
	return 0;
}

static int parse(const char *text, struct lethe_sums *s)
{
	return lethe_sums_parse(text, strlen(text), "SHA256SUMS", s);
}

static void expect_bad(const char *text, const char *msg)
{
	struct lethe_sums s = { 0 };

	assert_int_equal(parse(text, &s), -EBADMSG);
	assert_null(s.v);
	if (!strstr(lethe_error_message(), msg))
		fail_msg("'%s' not in '%s'", msg, lethe_error_message());
}

static void test_sha256_file(void **state)
{
	uint8_t d[32];
	char hex[65], *p;
	int dfd = open(dir, O_PATH | O_DIRECTORY);

	put("abc", "abc");
	put("empty", "");
	assert_int_equal(lethe_sums_sha256_file(dfd, "abc", d), 0);
	lethe_hex_encode(d, 32, hex);
	assert_string_equal(hex, ABC_SHA256);
	assert_int_equal(lethe_sums_sha256_file(dfd, "empty", d), 0);
	lethe_hex_encode(d, 32, hex);
	assert_string_equal(hex, EMPTY_SHA256);
	assert_int_equal(lethe_sums_sha256_file(dfd, "nope", d), -ENOENT);
	p = lethe_path_join(dir, "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(lethe_sums_sha256_file(dfd, "fifo", d), -EINVAL); /* and no hang */
	unlink(p);
	free(p);
	close(dfd);
}

static void test_format_sorted(void **state)
{
	const char *names[] = { "b", "a", "sub/c", "B" };
	char *text;
	size_t len;

	put("a", "abc");
	put("b", "");
	put("B", "abc");
	assert_int_equal(mkdir(at("sub"), 0755), 0);
	put("sub/c", "abc");
	assert_int_equal(lethe_sums_format(dir, names, 4, &text, &len), 0);
	assert_string_equal(text, ABC_SHA256 "  B\n" ABC_SHA256 "  a\n" EMPTY_SHA256
					     "  b\n" ABC_SHA256 "  sub/c\n");
	free(text);
	/* Names the format cannot carry, or that are unsafe. */
	const char *dup[] = { "a", "a" }, *up[] = { "../a" }, *bs[] = { "a\\b" },
		   *nl[] = { "a\nb" }, *abs[] = { "/etc/passwd" };
	assert_int_equal(lethe_sums_format(dir, dup, 2, &text, &len), -EINVAL);
	assert_int_equal(lethe_sums_format(dir, up, 1, &text, &len), -EINVAL);
	assert_int_equal(lethe_sums_format(dir, bs, 1, &text, &len), -EINVAL);
	assert_int_equal(lethe_sums_format(dir, nl, 1, &text, &len), -EINVAL);
	assert_int_equal(lethe_sums_format(dir, abs, 1, &text, &len), -EINVAL);
	assert_int_equal(lethe_sums_format(dir, names, 0, &text, &len), -EINVAL);
}

static void test_parse_ok(void **state)
{
	struct lethe_sums s;

	assert_int_equal(parse(ABC_SHA256 "  a\n" EMPTY_SHA256 " *bin/b\n", &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].name, "a");
	assert_int_equal(s.v[0].line, 1);
	assert_string_equal(s.v[1].name, "bin/b");
	assert_int_equal(s.v[1].line, 2);
	assert_int_equal(s.v[0].sha256[0], 0xba);
	lethe_sums_release(&s);
	/* Uppercase hex (as some tools write) and no final newline. */
	assert_int_equal(
		parse("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD  a", &s),
		0);
	assert_int_equal(s.v[0].sha256[31], 0xad);
	lethe_sums_release(&s);
	lethe_sums_release(NULL);
}

static void test_parse_bad(void **state)
{
	expect_bad("", "no checksum lines");
	expect_bad("\n", "line 1: empty line");
	expect_bad(ABC_SHA256 "  a\n\n", "line 2: empty line");
	expect_bad(ABC_SHA256 " a\n", "line 1: not a SHA-256 line");
	expect_bad(ABC_SHA256 "  \n", "line 1: not a SHA-256 line");
	expect_bad("ba7816bf  a\n", "line 1: not a SHA-256 line");
	expect_bad("xa7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a\n",
		   "line 1: the digest is not 64 hex digits");
	expect_bad(ABC_SHA256 "  ../etc/passwd\n", "line 1: unsafe file name");
	expect_bad(ABC_SHA256 "  /etc/passwd\n", "line 1: unsafe file name");
	expect_bad(ABC_SHA256 "  a/../../b\n", "line 1: unsafe file name");
	expect_bad(ABC_SHA256 "  a\r\n", "line 1: unsafe file name"); /* CRLF */
	expect_bad(ABC_SHA256 "  a\tb\n", "line 1: unsafe file name");
	expect_bad("\\" ABC_SHA256 "  a\\nb\n", "line 1: escaped names are not supported");
	expect_bad(ABC_SHA256 "  a\n" ABC_SHA256 "  b\n" EMPTY_SHA256 " *a\n",
		   "line 3: 'a' is listed twice (also line 1)");
	{
		struct lethe_sums s;
		char text[] = ABC_SHA256 "  a\n";

		text[10] = '\0'; /* a NUL inside a line */
		assert_int_equal(lethe_sums_parse(text, sizeof(text) - 1, "S", &s), -EBADMSG);
	}
}

static void test_parse_caps(void **state)
{
	struct lethe_buf b = { 0 };
	struct lethe_sums s;

	/* A line longer than the cap. */
	assert_int_equal(lethe_buf_puts(&b, ABC_SHA256 "  "), 0);
	for (int i = 0; i < LETHE_SUMS_LINE_MAX; i++)
		assert_int_equal(lethe_buf_puts(&b, "a"), 0);
	assert_int_equal(lethe_sums_parse(b.data, b.len, "S", &s), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "line 1: too long"));
	lethe_buf_release(&b);
	/* One line more than the count cap. */
	for (int i = 0; i <= LETHE_SUMS_COUNT_MAX; i++)
		assert_int_equal(lethe_buf_printf(&b, ABC_SHA256 "  f%d\n", i), 0);
	assert_int_equal(lethe_sums_parse(b.data, b.len, "S", &s), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "more than 65536 lines"));
	lethe_buf_release(&b);
}

struct seen {
	int ok, bad, missing, other;
};

static void count(const struct lethe_sums_entry *e, int r, void *userdata)
{
	struct seen *s = userdata;

	if (r == 0)
		s->ok++;
	else if (r == -EBADMSG)
		s->bad++;
	else if (r == -ENOENT)
		s->missing++;
	else
		s->other++;
	if (r < 0)
		assert_non_null(lethe_error_message());
}

static void test_check(void **state)
{
	const char *names[] = { "one", "two", "three" };
	char *sums = lethe_path_join(dir, "SHA256SUMS");
	struct seen seen = { 0 };

	put("one", "1");
	put("two", "2");
	put("three", "3");
	assert_int_equal(lethe_sums_write(sums, dir, names, 3), 0);
	assert_int_equal(lethe_sums_check_file(sums, count, &seen), 0);
	assert_int_equal(seen.ok, 3);
	/* One changed file: named, with its line. "one", "three", "two" sorted. */
	put("three", "33");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(lethe_sums_check_file(sums, count, &seen), -EBADMSG);
	assert_int_equal(seen.ok, 2);
	assert_int_equal(seen.bad, 1);
	assert_non_null(strstr(lethe_error_message(), "line 2: 'three' does not match"));
	assert_non_null(strstr(lethe_error_message(), "1 of 3 files failed"));
	/* A missing file. */
	put("three", "3");
	assert_int_equal(unlink(at("two")), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(lethe_sums_check_file(sums, count, &seen), -EBADMSG);
	assert_int_equal(seen.missing, 1);
	assert_non_null(strstr(lethe_error_message(), "line 3: 'two' is missing"));
	/* A directory where a file should be. */
	assert_int_equal(mkdir(at("two"), 0755), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(lethe_sums_check_file(sums, count, &seen), -EBADMSG);
	assert_int_equal(seen.other, 1);
	assert_non_null(strstr(lethe_error_message(), "not a regular file"));
	free(sums);
}

static void test_dir(void **state)
{
	static const char *const cases[][2] = {
		{ "out/SHA256SUMS", "out/" },
		{ "SHA256SUMS", "." },
		{ "/SHA256SUMS", "/" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *d = lethe_sums_dir(cases[i][0]);

		assert_string_equal(d, cases[i][1]);
		free(d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_file), cmocka_unit_test(test_format_sorted),
		cmocka_unit_test(test_parse_ok),    cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_caps),  cmocka_unit_test(test_check),
		cmocka_unit_test(test_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
