/* The root tree as a whole: packages extracted, excludes applied, then the files that
 * make it an image: dpkg status (for scanners), accounts, os-release, hostname and the
 * spec's own files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/rootfs.h>

#include "tree.h"

#define SPEC_FILE_MAX (256u << 20)
#define NOBODY	      65534u

int lethe_rootfs_dpkg_status(const struct lethe_pkgset *set, struct lethe_buf *out)
{
	bool first = true;
	int r = 0;

	for (size_t i = 0; i < set->n && r == 0; i++) {
		const struct lethe_pkg *p = &set->pkgs[i];
		const char *t = p->control.text, *nl;

		if (p->role != LETHE_PKG_ROOT)
			continue;
		if (!t)
			return lethe_error(
				-EINVAL, "package '%s': no control data (fetch it first)", p->name);
		/* The Package line first, then Status, then the rest as the package has it. */
		const char *pkgline = strncasecmp(t, "Package:", 8) ? strstr(t, "\nPackage:") : t;

		if (pkgline && pkgline != t)
			pkgline++;
		if (!first)
			r = lethe_buf_puts(out, "\n");
		first = false;
		if (r < 0)
			break;
		if (!pkgline) {
			return lethe_error(-EBADMSG, "package '%s': control data without Package",
					   p->name);
		}
		nl = strchr(pkgline, '\n');
		r = lethe_buf_append(out, pkgline, (size_t)(nl - pkgline) + 1);
		if (r == 0)
			r = lethe_buf_puts(out, "Status: install ok installed\n");
		if (r == 0 && pkgline != t)
			r = lethe_buf_append(out, t, (size_t)(pkgline - t));
		if (r == 0)
			r = lethe_buf_puts(out, nl + 1);
	}
	return r;
}

struct group_ent {
	const char *name;
	gid_t gid;
	struct lethe_strv members;
};

static int add_group(struct group_ent *g, size_t *n, size_t cap, const char *name, gid_t gid,
		     unsigned line)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(g[i].name, name) || g[i].gid == gid)
			return lethe_error(-EBADMSG,
					   "spec line %u: group '%s' (gid %u) is defined "
					   "twice",
					   line, name, (unsigned)gid);
	if (*n >= cap)
		return -E2BIG;
	g[*n].name = name;
	g[*n].gid = gid;
	memset(&g[*n].members, 0, sizeof(g[*n].members));
	(*n)++;
	return 0;
}

static bool have_group(const struct group_ent *g, size_t n, const char *name, gid_t gid)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(g[i].name, name) || g[i].gid == gid)
			return true;
	return false;
}

static bool have_gid(const struct group_ent *g, size_t n, gid_t gid)
{
	for (size_t i = 0; i < n; i++)
		if (g[i].gid == gid)
			return true;
	return false;
}

static const struct lethe_spec_user *find_user(const struct lethe_spec *spec, const char *name,
					       uid_t uid)
{
	for (size_t i = 0; i < spec->n_users; i++)
		if (!strcmp(spec->users[i].name, name) || spec->users[i].uid == uid)
			return &spec->users[i];
	return NULL;
}

/* The groups: root and nogroup unless the spec has them, the spec's, and a group for
 * any user whose primary gid no group has (specs built by hand in tests). */
static int collect_groups(const struct lethe_spec *spec, struct group_ent *g, size_t *n, size_t cap)
{
	bool spec_root = false;
	int r = 0;

	for (size_t i = 0; i < spec->n_groups; i++)
		spec_root |= spec->groups[i].gid == 0;
	if (!spec_root && (r = add_group(g, n, cap, "root", 0, 0)) < 0)
		return r;
	for (size_t i = 0; i < spec->n_groups; i++)
		if ((r = add_group(g, n, cap, spec->groups[i].name, spec->groups[i].gid,
				   spec->groups[i].line)) < 0)
			return r;
	for (size_t i = 0; i < spec->n_users; i++) {
		const struct lethe_spec_user *u = &spec->users[i];

		if (!have_gid(g, *n, u->gid) &&
		    (r = add_group(g, n, cap, u->name, u->gid, u->line)) < 0)
			return r;
	}
	if (!have_group(g, *n, "nogroup", NOBODY))
		r = add_group(g, n, cap, "nogroup", NOBODY, 0);
	for (size_t i = 0; r == 0 && i < spec->n_users; i++) {
		const struct lethe_spec_user *u = &spec->users[i];

		for (size_t k = 0; r == 0 && k < u->groups.n; k++) {
			size_t j;

			for (j = 0; j < *n && strcmp(g[j].name, u->groups.v[k]); j++)
				;
			if (j == *n)
				return lethe_error(-EBADMSG,
						   "spec line %u: user '%s': group '%s' is "
						   "not defined",
						   u->line, u->name, u->groups.v[k]);
			r = lethe_strv_push(&g[j].members, u->name);
		}
	}
	return r;
}

