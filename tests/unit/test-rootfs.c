/* Unit tests of lib/rootfs: hostile .debs built here with libarchive's writers (path
 * traversal, absolute paths, symlink and hard link escapes, writes through planted
 * symlinks, devices, absurd sizes, corrupt and truncated archives) must each be refused
 * with their one-line message and write nothing outside the root; a good package
 * extracts with its modes, links and clamped times; populate writes the image files. */
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
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include <lethe/pkg.h>
#include <lethe/rootfs.h>

#include "helpers.h"

#define EPOCH 1700000000
#define LATER 2000000000

struct ent {
	const char *path;
	char type;	  /* f file, d dir, l symlink, h hard link, c char dev, p fifo */
	const char *data; /* file content, or link target */
	mode_t mode;	  /* 0: 0644 / 0755 */
};

static char tmpdir[64];

static la_ssize_t buf_write(struct archive *a, void *userdata, const void *p, size_t n)
{
	return lethe_buf_append(userdata, p, n) < 0 ? -1 : (la_ssize_t)n;
}

/* A tar of ents, compressed with filter (an ARCHIVE_FILTER_* code). */
static void make_tar(struct lethe_buf *out, const struct ent *e, size_t n, int filter)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();

	assert_int_equal(archive_write_set_format_gnutar(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter(a, filter), ARCHIVE_OK);
	/* No zero padding after the compressed stream (zstd would read it as a frame). */
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open(a, out, NULL, buf_write, NULL), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_mtime(ae, LATER, 0);
		archive_entry_set_uid(ae, 0);
		archive_entry_set_gid(ae, 0);
		switch (e[i].type) {
		case 'f':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0644);
			archive_entry_set_size(ae, (la_int64_t)strlen(e[i].data));
			break;
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0755);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, e[i].data);
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_hardlink(ae, e[i].data);
			archive_entry_set_size(ae, 0);
			break;
		case 'c':
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_perm(ae, 0666);
			archive_entry_set_rdevmajor(ae, 1);
			archive_entry_set_rdevminor(ae, 3);
			break;
		case 'p':
			archive_entry_set_filetype(ae, AE_IFIFO);
			archive_entry_set_perm(ae, 0644);
			break;
		}
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e[i].type == 'f')
			assert_int_equal(archive_write_data(a, e[i].data, strlen(e[i].data)),
					 (la_ssize_t)strlen(e[i].data));
	}
	archive_entry_free(ae);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void ar_member(struct archive *a, const char *name, const void *data, size_t len)
{
	struct archive_entry *ae = archive_entry_new();

	archive_entry_set_pathname(ae, name);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, (la_int64_t)len);
	archive_entry_set_mtime(ae, LATER, 0);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, data, len), (la_ssize_t)len);
	archive_entry_free(ae);
}

