/* The initramfs: a reproducible newc cpio, gzip-compressed, holding lethe-init as /init,
 * the kernel modules it loads and their load order. Same inputs, same bytes. */
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <archive.h>
#include <archive_entry.h>

#include <lethe/boot.h>

#include "boot-internal.h"

#define MAX_MEMBER_SIZE (64u << 20) /* lethe-init or one module */

struct member {
	char *name;	/* relative, no leading '/' */
	mode_t mode;	/* type and permissions */
	dev_t rdev;	/* character devices */
	char *source;	/* a file to copy, or NULL */
	bool in_kernel; /* source is relative to the (untrusted) kernel package */
	char *data;	/* or data in memory (owned), or NULL */
	size_t len;
};

struct members {
	struct member *v;
	size_t n;
};

static void members_release(struct members *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->v[i].name);
		free(ms->v[i].source);
		free(ms->v[i].data);
	}
	free(ms->v);
	memset(ms, 0, sizeof(*ms));
}

/* Takes ownership of data. */
static int add(struct members *ms, const char *name, mode_t mode, dev_t rdev, const char *source,
	       char *data, size_t len)
{
	struct member *v;

	if (ms->n >= 4 * LETHE_BOOT_MAX_MODULES + 64) {
		free(data);
		return -E2BIG;
	}
	v = realloc(ms->v, (ms->n + 1) * sizeof(*v));
	if (!v) {
		free(data);
		return -ENOMEM;
	}
	ms->v = v;
	v[ms->n] = (struct member){ .mode = mode, .rdev = rdev, .data = data, .len = len };
	v[ms->n].name = strdup(name);
	v[ms->n].source = source ? strdup(source) : NULL;
	ms->n++;
	if (!v[ms->n - 1].name || (source && !v[ms->n - 1].source))
		return -ENOMEM;
	return 0;
}

static bool has_member(const struct members *ms, const char *name, size_t len)
{
	for (size_t i = 0; i < ms->n; i++)
		if (strlen(ms->v[i].name) == len && !memcmp(ms->v[i].name, name, len))
			return true;
	return false;
}

