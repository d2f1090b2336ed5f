/* Unit tests of lib/pkg: lethe.lock (strict parser with a table of malformed lines,
 * writer, round trip), control paragraphs, DEP-5 licences, names and file names. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/pkg.h>

#define SHA_A "3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744"
#define SHA_B "ba4f88f73dbc3ae9055f3c20f4523bfdbaf1ad13ff95e258924f77d20b4fbedf"
#define HDR   "lethe-lock 1\n"
#define LINE_A                                                                                     \
	"busybox-static 1:1.35.0-4 amd64 " SHA_A                                                   \
	" 928188 root busybox-static_1%3a1.35.0-4_amd64.deb\n"
#define LINE_B                                                                                     \
	"libc6 2.36-9+deb12u14 amd64 " SHA_B " 2759320 root libc6_2.36-9+deb12u14_amd64.deb\n"
#define LINE_K                                                                                     \
	"linux-image-cloud-amd64 6.1.192-2 amd64 " SHA_B                                           \
	" 1000 kernel linux-image-cloud-amd64_6.1.192-2_amd64.deb\n"

static void test_lock_valid(void **state)
{
	const char *text = HDR "# a comment\n" LINE_A LINE_B LINE_K;
	struct lethe_pkgset *set = NULL;
	struct lethe_buf out = { 0 };
	struct lethe_pkg *p;

	assert_int_equal(lethe_lock_parse("t.lock", text, strlen(text), &set), 0);
	assert_int_equal(set->n, 3);
	p = lethe_pkgset_find(set, "busybox-static");
	assert_non_null(p);
	assert_string_equal(p->version, "1:1.35.0-4");
	assert_int_equal(p->size, 928188);
	assert_true(p->have_sha256);
	assert_int_equal(p->sha256[0], 0x3d);
	assert_int_equal(lethe_pkgset_find(set, "linux-image-cloud-amd64")->role, LETHE_PKG_KERNEL);
	assert_null(lethe_pkgset_find(set, "tor"));

	/* The writer gives the canonical text back, and parsing it again is stable. */
	assert_int_equal(lethe_lock_format(set, &out), 0);
	assert_non_null(strstr(out.data, LINE_A LINE_B LINE_K));
	lethe_pkgset_free(set);
	assert_int_equal(lethe_lock_parse("t.lock", out.data, out.len, &set), 0);
	assert_int_equal(set->n, 3);
	lethe_pkgset_free(set);
	lethe_buf_release(&out);
	assert_null(lethe_pkgset_free(NULL));
}

static void test_lock_empty_set(void **state)
{
	struct lethe_pkgset *set = NULL;

	assert_int_equal(lethe_lock_parse("t.lock", HDR, strlen(HDR), &set), 0);
	assert_int_equal(set->n, 0);
	lethe_pkgset_free(set);
}

static const struct {
	const char *text;
	const char *message;
} bad_locks[] = {
	{ "", "'t.lock': empty or does not end with a newline" },
	{ HDR LINE_A "x", "'t.lock': empty or does not end with a newline" },
	{ "lethe-lock 2\n",
	  "'t.lock' line 1: expected 'lethe-lock 1' (a lethe.lock of another format version?)" },
	{ "# comment first\n" HDR, "'t.lock' line 1: expected 'lethe-lock 1'" },
	{ HDR "busybox 1.0 amd64\n",
	  "'t.lock' line 2: expected 7 fields separated by single spaces" },
	{ HDR "a  b c d e f g\n", "'t.lock' line 2: expected 7 fields" },
	{ HDR "a b c d e f g h\n", "'t.lock' line 2: expected 7 fields" },
	{ HDR "\n", "'t.lock' line 2: expected 7 fields" },
	{ HDR LINE_A " \n", "'t.lock' line 3: tab, carriage return or trailing space" },
	{ HDR "busybox 1.0 amd64 " SHA_A " 10 root busybox_1.0_amd64.deb\r\n",
	  "line 2: tab, carriage return" },
	{ HDR "Busybox 1.0 amd64 " SHA_A " 10 root Busybox_1.0_amd64.deb\n",
	  "line 2: invalid package name 'Busybox'" },
	{ HDR "../x 1.0 amd64 " SHA_A " 10 root ../x_1.0_amd64.deb\n",
	  "line 2: invalid package name '../x'" },
	{ HDR "busybox v1.0 amd64 " SHA_A " 10 root busybox_v1.0_amd64.deb\n",
	  "line 2: package 'busybox': invalid version 'v1.0'" },
	{ HDR "busybox 1.0/x amd64 " SHA_A " 10 root busybox_1.0/x_amd64.deb\n",
	  "invalid version '1.0/x'" },
	{ HDR "busybox 1.0 AMD64 " SHA_A " 10 root busybox_1.0_AMD64.deb\n",
	  "invalid architecture 'AMD64'" },
	{ HDR "busybox 1.0 amd64 " SHA_A "0 10 root busybox_1.0_amd64.deb\n",
	  "package 'busybox': SHA-256 must be 64 lowercase hex digits" },
	{ HDR
	  "busybox 1.0 amd64 3D3FDBE91D4660C873E14B092C213FE81C1DA6362DAA236EB25D0171EB108744 10 "
	  "root busybox_1.0_amd64.deb\n",
	  "SHA-256 must be 64 lowercase hex digits" },
	{ HDR "busybox 1.0 amd64 " SHA_A " 0 root busybox_1.0_amd64.deb\n",
	  "package 'busybox': invalid size '0'" },
	{ HDR "busybox 1.0 amd64 " SHA_A " 010 root busybox_1.0_amd64.deb\n",
	  "invalid size '010'" },
	{ HDR "busybox 1.0 amd64 " SHA_A " 99999999999 root busybox_1.0_amd64.deb\n",
	  "invalid size '99999999999'" },
	{ HDR "busybox 1.0 amd64 " SHA_A " 1x root busybox_1.0_amd64.deb\n", "invalid size '1x'" },
	{ HDR "busybox 1.0 amd64 " SHA_A " 10 boot busybox_1.0_amd64.deb\n",
	  "role must be 'root' or 'kernel', not 'boot'" },
	{ HDR "busybox 1:1.0 amd64 " SHA_A " 10 root busybox_1:1.0_amd64.deb\n",
	  "package 'busybox': file name 'busybox_1:1.0_amd64.deb' does not match "
	  "NAME_VERSION_ARCH.deb" },
	{ HDR "busybox 1.0 amd64 " SHA_A " 10 root ../../etc/passwd\n",
	  "does not match NAME_VERSION_ARCH.deb" },
	{ HDR LINE_B LINE_A, "'t.lock' line 3: package 'busybox-static' is out of order (the lock "
			     "is sorted by name)" },
	{ HDR LINE_A LINE_A, "'t.lock' line 3: package 'busybox-static' is listed twice" },
	{ HDR "busybox 1.0 amd64 " SHA_A " 10 root busybox_1.0_amd64.deb\0\n",
	  "'t.lock': contains a NUL byte" },
};

