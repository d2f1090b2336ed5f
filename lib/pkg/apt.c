/* apt as a subprocess with private state (the way mmdebstrap runs it): APT_CONFIG
 * points at a root under the cache with an empty dpkg status, a copy of the sources
 * and keyrings and no host apt.conf.d, so the host's package state is never touched and
 * apt's signature checks stay on. Resolution, index hashes, downloads and the cache. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lethe/pkg.h>
#include <lethe/run.h>

#include "apt-internal.h"

#define SOURCE_MAX_SIZE	 (256u << 10)
#define APT_OUT_MAX	 (64u << 20)
#define DEFAULT_LIST_AGE 86400
#define DEBIAN_KEYRING	 "/usr/share/keyrings/debian-archive-keyring.gpg"

/* Given to every apt call, right after its verb: the private apt.conf says the same,
 * but the command line is read last, so nothing apt reads can override these. Each is
 * a way apt(8) has to weaken its signature or freshness checks (apt.conf(5),
 * configure-index); the options of sources that do the same are refused in sources.c. */
static const char *const apt_strict[] = {
	"APT::Get::AllowUnauthenticated=false",
	"Acquire::AllowInsecureRepositories=false",
	"Acquire::AllowWeakRepositories=false",
	"Acquire::AllowDowngradeToInsecureRepositories=false",
	"Acquire::AllowUnsizedPackages=false",
	"Acquire::Check-Valid-Until=true",
	"Acquire::Check-Date=true",
	"APT::Authentication::TrustCDROM=false",
	"APT::Hashes::MD5::Untrusted=true",
	"APT::Hashes::SHA1::Untrusted=true",
};

/* argv for one apt call: program, verb, then "-o" and each of apt_strict. */
int apt_argv(const char *program, const char *verb, struct lethe_strv *argv)
{
	int r = lethe_strv_push(argv, program);

	if (r == 0)
		r = lethe_strv_push(argv, verb);
	for (size_t i = 0; r == 0 && i < LETHE_ARRAY_SIZE(apt_strict); i++) {
		r = lethe_strv_push(argv, "-o");
		if (r == 0)
			r = lethe_strv_push(argv, apt_strict[i]);
	}
	return r;
}

/* ---- configuration files of the private root ---- */

struct conf_file {
	char *rel; /* path below the private root */
	char *data;
	size_t len;
};

struct conf {
	struct conf_file *files;
	size_t n;
};

static void conf_release(struct conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->files[i].rel);
		free(c->files[i].data);
	}
	free(c->files);
	memset(c, 0, sizeof(*c));
}

static int conf_add(struct conf *c, const char *rel, char *data, size_t len)
{
	struct conf_file *nf;

	if (c->n >= 256) {
		free(data);
		return lethe_error(-E2BIG, "more than 256 apt sources and keyrings");
	}
	nf = reallocarray(c->files, c->n + 1, sizeof(*nf));
	if (!nf) {
		free(data);
		return -ENOMEM;
	}
	c->files = nf;
	nf[c->n].rel = strdup(rel);
	nf[c->n].data = data;
	nf[c->n].len = len;
	if (!nf[c->n].rel) {
		free(data);
		return -ENOMEM;
	}
	c->n++;
	return 0;
}

/* A sources file's format, from the name apt will see (its extension rule). */
static enum lethe_pkg_sources_format format_of(const char *base)
{
	size_t n = strlen(base);

	return n > 8 && !strcmp(base + n - 8, ".sources") ? LETHE_PKG_SOURCES_DEB822
							  : LETHE_PKG_SOURCES_LIST;
}

