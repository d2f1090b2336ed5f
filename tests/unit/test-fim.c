/* Unit tests of lib/fim: the mtree reader (both forms, escapes, every refusal), the
 * rules, and the scanner: a fixture tree where every kind of drift is detected and
 * named, an unchanged tree that reports nothing, a file changed during the scan,
 * sparse files, odd names, special files, and output that does not depend on the
 * number of threads. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/audit.h>
#include <lethe/contract.h>
#include <lethe/fim.h>
#include <lethe/manifest.h>

#include "helpers.h"

static int parse(const char *text, struct lethe_fim_manifest *m)
{
	return lethe_fim_mtree_parse(text, strlen(text), "t.mtree", m);
}

static void test_parse_flat(void **state)
{
	struct lethe_fim_manifest m;
	const struct lethe_fim_entry *e;

	(void)state;
	assert_int_equal(parse("#mtree\n"
			       ". type=dir mode=0755 uid=0 gid=0\n"
			       "./b\\040c type=file mode=4755 uid=1 gid=2 size=3 nlink=2 "
			       "time=5.000000007 \\\n"
			       "  "
			       "sha256digest="
			       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
			       "./a type=dir mode=0700 uid=0 gid=0 tags=xattrs,xattr:user.x=6869\n"
			       "./a/l type=link mode=0777 uid=0 gid=0 link=\\303\\251t\\s\\\\\n"
			       "./a-b type=char mode=0600 uid=0 gid=0 device=native,1,3\n",
			       &m),
			 0);
	assert_int_equal(m.n, 5);
	/* the order of a walk: a directory's contents right after it */
	assert_string_equal(m.v[0].path, ".");
	assert_string_equal(m.v[1].path, "./a");
	assert_string_equal(m.v[2].path, "./a/l");
	assert_string_equal(m.v[3].path, "./a-b");
	assert_string_equal(m.v[4].path, "./b c");
	e = lethe_fim_manifest_find(&m, "./b c");
	assert_non_null(e);
	assert_int_equal(e->mode, 04755);
	assert_int_equal(e->uid, 1);
	assert_int_equal(e->gid, 2);
	assert_int_equal(e->size, 3);
	assert_int_equal(e->nlink, 2);
	assert_int_equal(e->mtime_sec, 5);
	assert_int_equal(e->mtime_nsec, 7);
	assert_int_equal(e->sha256[0], 0xe3);
	assert_true(e->have & LETHE_FIM_SHA256);
	assert_false(e->have & LETHE_FIM_XATTRS);
	assert_string_equal(m.v[2].link, "\xc3\xa9t \\");
	assert_string_equal(m.v[1].xattrs, "user.x=6869");
	assert_int_equal(m.v[3].type, LETHE_FIM_T_CHAR);
	assert_int_equal(m.v[3].dev_major, 1);
	assert_int_equal(m.v[3].dev_minor, 3);
	lethe_fim_manifest_release(&m);
}

/* The form `mtree -c` writes: /set, names relative to the current directory, "..". */
static void test_parse_hierarchical(void **state)
{
	struct lethe_fim_manifest m;

	(void)state;
	assert_int_equal(
		parse("#\t   user: root\n\n# .\n"
		      "/set type=file uid=0 gid=0 mode=0644 nlink=1 flags=none\n"
		      ".               type=dir mode=0755 nlink=3 time=1.5\n"
		      "    f           size=3 \\\n"
		      "                "
		      "sha256=98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4\n"
		      "# ./a\n"
		      "/set type=file uid=7 gid=0 mode=0600 nlink=1 flags=none\n"
		      "a               type=dir mode=0755 nlink=2\n"
		      "    sp\\sace    size=1 md5=d41d8cd98f00b204e9800998ecf8427e\n"
		      "    \\M-a\\^A      size=0\n"
		      "..\n"
		      "/unset mode\n"
		      "g               type=link link=f\n",
		      &m),
		0);
	assert_int_equal(m.n, 6);
	assert_string_equal(m.v[1].path, "./a");
	assert_string_equal(m.v[2].path, "./a/sp ace");
	assert_string_equal(m.v[3].path, "./a/\xe1\x01");
	assert_int_equal(m.v[2].uid, 7);
	assert_int_equal(m.v[2].mode, 0600);
	assert_string_equal(m.v[4].path, "./f");
	assert_int_equal(m.v[4].uid, 0);
	assert_string_equal(m.v[5].path, "./g");
	assert_false(m.v[5].have & LETHE_FIM_MODE);
	assert_int_equal(m.v[0].mtime_nsec, 5);
	lethe_fim_manifest_release(&m);
}