static int passwd_line(struct lethe_buf *pw, struct lethe_buf *sh, const char *name, uid_t uid,
		       gid_t gid, const char *home, const char *shell, long days)
{
	int r = lethe_buf_printf(pw, "%s:x:%u:%u:%s:%s:%s\n", name, (unsigned)uid, (unsigned)gid,
				 uid == 0 || uid == NOBODY ? name : "", home, shell);

	/* Every password locked: Lethe images have no password logins at all. */
	return r ? r
		 : lethe_buf_printf(sh, "%s:%s:%ld:0:99999:7:::\n", name,
				    uid == 0 || uid == NOBODY ? "*" : "!", days);
}

static int write_accounts(const struct lethe_spec *spec, int rootfd, int64_t epoch)
{
	size_t cap = spec->n_groups + spec->n_users + 2, n = 0;
	struct group_ent *g = calloc(cap, sizeof(*g));
	struct lethe_buf pw = { 0 }, gr = { 0 }, sh = { 0 };
	long days = (long)(epoch / 86400);
	int r;

	if (!g)
		return -ENOMEM;
	for (size_t i = 0; i < spec->n_users; i++) {
		const struct lethe_spec_user *u = &spec->users[i];

		if ((u->uid == 0) != !strcmp(u->name, "root")) {
			r = lethe_error(-EBADMSG,
					"spec line %u: uid 0 is root's and only root's "
					"(user '%s')",
					u->line, u->name);
			goto out;
		}
	}
	if ((r = collect_groups(spec, g, &n, cap)) < 0)
		goto out;
	if (!find_user(spec, "root", 0))
		r = passwd_line(&pw, &sh, "root", 0, 0, "/root", "/usr/sbin/nologin", days);
	for (size_t i = 0; r == 0 && i < spec->n_users; i++) {
		const struct lethe_spec_user *u = &spec->users[i];

		r = passwd_line(&pw, &sh, u->name, u->uid, u->gid,
				u->home ? u->home : "/nonexistent",
				u->shell ? u->shell : "/usr/sbin/nologin", days);
	}
	if (r == 0 && !find_user(spec, "nobody", NOBODY))
		r = passwd_line(&pw, &sh, "nobody", NOBODY, NOBODY, "/nonexistent",
				"/usr/sbin/nologin", days);
	for (size_t j = 0; r == 0 && j < n; j++) {
		r = lethe_buf_printf(&gr, "%s:x:%u:", g[j].name, (unsigned)g[j].gid);
		for (size_t k = 0; r == 0 && k < g[j].members.n; k++)
			r = lethe_buf_printf(&gr, "%s%s", k ? "," : "", g[j].members.v[k]);
		if (r == 0)
			r = lethe_buf_puts(&gr, "\n");
	}
	if (r == 0)
		r = tree_write_file(rootfd, "etc/passwd", pw.data, pw.len, 0644, 0, 0, epoch);
	if (r == 0)
		r = tree_write_file(rootfd, "etc/group", gr.data, gr.len, 0644, 0, 0, epoch);
	if (r == 0)
		r = tree_write_file(rootfd, "etc/shadow", sh.data, sh.len, 0600, 0, 0, epoch);
out:
	for (size_t j = 0; j < n; j++)
		lethe_strv_release(&g[j].members);
	free(g);
	lethe_buf_release(&pw);
	lethe_buf_release(&gr);
	lethe_buf_release(&sh);
	return r;
}

