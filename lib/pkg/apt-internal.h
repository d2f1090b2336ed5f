/* What apt.c shares with the other files of lib/pkg that run apt (outdated.c): the
 * private apt root and the one way to run apt in it. Private to lib/pkg. */
#ifndef LETHE_PKG_APT_INTERNAL_H
#define LETHE_PKG_APT_INTERNAL_H

#include <lethe/pkg.h>

/* A private apt root: ROOT/apt.conf is APT_CONFIG. */
struct apt {
	char *root;
	char *conf;
	const char *apt_get;
	char *apt_cache;
	int lock_fd;
};

/* Set up (or reuse) the private root for the spec's sources, locked until apt_release(). */
int apt_open(const struct lethe_spec *spec, const struct lethe_pkg_options *opts, struct apt *apt);
void apt_release(struct apt *apt);
/* apt-get update unless the lists are fresh (opts: refresh, max_list_age). */
int apt_update(struct apt *apt, const struct lethe_pkg_options *opts);
/* argv for one apt call: program, verb, then apt's strict -o options. */
int apt_argv(const char *program, const char *verb, struct lethe_strv *argv);
/* Run argv with apt's environment in cwd (NULL: ours), stdout into out (may be NULL);
 * a failure is one line naming apt's own error. */
int run_apt(const struct apt *apt, char *const *argv, const char *cwd, struct lethe_buf *out);

#endif
