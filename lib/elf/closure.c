/* The closure check over a staged root: walk it in sorted order, parse every ELF file,
 * and look each interpreter and DT_NEEDED up inside the root, resolving symbolic links
 * by hand so that nothing outside the root is ever consulted. */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/elf.h>

#define MAX_LINKS 40
#define PATH_LEN  4096

const char *const lethe_elf_default_libdirs[] = {
	"/lib/x86_64-linux-gnu",
	"/usr/lib/x86_64-linux-gnu",
	"/lib",
	"/usr/lib",
	"/lib64",
	"/usr/lib64",
	NULL,
};

struct walk {
	int rootfd;
	struct lethe_strv conf_dirs; /* the root's /etc/ld.so.conf: what ld.so.cache adds */
	struct lethe_elf_report rep;
	char *first; /* message of the first failure */
	unsigned depth;
};

/* Resolve path (absolute, inside the root) like the kernel would in a chroot: symbolic
 * links followed by hand, '..' stopping at the root. 0 and *st on success; the resolved
 * path relative to the root (no link in it) goes to resolved, PATH_LEN bytes. */
static int root_stat(int rootfd, const char *path, struct stat *st, char *resolved)
{
	char rest[2 * PATH_LEN], cur[PATH_LEN] = "", tmp[2 * PATH_LEN];
	unsigned links = 0;
	size_t rl = strlen(path);

	if (rl >= sizeof(rest))
		return -ENAMETOOLONG;
	memcpy(rest, path, rl + 1);
	while (rest[0]) {
		char *p = rest, comp[256], cand[PATH_LEN];
		size_t l;

		while (*p == '/')
			p++;
		l = strcspn(p, "/");
		if (l == 0) {
			rest[0] = '\0';
			break;
		}
		if (l >= sizeof(comp))
			return -ENAMETOOLONG;
		memcpy(comp, p, l);
		comp[l] = '\0';
		memmove(rest, p + l, strlen(p + l) + 1);
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *s = strrchr(cur, '/');

			if (s)
				*s = '\0';
			else
				cur[0] = '\0';
			continue;
		}
		if (snprintf(cand, sizeof(cand), "%s%s%s", cur, cur[0] ? "/" : "", comp) >=
		    (int)sizeof(cand))
			return -ENAMETOOLONG;
		if (fstatat(rootfd, cand, st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISLNK(st->st_mode)) {
			char target[PATH_LEN];
			ssize_t n;

			if (++links > MAX_LINKS)
				return -ELOOP;
			n = readlinkat(rootfd, cand, target, sizeof(target) - 1);
			if (n <= 0)
				return -EIO;
			target[n] = '\0';
			if (snprintf(tmp, sizeof(tmp), "%s/%s", target, rest) >= (int)sizeof(tmp))
				return -ENAMETOOLONG;
			memcpy(rest, tmp, strlen(tmp) + 1);
			if (target[0] == '/')
				cur[0] = '\0';
			continue;
		}
		memcpy(cur, cand, strlen(cand) + 1);
	}
	memcpy(resolved, cur[0] ? cur : ".", strlen(cur[0] ? cur : ".") + 1);
	if (!cur[0])
		return fstat(rootfd, st) < 0 ? -errno : 0;
	return fstatat(rootfd, cur, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* Is path, inside the root, a 64-bit little-endian x86-64 ELF file? The loader skips a
 * library of another class or machine and searches on, and so does the check. */
static bool root_has_elf(int rootfd, const char *path)
{
	char resolved[PATH_LEN];
	unsigned char h[20];
	struct stat st;
	ssize_t n;
	int fd;

	if (root_stat(rootfd, path, &st, resolved) < 0 || !S_ISREG(st.st_mode))
		return false;
	fd = openat(rootfd, resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = lethe_read_full(fd, h, sizeof(h));
	close(fd);
	return n == (ssize_t)sizeof(h) && !memcmp(h, ELFMAG, SELFMAG) &&
	       h[EI_CLASS] == ELFCLASS64 && h[EI_DATA] == ELFDATA2LSB &&
	       (h[18] | h[19] << 8) == EM_X86_64;
}

/* dir may use $ORIGIN / ${ORIGIN}: the directory of the object (origin). */
static bool found_in(int rootfd, const char *dir, const char *origin, const char *lib)
{
	char d[PATH_LEN], p[PATH_LEN];
	const char *rest = NULL;

	if (!strncmp(dir, "$ORIGIN", 7))
		rest = dir + 7;
	else if (!strncmp(dir, "${ORIGIN}", 9))
		rest = dir + 9;
	if (rest) {
		if (snprintf(d, sizeof(d), "%s%s", origin, rest) >= (int)sizeof(d))
			return false;
	} else if (dir[0] != '/' || snprintf(d, sizeof(d), "%s", dir) >= (int)sizeof(d)) {
		return false; /* relative RUNPATH entries depend on the cwd: not counted */
	}
	if (snprintf(p, sizeof(p), "%s/%s", d, lib) >= (int)sizeof(p))
		return false;
	return root_has_elf(rootfd, p);
}

static bool resolve_lib(int rootfd, const struct lethe_strv *conf_dirs,
			const struct lethe_elf_info *info, const char *origin, const char *lib)
{
	const struct lethe_strv *extra = info->runpath.n ? &info->runpath : &info->rpath;

	if (strchr(lib, '/'))
		return lib[0] == '/' && root_has_elf(rootfd, lib);
	for (size_t i = 0; i < extra->n; i++)
		if (found_in(rootfd, extra->v[i], origin, lib))
			return true;
	for (size_t i = 0; lethe_elf_default_libdirs[i]; i++)
		if (found_in(rootfd, lethe_elf_default_libdirs[i], origin, lib))
			return true;
	for (size_t i = 0; i < conf_dirs->n; i++)
		if (found_in(rootfd, conf_dirs->v[i], origin, lib))
			return true;
	return false;
}

/* The directories of the root's /etc/ld.so.conf (one absolute path a line; comments,
 * `include` and anything else skipped), which the build's ldconfig -r puts into the
 * image's ld.so.cache: the loader finds a library there, so the check does too. */
#define LDSO_CONF_MAX (64 * 1024)
static int read_ldso_conf(int rootfd, struct lethe_strv *ret)
{
	char resolved[PATH_LEN], *text, *save = NULL;
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	if (root_stat(rootfd, "/etc/ld.so.conf", &st, resolved) < 0 || !S_ISREG(st.st_mode))
		return 0;
	fd = openat(rootfd, resolved, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	text = malloc(LDSO_CONF_MAX + 1);
	n = text ? lethe_read_full(fd, text, LDSO_CONF_MAX) : -ENOMEM;
	close(fd);
	if (n < 0) {
		free(text);
		return (int)n;
	}
	text[n] = '\0';
	for (char *l = strtok_r(text, "\n", &save); l && r == 0; l = strtok_r(NULL, "\n", &save)) {
		l += strspn(l, " \t");
		l[strcspn(l, " \t#")] = '\0';
		if (l[0] == '/' && !strstr(l, ".."))
			r = lethe_strv_push(ret, l);
	}
	free(text);
	return r;
}

static void missing(struct walk *w, const char *fmt, ...) LETHE_PRINTF(2, 3);

static void missing(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	w->rep.missing++;
	if (w->first)
		return;
	va_start(ap, fmt);
	if (vasprintf(&w->first, fmt, ap) < 0)
		w->first = NULL;
	va_end(ap);
}

static int check_file(struct walk *w, int dfd, const char *name, const char *path,
		      const struct stat *st)
{
	struct lethe_elf_info info;
	char origin[PATH_LEN];
	void *map;
	int fd, r;

	if (st->st_size < 64 || (uint64_t)st->st_size > LETHE_ELF_MAX_SIZE)
		return 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return lethe_error(-errno, "ELF closure: cannot open '%s': %s", path,
				   strerror(errno));
	map = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return lethe_error(-errno, "ELF closure: cannot map '%s': %s", path,
				   strerror(errno));
	r = lethe_elf_parse(map, (size_t)st->st_size, path, &info);
	munmap(map, (size_t)st->st_size);
	if (r < 0 || !info.relevant) {
		lethe_elf_info_release(&info);
		if (r == -EBADMSG) {
			const char *m = lethe_error_message_for(r);
			char *msg = strdup(m ? m : path);

			r = lethe_error(r, "ELF closure: %s", msg ? msg : path);
			free(msg);
		}
		return r;
	}
	w->rep.objects++;
	snprintf(origin, sizeof(origin), "%s", path);
	*strrchr(origin, '/') = '\0';
	if (info.interp && !root_has_elf(w->rootfd, info.interp))
		missing(w,
			"ELF closure: '%s' needs its interpreter '%s', which is not in the "
			"image",
			path, info.interp);
	for (size_t i = 0; i < info.needed.n; i++)
		if (!resolve_lib(w->rootfd, &w->conf_dirs, &info, origin, info.needed.v[i]))
			missing(w, "ELF closure: '%s' needs '%s', which is not in the image", path,
				info.needed.v[i]);
	lethe_elf_info_release(&info);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_dir(struct walk *w, int dfd, const char *path)
{
	struct lethe_strv names = { 0 };
	DIR *d;
	int r;

	if (++w->depth > 256)
		return lethe_error(-ELOOP, "ELF closure: '%s' is too deep", path);
	if ((r = lethe_opendir_fd(dfd, &d)) < 0)
		return lethe_error(r, "ELF closure: cannot read '%s'", path);
	for (struct dirent *e; (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (r = lethe_strv_push(&names, e->d_name)) < 0)
			break;
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	for (size_t i = 0; r == 0 && i < names.n; i++) {
		const char *n = names.v[i];
		size_t nl = strlen(n);
		char sub[PATH_LEN];
		struct stat st;

		if (snprintf(sub, sizeof(sub), "%s/%s", strcmp(path, "/") ? path : "", n) >=
		    (int)sizeof(sub))
			continue;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int s;

			/* Kernel modules and separate debug info: never loaded by ld.so (and
			 * debug files keep the program headers of the object they describe). */
			if (!strcmp(sub, "/lib/modules") || !strcmp(sub, "/usr/lib/modules") ||
			    !strcmp(sub, "/usr/lib/debug"))
				continue;
			s = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s < 0) {
				r = -errno;
				break;
			}
			r = walk_dir(w, s, sub);
			close(s);
		} else if (S_ISREG(st.st_mode) && !(nl > 3 && !strcmp(n + nl - 3, ".ko"))) {
			r = check_file(w, dirfd(d), n, sub, &st);
		}
	}
	closedir(d);
	lethe_strv_release(&names);
	w->depth--;
	return r;
}

int lethe_elf_check_closure(const char *root, struct lethe_elf_report *ret)
{
	struct walk w = { .rootfd = -1 };
	int r;

	w.rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.rootfd < 0)
		return lethe_error(-errno, "ELF closure: cannot open '%s': %s", root,
				   strerror(errno));
	r = read_ldso_conf(w.rootfd, &w.conf_dirs);
	if (r == 0)
		r = walk_dir(&w, w.rootfd, "/");
	close(w.rootfd);
	lethe_strv_release(&w.conf_dirs);
	if (ret)
		*ret = w.rep;
	if (r == 0 && w.first) {
		if (w.rep.missing > 1)
			r = lethe_error(-EBADMSG, "%s (and %u more)", w.first, w.rep.missing - 1);
		else
			r = lethe_error(-EBADMSG, "%s", w.first);
	}
	free(w.first);
	return r;
}
