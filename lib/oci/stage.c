/* The staging directory of a pull: beside the output directory, named by what is being
 * fetched so that an interrupted pull resumes into it; files streamed into NAME.part
 * through a SHA-256 and renamed to NAME once their digest matched; the whole verified as
 * a release before it is renamed into place (issue 18.2). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/provenance.h>
#include <lethe/release.h>

#include "oci-internal.h"

static int split(const char *outdir, char **ret_parent, char **ret_base)
{
	char *copy = strdup(outdir), *slash;

	if (!copy)
		return -ENOMEM;
	while (strlen(copy) > 1 && copy[strlen(copy) - 1] == '/')
		copy[strlen(copy) - 1] = '\0';
	slash = strrchr(copy, '/');
	*ret_base = strdup(slash ? slash + 1 : copy);
	if (slash)
		*slash = '\0';
	*ret_parent = strdup(slash ? (slash == copy ? "/" : copy) : ".");
	free(copy);
	if (!*ret_parent || !*ret_base) {
		free(*ret_parent);
		free(*ret_base);
		return -ENOMEM;
	}
	if (!**ret_base || !strcmp(*ret_base, ".") || !strcmp(*ret_base, "..")) {
		free(*ret_parent);
		free(*ret_base);
		return lethe_error(-EINVAL, "output directory '%s' must name a directory", outdir);
	}
	return 0;
}

static int check_outdir(const char *outdir)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (lstat(outdir, &st) < 0)
		return errno == ENOENT ? 0 : lethe_error(-errno, "cannot stat '%s': %m", outdir);
	if (!S_ISDIR(st.st_mode))
		return lethe_error(-EEXIST, "'%s' exists and is not a directory", outdir);
	d = opendir(outdir);
	if (!d)
		return lethe_error(-errno, "cannot list '%s': %m", outdir);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			r = lethe_error(-EEXIST,
					"'%s' is not empty: pull into a new or empty directory",
					outdir);
			break;
		}
	closedir(d);
	return r;
}

int oci_stage_open(const char *outdir, const char *key, char **ret_stage)
{
	char *parent = NULL, *base = NULL, *stage = NULL;
	int r;

	r = check_outdir(outdir);
	if (r >= 0)
		r = split(outdir, &parent, &base);
	if (r < 0)
		return r;
	r = lethe_mkdir_p(parent, 0755);
	if (r < 0)
		r = lethe_error(r, "cannot create '%s': %s", parent, strerror(-r));
	else if (asprintf(&stage, "%s/.%s.pull-%s", parent, base, key) < 0)
		r = -ENOMEM;
	else if (mkdir(stage, 0700) < 0 && errno != EEXIST)
		r = lethe_error(-errno, "cannot create '%s': %m", stage);
	else {
		struct stat st;

		if (lstat(stage, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
			r = lethe_error(-EEXIST, "'%s' is not a directory of this user", stage);
	}
	free(parent);
	free(base);
	if (r < 0) {
		free(stage);
		return r;
	}
	*ret_stage = stage;
	return 0;
}

/* Hash what a partial file holds (its first have bytes). */
static int hash_partial(int fd, uint64_t have, struct lethe_sha256 *h)
{
	char buf[65536];
	uint64_t off = 0;

	while (off < have) {
		size_t want = have - off < sizeof(buf) ? (size_t)(have - off) : sizeof(buf);
		ssize_t n = lethe_pread_full(fd, buf, want, (off_t)off);

		if (n <= 0)
			return n < 0 ? (int)n : -EIO;
		lethe_sha256_update(h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	return 0;
}

int oci_fetch_file(struct oci_client *c, const char *url, const char *const *headers,
		   const char *stage, const char *name, uint64_t size, const uint8_t sha256[32],
		   const char *what)
{
	char *part = NULL, *final = NULL, range[64];
	const char *hl[8];
	struct lethe_sha256 h = { 0 };
	struct oci_response resp = { 0 };
	struct oci_sink sink = { .fd = -1 };
	uint64_t start = 0;
	uint8_t got[32];
	struct stat st;
	size_t nh = 0;
	int r;

	final = lethe_path_join(stage, name);
	if (!final || asprintf(&part, "%s.part", final) < 0) {
		free(final);
		return -ENOMEM;
	}
	/* Already fetched and checked by an earlier, interrupted pull. */
	if (lstat(final, &st) == 0 && S_ISREG(st.st_mode) &&
	    (!size || (uint64_t)st.st_size == size) &&
	    lethe_sums_sha256_file(AT_FDCWD, final, got) == 0 && !memcmp(got, sha256, 32)) {
		r = 0;
		goto out;
	}
	sink.fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (sink.fd < 0) {
		r = lethe_error(-errno, "cannot open '%s': %m", part);
		goto out;
	}
	r = fstat(sink.fd, &st) < 0 ? -errno : lethe_sha256_init(&h);
	if (r < 0)
		goto out;
	sink.offset = (uint64_t)st.st_size;
	if (size && sink.offset > size) {
		r = ftruncate(sink.fd, 0) < 0 ? -errno : 0;
		sink.offset = 0;
	}
	if (r >= 0 && sink.offset)
		r = hash_partial(sink.fd, sink.offset, &h);
	if (r < 0)
		goto out;
	start = sink.offset;
	sink.h = &h;
	sink.max = size ? size : LETHE_OCI_BLOB_MAX;
	for (size_t i = 0; headers && headers[i] && nh + 2 < LETHE_ARRAY_SIZE(hl); i++)
		hl[nh++] = headers[i];
	if (sink.offset && (!size || sink.offset < size)) {
		snprintf(range, sizeof(range), "Range: bytes=%llu-",
			 (unsigned long long)sink.offset);
		hl[nh++] = range;
	}
	hl[nh] = NULL;
	if (!size || sink.offset < size) {
		r = oci_request(c, "GET", url, hl, NULL, &sink, &resp);
		if (r >= 0 && resp.status == 416 && sink.offset)
			r = 0; /* complete already: the digest decides */
		else if (r >= 0 && resp.status == 200)
			start = 0; /* the server ignored Range: fetched whole */
		else if (r >= 0 && resp.status != 200 && resp.status != 206)
			r = oci_status_error(c, resp.status == 404 ? -ENOENT : -EIO, what, &resp);
		if (r < 0)
			goto out;
	}
	r = lethe_sha256_final(&h, got);
	if (r >= 0 && ((size && sink.offset != size) || !lethe_memeq_consttime(got, sha256, 32))) {
		char want[72], have[72];

		oci_digest_string(sha256, want);
		oci_digest_string(got, have);
		unlink(part);
		r = lethe_error(-LETHE_E_INVALID,
				"%s: '%s' from '%s' is not %s (got %s, %llu bytes)", what, name,
				c->host, want, have, (unsigned long long)sink.offset);
		goto out;
	}
	if (r >= 0 && (fsync(sink.fd) < 0 || rename(part, final) < 0))
		r = lethe_error(-errno, "cannot rename '%s' to '%s': %m", part, final);
	if (r >= 0 && c->stats) {
		c->stats->files++;
		c->stats->bytes_resumed += start;
	}
out:
	lethe_sha256_release(&h);
	oci_response_release(&resp);
	if (sink.fd >= 0)
		close(sink.fd);
	free(part);
	free(final);
	return r;
}

/* A failed check removes the staging directory; its message must outlive the removal. */
int oci_stage_discard(const char *stage, int r)
{
	char *why;

	if (!stage || !lethe_error_is_check(r))
		return r;
	why = lethe_error_message_for(r) ? strdup(lethe_error_message_for(r)) : NULL;
	lethe_rm_rf(stage);
	if (why) {
		r = lethe_error(r, "%s", why);
		free(why);
	}
	return r;
}

static bool is_sums(const char *name)
{
	return !strcmp(name, lethe_release_name(LETHE_ARTIFACT_SUMS)) ||
	       !strcmp(name, lethe_release_name(LETHE_ARTIFACT_SIG));
}

/* Is a release file one that opts wants (every file when opts->artifacts is 0)? */
static bool wanted(const struct lethe_oci_options *opts, const char *name)
{
	enum lethe_release_artifact a;

	if (!opts || !opts->artifacts || is_sums(name))
		return true;
	return lethe_release_artifact_from_name(name, &a) == 0 &&
	       (opts->artifacts & LETHE_ARTIFACT_BIT(a)) != 0;
}

/* The signature over the SHA256SUMS in stage, then opts->on_signed with its trusted
 * comment; *ret_stopped when on_signed ended the fetch. */
static int verify_sums(const char *stage, const struct lethe_sign_pubkey *pub,
		       const struct lethe_oci_options *opts, bool *ret_stopped)
{
	char *sums = lethe_path_join(stage, lethe_release_name(LETHE_ARTIFACT_SUMS));
	char *sig = lethe_path_join(stage, lethe_release_name(LETHE_ARTIFACT_SIG));
	char *tc = NULL;
	int r = sums && sig ? 0 : -ENOMEM;

	*ret_stopped = false;
	if (r >= 0 && (access(sums, F_OK) < 0 || access(sig, F_OK) < 0))
		r = lethe_error(-LETHE_E_INVALID, "the release has no %s or no %s",
				lethe_release_name(LETHE_ARTIFACT_SUMS),
				lethe_release_name(LETHE_ARTIFACT_SIG));
	if (r >= 0)
		r = lethe_sign_verify_file(pub, sums, sig, &tc);
	if (r >= 0 && opts && opts->on_signed) {
		r = opts->on_signed(tc ? tc : "", opts->userdata);
		*ret_stopped = r != 0;
	}
	free(tc);
	free(sums);
	free(sig);
	return r;
}

int oci_stage_commit(const char *stage, const char *outdir, const struct lethe_sign_pubkey *pub,
		     uint64_t only)
{
	struct lethe_release_options o = { .flags = LETHE_RELEASE_OPEN_VERITY, .only = only };
	struct lethe_release *rel = NULL;
	int r, fd;

	/* A subset lacks files SHA256SUMS lists: the open below checks what is there. */
	r = only ? 0 : lethe_release_probe(stage);
	if (r < 0)
		r = lethe_error(
			-LETHE_E_INVALID, "the release fetched for '%s' is not one: %s", outdir,
			lethe_error_message_for(r) ? lethe_error_message_for(r) : strerror(-r));
	if (r >= 0)
		r = lethe_release_open_opts(stage, pub, &o, &rel);
	if (r >= 0)
		r = lethe_provenance_check(rel, NULL);
	lethe_release_free(rel);
	if (r < 0)
		return oci_stage_discard(stage, r);
	fd = open(stage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	chmod(stage, 0755);
	r = check_outdir(outdir);
	if (r >= 0 && rename(stage, outdir) < 0)
		r = lethe_error(-errno, "cannot rename '%s' to '%s': %m", stage, outdir);
	return r;
}

/* A file fetched from local parts (rootfs.erofs from a root image, lethe.efi from a
 * UKI), or whole where that cannot be done. */
static int fetch_deferred(struct oci_client *c, const struct oci_item *it, const char *stage,
			  const struct lethe_oci_options *opts)
{
	bool root = !strcmp(it->name, lethe_release_name(LETHE_ARTIFACT_ROOTFS));
	const char *base = root ? opts->delta_base : opts->delta_uki;
	int r;

	lethe_log(LETHE_LOG_PROGRESS, "pull: %s (what '%s' lacks)", it->name, base);
	r = root ? oci_fetch_delta(c, it, stage, base, opts->delta_base_limit)
		 : oci_fetch_delta_uki(c, it, stage, base);
	if (r == -EPROTONOSUPPORT) {
		lethe_error_clear();
		lethe_log(LETHE_LOG_INFO, "pull: fetching %s whole", it->name);
		r = oci_fetch_file(c, it->url, NULL, stage, it->name, it->size, it->sha256,
				   it->what);
	}
	return r;
}

/* Is this a file fetched from local parts, after the others (rootfs.verity, the
 * root's block index, and SHA256SUMS, the UKI's)? */
static bool deferred(const struct lethe_oci_options *opts, const char *name)
{
	return opts &&
	       ((opts->delta_base && !strcmp(name, lethe_release_name(LETHE_ARTIFACT_ROOTFS))) ||
		(opts->delta_uki && !strcmp(name, lethe_release_name(LETHE_ARTIFACT_UKI))));
}

int oci_stage_fetch(struct oci_client *c, const char *stage, const char *outdir,
		    const struct lethe_sign_pubkey *pub, const struct oci_item *items, size_t n,
		    const struct lethe_oci_options *opts)
{
	bool stopped = false;
	int r = 0;

	/* Pass 0: SHA256SUMS and its signature, verified before pass 1 fetches the rest;
	 * pass 2: the files made from local parts. */
	for (int pass = 0; pass < 3 && r >= 0; pass++) {
		for (size_t i = 0; i < n && r >= 0; i++) {
			if (is_sums(items[i].name) != (pass == 0) || !wanted(opts, items[i].name) ||
			    (pass > 0 && deferred(opts, items[i].name) != (pass == 2)))
				continue;
			if (pass == 2) {
				r = fetch_deferred(c, &items[i], stage, opts);
				continue;
			}
			lethe_log(LETHE_LOG_PROGRESS, "pull: %s", items[i].name);
			r = oci_fetch_file(c, items[i].url, NULL, stage, items[i].name,
					   items[i].size, items[i].sha256, items[i].what);
		}
		if (r >= 0 && pass == 0)
			r = verify_sums(stage, pub, opts, &stopped);
		if (stopped)
			break;
	}
	if (stopped) {
		lethe_rm_rf(stage); /* on_signed said no: nothing else fetched */
		return r;
	}
	if (r >= 0)
		return oci_stage_commit(stage, outdir, pub, opts ? opts->artifacts : 0);
	return oci_stage_discard(stage, r);
}
