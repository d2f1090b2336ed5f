/* manifest.mtree: walk a root tree in sorted order and write one mtree line per entry,
 * with the sha256 of every regular file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <lethe/manifest.h>

struct walk {
	const char *root;
	struct lethe_buf out;
	struct lethe_buf path; /* "./a/b", raw bytes */
	struct lethe_manifest_stats stats;
	uint64_t entries;
};

int lethe_manifest_encode(struct lethe_buf *b, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		char esc[5];
		int r;

		/* Space, '#' and '\' end or start something in mtree; glob characters make
		 * a name a pattern; the rest is not printable ASCII. */
		if (*p <= 0x20 || *p >= 0x7f || strchr("#\\*?[", *p)) {
			snprintf(esc, sizeof(esc), "\\%03o", *p);
			r = lethe_buf_append(b, esc, 4);
		} else {
			r = lethe_buf_append(b, p, 1);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int hash_file(struct walk *w, int dirfd, const char *name, char hex[65])
{
	uint8_t md[LETHE_SHA256_BYTES];
	int fd, r;

	/* The walk saw a regular file; refuse whatever may have replaced it since. */
	fd = lethe_open_input(dirfd, name, O_RDONLY | O_NOFOLLOW, false, NULL);
	if (fd < 0)
		return lethe_error(fd, "cannot open '%s/%s': %s", w->root, w->path.data + 2,
				   fd == -EINVAL ? "not a regular file" : strerror(-fd));
	r = lethe_sha256_fd(fd, 0, md, NULL);
	close(fd);
	if (r < 0)
		return lethe_error(r, "cannot read '%s/%s': %s", w->root, w->path.data + 2,
				   strerror(-r));
	lethe_hex_encode(md, sizeof(md), hex);
	return 0;
}

static const char *type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "file";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "link";
	case S_IFCHR:
		return "char";
	case S_IFBLK:
		return "block";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	}
	return NULL;
}

/* One line for the entry whose path is w->path; name is its last component in dirfd
 * (NULL for the root itself). */
static int emit(struct walk *w, int dirfd, const char *name, const struct stat *st)
{
	struct lethe_buf *o = &w->out;
	const char *type = type_name(st->st_mode);
	int r;

	if (!type)
		return lethe_error(-EBADMSG, "'%s/%s': unknown file type", w->root, w->path.data);
	if (++w->entries > LETHE_MANIFEST_MAX_ENTRIES)
		return lethe_error(-E2BIG, "'%s': more than %u entries", w->root,
				   LETHE_MANIFEST_MAX_ENTRIES);
	r = lethe_manifest_encode(o, w->path.data);
	if (r >= 0)
		r = lethe_buf_printf(o, " type=%s mode=%04o uid=%u gid=%u", type,
				     (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid,
				     (unsigned)st->st_gid);
	if (r < 0)
		return r;
	if (S_ISREG(st->st_mode)) {
		char hex[65];

		r = hash_file(w, dirfd, name, hex);
		if (r < 0)
			return r;
		w->stats.files++;
		w->stats.bytes += (uint64_t)st->st_size;
		r = lethe_buf_printf(o, " size=%llu sha256digest=%s",
				     (unsigned long long)st->st_size, hex);
	} else if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target));

		if (n < 0)
			return lethe_error(-errno, "cannot read link '%s/%s': %m", w->root,
					   w->path.data + 2);
		if ((size_t)n >= sizeof(target) || n == 0)
			return lethe_error(-ENAMETOOLONG, "'%s/%s': bad link target length",
					   w->root, w->path.data + 2);
		target[n] = '\0';
		w->stats.links++;
		r = lethe_buf_puts(o, " link=");
		if (r >= 0)
			r = lethe_manifest_encode(o, target);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		w->stats.others++;
		r = lethe_buf_printf(o, " device=native,%u,%u", major(st->st_rdev),
				     minor(st->st_rdev));
	} else if (S_ISDIR(st->st_mode)) {
		w->stats.dirs++;
	} else {
		w->stats.others++;
	}
	if (r >= 0)
		r = lethe_buf_puts(o, "\n");
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(struct walk *w, int fd, struct lethe_strv *names)
{
	DIR *d;
	struct dirent *de;
	int r = lethe_opendir_fd(fd, &d);

	if (r < 0)
		return r;
	/* readdir() says an error only through errno: a manifest must not silently miss
	 * entries of a directory that could not be read to the end. */
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = names->n >= LETHE_MANIFEST_MAX_ENTRIES ? -E2BIG
							   : lethe_strv_push(names, de->d_name);
		if (r < 0) {
			closedir(d);
			return r;
		}
	}
	r = -errno;
	closedir(d);
	if (r < 0)
		return r;
	if (names->n)
		qsort(names->v, names->n, sizeof(char *), cmp_names);
	return 0;
}

static int walk_dir(struct walk *w, int fd, unsigned depth)
{
	struct lethe_strv names = { 0 };
	int r;

	if (depth > LETHE_MANIFEST_MAX_DEPTH)
		return lethe_error(-ELOOP, "'%s/%s': deeper than %u levels", w->root, w->path.data,
				   LETHE_MANIFEST_MAX_DEPTH);
	r = list_dir(w, fd, &names);
	if (r < 0) {
		r = lethe_error(r, "cannot list '%s/%s': %s", w->root, w->path.data, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < names.n; i++) {
		size_t saved = w->path.len;
		struct stat st;

		r = lethe_buf_printf(&w->path, "/%s", names.v[i]);
		if (r < 0)
			goto out;
		if (fstatat(fd, names.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = lethe_error(-errno, "cannot stat '%s/%s': %m", w->root,
					w->path.data + 2);
			goto out;
		}
		r = emit(w, fd, names.v[i], &st);
		if (r >= 0 && S_ISDIR(st.st_mode)) {
			int sub = openat(fd, names.v[i],
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0) {
				r = lethe_error(-errno, "cannot open '%s/%s': %m", w->root,
						w->path.data + 2);
				goto out;
			}
			r = walk_dir(w, sub, depth + 1);
			close(sub);
		}
		if (r < 0)
			goto out;
		w->path.len = saved;
		w->path.data[saved] = '\0';
	}
out:
	lethe_strv_release(&names);
	return r;
}

int lethe_manifest_generate(const char *root, char **ret_text, size_t *ret_len,
			    struct lethe_manifest_stats *ret_stats)
{
	struct walk w = { .root = root };
	struct stat st;
	int fd, r;

	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return lethe_error(-errno, "cannot open root tree '%s': %m", root);
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	r = lethe_buf_puts(&w.out, "#mtree\n");
	if (r >= 0)
		r = lethe_buf_puts(&w.path, ".");
	if (r >= 0)
		r = emit(&w, fd, NULL, &st);
	if (r >= 0)
		r = walk_dir(&w, fd, 0);
out:
	close(fd);
	lethe_buf_release(&w.path);
	if (r < 0) {
		lethe_buf_release(&w.out);
		return r;
	}
	*ret_text = w.out.data;
	if (ret_len)
		*ret_len = w.out.len;
	if (ret_stats)
		*ret_stats = w.stats;
	return 0;
}

int lethe_manifest_write(const char *root, const char *path, struct lethe_manifest_stats *stats)
{
	char *text;
	size_t len;
	int r;

	r = lethe_manifest_generate(root, &text, &len, stats);
	if (r < 0)
		return r;
	r = lethe_file_write_atomic(path, text, len, 0644);
	free(text);
	if (r < 0)
		return lethe_error(r, "cannot write '%s': %s", path, strerror(-r));
	return 0;
}