static void test_lock_malformed(void **state)
{
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(bad_locks); i++) {
		struct lethe_pkgset *set = (void *)0x1;
		const char *t = bad_locks[i].text;
		size_t len = strlen(t);
		int r;

		if (strstr(bad_locks[i].message, "NUL"))
			len += 2; /* the text carries a NUL and a newline after it */
		lethe_error_clear();
		r = lethe_lock_parse("t.lock", t, len, &set);
		if (r != -EBADMSG || !lethe_error_message() ||
		    !strstr(lethe_error_message(), bad_locks[i].message))
			fail_msg("case %zu: r=%d message '%s', expected '%s'", i, r,
				 lethe_error_message() ? lethe_error_message() : "(none)",
				 bad_locks[i].message);
		assert_ptr_equal(set, (void *)0x1); /* untouched on failure */
	}
}

static void test_lock_long_line(void **state)
{
	struct lethe_buf b = { 0 };
	struct lethe_pkgset *set;

	assert_int_equal(lethe_buf_puts(&b, HDR), 0);
	for (int i = 0; i < 2000; i++)
		assert_int_equal(lethe_buf_puts(&b, "a"), 0);
	assert_int_equal(lethe_buf_puts(&b, "\n"), 0);
	assert_int_equal(lethe_lock_parse("t.lock", b.data, b.len, &set), -EBADMSG);
	assert_string_equal(lethe_error_message(), "'t.lock' line 2: longer than 1024 bytes");
	lethe_buf_release(&b);
}