/* Every directory above a member is a member too, so that cpio -i needs no -d. */
static int add_parents(struct members *ms)
{
	size_t n = ms->n;
	int r;

	for (size_t i = 0; i < n; i++) {
		for (const char *p = ms->v[i].name; (p = strchr(p, '/')); p++) {
			char *dir;
			size_t len = (size_t)(p - ms->v[i].name);

			if (has_member(ms, ms->v[i].name, len))
				continue;
			dir = strndup(ms->v[i].name, len);
			if (!dir)
				return -ENOMEM;
			r = add(ms, dir, S_IFDIR | 0755, 0, NULL, NULL, 0);
			free(dir);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int compare_members(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

static int collect(const struct lethe_boot_initramfs *o, struct members *ms)
{
	static const char *const dirs[] = { "dev",     "etc",  "etc/lethe", "lib", "lib/modules",
					    "newroot", "proc", "run",	    "sys" };
	/* Room for the modules, the fixed entries and the directories above the modules. */
	struct lethe_buf list = { 0 };
	int r;

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(dirs); i++) {
		r = add(ms, dirs[i], S_IFDIR | 0755, 0, NULL, NULL, 0);
		if (r < 0)
			return r;
	}
	/* The kernel opens /dev/console for init's stdio before init runs. */
	r = add(ms, "dev/console", S_IFCHR | 0600, makedev(5, 1), NULL, NULL, 0);
	if (r < 0)
		return r;
	r = add(ms, LETHE_PATH_INITRAMFS_INIT + 1, S_IFREG | 0755, 0, o->init, NULL, 0);
	if (r < 0)
		return r;
	r = lethe_buf_puts(&list, "# kernel modules lethe-init loads, in this order\n");
	/* Requested but built into the kernel: said here so that nobody looks for them. */
	for (size_t i = 0; r >= 0 && o->modules && i < o->modules->builtin.n; i++)
		r = lethe_buf_printf(&list, "# built in: %s\n", o->modules->builtin.v[i]);
	for (size_t i = 0; r >= 0 && o->modules && i < o->modules->n; i++) {
		const struct lethe_boot_module *m = &o->modules->v[i];
		struct lethe_buf name = { 0 };
		char *src;

		if (!lethe_path_is_safe_relative(m->path) || strchr(o->version, '/')) {
			r = lethe_error(-LETHE_E_INVALID, "module '%s': unsafe path '%s'", m->name,
					m->path);
			break;
		}
		r = lethe_buf_printf(&name, "%s/%s/%s", LETHE_BOOT_INITRAMFS_MODDIR + 1, o->version,
				     m->path);
		if (r >= 0)
			r = lethe_buf_printf(&list, "/%s\n", name.data);
		src = NULL;
		if (r >= 0) {
			struct lethe_buf s = { 0 };

			r = lethe_buf_printf(&s, "lib/modules/%s/%s", o->version, m->path);
			src = s.data;
		}
		if (r >= 0)
			r = add(ms, name.data, S_IFREG | 0644, 0, src, NULL, 0);
		if (r >= 0)
			ms->v[ms->n - 1].in_kernel = true;
		free(src);
		lethe_buf_release(&name);
	}
	if (r < 0) {
		lethe_buf_release(&list);
		return r;
	}
	r = add(ms, LETHE_BOOT_INITRAMFS_MODLIST + 1, S_IFREG | 0644, 0, NULL, list.data, list.len);
	if (r < 0)
		return r;
	r = add_parents(ms);
	if (r < 0)
		return r;
	qsort(ms->v, ms->n, sizeof(ms->v[0]), compare_members);
	for (size_t i = 1; i < ms->n; i++)
		if (!strcmp(ms->v[i - 1].name, ms->v[i].name))
			return lethe_error(-LETHE_E_INVALID, "initramfs: two entries named '%s'",
					   ms->v[i].name);
	return 0;
}

static int archive_fail(struct archive *a, const char *path)
{
	int e = archive_errno(a);

	return lethe_error(e > 0 ? -e : -EIO, "cannot write '%s': %s", path,
			   archive_error_string(a) ? archive_error_string(a) : "libarchive error");
}

static int write_member(struct archive *a, struct archive_entry *e, const struct member *m,
			unsigned ino, const struct lethe_boot_initramfs *o, const char *path)
{
	int64_t mtime = o->mtime;
	char *content = m->data;
	size_t len = m->len;
	int r = 0;

	if (m->source && m->in_kernel) {
		r = boot_kernel_read(o->kernel_dir, m->source, MAX_MEMBER_SIZE, &content, &len);
		if (r < 0)
			return r;
	} else if (m->source) {
		r = lethe_file_read(m->source, MAX_MEMBER_SIZE, &content, &len);
		if (r < 0)
			return lethe_error(r, "cannot read '%s': %s", m->source, strerror(-r));
	}
	archive_entry_clear(e);
	archive_entry_set_pathname(e, m->name);
	archive_entry_set_mode(e, m->mode);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_ino(e, ino);
	archive_entry_set_dev(e, 0);
	archive_entry_set_nlink(e, S_ISDIR(m->mode) ? 2 : 1);
	if (S_ISCHR(m->mode))
		archive_entry_set_rdev(e, m->rdev);
	archive_entry_set_size(e, S_ISREG(m->mode) ? (la_int64_t)len : 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		r = archive_fail(a, path);
	else if (S_ISREG(m->mode) && len && archive_write_data(a, content, len) != (la_ssize_t)len)
		r = archive_fail(a, path);
	if (m->source)
		free(content);
	return r;
}

int lethe_boot_initramfs_write(const char *path, const struct lethe_boot_initramfs *o)
{
	struct lethe_atomic_file f = { .fd = -1 };
	struct members ms = { 0 };
	struct archive_entry *e = NULL;
	struct archive *a = NULL;
	int r;

	r = collect(o, &ms);
	if (r < 0)
		goto out;
	r = lethe_atomic_open(&f, path, 0644);
	if (r < 0) {
		r = lethe_error(r, "cannot create '%s': %s", path, strerror(-r));
		goto out;
	}
	a = archive_write_new();
	e = archive_entry_new();
	if (!a || !e) {
		r = -ENOMEM;
		goto out;
	}
	/* No name and no time in the gzip header: the output depends on the inputs only. */
	if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_set_filter_option(a, "gzip", "compression-level", "9") != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(a, f.fd) != ARCHIVE_OK) {
		r = archive_fail(a, path);
		goto out;
	}
	for (size_t i = 0; i < ms.n; i++) {
		r = write_member(a, e, &ms.v[i], (unsigned)i + 1, o, path);
		if (r < 0)
			goto out;
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		r = archive_fail(a, path);
		goto out;
	}
	r = lethe_atomic_commit(&f);
	if (r < 0)
		r = lethe_error(r, "cannot write '%s': %s", path, strerror(-r));
out:
	if (a)
		archive_write_free(a);
	archive_entry_free(e);
	lethe_atomic_abort(&f);
	members_release(&ms);
	return r;
}
