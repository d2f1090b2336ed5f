/* manifest.mtree: walk a root tree in sorted order and write one mtree line per entry,
 * with the sha256 of every regular file; the lines are lib/fim's (one mtree writer). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <lethe/fim.h>
#include <lethe/manifest.h>

struct walk {
	const char *root;
	struct lethe_buf out;
	struct lethe_buf path; /* "./a/b", raw bytes */
	struct lethe_manifest_stats stats;
	uint64_t entries;
};

static int hash_file(struct walk *w, int dirfd, const char *name, uint8_t md[LETHE_SHA256_BYTES])
{
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
	return 0;
}

/* What a manifest line says of an entry: size and digest for regular files, the
 * target for links, the numbers for devices (with the type). */
#define MANIFEST_ATTRS                                                                             \
	(LETHE_FIM_TYPE | LETHE_FIM_MODE | LETHE_FIM_UID | LETHE_FIM_GID | LETHE_FIM_SIZE |        \
	 LETHE_FIM_SHA256 | LETHE_FIM_LINK)

/* One line for the entry whose path is w->path, written by lib/fim's line writer (the
 * one mtree writer); name is its last component in dirfd (NULL for the root itself). */
static int emit(struct walk *w, int dirfd, const char *name, const struct stat *st)
{
	struct lethe_fim_entry e = {
		.path = w->path.data,
		.have = LETHE_FIM_TYPE | LETHE_FIM_MODE | LETHE_FIM_UID | LETHE_FIM_GID,
		.type = lethe_fim_type_of(st->st_mode),
		.mode = (uint32_t)(st->st_mode & 07777),
		.uid = (uint32_t)st->st_uid,
		.gid = (uint32_t)st->st_gid,
	};
	char target[PATH_MAX + 1];
	int r;

	if (e.type == LETHE_FIM_T_NONE)
		return lethe_error(-EBADMSG, "'%s/%s': unknown file type", w->root, w->path.data);
	if (++w->entries > LETHE_MANIFEST_MAX_ENTRIES)
		return lethe_error(-E2BIG, "'%s': more than %u entries", w->root,
				   LETHE_MANIFEST_MAX_ENTRIES);
	if (S_ISREG(st->st_mode)) {
		r = hash_file(w, dirfd, name, e.sha256);
		if (r < 0)
			return r;
		w->stats.files++;
		w->stats.bytes += (uint64_t)st->st_size;
		e.size = (uint64_t)st->st_size;
		e.have |= LETHE_FIM_SIZE | LETHE_FIM_SHA256;
	} else if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target));

		if (n < 0)
			return lethe_error(-errno, "cannot read link '%s/%s': %m", w->root,
					   w->path.data + 2);
		if ((size_t)n >= sizeof(target) || n == 0)
			return lethe_error(-ENAMETOOLONG, "'%s/%s': bad link target length",
					   w->root, w->path.data + 2);
		target[n] = '\0';
		w->stats.links++;
		e.link = target;
		e.have |= LETHE_FIM_LINK;
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		w->stats.others++;
		e.dev_major = major(st->st_rdev);
		e.dev_minor = minor(st->st_rdev);
	} else if (S_ISDIR(st->st_mode)) {
		w->stats.dirs++;
	} else {
		w->stats.others++;
	}
	return lethe_fim_entry_format(&e, MANIFEST_ATTRS, &w->out);
}

static int walk_dir(struct walk *w, int fd, unsigned depth)
{
	struct lethe_strv names = { 0 };
	int r;

	if (depth > LETHE_MANIFEST_MAX_DEPTH)
		return lethe_error(-ELOOP, "'%s/%s': deeper than %u levels", w->root, w->path.data,
				   LETHE_MANIFEST_MAX_DEPTH);
	r = lethe_dir_names(fd, LETHE_MANIFEST_MAX_ENTRIES, &names);
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