/* Enough packages for the array to grow several times (16, 32, 64, 128). */
static void test_lock_many(void **state)
{
	struct lethe_buf b = { 0 };
	struct lethe_pkgset *set;

	assert_int_equal(lethe_buf_puts(&b, HDR), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(
			lethe_buf_printf(&b, "p%03d 1.0 amd64 %064d 1 root p%03d_1.0_amd64.deb\n",
					 i, 0, i),
			0);
	assert_int_equal(lethe_lock_parse("t.lock", b.data, b.len, &set), 0);
	assert_int_equal(set->n, 100);
	assert_string_equal(set->pkgs[0].name, "p000");
	assert_string_equal(set->pkgs[99].name, "p099");
	lethe_pkgset_free(set);
	lethe_buf_release(&b);
}

static void test_lock_save_load(void **state)
{
	char dir[] = "/tmp/lethe-test-pkg.XXXXXX";
	const char *text = HDR LINE_A LINE_K;
	struct lethe_pkgset *set, *again;
	char *path, *data;
	size_t len;

	assert_non_null(mkdtemp(dir));
	path = lethe_path_join(dir, "lethe.lock");
	assert_int_equal(lethe_lock_parse("t.lock", text, strlen(text), &set), 0);
	assert_int_equal(lethe_lock_save(path, set), 0);
	assert_int_equal(lethe_file_read(path, 1 << 20, &data, &len), 0);
	assert_non_null(strstr(data, LINE_A LINE_K));
	free(data);
	assert_int_equal(lethe_lock_load(path, &again), 0);
	assert_int_equal(again->n, 2);
	lethe_pkgset_free(again);
	/* A lock that is not a file: the message says so, naming it. */
	assert_int_equal(lethe_lock_load(dir, &again), -EINVAL);
	assert_non_null(strstr(lethe_error_message(), "is not a regular file"));
	assert_non_null(strstr(lethe_error_message(), dir));
	/* A package without a known SHA-256 cannot be locked. */
	set->pkgs[0].have_sha256 = false;
	assert_int_equal(lethe_lock_save(path, set), -EINVAL);
	lethe_pkgset_free(set);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(path);
}

static void test_check_lock(void **state)
{
	const char *text = HDR LINE_A LINE_B LINE_K;
	struct lethe_spec spec = { 0 };
	struct lethe_pkgset *set;

	assert_int_equal(lethe_lock_parse("t.lock", text, strlen(text), &set), 0);
	lethe_strv_push(&spec.packages, "busybox-static");
	spec.kernel.package = "linux-image-cloud-amd64";
	assert_int_equal(lethe_pkg_check_lock(&spec, set), 0);

	lethe_strv_push(&spec.packages, "tor");
	assert_int_equal(lethe_pkg_check_lock(&spec, set), -EBADMSG);
	assert_string_equal(lethe_error_message(), "package 'tor' of the spec is not in the lock; "
						   "run 'lethe lock' again");
	lethe_strv_release(&spec.packages);

	lethe_strv_push(&spec.packages, "linux-image-cloud-amd64");
	assert_int_equal(lethe_pkg_check_lock(&spec, set), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "has role 'kernel' in the lock"));
	lethe_strv_release(&spec.packages);

	lethe_strv_push(&spec.drop, "libc6");
	assert_int_equal(lethe_pkg_check_lock(&spec, set), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "package 'libc6' is in the lock but the "
						      "spec drops it"));
	lethe_strv_release(&spec.drop);
	lethe_pkgset_free(set);
}

static void test_names(void **state)
{
	char *f;

	assert_true(lethe_pkg_name_is_valid("libc6"));
	assert_true(lethe_pkg_name_is_valid("g++-12"));
	assert_false(lethe_pkg_name_is_valid("a"));
	assert_false(lethe_pkg_name_is_valid("-x"));
	assert_false(lethe_pkg_name_is_valid("a/b"));
	assert_false(lethe_pkg_name_is_valid("a b"));
	assert_true(lethe_pkg_version_is_valid("1:2.36-9+deb12u14"));
	assert_true(lethe_pkg_version_is_valid("3.0.22-1~deb12u2"));
	assert_false(lethe_pkg_version_is_valid(""));
	assert_false(lethe_pkg_version_is_valid("x1.0"));
	assert_false(lethe_pkg_version_is_valid("1.0_1"));
	assert_true(lethe_pkg_arch_is_valid("all"));
	assert_false(lethe_pkg_arch_is_valid("amd64/"));
	f = lethe_pkg_deb_filename("busybox-static", "1:1.35.0-4+b1", "amd64");
	assert_string_equal(f, "busybox-static_1%3a1.35.0-4+b1_amd64.deb");
	free(f);
}

static void test_control(void **state)
{
	const char *t =
		"Package: tor\nVersion: 0.4.9.11-0+deb12u1\nArchitecture: amd64\n"
		"Maintainer: Debian Tor Maintainers <x@example.org>\n"
		"Installed-Size: 7120\nDepends: libc6 (>= 2.34),\n libevent-2.1-7 (>= 2.1.8)\n"
		"Homepage: https://www.torproject.org/\n"
		"Description: anonymizing overlay network\n Tor is a connection-based...\n .\n "
		"more\n\n";
	struct lethe_pkg_control c;

	assert_int_equal(lethe_pkg_control_parse("tor.deb", t, strlen(t), &c), 0);
	assert_string_equal(c.package, "tor");
	assert_string_equal(c.version, "0.4.9.11-0+deb12u1");
	assert_string_equal(c.architecture, "amd64");
	assert_string_equal(c.summary, "anonymizing overlay network");
	assert_string_equal(c.depends, "libc6 (>= 2.34),");
	assert_int_equal(c.installed_size, 7120);
	assert_string_equal(c.homepage, "https://www.torproject.org/");
	assert_null(c.pre_depends);
	/* The text is kept whole, ending in exactly one newline. */
	assert_int_equal(strlen(c.text), strlen(t) - 1);
	lethe_pkg_control_release(&c);
	lethe_pkg_control_release(NULL);
}