/* A .deb at path: debian-binary, control.tar.gz for package name, and data. */
static void write_deb(const char *path, const char *name, const struct lethe_buf *data,
		      const char *data_member)
{
	struct lethe_buf control = { 0 }, ctl = { 0 }, deb = { 0 };
	struct archive *a = archive_write_new();
	struct ent ce[3] = { { "./", 'd', NULL, 0 },
			     { "./control", 'f', NULL, 0 },
			     { "./md5sums", 'f',
			       "0123456789abcdef0123456789abcdef  usr/bin/tool\n"
			       "0123456789abcdef0123456789abcdef  usr/share/man/man1/tool.1\n"
			       "not a line\n"
			       "0123456789abcdef0123456789abcdef  ../../etc/passwd\n"
			       "fedcba9876543210fedcba9876543210  etc/tool.conf\n",
			       0 } };

	lethe_buf_printf(&control,
			 "Package: %s\nVersion: 1.0-1\nArchitecture: amd64\n"
			 "Maintainer: Test <t@example.org>\nInstalled-Size: 4\n"
			 "Description: a test package\n more text\n",
			 name);
	ce[1].data = control.data;
	make_tar(&ctl, ce, 3, ARCHIVE_FILTER_GZIP);
	assert_int_equal(archive_write_set_format_ar_svr4(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open(a, &deb, NULL, buf_write, NULL), ARCHIVE_OK);
	ar_member(a, "debian-binary", "2.0\n", 4);
	ar_member(a, "control.tar.gz", ctl.data, ctl.len);
	ar_member(a, data_member, data->data, data->len);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	assert_int_equal(lethe_file_write_atomic(path, deb.data, deb.len, 0644), 0);
	lethe_buf_release(&control);
	lethe_buf_release(&ctl);
	lethe_buf_release(&deb);
}

static void make_deb(const char *path, const char *name, const struct ent *e, size_t n, int filter,
		     const char *member)
{
	struct lethe_buf data = { 0 };

	make_tar(&data, e, n, filter);
	write_deb(path, name, &data, member);
	lethe_buf_release(&data);
}

static char *tpath(const char *rel)
{
	return ut_path(tmpdir, rel);
}

/* Extract the .deb at path into a fresh root; returns the result. */
static int extract(const char *deb, const char *root, const struct lethe_rootfs_options *o)
{
	uint64_t total = 0;
	struct lethe_strv lic = { 0 };
	int fd, r;

	lethe_rm_rf(root);
	assert_int_equal(mkdir(root, 0755), 0);
	int rootfd = open(root, O_RDONLY | O_DIRECTORY);

	fd = open(deb, O_RDONLY);
	assert_true(fd >= 0 && rootfd >= 0);
	r = lethe_rootfs_extract(rootfd, fd, "pkg", "pkg_1.0-1_amd64.deb", o, &total, &lic);
	close(fd);
	close(rootfd);
	lethe_strv_release(&lic);
	return r;
}

static int setup(void **state)
{
	ut_mkdtemp_in(tmpdir, sizeof(tmpdir), "rootfs");
	return 0;
}

static int teardown(void **state)
{
	lethe_rm_rf(tmpdir);
	return 0;
}

static void test_good_package(void **state)
{
	static const char copyright[] =
		"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
		"Files: *\nCopyright: 2024 T\nLicense: MIT\n";
	const struct ent e[] = {
		{ "./", 'd', NULL, 0 },
		{ "./usr/", 'd', NULL, 0 },
		{ "./usr/bin/", 'd', NULL, 0 },
		{ "./usr/bin/hello", 'f', "#!/bin/sh\necho hi\n", 04755 },
		{ "./usr/bin/hello2", 'h', "./usr/bin/hello", 0 },
		{ "./usr/bin/link", 'l', "hello", 0 },
		{ "./etc/abs", 'l', "/usr/bin/hello", 0 },
		{ "./usr/share/doc/pkg/copyright", 'f', copyright, 0 },
	};
	static const int filters[] = { ARCHIVE_FILTER_XZ, ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_ZSTD,
				       ARCHIVE_FILTER_NONE };
	static const char *const members[] = { "data.tar.xz", "data.tar.gz", "data.tar.zst",
					       "data.tar" };
	struct lethe_rootfs_options o = { .epoch = EPOCH };

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(filters); i++) {
		char *deb = tpath("good.deb"), *root = tpath("root"), *p, buf[64];
		struct stat st;
		uint64_t total = 0;
		struct lethe_strv lic = { 0 };
		ssize_t n;

		make_deb(deb, "pkg", e, LETHE_ARRAY_SIZE(e), filters[i], members[i]);
		lethe_rm_rf(root);
		assert_int_equal(mkdir(root, 0755), 0);
		int rootfd = open(root, O_RDONLY | O_DIRECTORY), fd = open(deb, O_RDONLY);

		if (lethe_rootfs_extract(rootfd, fd, "pkg", "pkg.deb", &o, &total, &lic) != 0)
			fail_msg("%s: %s", members[i], lethe_error_message());
		close(fd);
		assert_int_equal(lic.n, 1);
		assert_string_equal(lic.v[0], "MIT");
		lethe_strv_release(&lic);
		assert_int_equal(fstatat(rootfd, "usr/bin/hello", &st, AT_SYMLINK_NOFOLLOW), 0);
		assert_true(S_ISREG(st.st_mode));
		if (geteuid() == 0)
			assert_int_equal(st.st_mode & 07777, 04755);
		assert_int_equal(st.st_nlink, 2);     /* the hard link */
		assert_int_equal(st.st_mtime, EPOCH); /* clamped */
		n = readlinkat(rootfd, "usr/bin/link", buf, sizeof(buf));
		assert_int_equal(n, 5);
		assert_memory_equal(buf, "hello", 5);
		assert_int_equal(fstatat(rootfd, "etc/abs", &st, AT_SYMLINK_NOFOLLOW), 0);
		assert_true(S_ISLNK(st.st_mode));
		close(rootfd);
		free(deb);
		free(root);
		(void)p;
	}
}

struct hostile {
	const char *what;
	struct ent e[4];
	size_t n;
	const char *message; /* after "package 'pkg' ('pkg_1.0-1_amd64.deb'): " */
	uint64_t max_entry, max_total, max_entries;
};