static void test_parse_refusals(void **state)
{
	static const char *const bad[] = {
		"#mtree\n",
		". type=dir\n./a type=file frobnicate=1\n",
		". type=dir\n./a type=file mode=8\n",
		". type=dir\n./a type=file mode=17777\n",
		". type=dir\n./a type=file uid=-1\n",
		". type=dir\n./a type=file\n./a type=file\n",
		". type=dir\n./a/b type=file\n",
		". type=dir\n./a type=file\n./a/b type=file\n",
		". type=dir\n..\n..\n",
		". type=dir\n/a type=file\n",
		". type=dir\n./a/../b type=file\n",
		". type=dir\n./a//b type=file\n",
		". type=dir\n./a\\000 type=file\n",
		". type=dir\n./a\\\001 type=file\n",
		". type=dir\n./a type=file sha256=abc\n",
		". type=dir\n./a type=file time=1.1234567890\n",
		". type=dir\n./a type=wat\n",
		". type=dir\n./a\n",
		". type=file\n",
		"a type=file\n",
		". type=dir\n./a type=file tags=xattr:user.x=6869\n",
		". type=dir\n./a type=file tags=xattrs,xattr:user.x=686\n",
		". type=dir\n/frob x\n",
		". type=dir\n./a type=file ignore=1\n",
		". type=dir\n./a type=file link=\n",
	};
	struct lethe_fim_manifest m;
	char *huge;

	(void)state;
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(bad); i++) {
		int r = parse(bad[i], &m);

		if (r != -EBADMSG)
			fail_msg("accepted or wrong error %d: %s", r, bad[i]);
		assert_non_null(strstr(lethe_error_message(), "t.mtree"));
	}
	/* a NUL in the text, and a line over the cap */
	assert_int_equal(lethe_fim_mtree_parse(". type=dir\0", 11, "t", &m), -EBADMSG);
	huge = malloc(LETHE_FIM_MAX_LINE + 64);
	assert_non_null(huge);
	memcpy(huge, ". type=dir\n./", 13);
	memset(huge + 13, 'a', LETHE_FIM_MAX_LINE + 10);
	memcpy(huge + 13 + LETHE_FIM_MAX_LINE + 10, " type=file\n", 12);
	assert_int_equal(parse(huge, &m), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "line 2"));
	free(huge);
}

