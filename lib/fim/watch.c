/* lethe fim watch: changes as they happen (placeholder). */
#include <errno.h>

#include <lethe/fim.h>

const char *lethe_fim_watch_backend_name(enum lethe_fim_watch_backend b)
{
	switch (b) {
	case LETHE_FIM_WATCH_FANOTIFY_FS:
		return "fanotify-filesystem";
	case LETHE_FIM_WATCH_FANOTIFY_MOUNT:
		return "fanotify-mount";
	case LETHE_FIM_WATCH_INOTIFY:
		return "inotify";
	}
	return "?";
}

int lethe_fim_watch(const char *path, const struct lethe_fim_rules *rules, lethe_fim_event_fn fn,
		    void (*ready)(enum lethe_fim_watch_backend b, void *userdata), void *userdata)
{
	(void)path, (void)rules, (void)fn, (void)ready, (void)userdata;
	return -EOPNOTSUPP;
}