static void test_hostile_packages(void **state)
{
	char outside[128];
	const struct hostile cases[] = {
		{ "traversal",
		  { { "./../escape", 'f', "x", 0 } },
		  1,
		  "entry './../escape': path with '..', an empty component or a control character",
		  0,
		  0,
		  0 },
		{ "traversal inside",
		  { { "./usr/../../escape", 'f', "x", 0 } },
		  1,
		  "entry './usr/../../escape': path with '..'",
		  0,
		  0,
		  0 },
		{ "absolute",
		  { { "/etc/passwd", 'f', "x", 0 } },
		  1,
		  "entry '/etc/passwd': absolute path",
		  0,
		  0,
		  0 },
		{ "control character",
		  { { "./a\nb", 'f', "x", 0 } },
		  1,
		  "entry './a b': path with '..', an empty component or a control character",
		  0,
		  0,
		  0 },
		{ "symlink escape",
		  { { "./usr/evil", 'l', "../../outside", 0 } },
		  1,
		  "entry 'usr/evil': symbolic link to '../../outside' leads outside the root",
		  0,
		  0,
		  0 },
		{ "absolute symlink escape",
		  { { "./evil", 'l', "/../../etc", 0 } },
		  1,
		  "entry 'evil': symbolic link to '/../../etc' leads outside the root",
		  0,
		  0,
		  0 },
		{ "hard link escape",
		  { { "./x", 'h', "../outside", 0 } },
		  1,
		  "entry 'x': hard link to '../outside' outside the root",
		  0,
		  0,
		  0 },
		{ "hard link to nothing",
		  { { "./x", 'h', "./nothere", 0 } },
		  1,
		  "entry 'x': hard link to './nothere', which is not a regular file extracted "
		  "before it",
		  0,
		  0,
		  0 },
		{ "hard link to a directory",
		  { { "./d/", 'd', NULL, 0 }, { "./x", 'h', "./d", 0 } },
		  2,
		  "entry 'x': hard link to './d', which is not a regular file",
		  0,
		  0,
		  0 },
		{ "hard link to a symlink",
		  { { "./s", 'l', "/etc/shadow", 0 }, { "./x", 'h', "./s", 0 } },
		  2,
		  "entry 'x': hard link to './s', which is not a regular file",
		  0,
		  0,
		  0 },
		{ "write through a planted symlink",
		  { { "./lnk", 'l', outside, 0 }, { "./lnk/pwned", 'f', "owned", 0 } },
		  2,
		  "entry 'lnk/pwned': path goes through a symbolic link or a non-directory",
		  0,
		  0,
		  0 },
		{ "write through a relative planted symlink",
		  { { "./usr/", 'd', NULL, 0 },
		    { "./lib", 'l', "usr", 0 },
		    { "./lib/x", 'f', "x", 0 } },
		  3,
		  "entry 'lib/x': path goes through a symbolic link or a non-directory",
		  0,
		  0,
		  0 },
		{ "directory over a symlink",
		  { { "./lnk", 'l', outside, 0 }, { "./lnk/", 'd', NULL, 0 } },
		  2,
		  "entry 'lnk': a directory where another package put a non-directory",
		  0,
		  0,
		  0 },
		{ "file over a directory",
		  { { "./d/", 'd', NULL, 0 }, { "./d", 'f', "x", 0 } },
		  2,
		  "entry 'd': would replace a directory",
		  0,
		  0,
		  0 },
		{ "device node",
		  { { "./dev/mem", 'c', NULL, 0 } },
		  1,
		  "entry 'dev/mem': device node (the spec does not allow devices)",
		  0,
		  0,
		  0 },
		{ "fifo",
		  { { "./run/fifo", 'p', NULL, 0 } },
		  1,
		  "entry 'run/fifo': fifo (the spec does not allow devices)",
		  0,
		  0,
		  0 },
		{ "absurd size",
		  { { "./big", 'f', "0123456789abcdef0123", 0 } },
		  1,
		  "entry 'big': size 20 exceeds the limit of 16 bytes",
		  16,
		  0,
		  0 },
		{ "absurd total",
		  { { "./a", 'f', "0123456789", 0 }, { "./b", 'f', "0123456789", 0 } },
		  2,
		  "entry 'b': the packages exceed the total limit of 15 bytes",
		  0,
		  15,
		  0 },
		{ "inode bomb",
		  { { "./a", 'f', "", 0 }, { "./b", 'f', "", 0 }, { "./c", 'f', "", 0 } },
		  3,
		  "entry 'c': more than 2 entries in one package",
		  0,
		  0,
		  2 },
	};
	struct lethe_rootfs_options o = { .epoch = EPOCH };
	char *deb = tpath("hostile.deb"), *root = tpath("root"), *out = tpath("outside");

	snprintf(outside, sizeof(outside), "%s", out);
	assert_int_equal(mkdir(out, 0755), 0);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(cases); i++) {
		char expect[512];
		int r;

		make_deb(deb, "pkg", cases[i].e, cases[i].n, ARCHIVE_FILTER_XZ, "data.tar.xz");
		o.max_entry_size = cases[i].max_entry;
		o.max_total_size = cases[i].max_total;
		o.max_entries = cases[i].max_entries;
		lethe_error_clear();
		r = extract(deb, root, &o);
		snprintf(expect, sizeof(expect), "package 'pkg' ('pkg_1.0-1_amd64.deb'): %s",
			 cases[i].message);
		if (r != -EBADMSG || !lethe_error_message() ||
		    strncmp(lethe_error_message(), expect, strlen(expect)))
			fail_msg("%s: r=%d message '%s', expected '%s'", cases[i].what, r,
				 lethe_error_message() ? lethe_error_message() : "(none)", expect);
		/* Nothing escaped: no file beside the root, nothing in the outside dir. */
		char *esc = tpath("escape"), *pw = lethe_path_join(out, "pwned");

		assert_int_equal(access(esc, F_OK), -1);
		assert_int_equal(access(pw, F_OK), -1);
		free(esc);
		free(pw);
	}
	free(deb);
	free(root);
	free(out);
}