static void test_control_malformed(void **state)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
		{ "", "x: empty control file" },
		{ "Package: a1\n\nVersion: 1\nArchitecture: all\n",
		  "x: control line 2: empty line inside the paragraph" },
		{ " cont\nPackage: a1\n", "x: control line 1: continuation line before any field" },
		{ "Package a1\n", "x: control line 1: expected 'Field: value'" },
		{ "Pack age: a1\n", "x: control line 1: expected 'Field: value'" },
		{ "Package: a1\npackage: a2\n", "x: control line 2: field 'package' repeated" },
		{ "Package: a1\nVersion: 1\nArchitecture: all\nInstalled-Size: lots\n",
		  "x: control line 4: invalid 'Installed-Size'" },
		{ "Version: 1\nArchitecture: all\n", "x: control: missing or invalid Package" },
		{ "Package: A1\nVersion: 1\nArchitecture: all\n",
		  "x: control: missing or invalid Package" },
		{ "Package: a1\nVersion: x\nArchitecture: all\n",
		  "x: control: missing or invalid Version" },
		{ "Package: a1\nVersion: 1\n", "x: control: missing or invalid Architecture" },
	};
	struct lethe_pkg_control c;

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(cases); i++) {
		int r = lethe_pkg_control_parse("x", cases[i].text, strlen(cases[i].text), &c);

		if (r != -EBADMSG || strcmp(lethe_error_message(), cases[i].message))
			fail_msg("case %zu: r=%d '%s', expected '%s'", i, r, lethe_error_message(),
				 cases[i].message);
	}
}

static void test_copyright(void **state)
{
	const char *dep5 =
		"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
		"Upstream-Name: x\n\nFiles: *\nCopyright: someone\nLicense: GPL-2+\n"
		" The full text...\n\nFiles: lib/*\nLicense: BSD-3-clause\n\n"
		"License: GPL-2+\n text\n";
	const char *free_form = "This package was debianized by someone.\n\nLicense: GPL-2\n";
	struct lethe_strv l = { 0 };

	assert_int_equal(lethe_pkg_parse_copyright(dep5, strlen(dep5), &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0], "GPL-2+");
	assert_string_equal(l.v[1], "BSD-3-clause");
	lethe_strv_release(&l);
	assert_int_equal(lethe_pkg_parse_copyright(free_form, strlen(free_form), &l), 0);
	assert_int_equal(l.n, 0);
	lethe_strv_release(&l);
}

static void test_cache_dir(void **state)
{
	struct lethe_pkg_options o = { .cache_dir = "/x/y" };
	char *d;

	assert_int_equal(lethe_pkg_cache_dir(&o, &d), 0);
	assert_string_equal(d, "/x/y");
	free(d);
	setenv("XDG_CACHE_HOME", "/cache", 1);
	assert_int_equal(lethe_pkg_cache_dir(NULL, &d), 0);
	assert_string_equal(d, "/cache/lethe");
	free(d);
	setenv("XDG_CACHE_HOME", "relative", 1);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(lethe_pkg_cache_dir(NULL, &d), 0);
	assert_string_equal(d, "/home/u/.cache/lethe");
	free(d);
	unsetenv("XDG_CACHE_HOME");
}

/* Sources that would turn apt's signature checks off are refused before apt runs. */
static void test_insecure_source_refused(void **state)
{
	struct lethe_spec spec = { 0 };
	struct lethe_pkg_options o = { .cache_dir = "/tmp/lethe-test-pkg-cache",
				       .apt_get = "/bin/false" };
	struct lethe_pkgset *set = NULL;

	lethe_strv_push(&spec.sources,
			"deb [ TRUSTED=yes ] http://deb.debian.org/debian bookworm main");
	lethe_strv_push(&spec.packages, "busybox");
	assert_int_equal(lethe_pkg_resolve(&spec, &o, &set), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(),
			       "line 1: 'TRUSTED=yes' makes apt trust the repository"));
	assert_null(set);
	lethe_strv_release(&spec.sources);
	lethe_strv_release(&spec.packages);
	lethe_rm_rf("/tmp/lethe-test-pkg-cache");
}

/* Every option of sources.list(5) that weakens apt's signature or freshness checks is
 * refused, in both formats and in any case; harmless ones pass (issue 10.1). */
