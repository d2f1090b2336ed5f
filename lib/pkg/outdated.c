/* lethe lock --outdated: the lists of the spec's sources brought up to date, then
 * apt-cache policy asked about every package of the lock (issue 18.5). */
#include <errno.h>
#include <string.h>

#include <lethe/pkg.h>

#include "apt-internal.h"

/* `apt-cache policy` (the repositories), then `apt-cache policy NAME...`, into out. */
static int policy(const struct apt *apt, const struct lethe_pkgset *lock, struct lethe_buf *out)
{
	struct lethe_strv argv = { 0 };
	int r = apt_argv(apt->apt_cache, "policy", &argv);

	if (r >= 0)
		r = run_apt(apt, argv.v, NULL, out);
	for (size_t i = 0; i < lock->n && r >= 0; i++)
		r = lethe_strv_push(&argv, lock->pkgs[i].name);
	if (r >= 0 && lock->n)
		r = run_apt(apt, argv.v, NULL, out);
	lethe_strv_release(&argv);
	return r;
}

int lethe_pkg_outdated(const struct lethe_spec *spec, const struct lethe_pkg_options *opts,
		       const struct lethe_pkgset *lock, struct lethe_pkg_updates *ret)
{
	struct lethe_buf out = { 0 };
	struct apt apt;
	int r;

	r = apt_open(spec, opts, &apt);
	if (r < 0)
		return r;
	r = apt_update(&apt, opts);
	if (r >= 0) {
		lethe_log(LETHE_LOG_INFO, "apt: looking up %zu locked packages", lock->n);
		r = policy(&apt, lock, &out);
	}
	if (r >= 0)
		r = lethe_pkg_policy_parse(out.data ? out.data : "", out.len, lock, ret);
	lethe_buf_release(&out);
	apt_release(&apt);
	return r;
}