/* A later regular file replaces a symlink of the same name: it never writes through. */
static void test_file_replaces_symlink(void **state)
{
	char *target = tpath("target"), *deb = tpath("r.deb"), *root = tpath("root"), *data;
	struct ent e[2] = { { "./f", 'l', NULL, 0 }, { "./f", 'f', "new", 0 } };
	struct lethe_rootfs_options o = { .epoch = EPOCH };
	char *f;
	size_t len;

	assert_int_equal(lethe_file_write_atomic(target, "old", 3, 0644), 0);
	e[0].data = target;
	make_deb(deb, "pkg", e, 2, ARCHIVE_FILTER_GZIP, "data.tar.gz");
	assert_int_equal(extract(deb, root, &o), 0);
	assert_int_equal(lethe_file_read(target, 100, &data, &len), 0);
	assert_string_equal(data, "old");
	free(data);
	f = lethe_path_join(root, "f");
	assert_int_equal(lethe_file_read(f, 100, &data, &len), 0);
	assert_string_equal(data, "new");
	free(data);
	free(f);
	free(target);
	free(deb);
	free(root);
}

static void test_devices_allowed(void **state)
{
	const struct ent e[] = { { "./dev/", 'd', NULL, 0 }, { "./dev/null", 'c', NULL, 0 } };
	struct lethe_rootfs_options o = { .epoch = EPOCH, .allow_devices = true };
	char *deb = tpath("dev.deb"), *root = tpath("root");

	if (geteuid() != 0) {
		free(deb);
		free(root);
		skip(); /* mknod needs CAP_MKNOD */
	}
	make_deb(deb, "pkg", e, 2, ARCHIVE_FILTER_XZ, "data.tar.xz");
	assert_int_equal(extract(deb, root, &o), 0);
	free(deb);
	free(root);
}

/* A tar header declaring 3 GiB, with no data behind it: refused on the header alone. */
static void test_huge_declared_size(void **state)
{
	struct lethe_buf data = { 0 };
	unsigned char h[512] = { 0 };
	unsigned sum = 0;
	struct lethe_rootfs_options o = { .epoch = EPOCH };
	char *deb = tpath("huge.deb"), *root = tpath("root");

	memcpy(h, "./big", 5);
	memcpy(h + 100, "0000644", 7);
	memcpy(h + 108, "0000000", 7);
	memcpy(h + 116, "0000000", 7);
	memcpy(h + 124, "30000000000", 11); /* 3 GiB in octal */
	memcpy(h + 136, "00000000000", 11);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	lethe_buf_append(&data, h, sizeof(h));
	write_deb(deb, "pkg", &data, "data.tar");
	assert_int_equal(extract(deb, root, &o), -EBADMSG);
	assert_string_equal(lethe_error_message(),
			    "package 'pkg' ('pkg_1.0-1_amd64.deb'): entry "
			    "'big': size 3221225472 exceeds the limit of 2147483648 bytes");
	lethe_buf_release(&data);
	free(deb);
	free(root);
}