static void test_sources_check(void **state)
{
	static const struct {
		enum lethe_pkg_sources_format f;
		const char *text, *error; /* error NULL: accepted */
	} cases[] = {
#define D822(fields) "Types: deb\nURIs: http://192.0.2.1/d\nSuites: bookworm\n" fields
		{ LETHE_PKG_SOURCES_DEB822, D822("Trusted: yes\n"),
		  "line 4: 'Trusted: yes' makes" },
		{ LETHE_PKG_SOURCES_DEB822, D822("TRUSTED: YES\n"), "line 4: 'TRUSTED: YES'" },
		{ LETHE_PKG_SOURCES_DEB822, D822("trusted :\tTrue \r\n"),
		  "line 4: 'trusted: True'" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Trusted: maybe\n"), "line 4: 'Trusted: maybe'" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Trusted:\n yes\n"), "line 4: 'Trusted: '" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Trusted: no\n yes\n"), "line 5: the value of" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Allow-Insecure: yes\n"),
		  "'Allow-Insecure: yes'" },
		{ LETHE_PKG_SOURCES_DEB822, D822("allow-weak: 1\n"), "'allow-weak: 1'" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Allow-Downgrade-To-Insecure: on\n"),
		  "Downgrade" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Check-Valid-Until: no\n"), "replay protection" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Check-Date: no\n"), "'Check-Date: no'" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Valid-Until-Min: 1\n"), "'Valid-Until-Min: 1'" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Valid-Until-Max: 1\n"), "'Valid-Until-Max: 1'" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Date-Max-Future: 9\n"), "'Date-Max-Future: 9'" },
		{ LETHE_PKG_SOURCES_DEB822, D822("InRelease-Path: x\n"), "'InRelease-Path: x'" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Snapshot: now\n"), "unknown option 'Snapshot'" },
		/* A continuation line is part of the field above it, for apt as here. */
		{ LETHE_PKG_SOURCES_DEB822, D822("\nTypes: deb\n Trusted: yes\n"), NULL },
		{ LETHE_PKG_SOURCES_DEB822, D822("\n Trusted: yes\n"), "line 5: a continuation" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Enabled: no\nTrusted: yes\n"),
		  "line 5: 'Trusted" },
		{ LETHE_PKG_SOURCES_DEB822, D822("no colon\n"), "line 4: expected 'Field: value'" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Tru sted: yes\n"), "is not a field name" },
		{ LETHE_PKG_SOURCES_DEB822, D822("Trusted: no\nCheck-Valid-Until: yes\n"), NULL },
		{ LETHE_PKG_SOURCES_DEB822, D822("# Trusted: yes\nX-Repolib-Name: x\n"), NULL },
		{ LETHE_PKG_SOURCES_DEB822,
		  D822("Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n x\n"), NULL },
		{ LETHE_PKG_SOURCES_DEB822, D822("Check-Date: YES\nAllow-Weak: off\n"), NULL },
		{ LETHE_PKG_SOURCES_LIST, "deb [trusted=yes] http://192.0.2.1/d bookworm main",
		  "line 1: 'trusted=yes' makes apt trust" },
		{ LETHE_PKG_SOURCES_LIST, "deb [ trusted=yes ] http://192.0.2.1/d bookworm",
		  "trusted" },
		{ LETHE_PKG_SOURCES_LIST, "deb[Trusted=Yes] http://192.0.2.1/d bookworm",
		  "Trusted=Yes" },
		{ LETHE_PKG_SOURCES_LIST, "deb [arch=amd64 allow-insecure=yes] u s",
		  "allow-insecure" },
		{ LETHE_PKG_SOURCES_LIST, "deb [check-valid-until=no] u s",
		  "check-valid-until=no" },
		{ LETHE_PKG_SOURCES_LIST, "deb [check-date=no] u s", "check-date=no" },
		{ LETHE_PKG_SOURCES_LIST, "deb [date-max-future=99] u s", "date-max-future=99" },
		{ LETHE_PKG_SOURCES_LIST, "deb [trusted+=yes] u s", "takes no '+='" },
		{ LETHE_PKG_SOURCES_LIST, "deb [trusted=yes,arch=amd64] u s", "trusted=yes,arch" },
		{ LETHE_PKG_SOURCES_LIST, "deb [bogus=1] u s", "unknown option 'bogus'" },
		{ LETHE_PKG_SOURCES_LIST, "deb [trusted] u s", "is not NAME=VALUE" },
		{ LETHE_PKG_SOURCES_LIST, "deb [trusted=yes u s", "'[' without ']'" },
		{ LETHE_PKG_SOURCES_LIST, "deb u [trusted=yes] s", "must follow the type" },
		{ LETHE_PKG_SOURCES_LIST, "deb u", "expected 'URI SUITE" },
		{ LETHE_PKG_SOURCES_LIST, "rpm u s", "is not 'deb' or 'deb-src'" },
		{ LETHE_PKG_SOURCES_LIST, "# c\n\ndeb u s\ndeb [trusted=yes] u s\n", "line 4:" },
		{ LETHE_PKG_SOURCES_LIST, "deb [trusted=no] http://192.0.2.1/d bookworm main",
		  NULL },
		{ LETHE_PKG_SOURCES_LIST,
		  "deb [ arch+=amd64 signed-by=/k.gpg ] u s c # trusted=yes", NULL },
		{ LETHE_PKG_SOURCES_LIST,
		  "  deb-src [check-valid-until=yes] u s\n# deb [trusted=yes]\n", NULL },
#undef D822
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = lethe_pkg_sources_check("t", cases[i].text, strlen(cases[i].text),
						cases[i].f);

		if (!cases[i].error) {
			if (r != 0)
				fail_msg("case %zu: %s", i, lethe_error_message());
			continue;
		}
		if (r != -EBADMSG || !strstr(lethe_error_message(), cases[i].error))
			fail_msg("case %zu: %d '%s', expected '%s'", i, r,
				 r ? lethe_error_message() : "", cases[i].error);
		assert_non_null(strstr(lethe_error_message(), "apt source 't' line "));
	}
	/* Not NUL-terminated, a NUL inside; no name: the message is the reason alone. */
	assert_int_equal(lethe_pkg_sources_check("t", "deb u s\0", 8, LETHE_PKG_SOURCES_LIST),
			 -EBADMSG);
	assert_int_equal(
		lethe_pkg_sources_check(NULL, "deb [trusted=yes] u s", 21, LETHE_PKG_SOURCES_LIST),
		-EBADMSG);
	assert_true(!strncmp(lethe_error_message(), "'trusted=yes' makes", 19));
	assert_int_equal(lethe_pkg_sources_check("t", "deb u sXXXX", 7, LETHE_PKG_SOURCES_LIST), 0);

	assert_true(lethe_pkg_source_is_oneline("deb http://x y"));
	assert_true(lethe_pkg_source_is_oneline("deb[arch=amd64] http://x y"));
	assert_true(lethe_pkg_source_is_oneline("deb-src\thttp://x y"));
	assert_false(lethe_pkg_source_is_oneline("debian.sources"));
	assert_false(lethe_pkg_source_is_oneline("deb.list"));
	assert_false(lethe_pkg_source_is_oneline("deb"));
	assert_false(lethe_pkg_source_is_oneline("/etc/deb x.sources"));
}