static int conf_add_file(struct conf *c, const char *src, const char *rel_dir, const char *base,
			 bool is_source)
{
	char *data, *rel;
	size_t len;
	int r = lethe_file_read(src, SOURCE_MAX_SIZE, &data, &len);

	if (r < 0)
		return r == -EFBIG ? r : lethe_error(r, "cannot read '%s': %s", src, strerror(-r));
	if (is_source && (r = lethe_pkg_sources_check(src, data, len, format_of(base))) < 0) {
		free(data);
		return r;
	}
	rel = lethe_path_join(rel_dir, base);
	if (!rel) {
		free(data);
		return -ENOMEM;
	}
	r = conf_add(c, rel, data, len);
	free(rel);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of dir whose name matches one of the globs, sorted (so that the private
 * root's key does not depend on directory order). */
static int conf_add_dir(struct conf *c, const char *dir, const char *const *globs,
			const char *rel_dir, bool is_source)
{
	struct lethe_strv names = { 0 };
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return errno == ENOENT
			       ? 0
			       : lethe_error(-errno, "cannot read '%s': %s", dir, strerror(errno));
	for (struct dirent *e; (e = readdir(d));) {
		for (size_t i = 0; globs[i]; i++)
			if (e->d_name[0] != '.' && !fnmatch(globs[i], e->d_name, 0)) {
				if ((r = lethe_strv_push(&names, e->d_name)) < 0)
					goto out;
				break;
			}
	}
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.n && r == 0; i++) {
		char *src = lethe_path_join(dir, names.v[i]);

		r = src ? conf_add_file(c, src, rel_dir, names.v[i], is_source) : -ENOMEM;
		free(src);
	}
out:
	closedir(d);
	lethe_strv_release(&names);
	return r;
}

static int conf_add_text(struct conf *c, const char *rel, const char *text)
{
	char *d = strdup(text);

	return d ? conf_add(c, rel, d, strlen(text)) : -ENOMEM;
}

static int sources_from_spec(const struct lethe_spec *spec, struct conf *c)
{
	struct lethe_buf list = { 0 };
	int r = 0;

	for (size_t i = 0; i < spec->sources.n && r == 0; i++) {
		const char *s = spec->sources.v[i];

		if (lethe_pkg_source_is_oneline(s)) {
			if (strchr(s, '\n'))
				r = lethe_error(-EBADMSG, "apt source '%s' spans lines", s);
			else if ((r = lethe_pkg_sources_check(s, s, strlen(s),
							      LETHE_PKG_SOURCES_LIST)) == 0)
				r = lethe_buf_printf(&list, "%s\n", s);
			continue;
		}
		/* A file: NN-NAME keeps the spec's order and apt's extension rule. */
		/* lethe_spec_load() resolved the path against the spec's directory. */
		char *path = strdup(s);
		const char *base = strrchr(s, '/') ? strrchr(s, '/') + 1 : s;
		size_t bl = strlen(base);
		char rel[64];

		if (!path) {
			r = -ENOMEM;
			break;
		}
		if (bl > 8 && !strcmp(base + bl - 8, ".sources"))
			snprintf(rel, sizeof(rel), "%03zu-lethe.sources", i);
		else if (bl > 5 && !strcmp(base + bl - 5, ".list"))
			snprintf(rel, sizeof(rel), "%03zu-lethe.list", i);
		else
			r = lethe_error(-EBADMSG,
					"apt source '%s' is neither a 'deb ...' line nor "
					"a .sources or .list file",
					s);
		if (r == 0)
			r = conf_add_file(c, path, "etc/apt/sources.list.d", rel, true);
		free(path);
	}
	if (r == 0 && list.len)
		r = conf_add_text(c, "etc/apt/sources.list", list.data);
	lethe_buf_release(&list);
	return r;
}

static int build_conf(const struct lethe_spec *spec, struct conf *c)
{
	static const char *const src_globs[] = { "*.list", "*.sources", NULL };
	static const char *const key_globs[] = { "*.gpg", "*.asc", NULL };
	int r;

	if (spec->sources.n) {
		r = sources_from_spec(spec, c);
	} else if (spec->suite) {
		struct lethe_buf b = { 0 };

		for (const char *p = spec->suite; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
				return lethe_error(-EBADMSG, "suite '%s': invalid name",
						   spec->suite);
		r = lethe_buf_printf(&b,
				     "deb [signed-by=%s] http://deb.debian.org/debian %s main\n",
				     DEBIAN_KEYRING, spec->suite);
		/* A release gets its security and stable updates too; sid has none. */
		if (r == 0 && strcmp(spec->suite, "sid") && strcmp(spec->suite, "unstable") &&
		    strcmp(spec->suite, "experimental"))
			r = lethe_buf_printf(
				&b,
				"deb [signed-by=%s] http://deb.debian.org/debian "
				"%s-updates main\n"
				"deb [signed-by=%s] http://deb.debian.org/debian-security "
				"%s-security main\n",
				DEBIAN_KEYRING, spec->suite, DEBIAN_KEYRING, spec->suite);
		if (r == 0)
			r = conf_add_text(c, "etc/apt/sources.list", b.data);
		lethe_buf_release(&b);
	} else {
		r = 0;
		if (access("/etc/apt/sources.list", F_OK) == 0)
			r = conf_add_file(c, "/etc/apt/sources.list", "etc/apt", "sources.list",
					  true);
		if (r == 0)
			r = conf_add_dir(c, "/etc/apt/sources.list.d", src_globs,
					 "etc/apt/sources.list.d", true);
	}
	if (r == 0 && access("/etc/apt/trusted.gpg", F_OK) == 0)
		r = conf_add_file(c, "/etc/apt/trusted.gpg", "etc/apt/trusted.gpg.d",
				  "host-trusted.gpg", false);
	if (r == 0)
		r = conf_add_dir(c, "/etc/apt/trusted.gpg.d", key_globs, "etc/apt/trusted.gpg.d",
				 false);
	return r;
}

/* ---- hashing ---- */

static int sha256_file(const char *path, uint8_t out[32], uint64_t *ret_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0)
		return -errno;
	r = lethe_sha256_fd(fd, LETHE_PKG_MAX_DEB_SIZE, out, ret_size);
	close(fd);
	return r;
}

/* ---- running apt ---- */

/* What apt adds to the runner's environment (lethe/run.h): APT_CONFIG, no questions,
 * and the proxy settings of ours, which apt needs to reach a repository. */
static int apt_env(const struct apt *apt, struct lethe_strv *env)
{
	static const char *const pass[] = { "http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY",
					    "HTTPS_PROXY" };
	struct lethe_buf b = { 0 };
	int r = 0;

	for (size_t i = 0; r == 0 && i < LETHE_ARRAY_SIZE(pass); i++) {
		const char *v = getenv(pass[i]);

		b.len = 0;
		if (v && (r = lethe_buf_printf(&b, "%s=%s", pass[i], v)) == 0)
			r = lethe_strv_push(env, b.data);
	}
	b.len = 0;
	if (r == 0 && (r = lethe_buf_printf(&b, "APT_CONFIG=%s", apt->conf)) == 0)
		r = lethe_strv_push(env, b.data);
	if (r == 0)
		r = lethe_strv_push(env, "DEBIAN_FRONTEND=noninteractive");
	lethe_buf_release(&b);
	return r;
}

/* A failed apt run, in one line: apt's last "E: " line, else its last line. A package
 * the repository cannot give, or a repository that does not authenticate (unsigned, no
 * key, expired, weak), is a check that failed (-EBADMSG); anything else -EIO. */
static int apt_failure(char *const *argv, struct lethe_buf *err, bool too_much)
{
	const char *why = NULL, *last = NULL;
	int r = -EIO;

	for (char *p = err->data; p && *p;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		if (!strncmp(p, "E: ", 3))
			why = p;
		if (*p)
			last = p;
		p = nl ? nl + 1 : NULL;
	}
	if (!why)
		why = last;
	if (why &&
	    (strstr(why, "Unable to locate package") ||
	     strstr(why, "has no installation candidate") ||
	     strstr(why, "Unable to correct problems") || strstr(why, "Version '") ||
	     strstr(why, "does not have a Release file") || strstr(why, "is not signed") ||
	     strstr(why, "NO_PUBKEY") || strstr(why, "could not be verified") ||
	     strstr(why, "couldn't be verified") || strstr(why, "authenticated") ||
	     strstr(why, "is expired") || strstr(why, "is not valid yet") || strstr(why, "weak")))
		r = -EBADMSG;
	return lethe_error(r, "apt: %s %s failed: %s", argv[0], argv[1],
			   too_much ? "too much output"
			   : why    ? why
				    : "no message");
}

/* Run argv through the one runner with apt's environment, in cwd (NULL: ours);
 * stdout is collected into out (may be NULL). */
int run_apt(const struct apt *apt, char *const *argv, const char *cwd, struct lethe_buf *out)
{
	struct lethe_strv env = { 0 };
	struct lethe_run_result res;
	int r;

	if ((r = apt_env(apt, &env)) < 0) {
		lethe_strv_release(&env);
		return r;
	}
	r = lethe_run(argv,
		      &(struct lethe_run_options){ .env = (const char *const *)env.v,
						   .cwd = cwd,
						   .out = out,
						   .out_max = APT_OUT_MAX },
		      &res);
	/* A run that did not start keeps the runner's message; a failed one is apt's. */
	if (r < 0 && res.status >= 0)
		r = apt_failure(argv, &res.err, res.out_truncated);
	lethe_run_result_release(&res);
	lethe_strv_release(&env);
	return r;
}

/* ---- the private root ---- */

int lethe_pkg_cache_dir(const struct lethe_pkg_options *opts, char **ret)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *d;

	if (opts && opts->cache_dir)
		d = strdup(opts->cache_dir);
	else if (xdg && xdg[0] == '/')
		d = lethe_path_join(xdg, "lethe");
	else if (home && home[0] == '/')
		d = lethe_path_join(home, ".cache/lethe");
	else
		return lethe_error(-ENOENT, "no cache directory: set XDG_CACHE_HOME or HOME");
	if (!d)
		return -ENOMEM;
	*ret = d;
	return 0;
}