static void test_corrupt_and_truncated(void **state)
{
	struct ent e[3] = { { "./usr/", 'd', NULL, 0 },
			    { "./usr/a", 'f', NULL, 0 },
			    { "./usr/b", 'f', "b", 0 } };
	struct lethe_rootfs_options o = { .epoch = EPOCH };
	char *deb = tpath("c.deb"), *root = tpath("root"), *data, big[20000];
	size_t len;

	/* Incompressible content, so that the archive is large enough to damage. */
	srandom(1);
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + random() % 26);
	big[sizeof(big) - 1] = '\0';
	e[1].data = big;
	make_deb(deb, "pkg", e, 3, ARCHIVE_FILTER_XZ, "data.tar.xz");
	assert_int_equal(lethe_file_read(deb, 1 << 20, &data, &len), 0);

	/* Corrupt: one byte flipped in data.tar.xz's block header (CRC32-protected). The
	 * .deb's SHA-256 against the signed index is what guarantees integrity; this is
	 * about a damaged archive failing cleanly. */
	char *xz = memmem(data, len,
			  "\xfd"
			  "7zXZ",
			  5);

	assert_non_null(xz);
	xz[13] ^= 0x40;
	assert_int_equal(lethe_file_write_atomic(deb, data, len, 0644), 0);
	assert_int_equal(extract(deb, root, &o), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "package 'pkg' ('pkg_1.0-1_amd64.deb'): "));
	xz[13] ^= 0x40;

	/* Truncated: the last third is missing. */
	assert_int_equal(lethe_file_write_atomic(deb, data, len - len / 3, 0644), 0);
	assert_int_equal(extract(deb, root, &o), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "package 'pkg' ('pkg_1.0-1_amd64.deb'): "));

	/* Not an archive at all, and an archive with its members out of order. */
	assert_int_equal(lethe_file_write_atomic(deb, "hello world\n", 12, 0644), 0);
	assert_int_equal(extract(deb, root, &o), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "not an ar archive"));
	free(data);
	free(deb);
	free(root);
}

static void test_wrong_layout(void **state)
{
	struct lethe_buf deb = { 0 };
	struct archive *a = archive_write_new();
	struct lethe_rootfs_options o = { .epoch = EPOCH };
	char *path = tpath("l.deb"), *root = tpath("root");

	archive_write_set_format_ar_svr4(a);
	archive_write_open(a, &deb, NULL, buf_write, NULL);
	ar_member(a, "control.tar.gz", "x", 1);
	ar_member(a, "debian-binary", "2.0\n", 4);
	archive_write_close(a);
	archive_write_free(a);
	assert_int_equal(lethe_file_write_atomic(path, deb.data, deb.len, 0644), 0);
	assert_int_equal(extract(path, root, &o), -EBADMSG);
	assert_string_equal(lethe_error_message(), "package 'pkg' ('pkg_1.0-1_amd64.deb'): first "
						   "member is 'control.tar.gz', not debian-binary");
	lethe_buf_release(&deb);
	free(path);
	free(root);
}