static void test_rules(void **state)
{
	struct lethe_fim_rules *rules;
	const char text[] = "# test\n"
			    "scan /srv\n"
			    "exclude /srv/cache\n"
			    "exclude */__pycache__\n"
			    "attrs /srv/db type,mode\n"
			    "attrs /srv/*.log type,uid\n";

	(void)state;
	assert_int_equal(lethe_fim_rules_parse(text, strlen(text), "r", &rules), 0);
	assert_int_equal(lethe_fim_rules_scan_paths(rules)->n, 1);
	assert_true(lethe_fim_rules_excluded(rules, "/srv/cache"));
	assert_true(lethe_fim_rules_excluded(rules, "/srv/cache/x"));
	assert_false(lethe_fim_rules_excluded(rules, "/srv/cachet"));
	assert_true(lethe_fim_rules_excluded(rules, "/usr/lib/p/__pycache__"));
	assert_int_equal(lethe_fim_rules_attrs(rules, "/srv/db/x"),
			 LETHE_FIM_TYPE | LETHE_FIM_MODE);
	assert_int_equal(lethe_fim_rules_attrs(rules, "/srv/a/b.log"),
			 LETHE_FIM_TYPE | LETHE_FIM_UID);
	assert_int_equal(lethe_fim_rules_attrs(rules, "/srv/x"), LETHE_FIM_DEFAULT);
	lethe_fim_rules_free(rules);
	assert_int_equal(lethe_fim_rules_parse("scan srv\n", 9, "r", &rules), -EBADMSG);
	assert_int_equal(lethe_fim_rules_parse("exclude /a/../b\n", 16, "r", &rules), -EBADMSG);
	assert_int_equal(lethe_fim_rules_parse("attrs /a sha1\n", 14, "r", &rules), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "'r' line 1"));
	assert_int_equal(lethe_fim_rules_parse("watch /a\n", 9, "r", &rules), -EBADMSG);
	assert_int_equal(lethe_fim_rules_builtin(LETHE_FIM_RULES_HOST, &rules), 0);
	lethe_fim_rules_free(rules);
	assert_int_equal(lethe_fim_rules_builtin(LETHE_FIM_RULES_IMAGE, &rules), 0);
	assert_true(lethe_fim_rules_excluded(rules, "/run/lethe/audit.json"));
	assert_false(lethe_fim_rules_excluded(rules, "/etc/passwd"));
	lethe_fim_rules_free(rules);
}

/* ---- scanning ---- */

