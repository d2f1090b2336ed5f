/* The ESP of an installed disk, through mtools: `-i DISK@@OFFSET` reaches the FAT file
 * system inside the disk image or block device without a loop device or a mount, so
 * the same code updates a disk image on a build host and a disk whose ESP is not
 * mounted. A rename is mtools rewriting the directory entry in place (what
 * systemd-boot's own counter rename does). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <lethe/run.h>

#include "update-internal.h"

#define UKI_DIR "::/EFI/Linux"

static int mtools(const struct lethe_update_disk *d, const char *tool, const char *a1,
		  const char *a2, struct lethe_buf *out)
{
	static const char *const env[] = { "MTOOLS_SKIP_CHECK=1", NULL };
	char img[4200];
	char *argv[8];
	size_t n = 0;
	struct lethe_run_result res = { 0 };
	int r;

	snprintf(img, sizeof(img), "%s@@%" PRIu64, d->path, d->esp.offset);
	argv[n++] = (char *)tool;
	if (!strcmp(tool, "mdir"))
		argv[n++] = (char *)"-b";
	if (!strcmp(tool, "mcopy"))
		argv[n++] = (char *)"-o"; /* overwrite: a left-over temporary file */
	argv[n++] = (char *)"-i";
	argv[n++] = img;
	argv[n++] = (char *)a1;
	if (a2)
		argv[n++] = (char *)a2;
	argv[n] = NULL;
	r = lethe_run(argv, &(struct lethe_run_options){ .env = env, .out = out }, &res);
	lethe_run_result_release(&res);
	return r;
}

static int esp_path(const char *name, char *buf, size_t size)
{
	if (!*name || strchr(name, '/') || strchr(name, '\\') || name[0] == '.' ||
	    strlen(name) >= LETHE_BOOTCOUNT_NAME_MAX)
		return lethe_error(-EINVAL, "'%s' is not a plain ESP file name", name);
	snprintf(buf, size, UKI_DIR "/%s", name);
	return 0;
}

int update_esp_list(const struct lethe_update_disk *d, struct lethe_strv *ret)
{
	struct lethe_buf out = { 0 };
	char *line, *save = NULL;
	int r = mtools(d, "mdir", UKI_DIR, NULL, &out);

	if (r < 0) {
		lethe_buf_release(&out);
		return lethe_error(r, "cannot list EFI/Linux on the ESP of '%s'", d->path);
	}
	for (line = out.data ? strtok_r(out.data, "\n", &save) : NULL; line && r >= 0;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *base = strrchr(line, '/');

		base = base ? base + 1 : line;
		if (*base && strcmp(base, ".") && strcmp(base, ".."))
			r = lethe_strv_push(ret, base);
	}
	lethe_buf_release(&out);
	return r;
}

int update_esp_get(const struct lethe_update_disk *d, const char *name, const char *local)
{
	char p[LETHE_BOOTCOUNT_NAME_MAX + 16];
	int r = esp_path(name, p, sizeof(p));

	return r < 0 ? r : mtools(d, "mcopy", p, local, NULL);
}

int update_esp_put(const struct lethe_update_disk *d, const char *local, const char *name)
{
	char p[LETHE_BOOTCOUNT_NAME_MAX + 16];
	int r = esp_path(name, p, sizeof(p));

	if (r >= 0)
		r = mtools(d, "mcopy", local, p, NULL);
	if (r < 0)
		return lethe_error(r, "cannot copy '%s' to the ESP of '%s': %s", name, d->path,
				   lethe_error_message_for(r) ? lethe_error_message_for(r)
							      : strerror(-r));
	return update_sync(d);
}

int update_esp_rename(const struct lethe_update_disk *d, const char *from, const char *to)
{
	char p[LETHE_BOOTCOUNT_NAME_MAX + 16], q[LETHE_BOOTCOUNT_NAME_MAX + 16];
	int r = esp_path(from, p, sizeof(p));

	if (r >= 0)
		r = esp_path(to, q, sizeof(q));
	if (r >= 0)
		r = mtools(d, "mren", p, to, NULL);
	if (r < 0)
		return lethe_error(r, "cannot rename '%s' to '%s' on the ESP of '%s'", from, to,
				   d->path);
	return update_sync(d);
}

int update_esp_delete(const struct lethe_update_disk *d, const char *name)
{
	char p[LETHE_BOOTCOUNT_NAME_MAX + 16];
	int r = esp_path(name, p, sizeof(p));

	if (r >= 0)
		r = mtools(d, "mdel", p, NULL, NULL);
	if (r < 0)
		return lethe_error(r, "cannot remove '%s' from the ESP of '%s'", name, d->path);
	return update_sync(d);
}

int update_sync(const struct lethe_update_disk *d)
{
	int fd = open(d->path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return lethe_error(-errno, "cannot open '%s': %m", d->path);
	if (fsync(fd) < 0)
		r = lethe_error(-errno, "cannot flush '%s': %m", d->path);
	close(fd);
	return r;
}

int update_scratch(char **ret)
{
	const char *t = getenv("TMPDIR");
	struct lethe_buf b = { 0 };
	int r = lethe_buf_printf(&b, "%s/lethe-update-work.XXXXXX", t && *t == '/' ? t : "/tmp");

	if (r < 0)
		return r;
	if (!mkdtemp(b.data)) {
		r = lethe_error(-errno, "cannot make a directory in '%s': %m", t ? t : "/tmp");
		lethe_buf_release(&b);
		return r;
	}
	*ret = b.data;
	return 0;
}

/* The scratch directory and what it holds (a URL source's release directory too); no rm
 * process. */
void update_scratch_remove(char *dir)
{
	if (!dir)
		return;
	(void)lethe_rm_rf(dir);
	free(dir);
}

void update_progress_add(struct update_progress *pg, uint64_t n)
{
	unsigned pct;

	if (!pg || !pg->total)
		return;
	pg->done += n;
	pct = (unsigned)(pg->done * 100 / pg->total);
	if (pct != pg->last_pct) {
		pg->last_pct = pct;
		lethe_log(LETHE_LOG_PROGRESS, "%s: %u%% (%llu of %llu MiB)", pg->what, pct,
			  (unsigned long long)(pg->done >> 20),
			  (unsigned long long)(pg->total >> 20));
	}
}

bool update_pause_wanted(const char *what)
{
	const char *at = getenv("LETHE_UPDATE_KILL_AT");

	if (at && !strncmp(at, "stop:", 5))
		at += 5;
	return at && !strcmp(at, what);
}

void update_pause_point(const char *what, uint64_t done, uint64_t total)
{
	const char *at = getenv("LETHE_UPDATE_KILL_AT");
	bool stop = at && !strncmp(at, "stop:", 5);

	if (!update_pause_wanted(what) || done < total / 2)
		return;
	/* "stop:WHAT": SIGSTOP once, so that a test can change a file, then SIGCONT, or
	 * power the machine off (tests/vm/powerloss.sh waits for this line on the
	 * console). A warning: printed with --quiet too. */
	if (stop && !getenv("LETHE_UPDATE_STOPPED")) {
		setenv("LETHE_UPDATE_STOPPED", "1", 1);
		lethe_log(LETHE_LOG_WARNING, "stopped at %s (LETHE_UPDATE_KILL_AT)", what);
		raise(SIGSTOP);
	} else if (!stop)
		raise(SIGKILL);
}