static void test_populate(void **state)
{
	static const char copyright[] =
		"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
		"Files: *\nLicense: GPL-2+\n";
	const struct ent e[] = {
		{ "./usr/bin/tool", 'f',
		  "\x7f"
		  "ELFnot-really",
		  0755 },
		{ "./usr/share/doc/pkg/copyright", 'f', copyright, 0 },
		{ "./usr/share/doc/pkg/changelog.gz", 'f', "zz", 0 },
		{ "./usr/share/man/man1/tool.1", 'f', ".TH", 0 },
		{ "./usr/share/locale/de/LC_MESSAGES/tool.mo", 'f', "mo", 0 },
		{ "./etc/tool.conf", 'f', "x=1\n", 0 },
	};
	struct lethe_spec spec = { .name = "test", .version = "1.2 \"beta\"", .minimal = true };
	struct lethe_spec_user users[2] = {
		{ .name = "root", .uid = 0, .gid = 0, .home = "/root", .shell = "/usr/bin/tool" },
		{ .name = "user", .uid = 1000, .gid = 1000, .home = "/home/user" },
	};
	struct lethe_spec_group groups[2] = { { .name = "root", .gid = 0 },
					      { .name = "audio", .gid = 29 } };
	struct lethe_spec_file files[1] = {
		{ .destination = "/etc/motd", .mode = 0600, .uid = 1000, .gid = 1000 }
	};
	struct lethe_pkgset set = { 0 };
	struct lethe_pkg pkg = { .name = "pkg",
				 .version = "1.0-1",
				 .arch = "amd64",
				 .filename = "pkg_1.0-1_amd64.deb" };
	struct lethe_rootfs_options o = { .epoch = EPOCH };
	char *deb = tpath("p.deb"), *root = tpath("staging"), *motd_src = tpath("motd"), *p, *data;
	size_t len;
	struct stat st;

	lethe_strv_push(&users[1].groups, "audio");
	spec.users = users;
	spec.n_users = 2;
	spec.groups = groups;
	spec.n_groups = 2;
	assert_int_equal(lethe_file_write_atomic(motd_src, "welcome\n", 8, 0644), 0);
	files[0].source = motd_src;
	spec.files = files;
	spec.n_files = 1;
	lethe_strv_push(&spec.exclude, "/etc/*.conf");
	make_deb(deb, "pkg", e, LETHE_ARRAY_SIZE(e), ARCHIVE_FILTER_XZ, "data.tar.xz");
	pkg.path = deb;
	assert_int_equal(lethe_deb_read_control(deb, "pkg", &pkg.control), 0);
	set.pkgs = &pkg;
	set.n = 1;

	assert_int_equal(lethe_rootfs_populate(&spec, &set, root, &o), 0);
	assert_int_equal(pkg.licenses.n, 1);
	assert_string_equal(pkg.licenses.v[0], "GPL-2+");
#define READ(rel)                                                                                  \
	(p = lethe_path_join(root, rel),                                                           \
	 assert_int_equal(lethe_file_read(p, 1 << 20, &data, &len), 0), free(p), data)
	assert_string_equal(READ("etc/passwd"),
			    "root:x:0:0:root:/root:/usr/bin/tool\n"
			    "user:x:1000:1000::/home/user:/usr/sbin/nologin\n"
			    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
	free(data);
	assert_string_equal(READ("etc/group"), "root:x:0:\naudio:x:29:user\nuser:x:1000:\n"
					       "nogroup:x:65534:\n");
	free(data);
	assert_string_equal(READ("etc/shadow"),
			    "root:*:19675:0:99999:7:::\n"
			    "user:!:19675:0:99999:7:::\nnobody:*:19675:0:99999:7:::\n");
	free(data);
	(void)READ("etc/os-release"); /* through the symlink to ../usr/lib/os-release */
	assert_non_null(strstr(data, "ID=lethe\n"));
	assert_non_null(strstr(data, "VERSION=\"1.2 \\\"beta\\\"\"\n"));
	assert_non_null(strstr(data, "IMAGE_ID=\"test\"\n"));
	free(data);
	assert_string_equal(READ("etc/hostname"), "test\n");
	free(data);
	(void)READ("var/lib/dpkg/status");
	assert_true(
		!strncmp(data, "Package: pkg\nStatus: install ok installed\nVersion: 1.0-1\n", 56));
	free(data);
	/* dpkg's database: the files still there, their md5sums, the multiarch format. */
	assert_string_equal(READ("var/lib/dpkg/info/pkg.list"),
			    "/usr/bin/tool\n/usr/share/doc/pkg/copyright\n");
	free(data);
	assert_string_equal(READ("var/lib/dpkg/info/pkg.md5sums"),
			    "0123456789abcdef0123456789abcdef  usr/bin/tool\n");
	free(data);
	assert_string_equal(READ("var/lib/dpkg/info/format"), "1\n");
	free(data);
	assert_string_equal(READ("etc/motd"), "welcome\n");
	free(data);
	p = lethe_path_join(root, "etc/motd");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	if (geteuid() == 0)
		assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_mtime, EPOCH);
	free(p);
	/* Excludes: docs, man pages and locales gone, the copyright file kept. */
	const char *gone[] = { "usr/share/doc/pkg/changelog.gz", "usr/share/man",
			       "usr/share/locale", "etc/tool.conf" };
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(gone); i++) {
		p = lethe_path_join(root, gone[i]);
		if (access(p, F_OK) == 0)
			fail_msg("'%s' should have been excluded", gone[i]);
		free(p);
	}
	free(READ("usr/share/doc/pkg/copyright"));
	free(READ("usr/bin/tool"));
	p = lethe_path_join(root, "usr/share");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mtime, EPOCH);
	free(p);
#undef READ
	/* The staging directory must be empty: a second run refuses. */
	assert_int_equal(lethe_rootfs_populate(&spec, &set, root, &o), -EEXIST);
	{
		/* Also when it holds only a file (no subdirectory to raise its link count). */
		char *other = tpath("staging-file"), *f = tpath("staging-file/x");

		assert_int_equal(mkdir(other, 0755), 0);
		assert_int_equal(lethe_file_write_atomic(f, "x", 1, 0644), 0);
		assert_int_equal(lethe_rootfs_populate(&spec, &set, other, &o), -EEXIST);
		free(other);
		free(f);
	}

	lethe_pkg_control_release(&pkg.control);
	lethe_strv_release(&pkg.licenses);
	lethe_strv_release(&users[1].groups);
	lethe_strv_release(&spec.exclude);
	free(deb);
	free(root);
	free(motd_src);
}

/* A listing of a tree: path, type and mode, owner, mtime, size, link target; sorted. */
static struct lethe_strv *listing;
static size_t listing_prefix;

static int list_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char line[8192], target[4096] = "";

	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		target[n > 0 ? n : 0] = '\0';
	}
	snprintf(line, sizeof(line), "%s %o %u %u %lld %lld %s", path + listing_prefix,
		 (unsigned)st->st_mode, (unsigned)st->st_uid, (unsigned)st->st_gid,
		 (long long)st->st_mtime, S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size,
		 target);
	return lethe_strv_push(listing, line) < 0;
}