void apt_release(struct apt *apt)
{
	if (apt->lock_fd >= 0)
		close(apt->lock_fd); /* drops the flock */
	free(apt->root);
	free(apt->conf);
	free(apt->apt_cache);
	memset(apt, 0, sizeof(*apt));
	apt->lock_fd = -1;
}

/* Write path only when its content changes: apt rebuilds its package cache (a second
 * or more) whenever a source file is newer than it. */
static int write_if_changed(const char *path, const char *data, size_t len)
{
	char *old;
	size_t old_len;
	bool same = false;

	if (lethe_file_read(path, SOURCE_MAX_SIZE, &old, &old_len) == 0) {
		same = old_len == len && !memcmp(old, data, len);
		free(old);
	}
	lethe_error_clear();
	return same ? 0 : lethe_file_write_atomic(path, data, len, 0644);
}

static int write_below(const char *root, const char *rel, const char *data, size_t len)
{
	char *p = lethe_path_join(root, rel), *slash;
	int r;

	if (!p)
		return -ENOMEM;
	slash = strrchr(p, '/');
	*slash = '\0';
	r = lethe_mkdir_p(p, 0755);
	*slash = '/';
	if (r == 0)
		r = write_if_changed(p, data, len);
	free(p);
	return r;
}

static const char *arch_of(const struct lethe_spec *spec)
{
	return spec->architecture ? spec->architecture : "amd64";
}