/* A value for os-release, double-quoted with its specials escaped (os-release(5)). */
static int quoted(struct lethe_buf *b, const char *key, const char *value)
{
	int r = lethe_buf_printf(b, "%s=\"", key);

	for (const char *p = value; r == 0 && *p; p++) {
		if ((unsigned char)*p < 0x20)
			continue;
		if (strchr("\"\\$`", *p))
			r = lethe_buf_puts(b, "\\");
		if (r == 0)
			r = lethe_buf_append(b, p, 1);
	}
	return r ? r : lethe_buf_puts(b, "\"\n");
}

static int write_os_release(const struct lethe_spec *spec, int rootfd, int64_t epoch)
{
	const char *name = spec->name ? spec->name : "lethe";
	const char *version = spec->version ? spec->version : "0";
	struct lethe_buf b = { 0 }, pretty = { 0 };
	int r = lethe_buf_printf(&pretty, "Lethe %s %s", name, version);

	if (r == 0)
		r = lethe_buf_puts(&b, "NAME=\"Lethe\"\nID=lethe\nID_LIKE=debian\n");
	if (r == 0)
		r = quoted(&b, "PRETTY_NAME", pretty.data);
	if (r == 0)
		r = quoted(&b, "VERSION", version);
	if (r == 0)
		r = quoted(&b, "VERSION_ID", version);
	if (r == 0)
		r = quoted(&b, "IMAGE_ID", name);
	if (r == 0)
		r = quoted(&b, "IMAGE_VERSION", version);
	if (r == 0)
		r = tree_write_file(rootfd, "usr/lib/os-release", b.data, b.len, 0644, 0, 0, epoch);
	if (r == 0)
		r = tree_symlink(rootfd, "etc/os-release", "../usr/lib/os-release", epoch);
	b.len = 0;
	if (r == 0)
		r = lethe_buf_printf(&b, "%s\n", spec->hostname ? spec->hostname : name);
	if (r == 0)
		r = tree_write_file(rootfd, "etc/hostname", b.data, b.len, 0644, 0, 0, epoch);
	lethe_buf_release(&b);
	lethe_buf_release(&pretty);
	return r;
}