static void list_tree(const char *root, struct lethe_strv *out)
{
	listing = out;
	listing_prefix = strlen(root);
	assert_int_equal(nftw(root, list_one, 16, FTW_PHYS), 0);
	lethe_strv_sort(out);
}

/* The same packages and spec give the same tree, whatever the staging path or time. */
static void test_populate_reproducible(void **state)
{
	const struct ent e[] = {
		{ "./", 'd', NULL, 0 },		{ "./usr/", 'd', NULL, 0 },
		{ "./usr/bin/", 'd', NULL, 0 }, { "./usr/bin/a", 'f', "a", 04755 },
		{ "./usr/bin/b", 'l', "a", 0 }, { "./usr/share/doc/pkg/copyright", 'f', "x", 0 },
	};
	struct lethe_spec spec = { .name = "r", .version = "1", .minimal = true };
	struct lethe_pkgset set = { 0 };
	struct lethe_pkg pkg = { .name = "pkg",
				 .version = "1.0-1",
				 .arch = "amd64",
				 .filename = "pkg_1.0-1_amd64.deb" };
	struct lethe_rootfs_options o = { .epoch = EPOCH };
	struct lethe_strv la = { 0 }, lb = { 0 };
	char *deb = tpath("repro.deb"), *a = tpath("one"), *b = tpath("two/deeper");

	make_deb(deb, "pkg", e, LETHE_ARRAY_SIZE(e), ARCHIVE_FILTER_XZ, "data.tar.xz");
	pkg.path = deb;
	assert_int_equal(lethe_deb_read_control(deb, "pkg", &pkg.control), 0);
	set.pkgs = &pkg;
	set.n = 1;
	assert_int_equal(lethe_rootfs_populate(&spec, &set, a, &o), 0);
	sleep(1); /* a later second must not show */
	assert_int_equal(lethe_rootfs_populate(&spec, &set, b, &o), 0);
	list_tree(a, &la);
	list_tree(b, &lb);
	assert_int_equal(la.n, lb.n);
	assert_true(la.n > 10);
	for (size_t i = 0; i < la.n; i++)
		assert_string_equal(la.v[i], lb.v[i]);
	lethe_strv_release(&la);
	lethe_strv_release(&lb);
	lethe_pkg_control_release(&pkg.control);
	lethe_strv_release(&pkg.licenses);
	free(deb);
	free(a);
	free(b);
}

/* Accounts that work (issue 13.2): busybox's applets linked where nothing is, homes
 * owned and 0700, a declared shell that the root lacks refused with its line. */