/* Set up (or reuse) the private root for the spec's sources: cache/apt/KEY where KEY
 * is a digest of the configuration, so different sources never share lists. */
int apt_open(const struct lethe_spec *spec, const struct lethe_pkg_options *opts, struct apt *apt)
{
	static const char *const dirs[] = { "var/lib/apt/lists/partial",
					    "var/cache/apt/archives/partial",
					    "var/lib/dpkg",
					    "etc/apt/apt.conf.d",
					    "etc/apt/preferences.d",
					    "etc/apt/sources.list.d",
					    "etc/apt/trusted.gpg.d" };
	struct conf c = { 0 };
	struct lethe_buf b = { 0 };
	char *cache = NULL, key[65];
	uint8_t digest[32];
	struct lethe_sha256 h = { 0 };
	const char *arch = arch_of(spec);
	int r;

	memset(apt, 0, sizeof(*apt));
	apt->lock_fd = -1;
	if (!lethe_pkg_arch_is_valid(arch))
		return lethe_error(-EBADMSG, "architecture '%s' is invalid", arch);
	if ((r = build_conf(spec, &c)) < 0 || (r = lethe_pkg_cache_dir(opts, &cache)) < 0)
		goto out;
	if ((r = lethe_sha256_init(&h)) < 0)
		goto out;
	lethe_sha256_update(&h, arch, strlen(arch) + 1);
	for (size_t i = 0; i < c.n; i++) {
		lethe_sha256_update(&h, c.files[i].rel, strlen(c.files[i].rel) + 1);
		lethe_sha256_update(&h, c.files[i].data, c.files[i].len);
	}
	if ((r = lethe_sha256_final(&h, digest)) < 0)
		goto out;
	lethe_hex_encode(digest, 8, key);
	if (lethe_buf_printf(&b, "%s/apt/%s", cache, key) < 0) {
		r = -ENOMEM;
		goto out;
	}
	apt->root = strdup(b.data);
	apt->conf = lethe_path_join(b.data, "apt.conf");
	apt->apt_get = opts && opts->apt_get	 ? opts->apt_get
		       : getenv("LETHE_APT_GET") ? getenv("LETHE_APT_GET")
						 : "apt-get";
	/* apt-cache sits beside apt-get. */
	{
		const char *slash = strrchr(apt->apt_get, '/');
		struct lethe_buf ac = { 0 };

		if (slash)
			lethe_buf_printf(&ac, "%.*sapt-cache", (int)(slash - apt->apt_get + 1),
					 apt->apt_get);
		else
			lethe_buf_puts(&ac, "apt-cache");
		apt->apt_cache = ac.data;
	}
	if (!apt->root || !apt->conf || !apt->apt_cache) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(dirs); i++) {
		char *d = lethe_path_join(apt->root, dirs[i]);

		r = d ? lethe_mkdir_p(d, 0755) : -ENOMEM;
		free(d);
		if (r < 0)
			goto out;
	}
	char *lock = lethe_path_join(apt->root, ".lock");

	apt->lock_fd = lock ? open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644) : -1;
	free(lock);
	if (apt->lock_fd < 0 || flock(apt->lock_fd, LOCK_EX) < 0) {
		r = lethe_error(-errno, "cannot lock '%s': %s", apt->root, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < c.n; i++)
		if ((r = write_below(apt->root, c.files[i].rel, c.files[i].data, c.files[i].len)) <
		    0)
			goto out;
	/* An empty dpkg status: apt believes nothing is installed, so it resolves the
	 * whole closure, and never looks at the host's. */
	if ((r = write_below(apt->root, "var/lib/dpkg/status", "", 0)) < 0)
		goto out;
	b.len = 0;
	r = lethe_buf_printf(&b,
			     "// Written by lethe: apt's private state for one set of sources.\n"
			     "Dir \"%s/\";\n"
			     "Dir::State::Status \"%s/var/lib/dpkg/status\";\n"
			     "APT::Architecture \"%s\";\n"
			     "APT::Architectures { \"%s\"; };\n"
			     "APT::Install-Recommends \"false\";\n"
			     "APT::Install-Suggests \"false\";\n"
			     "APT::Get::AllowUnauthenticated \"false\";\n"
			     "Acquire::AllowInsecureRepositories \"false\";\n"
			     "Acquire::AllowWeakRepositories \"false\";\n"
			     "Acquire::AllowDowngradeToInsecureRepositories \"false\";\n"
			     "Acquire::Check-Valid-Until \"true\";\n"
			     "Acquire::Check-Date \"true\";\n"
			     "Acquire::Languages \"none\";\n"
			     "%s",
			     apt->root, apt->root, arch, arch,
			     geteuid() == 0 ? "APT::Sandbox::User \"root\";\n" : "");
	if (r == 0)
		r = write_if_changed(apt->conf, b.data, b.len);
out:
	lethe_sha256_release(&h);
	conf_release(&c);
	lethe_buf_release(&b);
	free(cache);
	if (r < 0)
		apt_release(apt);
	return r;
}