static void put_in_place(const char *dir, const char *rel, const char *text)
{
	char *p = ut_path(dir, rel);
	int fd = open(p, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(lethe_write_full(fd, text, strlen(text)), 0);
	close(fd);
	free(p);
}

static char *fixture(void)
{
	char *dir = ut_mkdtemp("fim"), *p;

	assert_int_equal(chmod(dir, 0755), 0);
	ut_put(dir, "content", "one\n", 0644);
	ut_put(dir, "mode", "m\n", 0644);
	ut_put(dir, "owner", "o\n", 0644);
	ut_put(dir, "deleted", "d\n", 0644);
	ut_put(dir, "to-dir", "x\n", 0644);
	ut_put(dir, "to-link", "x\n", 0644);
	ut_put(dir, "linked", "l\n", 0644);
	ut_put(dir, "cap",
	       "\x7f"
	       "ELF\n",
	       0755);
	ut_put(dir, "samemtime", "12345678\n", 0644);
	ut_put(dir, "grow", "g\n", 0644);
	ut_put(dir, "d/inner", "i\n", 0600);
	ut_put(dir, "name\xff\x01 #x", "odd\n", 0644);
	p = ut_path(dir, "symlink");
	assert_int_equal(symlink("content", p), 0);
	free(p);
	p = ut_path(dir, "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	p = ut_path(dir, "null");
	if (mknod(p, S_IFCHR | 0666, makedev(1, 3)) < 0)
		assert_int_equal(errno, EPERM); /* not root: no device in the fixture */
	free(p);
	return dir;
}

struct seen {
	char lines[64][512];
	size_t n;
};

static void collect(const struct lethe_fim_drift *d, void *userdata)
{
	struct seen *s = userdata;
	char *l = s->lines[s->n];
	size_t len = 0;

	assert_true(s->n < 64);
	len += (size_t)snprintf(l, 512, "%s %s", lethe_fim_drift_kind_name(d->kind), d->path);
	for (size_t i = 0; i < d->n_changes && len < 500; i++)
		len += (size_t)snprintf(l + len, 512 - len, "%s%s", i ? "," : " ",
					lethe_fim_attr_name(d->changes[i].attr));
	s->n++;
}

static int check(const char *baseline, const char *dir, const struct lethe_fim_scan_opts *o,
		 struct seen *s)
{
	struct lethe_fim_manifest m;
	char *text;
	size_t len;
	int r;

	text = ut_read(baseline, &len);
	assert_int_equal(lethe_fim_mtree_parse(text, len, baseline, &m), 0);
	free(text);
	memset(s, 0, sizeof(*s));
	r = lethe_fim_check(&m, &dir, 1, o, collect, s, NULL);
	lethe_fim_manifest_release(&m);
	return r;
}

static void assert_seen(const struct seen *s, const char *const *want, size_t n)
{
	for (size_t i = 0; i < s->n; i++)
		print_message("  seen: %s\n", s->lines[i]);
	assert_int_equal(s->n, n);
	for (size_t i = 0; want && i < n; i++)
		assert_string_equal(s->lines[i], want[i]);
}

static void grow_on_open(const char *abspath, void *userdata)
{
	(void)userdata;
	if (strstr(abspath, "/grow")) {
		int fd = open(abspath, O_WRONLY | O_APPEND);

		assert_true(fd >= 0);
		assert_int_equal(lethe_write_full(fd, "more\n", 5), 0);
		close(fd);
	}
}

/* Every entry of the fixture an old mtime, so that a change now always moves it. */
static int age_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	(void)sb, (void)flag, (void)ftw;
	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

static void test_every_drift(void **state)
{
	char *dir = fixture(), *base = ut_beside(dir, "baseline.mtree"), *p, *q;
	struct lethe_fim_rules *rules;
	char rtext[512];
	struct lethe_fim_scan_opts o = { .threads = 3 };
	struct lethe_fim_stats st;
	struct timespec ts[2];
	struct stat sb;
	struct seen s;
	static const char *const want[] = {
		"changed . mtime",
		"added ./added",
		"changed ./cap xattrs",
		"changed ./content sha256,mtime",
		"removed ./deleted",
		"changed ./linked nlink",
		"added ./linked2",
		"changed ./mode mode",
		"changed ./owner uid,gid",
		"changed ./samemtime size,sha256",
		"changed ./symlink link,mtime",
		"changed ./to-dir type",
		"added ./to-dir/x",
		"changed ./to-link type",
	};
	static const uint8_t cap[20] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x04 }; /* net_bind */

	(void)state;
	assert_int_equal(nftw(dir, age_one, 16, FTW_PHYS | FTW_DEPTH), 0);
	/* mtime counts below the fixture: "size with the same mtime" is named size */
	snprintf(rtext, sizeof(rtext), "attrs %s all\n", dir);
	assert_int_equal(lethe_fim_rules_parse(rtext, strlen(rtext), "r", &rules), 0);
	o.rules = rules;
	assert_int_equal(
		lethe_fim_baseline_write((const char *const *)&dir, 1, &o, base, NULL, NULL, &st),
		0);
	assert_true(st.files >= 10);
	/* unchanged: nothing */
	assert_int_equal(check(base, dir, &o, &s), 0);
	assert_int_equal(s.n, 0);

	put_in_place(dir, "content", "two\n");
	p = ut_path(dir, "mode");
	assert_int_equal(chmod(p, 0600), 0);
	free(p);
	p = ut_path(dir, "owner");
	assert_int_equal(chown(p, 4321, 4321), 0);
	free(p);
	p = ut_path(dir, "symlink");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("mode", p), 0);
	free(p);
	ut_put(dir, "added", "new\n", 0644);
	p = ut_path(dir, "deleted");
	assert_int_equal(unlink(p), 0);
	free(p);
	p = ut_path(dir, "to-dir");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	ut_put(dir, "to-dir/x", "x\n", 0644);
	p = ut_path(dir, "to-link");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("content", p), 0);
	free(p);
	p = ut_path(dir, "linked");
	q = ut_path(dir, "linked2");
	assert_int_equal(link(p, q), 0);
	free(p);
	free(q);
	p = ut_path(dir, "cap");
	assert_int_equal(setxattr(p, "security.capability", cap, sizeof(cap), 0), 0);
	free(p);
	/* a different size, the mtime put back */
	p = ut_path(dir, "samemtime");
	assert_int_equal(stat(p, &sb), 0);
	put_in_place(dir, "samemtime", "1234\n");
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);
	assert_int_equal(check(base, dir, &o, &s), (int)LETHE_ARRAY_SIZE(want));
	assert_seen(&s, want, LETHE_ARRAY_SIZE(want));
	lethe_fim_rules_free(rules);
	unlink(base);
	free(base);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(dir);
}