/* A stand-in for apt-get and apt-cache: logs its arguments, resolves one package. */
static const char fake_apt[] =
	"#!/bin/sh\n"
	"echo \"$(basename \"$0\") $*\" >>\"$(dirname \"$0\")/log\"\n"
	"case \"$1\" in\n"
	"install) echo 'Inst busybox (1:1.0 t [amd64])' ;;\n"
	"show) printf 'Package: busybox\\nVersion: 1:1.0\\nSize: 9\\nSHA256: %s\\n\\n' " SHA_A
	" ;;\n"
	"download) exit 1 ;;\n"
	"esac\n";

/* apt is given the options that forbid unsigned, weak and stale repositories on every
 * call, whatever its apt.conf says (issue 10.1). */
static void test_apt_strict_options(void **state)
{
	char dir[] = "/tmp/lethe-test-pkg.XXXXXX";
	struct lethe_spec spec = { 0 };
	struct lethe_pkg_options o = { 0 };
	struct lethe_pkgset *set = NULL;
	char *get, *cache, *p, *log, *line, *save = NULL;
	size_t len, calls = 0;

	assert_non_null(mkdtemp(dir));
	get = lethe_path_join(dir, "apt-get");
	p = lethe_path_join(dir, "apt-cache");
	cache = lethe_path_join(dir, "cache");
	assert_int_equal(lethe_file_write_atomic(get, fake_apt, strlen(fake_apt), 0755), 0);
	assert_int_equal(symlink("apt-get", p), 0);
	free(p);
	o.apt_get = get;
	o.cache_dir = cache;
	lethe_strv_push(&spec.sources, "deb http://192.0.2.1/debian bookworm main");
	lethe_strv_push(&spec.packages, "busybox");
	if (lethe_pkg_resolve(&spec, &o, &set) < 0)
		fail_msg("%s", lethe_error_message());
	assert_int_equal(set->n, 1);
	assert_int_equal(lethe_pkg_fetch(&spec, &o, set), -EIO); /* download fails */
	lethe_pkgset_free(set);

	p = lethe_path_join(dir, "log");
	assert_int_equal(lethe_file_read(p, 1 << 20, &log, &len), 0);
	free(p);
	/* In this order: update, install -s, show, download. */
	p = strstr(log, "apt-get update");
	p = p ? strstr(p, "apt-get install") : NULL;
	p = p ? strstr(p, "apt-cache show") : NULL;
	assert_non_null(p ? strstr(p, "apt-get download") : NULL);
	for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		calls++;
		if (!strstr(line, " -o APT::Get::AllowUnauthenticated=false") ||
		    !strstr(line, " -o Acquire::AllowInsecureRepositories=false") ||
		    !strstr(line, " -o Acquire::AllowWeakRepositories=false") ||
		    !strstr(line, " -o Acquire::AllowDowngradeToInsecureRepositories=false") ||
		    !strstr(line, " -o Acquire::Check-Valid-Until=true") ||
		    !strstr(line, " -o Acquire::Check-Date=true"))
			fail_msg("apt call without the strict options: %s", line);
	}
	assert_int_equal(calls, 4);
	free(log);
	lethe_strv_release(&spec.sources);
	lethe_strv_release(&spec.packages);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(get);
	free(cache);
}

/* The private apt root: the spec's sources copied in, an empty dpkg status, and an
 * APT_CONFIG that points apt at it; a failing apt is reported with its last line. */