static int write_spec_files(const struct lethe_spec *spec, int rootfd, int64_t epoch)
{
	for (size_t i = 0; i < spec->n_files; i++) {
		const struct lethe_spec_file *f = &spec->files[i];
		const char *rel = f->destination;
		char *data;
		size_t len;
		int r;

		while (*rel == '/')
			rel++;
		if (!lethe_path_is_safe_relative(rel))
			return lethe_error(-EBADMSG,
					   "spec line %u: destination '%s' is not a safe "
					   "path",
					   f->line, f->destination);
		r = lethe_file_read(f->source, SPEC_FILE_MAX, &data, &len);
		if (r < 0)
			return r == -EFBIG ? r
					   : lethe_error(r, "spec line %u: cannot read '%s': %s",
							 f->line, f->source, strerror(-r));
		r = tree_write_file(rootfd, rel, data, len, f->mode, f->uid, f->gid, epoch);
		free(data);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Nothing but . and .. (link counts say nothing about files, or anything on btrfs). */
static bool dir_is_empty(int fd)
{
	DIR *d = NULL;
	bool empty = lethe_opendir_fd(fd, &d) == 0;

	for (struct dirent *e; d && (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = false;
			break;
		}
	if (d)
		closedir(d);
	return empty;
}

static int open_empty_staging(const char *staging, int *ret)
{
	int fd, r = lethe_mkdir_p(staging, 0755);

	if (r < 0)
		return r;
	fd = open(staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return lethe_error(-errno, "cannot open '%s': %s", staging, strerror(errno));
	if (!dir_is_empty(fd)) {
		close(fd);
		return lethe_error(-EEXIST, "staging directory '%s' is not empty", staging);
	}
	if (fchmod(fd, 0755) < 0) {
		close(fd);
		return lethe_error(-errno, "cannot chmod '%s': %s", staging, strerror(errno));
	}
	*ret = fd;
	return 0;
}

static int extract_all(struct lethe_pkgset *set, int rootfd,
		       const struct lethe_rootfs_options *opts, struct lethe_strv *lists)
{
	uint64_t total = 0;

	for (size_t i = 0; i < set->n; i++) {
		struct lethe_pkg *p = &set->pkgs[i];
		int fd, r;

		if (p->role != LETHE_PKG_ROOT)
			continue;
		if (!p->path)
			return lethe_error(-EINVAL, "package '%s': not fetched", p->name);
		lethe_log(LETHE_LOG_PROGRESS, "extracting %s", p->name);
		fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return lethe_error(-errno, "cannot open '%s': %s", p->path,
					   strerror(errno));
		lethe_strv_release(&p->licenses);
		r = rootfs_extract_listed(rootfd, fd, p->name, p->filename, opts, &total,
					  &p->licenses, &lists[i]);
		close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool in_root(int rootfd, const char *abs)
{
	struct stat st;

	while (*abs == '/')
		abs++;
	if (!*abs || !strcmp(abs, "."))
		return true;
	return lethe_path_is_safe_relative(abs) &&
	       fstatat(rootfd, abs, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* dpkg's name for a package's info files: NAME:ARCH for Multi-Arch: same, else NAME. */
static int info_name(const struct lethe_pkg *p, const char *ext, struct lethe_buf *b)
{
	const char *t = p->control.text;
	bool same =
		t && (strstr(t, "\nMulti-Arch: same\n") || !strncmp(t, "Multi-Arch: same\n", 17));

	b->len = 0;
	if (same)
		return lethe_buf_printf(b, "var/lib/dpkg/info/%s:%s.%s", p->name, p->arch, ext);
	return lethe_buf_printf(b, "var/lib/dpkg/info/%s.%s", p->name, ext);
}

/* A line of md5sums worth keeping: 32 hex digits, two spaces, a file still there. */
static bool md5_line_ok(int rootfd, const char *line, size_t l)
{
	char path[4096];

	if (l < 35 || l - 34 >= sizeof(path) || strspn(line, "0123456789abcdef") != 32 ||
	    line[32] != ' ' || line[33] != ' ')
		return false;
	memcpy(path, line + 34, l - 34);
	path[l - 34] = '\0';
	return in_root(rootfd, path);
}

/* var/lib/dpkg/info/PKG.list (every path the package brought that is still there) and
 * PKG.md5sums (its own, filtered the same way): what `dpkg --audit` and scanners that
 * map files to packages expect. */
static int write_dpkg_info(const struct lethe_pkg *p, const struct lethe_strv *files, int rootfd,
			   int64_t epoch)
{
	struct lethe_buf name = { 0 }, list = { 0 }, md5 = { 0 }, label = { 0 };
	char *sums = NULL;
	size_t len = 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < files->n; i++)
		if (in_root(rootfd, files->v[i]))
			r = lethe_buf_printf(&list, "%s\n", files->v[i]);
	if (r == 0 && (r = info_name(p, "list", &name)) == 0)
		r = tree_write_file(rootfd, name.data, list.data ? list.data : "", list.len, 0644,
				    0, 0, epoch);
	if (r == 0 &&
	    (r = lethe_buf_printf(&label, "package '%s' ('%s')", p->name, p->filename)) == 0) {
		r = lethe_deb_read_control_member(p->path, label.data, "md5sums", 16u << 20, &sums,
						  &len);
		if (r == -ENOENT) {
			lethe_error_clear();
			r = 0; /* a package without md5sums: dpkg accepts that */
			goto out;
		}
	}
	for (size_t pos = 0; r == 0 && pos < len;) {
		const char *line = sums + pos, *nl = memchr(line, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - line) : len - pos;

		if (md5_line_ok(rootfd, line, l))
			r = lethe_buf_append(&md5, line, l + 1 <= len - pos ? l + 1 : l);
		pos += l + 1;
	}
	if (r == 0 && md5.len && md5.data[md5.len - 1] != '\n')
		r = lethe_buf_puts(&md5, "\n");
	if (r == 0 && (r = info_name(p, "md5sums", &name)) == 0)
		r = tree_write_file(rootfd, name.data, md5.data ? md5.data : "", md5.len, 0644, 0,
				    0, epoch);
out:
	free(sums);
	lethe_buf_release(&name);
	lethe_buf_release(&list);
	lethe_buf_release(&md5);
	lethe_buf_release(&label);
	return r;
}

static int apply_excludes(const struct lethe_spec *spec, int rootfd)
{
	struct lethe_strv ex = { 0 }, in = { 0 };
	uint64_t removed = 0;
	int r = 0;

	for (size_t i = 0; spec->minimal && r == 0 && lethe_rootfs_minimal_exclude[i]; i++)
		r = lethe_strv_push(&ex, lethe_rootfs_minimal_exclude[i]);
	for (size_t i = 0; spec->minimal && r == 0 && lethe_rootfs_minimal_include[i]; i++)
		r = lethe_strv_push(&in, lethe_rootfs_minimal_include[i]);
	for (size_t i = 0; r == 0 && i < spec->exclude.n; i++)
		r = lethe_strv_push(&ex, spec->exclude.v[i]);
	for (size_t i = 0; r == 0 && i < spec->include.n; i++)
		r = lethe_strv_push(&in, spec->include.v[i]);
	if (r == 0 && ex.n)
		r = lethe_rootfs_exclude(rootfd, &ex, &in, &removed);
	if (r == 0 && removed)
		lethe_log(LETHE_LOG_INFO, "excludes removed %llu entries",
			  (unsigned long long)removed);
	lethe_strv_release(&ex);
	lethe_strv_release(&in);
	return r;
}

int lethe_rootfs_populate(const struct lethe_spec *spec, struct lethe_pkgset *set,
			  const char *staging, const struct lethe_rootfs_options *opts)
{
	struct lethe_rootfs_options o = *opts;
	struct lethe_buf status = { 0 };
	struct lethe_strv *lists = calloc(set->n ? set->n : 1, sizeof(*lists));
	struct lethe_strv ran = { 0 };
	unsigned links = 0;
	int rootfd = -1, r;

	if (!lists)
		return -ENOMEM;
	if (spec->allow_devices)
		o.allow_devices = true;
	if ((r = open_empty_staging(staging, &rootfd)) < 0)
		goto out_lists;
	if ((r = extract_all(set, rootfd, &o, lists)) < 0 || (r = apply_excludes(spec, rootfd)) < 0)
		goto out;
	/* info/format 1: Multi-Arch: same packages are NAME:ARCH.list (dpkg's multiarch db). */
	if ((r = tree_write_file(rootfd, "var/lib/dpkg/info/format", "1\n", 2, 0644, 0, 0,
				 o.epoch)) < 0)
		goto out;
	for (size_t i = 0; i < set->n; i++)
		if (set->pkgs[i].role == LETHE_PKG_ROOT &&
		    (r = write_dpkg_info(&set->pkgs[i], &lists[i], rootfd, o.epoch)) < 0)
			goto out;
	if ((r = lethe_rootfs_dpkg_status(set, &status)) < 0 ||
	    (r = tree_write_file(rootfd, "var/lib/dpkg/status", status.data ? status.data : "",
				 status.len, 0644, 0, 0, o.epoch)) < 0)
		goto out;
	if ((r = write_accounts(spec, rootfd, o.epoch)) < 0 ||
	    (r = write_os_release(spec, rootfd, o.epoch)) < 0 ||
	    (r = write_spec_files(spec, rootfd, o.epoch)) < 0)
		goto out;
	if ((r = lethe_rootfs_busybox_links(staging, rootfd, o.epoch, &links)) < 0 ||
	    (r = lethe_rootfs_accounts_finish(spec, rootfd)) < 0)
		goto out;
	if (links)
		lethe_log(LETHE_LOG_INFO, "busybox: %u applet links", links);
	/* Before the triggers: caches record their directories' times (fontconfig's are
	 * only valid for the time it will see at boot). */
	if ((r = tree_clamp_times(rootfd, o.epoch)) < 0 ||
	    (r = lethe_rootfs_triggers(staging, rootfd, o.epoch, &ran)) < 0)
		goto out;
	for (size_t i = 0; i < ran.n; i++)
		lethe_log(LETHE_LOG_INFO, "trigger %s", ran.v[i]);
	r = tree_clamp_times(rootfd, o.epoch);
out:
	lethe_buf_release(&status);
	lethe_strv_release(&ran);
	close(rootfd);
out_lists:
	for (size_t i = 0; i < set->n; i++)
		lethe_strv_release(&lists[i]);
	free(lists);
	return r;
}