/* The scan's own note: a file written while it is read is reported as such. */
static void test_changed_during_scan(void **state)
{
	char *dir = fixture(), *base = ut_beside(dir, "during.mtree");
	struct lethe_fim_scan_opts o = { .threads = 2 };
	struct seen s;

	(void)state;
	assert_int_equal(
		lethe_fim_baseline_write((const char *const *)&dir, 1, &o, base, NULL, NULL, NULL),
		0);
	o.after_open = grow_on_open;
	assert_int_equal(check(base, dir, &o, &s), 1);
	assert_string_equal(s.lines[0], "changed-during-scan ./grow sha256");
	unlink(base);
	free(base);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(dir);
}

/* Same bytes whatever the number of threads; odd names round-trip; a sparse file's
 * digest is that of its bytes. */
static void test_deterministic(void **state)
{
	char *dir = fixture(), *b1 = ut_beside(dir, "t1.mtree"), *b8 = ut_beside(dir, "t8.mtree"),
	     *t1, *t8, *p;
	struct lethe_fim_scan_opts o1 = { .threads = 1 }, o8 = { .threads = 8 };
	struct lethe_fim_manifest m;
	const struct lethe_fim_entry *e;
	uint8_t md[32];
	char *zero;
	size_t l1, l8;
	int fd;

	(void)state;
	for (int i = 0; i < 200; i++) {
		char name[32];

		snprintf(name, sizeof(name), "many/f%03d", i);
		ut_put(dir, name, name, 0644);
	}
	p = ut_path(dir, "sparse");
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(lethe_pwrite_full(fd, "end", 3, 3 << 20), 0);
	close(fd);
	free(p);
	assert_int_equal(
		lethe_fim_baseline_write((const char *const *)&dir, 1, &o1, b1, NULL, NULL, NULL),
		0);
	assert_int_equal(
		lethe_fim_baseline_write((const char *const *)&dir, 1, &o8, b8, NULL, NULL, NULL),
		0);
	t1 = ut_read(b1, &l1);
	t8 = ut_read(b8, &l8);
	assert_int_equal(l1, l8);
	assert_memory_equal(t1, t8, l1);
	assert_non_null(strstr(t1, "./name\\377\\001\\040\\043x type=file"));
	assert_int_equal(lethe_fim_mtree_parse(t1, l1, b1, &m), 0);
	assert_non_null(lethe_fim_manifest_find(&m, "./name\xff\x01 #x"));
	e = lethe_fim_manifest_find(&m, "./sparse");
	assert_non_null(e);
	zero = calloc(1, (3 << 20) + 3);
	memcpy(zero + (3 << 20), "end", 3);
	assert_int_equal(lethe_sha256(zero, (3 << 20) + 3, md), 0);
	assert_memory_equal(e->sha256, md, 32);
	free(zero);
	e = lethe_fim_manifest_find(&m, "./fifo");
	assert_non_null(e);
	assert_int_equal(e->type, LETHE_FIM_T_FIFO);
	lethe_fim_manifest_release(&m);
	free(t1);
	free(t8);
	unlink(b1);
	free(b1);
	unlink(b8);
	free(b8);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(dir);
}