static void test_accounts(void **state)
{
	struct lethe_spec_user users[3] = {
		{ .name = "root",
		  .uid = 0,
		  .gid = 0,
		  .home = "/root",
		  .shell = "/usr/sbin/nologin" },
		{ .name = "user",
		  .uid = 1000,
		  .gid = 1000,
		  .home = "/home/user",
		  .shell = "/bin/sh",
		  .line = 7 },
		{ .name = "svc",
		  .uid = 901,
		  .gid = 901,
		  .home = "/var/lib/svc",
		  .shell = "/bin/false",
		  .line = 9 },
	};
	struct lethe_spec spec = { .path = "s.yaml", .users = users, .n_users = 3 };
	char *root = tpath("acct"), *p, target[64];
	unsigned links = 0;
	struct stat st;
	ssize_t n;
	int fd;

	if (access("/bin/busybox", X_OK) < 0 || geteuid() != 0)
		skip();
	assert_int_equal(mkdir(root, 0755), 0);
	p = lethe_path_join(root, "bin");
	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
	p = lethe_path_join(root, "bin/busybox");
	{
		char *bb;
		size_t bblen;

		assert_int_equal(lethe_file_read("/bin/busybox", 16u << 20, &bb, &bblen), 0);
		assert_int_equal(lethe_file_write_atomic(p, bb, bblen, 0755), 0);
		free(bb);
	}
	free(p);
	/* A real program where an applet would go is left alone. */
	p = lethe_path_join(root, "bin/ls");
	assert_int_equal(lethe_file_write_atomic(p, "#!real\n", 7, 0755), 0);
	free(p);
	fd = open(root, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	/* Before the links: /bin/sh is missing, and the message names it and its line. */
	assert_int_equal(lethe_rootfs_accounts_finish(&spec, fd), -ENOENT);
	assert_non_null(strstr(lethe_error_message(),
			       "spec 's.yaml' line 7: shell '/bin/sh' of user 'user' is not in the "
			       "image"));
	assert_int_equal(lethe_rootfs_busybox_links(root, fd, EPOCH, &links), 0);
	assert_true(links > 100);
	n = readlinkat(fd, "bin/sh", target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "busybox");
	n = readlinkat(fd, "usr/bin/awk", target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "../../bin/busybox");
	assert_int_equal(fstatat(fd, "bin/ls", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(lethe_rootfs_accounts_finish(&spec, fd), 0);
	assert_int_equal(fstatat(fd, "home/user", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1000);
	assert_int_equal(fstatat(fd, "var/lib/svc", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_uid, 901);
	assert_int_equal(fstatat(fd, "root", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(fstatat(fd, "home", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(st.st_uid, 0);
	/* A shell that is there but not executable is refused too. */
	p = lethe_path_join(root, "bin/notx");
	assert_int_equal(lethe_file_write_atomic(p, "x", 1, 0644), 0);
	free(p);
	users[1].shell = "/bin/notx";
	assert_int_equal(lethe_rootfs_accounts_finish(&spec, fd), -ENOENT);
	assert_non_null(strstr(lethe_error_message(), "not executable"));
	/* A second run makes no new link: nothing is replaced. */
	assert_int_equal(lethe_rootfs_busybox_links(root, fd, EPOCH, &links), 0);
	assert_int_equal(links, 0);
	users[1].shell = "/bin/sh";
	/* session.graphical (issue 13.4): cage, seatd and the program must be there. */
	{
		static char *cmd[] = { "/usr/bin/browser" };
		static const char *const need[] = { "usr/bin/cage", "usr/sbin/seatd",
						    "usr/bin/browser" };

		spec.session.user = "user";
		spec.session.graphical = (struct lethe_strv){ cmd, 1 };
		spec.session.graphical_line = 12;
		assert_int_equal(lethe_rootfs_accounts_finish(&spec, fd), -ENOENT);
		assert_non_null(strstr(lethe_error_message(),
				       "spec 's.yaml' line 12: session.graphical needs "
				       "'/usr/bin/cage', which is not in the image (add the "
				       "package cage)"));
		p = lethe_path_join(root, "usr/sbin");
		assert_int_equal(lethe_mkdir_p(p, 0755), 0);
		free(p);
		p = lethe_path_join(root, "usr/bin");
		assert_int_equal(lethe_mkdir_p(p, 0755), 0);
		free(p);
		for (size_t i = 0; i < 3; i++) {
			p = lethe_path_join(root, need[i]);
			assert_int_equal(lethe_file_write_atomic(p, "#!x\n", 4, 0755), 0);
			free(p);
			assert_int_equal(lethe_rootfs_accounts_finish(&spec, fd),
					 i < 2 ? -ENOENT : 0);
		}
		assert_non_null(strstr(lethe_error_message(), "'/usr/bin/browser'"));
		spec.session.graphical.n = 0;
	}
	close(fd);
	free(root);
}

static void test_exclude_semantics(void **state)
{
	struct lethe_strv ex = { 0 }, in = { 0 };
	char *root = tpath("ex");
	int fd;
	uint64_t removed = 0;
	const char *files[] = { "a/keep.txt", "a/drop.log", "a/sub/x.log", "b/y.log",
				".hidden.log" };

	lethe_rm_rf(root);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(files); i++) {
		char *p = lethe_path_join(root, files[i]), *s = strrchr(p, '/');

		*s = '\0';
		lethe_mkdir_p(p, 0755);
		*s = '/';
		assert_int_equal(lethe_file_write_atomic(p, "x", 1, 0644), 0);
		free(p);
	}
	/* '*' does not cross '/' and does not match a leading dot (FNM_PATHNAME|FNM_PERIOD). */
	lethe_strv_push(&ex, "/a/*.log");
	lethe_strv_push(&ex, "/*.log");
	lethe_strv_push(&ex, "/b");
	lethe_strv_push(&in, "/b/y.log");
	fd = open(root, O_RDONLY | O_DIRECTORY);
	assert_int_equal(lethe_rootfs_exclude(fd, &ex, &in, &removed), 0);
	close(fd);
	assert_int_equal(removed, 1);
	char *p = lethe_path_join(root, "a/drop.log");
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	const char *kept[] = { "a/keep.txt", "a/sub/x.log", "b/y.log", ".hidden.log" };
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(kept); i++) {
		p = lethe_path_join(root, kept[i]);
		if (access(p, F_OK) < 0)
			fail_msg("'%s' should have been kept", kept[i]);
		free(p);
	}
	lethe_strv_release(&ex);
	lethe_strv_release(&in);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_package),
		cmocka_unit_test(test_hostile_packages),
		cmocka_unit_test(test_file_replaces_symlink),
		cmocka_unit_test(test_devices_allowed),
		cmocka_unit_test(test_huge_declared_size),
		cmocka_unit_test(test_corrupt_and_truncated),
		cmocka_unit_test(test_wrong_layout),
		cmocka_unit_test(test_populate),
		cmocka_unit_test(test_populate_reproducible),
		cmocka_unit_test(test_exclude_semantics),
		cmocka_unit_test(test_accounts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