static void test_private_root(void **state)
{
	char dir[] = "/tmp/lethe-test-pkg.XXXXXX";
	struct lethe_spec spec = { 0 };
	struct lethe_pkg_options o = { .apt_get = "/bin/false" };
	struct lethe_pkgset *set = NULL;
	char *src, *cache, *p, *data;
	size_t len;
	struct lethe_buf glob = { 0 };

	assert_non_null(mkdtemp(dir));
	src = lethe_path_join(dir, "extra.sources");
	cache = lethe_path_join(dir, "cache");
	o.cache_dir = cache;
	const char *sources = "Types: deb\nURIs: http://192.0.2.1/debian\nSuites: bookworm\n"
			      "Components: main\n";

	assert_int_equal(lethe_file_write_atomic(src, sources, strlen(sources), 0644), 0);
	spec.dir = dir;
	spec.path = "t.yaml";
	lethe_strv_push(&spec.sources, src); /* as lethe_spec_load() resolved it */
	lethe_strv_push(&spec.sources, "deb http://192.0.2.1/debian bookworm contrib");
	lethe_strv_push(&spec.packages, "busybox");
	assert_int_equal(lethe_pkg_resolve(&spec, &o, &set), -EIO);
	assert_non_null(strstr(lethe_error_message(), "apt: /bin/false update failed"));
	assert_null(set);

	/* One private root below cache/apt/, whatever its key. */
	{
		char *apt = lethe_path_join(cache, "apt");
		DIR *d = opendir(apt);
		struct dirent *e;

		assert_non_null(d);
		while ((e = readdir(d)) && e->d_name[0] == '.')
			;
		assert_non_null(e);
		assert_int_equal(strlen(e->d_name), 16);
		lethe_buf_printf(&glob, "%s/%s", apt, e->d_name);
		closedir(d);
		free(apt);
	}
#define READ(rel)                                                                                  \
	(p = lethe_path_join(glob.data, rel),                                                      \
	 assert_int_equal(lethe_file_read(p, 1 << 20, &data, &len), 0), free(p), data)
	assert_string_equal(READ("etc/apt/sources.list"),
			    "deb http://192.0.2.1/debian bookworm contrib\n");
	free(data);
	assert_non_null(
		strstr(READ("etc/apt/sources.list.d/000-lethe.sources"), "Suites: bookworm"));
	free(data);
	assert_string_equal(READ("var/lib/dpkg/status"), "");
	free(data);
	(void)READ("apt.conf");
	assert_non_null(strstr(data, "Dir::State::Status \""));
	assert_non_null(strstr(data, "APT::Architecture \"amd64\";"));
	assert_non_null(strstr(data, "Acquire::AllowInsecureRepositories \"false\";"));
	free(data);
#undef READ
	lethe_strv_release(&spec.sources);
	lethe_strv_release(&spec.packages);
	lethe_buf_release(&glob);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(src);
	free(cache);
}

/* apt-cache policy, as apt 2.6 prints it (Debian's security archive, an Ubuntu-style
 * one whose security suite is known by its Suite only, and the main archive). */
#define POLICY_FILES                                                                               \
	"Package files:\n"                                                                         \
	" 100 /var/lib/dpkg/status\n"                                                              \
	"     release a=now\n"                                                                     \
	" 500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages\n"       \
	"     release v=12,o=Debian,a=stable-security,n=bookworm-security,l=Debian-Security,"      \
	"c=main,b=amd64\n"                                                                         \
	"     origin deb.debian.org\n"                                                             \
	" 500 http://archive.example/ubuntu jammy-security/main amd64 Packages\n"                  \
	"     release v=22.04,o=Ubuntu,a=jammy-security,n=jammy,l=Ubuntu,c=main,b=amd64\n"         \
	" 500 http://deb.debian.org/debian bookworm/main amd64 Packages\n"                         \
	"     release v=12.8,o=Debian,a=stable,n=bookworm,l=Debian,c=main,b=amd64\n"               \
	"     origin deb.debian.org\n"                                                             \
	"Pinned packages:\n"
#define POLICY_PKG(name, cand, table)                                                              \
	name ":\n  Installed: (none)\n  Candidate: " cand "\n  Version table:\n" table
#define FROM_SEC                                                                                   \
	"        500 http://deb.debian.org/debian-security bookworm-security/main amd64 "          \
	"Packages\n"
#define FROM_UBUSEC "        500 http://archive.example/ubuntu jammy-security/main amd64 Packages\n"
#define FROM_MAIN   "        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n"