/* Are the lists there and younger than the allowed age? */
static bool lists_fresh(const struct apt *apt, const struct lethe_pkg_options *opts)
{
	int64_t age = opts && opts->max_list_age ? opts->max_list_age : DEFAULT_LIST_AGE;
	char *stamp = lethe_path_join(apt->root, "lists.stamp");
	struct stat st;
	bool ok;

	if (opts && opts->refresh)
		return false;
	ok = stamp && stat(stamp, &st) == 0;
	free(stamp);
	if (!ok)
		return false;
	return age < 0 || time(NULL) - st.st_mtime <= age;
}

int apt_update(struct apt *apt, const struct lethe_pkg_options *opts)
{
	struct lethe_strv argv = { 0 };
	char *stamp;
	int r;

	if (lists_fresh(apt, opts))
		return 0;
	lethe_log(LETHE_LOG_INFO, "apt: updating package lists");
	r = apt_argv(apt->apt_get, "update", &argv);
	if (r == 0)
		r = lethe_strv_push(&argv, "-q");
	if (r == 0)
		r = lethe_strv_push(&argv, "--error-on=any");
	if (r == 0)
		r = run_apt(apt, argv.v, NULL, NULL);
	lethe_strv_release(&argv);
	if (r < 0)
		return r;
	stamp = lethe_path_join(apt->root, "lists.stamp");
	if (!stamp)
		return -ENOMEM;
	r = lethe_file_write_atomic(stamp, "", 0, 0644);
	free(stamp);
	return r;
}

/* ---- resolution ---- */