/* Several trees: rooted at "/", their parents listed by type only. */
static void test_several_trees(void **state)
{
	char *dir = fixture(), *a = ut_path(dir, "d"), *b = ut_path(dir, "many"),
	     *base = ut_path(dir, "several.mtree"), *text; /* beside the trees, not in them */
	const char *paths[2] = { a, b };
	struct lethe_fim_manifest m;
	struct seen s;
	size_t len;
	int r;

	(void)state;
	ut_put(dir, "many/x", "x\n", 0644);
	assert_int_equal(lethe_fim_baseline_write(paths, 2, NULL, base, NULL, NULL, NULL), 0);
	text = ut_read(base, &len);
	assert_int_equal(lethe_fim_mtree_parse(text, len, base, &m), 0);
	assert_string_equal(m.v[0].path, ".");
	assert_int_equal(m.v[0].have, LETHE_FIM_TYPE);
	assert_null(lethe_fim_manifest_find(&m, "./content"));
	free(text);
	memset(&s, 0, sizeof(s));
	assert_int_equal(lethe_fim_check(&m, paths, 2, NULL, collect, &s, NULL), 0);
	ut_put(dir, "d/new", "n\n", 0644);
	ut_put(dir, "unwatched", "n\n", 0644);
	memset(&s, 0, sizeof(s));
	r = lethe_fim_check(&m, paths, 2, NULL, collect, &s, NULL);
	/* no rules: every attribute counts, the mtime of d too; unwatched is not seen */
	assert_seen(&s, NULL, 2);
	assert_int_equal(r, 2);
	assert_non_null(strstr(s.lines[0], "changed ./tmp/"));
	assert_non_null(strstr(s.lines[0], "/d mtime"));
	assert_non_null(strstr(s.lines[1], "added ./tmp/"));
	assert_non_null(strstr(s.lines[1], "/d/new"));
	lethe_fim_manifest_release(&m);
	free(a);
	free(b);
	unlink(base);
	free(base);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(dir);
}

/* fim.drift: a root against its own manifest, as the build ships it; what the image
 * rules expect (/run, /tmp) is not drift, a changed file is. */
static void audit_one(const char *root, enum lethe_audit_verdict want, const char *evidence)
{
	const char *only[] = { "fim.drift", NULL };
	struct lethe_audit_options o = { .root = root, .only = only };
	struct lethe_audit_report *rep;

	assert_int_equal(lethe_audit_run(&o, &rep), 0);
	assert_int_equal(rep->n_results, 1);
	print_message("  fim.drift: %s\n", rep->results[0].evidence);
	assert_int_equal(rep->results[0].verdict, want);
	assert_non_null(strstr(rep->results[0].evidence, evidence));
	lethe_audit_report_free(rep);
}

static void test_audit_drift(void **state)
{
	char *root = ut_mkdtemp("fim-audit"), *manifest;

	(void)state;
	assert_int_equal(chmod(root, 0755), 0);
	ut_put(root, "etc/passwd", "root:x:0:0\n", 0644);
	ut_put(root, "usr/bin/tool", "tool\n", 0755);
	ut_put(root, "run/.keep", "", 0644);
	ut_put(root, "usr/lib/lethe/.keep", "", 0644);
	/* not a Lethe image: nothing to compare with */
	audit_one(root, LETHE_AUDIT_NOT_APPLICABLE, "carries no manifest");
	manifest = ut_path(root, LETHE_PATH_MANIFEST + 1);
	assert_int_equal(lethe_manifest_write(root, manifest, NULL), 0);
	audit_one(root, LETHE_AUDIT_PASS, "entries match the image manifest");
	ut_put(root, "run/lethe/audit.json", "{}", 0644); /* expected: /run */
	ut_put(root, "tmp/scratch", "x", 0644);		  /* expected: /tmp */
	audit_one(root, LETHE_AUDIT_PASS, "entries match the image manifest");
	ut_put(root, "etc/passwd", "root:x:0:0\nmallory:x:0:0\n", 0644);
	ut_put(root, "usr/bin/implant", "x", 0755);
	audit_one(root, LETHE_AUDIT_FAIL,
		  "2 entries differ from the image manifest: changed "
		  "./etc/passwd, added ./usr/bin/implant");
	free(manifest);
	assert_int_equal(lethe_rm_rf(root), 0);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_flat),     cmocka_unit_test(test_parse_hierarchical),
		cmocka_unit_test(test_parse_refusals), cmocka_unit_test(test_rules),
		cmocka_unit_test(test_every_drift),    cmocka_unit_test(test_changed_during_scan),
		cmocka_unit_test(test_deterministic),  cmocka_unit_test(test_several_trees),
		cmocka_unit_test(test_audit_drift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