static void test_policy(void **state)
{
	const char *lock = HDR LINE_A LINE_B LINE_K
		"zlib1g 1:1.2.13.dfsg-1 amd64 " SHA_A " 1 root zlib1g_1%3a1.2.13.dfsg-1_amd64.deb\n"
		"zz-gone 1.0 amd64 " SHA_A " 1 root zz-gone_1.0_amd64.deb\n";
	const char *text = POLICY_FILES
		/* busybox-static: only the locked version */
		POLICY_PKG("busybox-static", "1:1.35.0-4", "     1:1.35.0-4 500\n" FROM_MAIN)
		/* libc6: a security update, also in main (any origin that is security) */
		POLICY_PKG("libc6", "2.36-9+deb12u15",
			   "     2.36-9+deb12u15 500\n" FROM_MAIN FROM_SEC
			   "     2.36-9+deb12u14 500\n" FROM_MAIN)
		/* the kernel: Ubuntu's way of naming its security suite */
		POLICY_PKG("linux-image-cloud-amd64:amd64", "6.1.193-1",
			   "     6.1.193-1 500\n" FROM_UBUSEC "     6.1.192-2 500\n" FROM_MAIN)
		/* zlib1g: an older candidate (a pin, say) is no update */
		POLICY_PKG("zlib1g", "1:1.2.12-1", " *** 1:1.2.12-1 990\n" FROM_MAIN)
		/* not in the lock at all */
		POLICY_PKG("tor", "0.4.8", "     0.4.8 500\n" FROM_SEC);
	struct lethe_pkgset *set = NULL;
	struct lethe_pkg_updates u = { 0 };

	assert_int_equal(lethe_lock_parse("t.lock", lock, strlen(lock), &set), 0);
	assert_int_equal(lethe_pkg_policy_parse(text, strlen(text), set, &u), 0);
	assert_int_equal(u.n, 2);
	assert_string_equal(u.v[0].name, "libc6");
	assert_string_equal(u.v[0].locked, "2.36-9+deb12u14");
	assert_string_equal(u.v[0].available, "2.36-9+deb12u15");
	assert_true(u.v[0].security);
	assert_string_equal(u.v[0].suite, "stable-security");
	assert_string_equal(u.v[1].name, "linux-image-cloud-amd64");
	assert_true(u.v[1].security);
	assert_string_equal(u.v[1].suite, "jammy-security");
	assert_int_equal(u.v[1].role, LETHE_PKG_KERNEL);
	assert_int_equal(u.checked, 4);
	assert_int_equal(u.absent.n, 1);
	assert_string_equal(u.absent.v[0], "zz-gone");
	lethe_pkg_updates_release(&u);
	lethe_pkg_updates_release(NULL);

	/* Not a security suite: the same update from main only. */
	text = POLICY_FILES POLICY_PKG("libc6", "2.36-9+deb12u15",
				       "     2.36-9+deb12u15 500\n" FROM_MAIN);
	assert_int_equal(lethe_pkg_policy_parse(text, strlen(text), set, &u), 0);
	assert_int_equal(u.n, 1);
	assert_false(u.v[0].security);
	assert_string_equal(u.v[0].suite, "stable");
	assert_int_equal(u.absent.n, 4);
	lethe_pkg_updates_release(&u);

	/* Not apt's text: refused with the line, *ret untouched. */
	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "hello world\n", "apt-cache policy line 1: expected 'NAME:'" },
		{ "Package files:\n     release a=now\n",
		  "line 2: a detail line before any package file" },
		{ "Package files:\n x /var/lib/dpkg/status\n",
		  "line 2: expected 'PRIORITY SOURCE'" },
		{ "Libc6:\n", "line 1: not a package name" },
		{ POLICY_PKG("libc6", "2.36 9", ""),
		  "line 3: the candidate is not a Debian version" },
		{ POLICY_PKG("libc6", "2.36", "     2.36\n"),
		  "line 5: expected 'VERSION PRIORITY'" },
		{ POLICY_PKG("libc6", "2.36", "") POLICY_PKG("libc6", "2.37", ""),
		  "line 5: a package listed twice" },
		{ "  Candidate: 1.0\n", "line 1: an indented line outside a section" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		u.n = 77;
		assert_int_equal(lethe_pkg_policy_parse(bad[i].text, strlen(bad[i].text), set, &u),
				 -EBADMSG);
		assert_non_null(strstr(lethe_error_message(), bad[i].message));
		assert_int_equal(u.n, 77);
	}
	assert_int_equal(lethe_pkg_policy_parse("a\0b", 3, set, &u), -EBADMSG);
	lethe_pkgset_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_valid),
		cmocka_unit_test(test_lock_empty_set),
		cmocka_unit_test(test_lock_malformed),
		cmocka_unit_test(test_lock_long_line),
		cmocka_unit_test(test_lock_many),
		cmocka_unit_test(test_lock_save_load),
		cmocka_unit_test(test_check_lock),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_control_malformed),
		cmocka_unit_test(test_copyright),
		cmocka_unit_test(test_cache_dir),
		cmocka_unit_test(test_insecure_source_refused),
		cmocka_unit_test(test_sources_check),
		cmocka_unit_test(test_apt_strict_options),
		cmocka_unit_test(test_private_root),
		cmocka_unit_test(test_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