static int set_add(struct lethe_pkgset *set, const char *name, const char *version,
		   const char *arch, enum lethe_pkg_role role)
{
	struct lethe_pkg *p;

	if (set->n >= LETHE_PKG_MAX)
		return lethe_error(-E2BIG, "more than %d packages", LETHE_PKG_MAX);
	p = reallocarray(set->pkgs, set->n + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	set->pkgs = p;
	p = &set->pkgs[set->n];
	memset(p, 0, sizeof(*p));
	set->n++;
	p->name = strdup(name);
	p->version = strdup(version);
	p->arch = strdup(arch);
	p->filename = lethe_pkg_deb_filename(name, version, arch);
	p->role = role;
	return p->name && p->version && p->arch && p->filename ? 0 : -ENOMEM;
}

static int cmp_pkg(const void *a, const void *b)
{
	return strcmp(((const struct lethe_pkg *)a)->name, ((const struct lethe_pkg *)b)->name);
}

/* Parse one "Inst NAME (VERSION ARCHIVES [ARCH])" line of `apt-get -s install`. */
static int parse_inst(char *line, char **name, char **version, char **arch)
{
	char *sp, *lb, *rb, *colon;

	line += 5;
	sp = strchr(line, ' ');
	if (!sp || sp[1] != '(')
		return -1;
	*sp = '\0';
	*name = line;
	if ((colon = strchr(line, ':')))
		*colon = '\0'; /* NAME:ARCH with several architectures */
	*version = sp + 2;
	sp = strchr(*version, ' ');
	if (!sp)
		return -1;
	*sp = '\0';
	lb = strchr(sp + 1, '[');
	rb = lb ? strchr(lb, ']') : NULL;
	if (!rb)
		return -1;
	*rb = '\0';
	*arch = lb + 1;
	return 0;
}

/* The closure of names, as apt would install it into an empty system. */
static int apt_closure(struct apt *apt, const struct lethe_strv *names, const char *what,
		       enum lethe_pkg_role role,
		       bool (*keep)(const char *name, const char *root_name), const char *root_name,
		       struct lethe_pkgset *out)
{
	struct lethe_strv argv = { 0 };
	struct lethe_buf o = { 0 };
	int r;

	if (apt_argv(apt->apt_get, "install", &argv) < 0 || lethe_strv_push(&argv, "-s") < 0 ||
	    lethe_strv_push(&argv, "-q") < 0 || lethe_strv_push(&argv, "-y") < 0 ||
	    lethe_strv_push(&argv, "--no-install-recommends") < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < names->n; i++) {
		if (!lethe_pkg_name_is_valid(names->v[i])) {
			r = lethe_error(-EBADMSG, "%s: '%s' is not a valid package name", what,
					names->v[i]);
			goto out;
		}
		if ((r = lethe_strv_push(&argv, names->v[i])) < 0)
			goto out;
	}
	if ((r = run_apt(apt, argv.v, NULL, &o)) < 0)
		goto out;
	for (char *line = o.data; line && *line;) {
		char *nl = strchr(line, '\n'), *name, *version, *arch;

		if (nl)
			*nl = '\0';
		if (!strncmp(line, "Inst ", 5)) {
			if (parse_inst(line, &name, &version, &arch) < 0 ||
			    !lethe_pkg_name_is_valid(name) ||
			    !lethe_pkg_version_is_valid(version) ||
			    !lethe_pkg_arch_is_valid(arch)) {
				r = lethe_error(-EIO,
						"apt: unexpected line in the output of 'apt-get "
						"install -s'");
				goto out;
			}
			if ((!keep || keep(name, root_name)) && !lethe_pkgset_find(out, name) &&
			    (r = set_add(out, name, version, arch, role)) < 0)
				goto out;
			/* set_add keeps the array unsorted; sort so that find works. */
			qsort(out->pkgs, out->n, sizeof(out->pkgs[0]), cmp_pkg);
		}
		line = nl ? nl + 1 : NULL;
	}
out:
	lethe_buf_release(&o);
	lethe_strv_release(&argv);
	return r;
}

static bool is_kernel_part(const char *name, const char *kernel_pkg)
{
	return !strcmp(name, kernel_pkg) || !strncmp(name, "linux-image-", 12);
}

/* Fill in SHA-256 and size of every package from the signed index (apt-cache show). */
static int index_hashes(struct apt *apt, struct lethe_pkgset *set)
{
	struct lethe_strv argv = { 0 };
	struct lethe_buf o = { 0 }, spec = { 0 };
	int r = 0;

	if (set->n == 0)
		return 0;
	if (apt_argv(apt->apt_cache, "show", &argv) < 0 ||
	    lethe_strv_push(&argv, "--no-all-versions") < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < set->n; i++) {
		spec.len = 0;
		if (lethe_buf_printf(&spec, "%s:%s=%s", set->pkgs[i].name, set->pkgs[i].arch,
				     set->pkgs[i].version) < 0 ||
		    lethe_strv_push(&argv, spec.data) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	if ((r = run_apt(apt, argv.v, NULL, &o)) < 0)
		goto out;
	/* Paragraphs: Package, Version, Architecture, Size, SHA256 are what we need. */
	char *pkg = NULL, *ver = NULL, *sha = NULL, *size = NULL;

	for (char *line = o.data; line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		if (!strncmp(line, "Package: ", 9))
			pkg = line + 9;
		else if (!strncmp(line, "Version: ", 9))
			ver = line + 9;
		else if (!strncmp(line, "SHA256: ", 8))
			sha = line + 8;
		else if (!strncmp(line, "Size: ", 6))
			size = line + 6;
		else if (*line == '\0') {
			struct lethe_pkg *p = pkg ? lethe_pkgset_find(set, pkg) : NULL;

			if (p && ver && !strcmp(ver, p->version) && sha && size) {
				char *end;
				unsigned long long s = strtoull(size, &end, 10);

				if (strlen(sha) != 64 || lethe_hex_decode(sha, p->sha256, 32) < 0 ||
				    *end || s == 0 || s > LETHE_PKG_MAX_DEB_SIZE) {
					r = lethe_error(-EIO,
							"apt: package '%s': bad SHA256 or Size "
							"in the index",
							p->name);
					goto out;
				}
				p->size = s;
				p->have_sha256 = true;
			}
			pkg = ver = sha = size = NULL;
		}
		line = nl ? nl + 1 : NULL;
	}
	for (size_t i = 0; i < set->n; i++)
		if (!set->pkgs[i].have_sha256) {
			r = lethe_error(-EIO, "apt: package '%s' %s has no SHA256 in the index",
					set->pkgs[i].name, set->pkgs[i].version);
			goto out;
		}
out:
	lethe_buf_release(&spec);
	lethe_buf_release(&o);
	lethe_strv_release(&argv);
	return r;
}

static int apply_drop(const struct lethe_spec *spec, struct lethe_pkgset *set)
{
	for (size_t i = 0; i < spec->drop.n; i++) {
		struct lethe_pkg *p = lethe_pkgset_find(set, spec->drop.v[i]);
		size_t idx;
		int r;

		if (!p)
			return lethe_error(-EBADMSG,
					   "spec '%s': drop: package '%s' is not in the "
					   "closure of the spec's packages",
					   spec->path ? spec->path : "?", spec->drop.v[i]);
		if (p->role == LETHE_PKG_KERNEL || lethe_strv_contains(&spec->packages, p->name))
			return lethe_error(-EBADMSG,
					   "spec '%s': drop: package '%s' is named by the "
					   "spec itself",
					   spec->path ? spec->path : "?", p->name);
		if ((r = lethe_strv_push(&set->dropped, p->name)) < 0)
			return r;
		idx = (size_t)(p - set->pkgs);
		lethe_pkg_release(p);
		memmove(p, p + 1, (set->n - idx - 1) * sizeof(*p));
		set->n--;
	}
	lethe_strv_sort(&set->dropped);
	return 0;
}

int lethe_pkg_resolve(const struct lethe_spec *spec, const struct lethe_pkg_options *opts,
		      struct lethe_pkgset **ret)
{
	struct lethe_pkgset *set = calloc(1, sizeof(*set)), *kernel = NULL;
	struct apt apt;
	int r;

	if (!set)
		return -ENOMEM;
	if ((r = apt_open(spec, opts, &apt)) < 0) {
		free(set);
		return r;
	}
	if ((r = apt_update(&apt, opts)) < 0)
		goto out;
	lethe_log(LETHE_LOG_INFO, "apt: resolving %zu packages", spec->packages.n);
	if (spec->packages.n && (r = apt_closure(&apt, &spec->packages, "packages", LETHE_PKG_ROOT,
						 NULL, NULL, set)) < 0)
		goto out;
	if ((r = apply_drop(spec, set)) < 0)
		goto out;
	if (spec->kernel.package) {
		struct lethe_strv k = { 0 };

		kernel = calloc(1, sizeof(*kernel));
		if (!kernel || lethe_strv_push(&k, spec->kernel.package) < 0) {
			lethe_strv_release(&k);
			r = -ENOMEM;
			goto out;
		}
		r = apt_closure(&apt, &k, "kernel.package", LETHE_PKG_KERNEL, is_kernel_part,
				spec->kernel.package, kernel);
		lethe_strv_release(&k);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < kernel->n; i++) {
			struct lethe_pkg *kp = &kernel->pkgs[i];

			if (lethe_pkgset_find(set, kp->name))
				continue; /* also wanted in the root: keep it there */
			if ((r = set_add(set, kp->name, kp->version, kp->arch, LETHE_PKG_KERNEL)) <
			    0)
				goto out;
			qsort(set->pkgs, set->n, sizeof(set->pkgs[0]), cmp_pkg);
		}
	}
	if ((r = index_hashes(&apt, set)) < 0)
		goto out;
	lethe_log(LETHE_LOG_INFO, "apt: %zu packages in the closure, %zu dropped", set->n,
		  set->dropped.n);
	*ret = set;
	set = NULL;
out:
	lethe_pkgset_free(kernel);
	lethe_pkgset_free(set);
	apt_release(&apt);
	return r;
}

/* ---- fetching into the cache ---- */

static char *cache_name(const struct lethe_pkg *p)
{
	struct lethe_buf b = { 0 };
	char hex[65];

	lethe_hex_encode(p->sha256, 32, hex);
	if (lethe_buf_printf(&b, "%s-%s", hex, p->filename) < 0) {
		lethe_buf_release(&b);
		return NULL;
	}
	return b.data;
}

/* Does the file at path have p's SHA-256? 1 yes, 0 no (or absent), <0 error. */
static int file_matches(const char *path, const struct lethe_pkg *p, uint8_t got[32])
{
	uint64_t size;
	int r = sha256_file(path, got, &size);

	if (r == -ENOENT) {
		lethe_error_clear(); /* handled: absent means "not cached" */
		return 0;
	}
	if (r < 0)
		return lethe_error(r, "cannot read '%s': %s", path, strerror(-r));
	return lethe_memeq_consttime(got, p->sha256, 32) ? 1 : 0;
}

static int check_control(struct lethe_pkg *p)
{
	struct lethe_buf label = { 0 };
	int r;

	if (lethe_buf_printf(&label, "package '%s' ('%s')", p->name, p->filename) < 0)
		return -ENOMEM;
	lethe_pkg_control_release(&p->control);
	r = lethe_deb_read_control(p->path, label.data, &p->control);
	if (r == 0 &&
	    (strcmp(p->control.package, p->name) || strcmp(p->control.version, p->version) ||
	     strcmp(p->control.architecture, p->arch)))
		r = lethe_error(-EBADMSG, "%s: its control data says %s %s %s", label.data,
				p->control.package, p->control.version, p->control.architecture);
	lethe_buf_release(&label);
	return r;
}

/* Download the packages of set that need[] marks into tmp, with apt. */
static int apt_download(struct apt *apt, struct lethe_pkgset *set, const bool *need,
			const char *tmp)
{
	struct lethe_strv argv = { 0 };
	struct lethe_buf b = { 0 };
	int r = 0;

	if (apt_argv(apt->apt_get, "download", &argv) < 0 || lethe_strv_push(&argv, "-q") < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < set->n; i++) {
		if (!need[i])
			continue;
		b.len = 0;
		if (lethe_buf_printf(&b, "%s:%s=%s", set->pkgs[i].name, set->pkgs[i].arch,
				     set->pkgs[i].version) < 0 ||
		    lethe_strv_push(&argv, b.data) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = run_apt(apt, argv.v, tmp, NULL);
out:
	lethe_buf_release(&b);
	lethe_strv_release(&argv);
	return r;
}

/* Move a freshly downloaded .deb into the cache once its SHA-256 is the expected one. */
static int adopt_download(struct lethe_pkg *p, const char *tmp, const char *dest)
{
	char *src = lethe_path_join(tmp, p->filename);
	uint8_t got[32];
	char hex_got[65], hex_want[65];
	int r;

	if (!src)
		return -ENOMEM;
	r = file_matches(src, p, got);
	if (r == 0 && access(src, F_OK) < 0)
		r = lethe_error(-EIO, "apt: package '%s': '%s' was not downloaded", p->name,
				p->filename);
	else if (r == 0) {
		lethe_hex_encode(got, 32, hex_got);
		lethe_hex_encode(p->sha256, 32, hex_want);
		r = lethe_error(-EBADMSG, "package '%s': SHA-256 of '%s' is %s, the lock says %s",
				p->name, p->filename, hex_got, hex_want);
	} else if (r > 0) {
		r = rename(src, dest) < 0 ? lethe_error(-errno,
							"cannot move '%s' into the "
							"cache: %s",
							src, strerror(errno))
					  : 0;
	}
	free(src);
	return r;
}

int lethe_pkg_fetch(const struct lethe_spec *spec, const struct lethe_pkg_options *opts,
		    struct lethe_pkgset *set)
{
	struct apt apt = { .lock_fd = -1 };
	char *cache = NULL, *debs = NULL, *tmp = NULL;
	bool *need = NULL, apt_ready = false;
	size_t n_need = 0;
	int r;

	if ((r = lethe_pkg_cache_dir(opts, &cache)) < 0)
		return r;
	debs = lethe_path_join(cache, "debs");
	need = calloc(set->n ? set->n : 1, sizeof(*need));
	if (!debs || !need) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = lethe_mkdir_p(debs, 0755)) < 0)
		goto out;
	for (size_t i = 0; i < set->n; i++) {
		struct lethe_pkg *p = &set->pkgs[i];
		char *name = cache_name(p);
		uint8_t got[32];

		if (!p->have_sha256) {
			free(name);
			r = lethe_error(-EINVAL, "package '%s': no SHA-256 to check", p->name);
			goto out;
		}
		free(p->path);
		p->path = name ? lethe_path_join(debs, name) : NULL;
		free(name);
		if (!p->path) {
			r = -ENOMEM;
			goto out;
		}
		r = file_matches(p->path, p, got);
		if (r < 0)
			goto out;
		if (r == 0) {
			unlink(p->path); /* a damaged cache entry, if any */
			need[i] = true;
			n_need++;
		}
	}
	if (n_need) {
		if ((r = apt_open(spec, opts, &apt)) < 0)
			goto out;
		apt_ready = true;
		/* Lists are needed to download at all; an absent lock makes them stale. */
		struct lethe_pkg_options o = opts ? *opts : (struct lethe_pkg_options){ 0 };

		if ((r = apt_update(&apt, &o)) < 0)
			goto out;
		tmp = lethe_path_join(debs, ".download.XXXXXX");
		if (!tmp || !mkdtemp(tmp)) {
			r = tmp ? lethe_error(-errno, "cannot create a directory in '%s': %s", debs,
					      strerror(errno))
				: -ENOMEM;
			goto out;
		}
		lethe_log(LETHE_LOG_INFO, "apt: downloading %zu of %zu packages", n_need, set->n);
		if ((r = apt_download(&apt, set, need, tmp)) < 0)
			goto out;
		for (size_t i = 0; i < set->n; i++)
			if (need[i] &&
			    (r = adopt_download(&set->pkgs[i], tmp, set->pkgs[i].path)) < 0)
				goto out;
	}
	for (size_t i = 0; i < set->n; i++) {
		struct lethe_pkg *p = &set->pkgs[i];
		struct stat st;

		if (stat(p->path, &st) == 0) {
			if (p->size && (uint64_t)st.st_size != p->size) {
				r = lethe_error(-EBADMSG,
						"package '%s': '%s' has %lld bytes, expected "
						"%llu",
						p->name, p->filename, (long long)st.st_size,
						(unsigned long long)p->size);
				goto out;
			}
			p->size = (uint64_t)st.st_size;
		}
		lethe_log(LETHE_LOG_PROGRESS, "reading %s", p->name);
		if ((r = check_control(p)) < 0)
			goto out;
	}
	r = 0;
out:
	if (tmp)
		lethe_rm_rf(tmp);
	if (apt_ready)
		apt_release(&apt);
	free(tmp);
	free(need);
	free(debs);
	free(cache);
	return r;
}
