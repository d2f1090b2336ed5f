/* Setup code shared by the unit tests: temporary directories, writing and reading
 * files, counting directory entries. Every helper asserts (cmocka) instead of
 * returning an error, so that a test reads as what it checks. Include after
 * <cmocka.h>. Strings returned are the test's to free(). */
#ifndef LETHE_TESTS_UNIT_HELPERS_H
#define LETHE_TESTS_UNIT_HELPERS_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lethe/util.h>

/* A new directory /tmp/lethe-test-NAME.XXXXXX, made in tmpl (at least 64 bytes). */
static inline void ut_mkdtemp_in(char *tmpl, size_t size, const char *name)
{
	assert_true((size_t)snprintf(tmpl, size, "/tmp/lethe-test-%s.XXXXXX", name) < size);
	assert_non_null(mkdtemp(tmpl));
}

/* The same, allocated. */
static inline char *ut_mkdtemp(const char *name)
{
	char tmpl[256];
	char *dir;

	ut_mkdtemp_in(tmpl, sizeof(tmpl), name);
	dir = strdup(tmpl);
	assert_non_null(dir);
	return dir;
}

/* dir/rel. */
static inline char *ut_path(const char *dir, const char *rel)
{
	char *p = lethe_path_join(dir, rel);

	assert_non_null(p);
	return p;
}

/* A path beside dir, unique as dir is: "DIR.name" (for a file that must not be in the
 * tree under test; never a fixed name in /tmp, which parallel runs of a suite share). */
static inline char *ut_beside(const char *dir, const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s.%s", dir, name) > 0);
	return p;
}

/* Write len bytes to path, whole, with exactly mode (not masked by the umask). */
static inline void ut_write(const char *path, const void *data, size_t len, mode_t mode)
{
	assert_int_equal(lethe_file_write_atomic(path, data, len, mode), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Write text to dir/rel, making the directories above it (0755) as needed. */
static inline void ut_put(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char *p = ut_path(dir, rel), *slash = strrchr(p, '/');

	*slash = '\0';
	assert_int_equal(lethe_mkdir_p(p, 0755), 0);
	*slash = '/';
	ut_write(p, text, strlen(text), mode);
	free(p);
}

/* The whole of path (at most 64 MiB), NUL-terminated; its length in *len (may be NULL). */
static inline char *ut_read(const char *path, size_t *len)
{
	char *data = NULL;

	assert_int_equal(lethe_file_read(path, 64u << 20, &data, len), 0);
	return data;
}

/* The number of entries in dir, "." and ".." not counted. */
static inline unsigned count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

#endif
