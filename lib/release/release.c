/* The verified release handle: the signature over SHA256SUMS, every file it lists hashed
 * from the descriptor the handle keeps, the signed root hash, and on request the
 * dm-verity tree of the root file system. Moved here from lib/media (issue 9). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/boot.h>
#include <lethe/contract.h>
#include <lethe/core.h>
#include <lethe/release.h>
#include <lethe/verity.h>

#define ROOTHASH_FILE_MAX 256

struct release_file {
	int fd; /* -1: not listed */
	uint64_t size;
	uint8_t sha256[32];
};

struct lethe_release {
	char *dir;
	bool is_signed;
	size_t n_listed;
	struct release_file f[LETHE_ARTIFACT_MAX];
	char *cmdline;	/* the signed cmdline's first line, or NULL */
	char *roothash; /* lowercase hex */
};

/* Open name in the release directory: a regular file, never through a link. */
static int open_entry(int dfd, const char *name, struct stat *st)
{
	int fd;

	if (strchr(name, '/'))
		return -EXDEV; /* a release is flat */
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* The whole of a small file (at most max bytes), NUL-terminated. */
static int read_small(int fd, size_t max, char **ret, size_t *ret_len)
{
	char *text = malloc(max + 1);
	ssize_t n;

	if (!text)
		return -ENOMEM;
	n = lethe_pread_full(fd, text, max + 1, 0);
	if (n < 0 || (size_t)n > max) {
		free(text);
		return n < 0 ? (int)n : -EFBIG;
	}
	text[n] = '\0';
	*ret = text;
	*ret_len = (size_t)n;
	return 0;
}

/* The file of one entry: opened, hashed from its descriptor (the small files whose text
 * the handle keeps, cmdline and roothash, are hashed from the bytes kept), compared. */
static int check_entry(struct lethe_release *rel, int dfd, const struct lethe_sums_entry *e,
		       const char *sums_name, const struct lethe_release_options *o)
{
	enum lethe_release_artifact a;
	bool known = lethe_release_artifact_from_name(e->name, &a) == 0;
	char *text = NULL, **keep = NULL;
	uint8_t digest[32];
	struct stat st;
	size_t len;
	int fd, r;

	if (known && (a == LETHE_ARTIFACT_SUMS || a == LETHE_ARTIFACT_SIG))
		return lethe_error(-LETHE_E_INVALID, "'%s' line %u lists '%s'", sums_name, e->line,
				   e->name);
	if (o->only && (!known || !(o->only & LETHE_ARTIFACT_BIT(a))))
		return 1; /* not wanted: neither opened nor hashed */
	fd = open_entry(dfd, e->name, &st);
	if (fd == -ENOENT)
		return lethe_error(fd, "'%s' line %u: '%s' is missing", sums_name, e->line,
				   e->name);
	if (fd < 0)
		return lethe_error(fd == -EXDEV ? -LETHE_E_INVALID : fd,
				   "'%s' line %u: cannot check '%s': %s", sums_name, e->line,
				   e->name,
				   fd == -EINVAL  ? "not a regular file"
				   : fd == -ELOOP ? "a symbolic link"
				   : fd == -EXDEV ? "a release holds no subdirectory"
						  : strerror(-fd));
	if (known && a == LETHE_ARTIFACT_CMDLINE)
		keep = &rel->cmdline;
	else if (known && a == LETHE_ARTIFACT_ROOTHASH)
		keep = &rel->roothash;
	if (keep) {
		r = read_small(fd,
			       a == LETHE_ARTIFACT_CMDLINE ? LETHE_BOOT_CMDLINE_MAX + 2
							   : ROOTHASH_FILE_MAX,
			       &text, &len);
		if (r >= 0)
			r = lethe_sha256(text, len, digest);
	} else if (known && (o->unhashed & LETHE_ARTIFACT_BIT(a))) {
		memcpy(digest, e->sha256, 32); /* the caller hashes what it reads */
		r = 0;
	} else {
		r = lethe_sha256_fd(fd, 0, digest, NULL);
	}
	if (r < 0) {
		r = lethe_error(r, "'%s' line %u: cannot check '%s': %s", sums_name, e->line,
				e->name, strerror(-r));
		goto fail;
	}
	if (!lethe_memeq_consttime(digest, e->sha256, 32)) {
		r = lethe_error(-LETHE_E_INVALID, "'%s' line %u: '%s' does not match", sums_name,
				e->line, e->name);
		goto fail;
	}
	if (!known) {
		close(fd);
		return 0;
	}
	rel->f[a] = (struct release_file){ .fd = fd, .size = (uint64_t)st.st_size };
	memcpy(rel->f[a].sha256, e->sha256, 32);
	if (keep) {
		text[strcspn(text, "\r\n")] = '\0'; /* the first line */
		*keep = text;
	}
	return 0;
fail:
	free(text);
	close(fd);
	return r;
}

static int check_files(struct lethe_release *rel, int dfd, const struct lethe_sums *sums,
		       const char *sums_name, const struct lethe_release_options *o)
{
	struct lethe_sums_tally tally = { 0 };
	int r;

	for (size_t i = 0; i < sums->n; i++) {
		lethe_error_clear();
		r = check_entry(rel, dfd, &sums->v[i], sums_name, o);
		if (r > 0)
			continue;
		if (o->fn)
			o->fn(&sums->v[i], r, o->userdata);
		lethe_sums_tally_add(&tally, r);
	}
	rel->n_listed = sums->n;
	return lethe_sums_tally_finish(&tally, sums->n);
}

/* The root hash in the signed cmdline, through lib/core's one reader. */
static int cmdline_roothash(const char *cmdline, const char *name, char **ret_hex)
{
	char hex[LETHE_ROOTHASH_HEX + 1], msg[256];
	int r = lethe_cmdline_roothash(cmdline, strlen(cmdline), hex);

	if (r == -ENOENT)
		return lethe_error(-LETHE_E_INVALID, "'%s' has no " LETHE_CMDLINE_ROOTHASH "=",
				   name);
	if (r < 0) {
		snprintf(msg, sizeof(msg), "%s",
			 lethe_error_message_for(r) ? lethe_error_message_for(r) : strerror(-r));
		return lethe_error(-LETHE_E_INVALID, "'%s': %s", name, msg);
	}
	*ret_hex = strdup(hex);
	return *ret_hex ? 0 : -ENOMEM;
}

static bool is_hex_hash(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n % 2 || n > 2 * LETHE_VERITY_MAX_DIGEST_SIZE)
		return false;
	return strspn(s, "0123456789abcdef") == n;
}

/* The signed root hash: cmdline's and roothash's, which must agree when both exist. */
static int find_roothash(struct lethe_release *rel)
{
	char *from_cmdline = NULL;
	int r;

	if (rel->cmdline) {
		r = cmdline_roothash(rel->cmdline, lethe_release_names[LETHE_ARTIFACT_CMDLINE],
				     &from_cmdline);
		if (r < 0)
			return r;
	}
	if (!from_cmdline && !rel->roothash)
		return lethe_error(-LETHE_E_INVALID,
				   "'%s': the signed files give no root hash "
				   "(neither %s nor %s)",
				   rel->dir, lethe_release_names[LETHE_ARTIFACT_CMDLINE],
				   lethe_release_names[LETHE_ARTIFACT_ROOTHASH]);
	if (from_cmdline && rel->roothash && strcmp(from_cmdline, rel->roothash)) {
		r = lethe_error(-LETHE_E_INVALID,
				"'%s': cmdline's " LETHE_CMDLINE_ROOTHASH "=%s and roothash "
				"%s differ",
				rel->dir, from_cmdline, rel->roothash);
		free(from_cmdline);
		return r;
	}
	if (from_cmdline) {
		free(rel->roothash);
		rel->roothash = from_cmdline;
	}
	if (!is_hex_hash(rel->roothash))
		return lethe_error(-LETHE_E_INVALID, "'%s': root hash '%s' is not lowercase hex",
				   rel->dir, rel->roothash);
	return 0;
}

/* rootfs.erofs not hashed at open is proven by the tree alone: every block it covers,
 * and no byte beyond them (as its SHA-256 would have proven). */
static int check_root_size(struct lethe_release *rel, const char *hash)
{
	struct lethe_verity_params p = { 0 };
	struct lethe_verity_info info;
	int r = lethe_verity_dump(hash, 0, &info);

	if (r < 0)
		return r;
	lethe_verity_params_from_superblock(&p, &info.sb);
	if (p.data_blocks * p.data_block_size != rel->f[LETHE_ARTIFACT_ROOTFS].size)
		return lethe_error(-LETHE_E_INVALID, "'%s': %s has %llu bytes, %s covers %llu",
				   rel->dir, lethe_release_names[LETHE_ARTIFACT_ROOTFS],
				   (unsigned long long)rel->f[LETHE_ARTIFACT_ROOTFS].size,
				   lethe_release_names[LETHE_ARTIFACT_VERITY],
				   (unsigned long long)(p.data_blocks * p.data_block_size));
	return 0;
}

static int check_verity(struct lethe_release *rel, bool root_unhashed)
{
	uint8_t rh[LETHE_VERITY_MAX_DIGEST_SIZE];
	size_t hlen = strlen(rel->roothash) / 2;
	char data[32], hash[32];
	int r;

	if (lethe_hex_decode(rel->roothash, rh, hlen) < 0)
		return -LETHE_E_INVALID; /* find_roothash checked it */
	lethe_release_fd_path(rel, LETHE_ARTIFACT_ROOTFS, data);
	lethe_release_fd_path(rel, LETHE_ARTIFACT_VERITY, hash);
	r = root_unhashed ? check_root_size(rel, hash) : 0;
	if (r >= 0)
		r = lethe_verity_verify(data, hash, rh, hlen, NULL);
	if (r < 0) {
		/* Name the release's files, not the descriptors the check read them by. */
		char *why = lethe_error_message_for(r) ? strdup(lethe_error_message_for(r)) : NULL;

		r = lethe_error(r, "'%s': %s against %s: %s", rel->dir,
				lethe_release_names[LETHE_ARTIFACT_ROOTFS],
				lethe_release_names[LETHE_ARTIFACT_VERITY],
				why ? why : strerror(-r));
		free(why);
	}
	return r;
}

/* SHA256SUMS, read once from the directory; its signature checked over those bytes. */
static int read_sums(struct lethe_release *rel, int dfd, const char *sums_name,
		     const struct lethe_sign_pubkey *pub, struct lethe_sums *ret)
{
	char *text = NULL, *sig = NULL;
	struct stat st;
	size_t len;
	int fd, r;

	fd = open_entry(dfd, lethe_release_names[LETHE_ARTIFACT_SUMS], &st);
	if (fd < 0)
		return lethe_error(fd, "cannot read '%s': %s", sums_name,
				   fd == -EINVAL ? "not a regular file" : strerror(-fd));
	r = read_small(fd, LETHE_SUMS_FILE_MAX, &text, &len);
	close(fd);
	if (r < 0)
		return lethe_error(r, "cannot read '%s': %s", sums_name, strerror(-r));
	if (pub) {
		/* The bytes verified are the bytes parsed: no window for the file to change. */
		sig = lethe_path_join(rel->dir, lethe_release_names[LETHE_ARTIFACT_SIG]);
		r = sig ? lethe_sign_verify_data(pub, text, len, sums_name, sig, NULL) : -ENOMEM;
		rel->is_signed = r >= 0;
	}
	if (r >= 0)
		r = lethe_sums_parse(text, len, sums_name, ret);
	free(sig);
	free(text);
	return r;
}

int lethe_release_open_opts(const char *dir, const struct lethe_sign_pubkey *pub,
			    const struct lethe_release_options *opts, struct lethe_release **ret)
{
	static const struct lethe_release_options defaults = { 0 };
	const struct lethe_release_options *o = opts ? opts : &defaults;
	struct lethe_release *rel = calloc(1, sizeof(*rel));
	struct lethe_sums sums = { 0 };
	char *sums_name = NULL;
	int dfd = -1, r;

	if (!rel)
		return -ENOMEM;
	for (unsigned a = 0; a < LETHE_ARTIFACT_MAX; a++)
		rel->f[a].fd = -1;
	rel->dir = strdup(dir);
	sums_name = lethe_path_join(dir, lethe_release_names[LETHE_ARTIFACT_SUMS]);
	if (!rel->dir || !sums_name) {
		r = -ENOMEM;
		goto out;
	}
	if (!pub && !(o->flags & LETHE_RELEASE_OPEN_UNSIGNED)) {
		r = lethe_error(-EINVAL, "'%s': a release is opened with a public key", dir);
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = lethe_error(-errno, "cannot open release directory '%s': %m", dir);
		goto out;
	}
	r = read_sums(rel, dfd, sums_name, pub, &sums);
	if (r >= 0)
		r = check_files(rel, dfd, &sums, sums_name, o);
	if (r >= 0 &&
	    (rel->f[LETHE_ARTIFACT_ROOTFS].fd < 0 || rel->f[LETHE_ARTIFACT_VERITY].fd < 0))
		r = lethe_error(-LETHE_E_INVALID, "'%s' does not list %s and %s", sums_name,
				lethe_release_names[LETHE_ARTIFACT_ROOTFS],
				lethe_release_names[LETHE_ARTIFACT_VERITY]);
	if (r >= 0)
		r = find_roothash(rel);
	if (r >= 0 && (o->flags & LETHE_RELEASE_OPEN_VERITY))
		r = check_verity(rel, o->unhashed & LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_ROOTFS));
out:
	if (dfd >= 0)
		close(dfd);
	lethe_sums_release(&sums);
	free(sums_name);
	if (r < 0) {
		lethe_release_free(rel);
		return r;
	}
	*ret = rel;
	return 0;
}

int lethe_release_open(const char *dir, const struct lethe_sign_pubkey *pub,
		       struct lethe_release **ret)
{
	return lethe_release_open_opts(dir, pub, NULL, ret);
}

struct lethe_release *lethe_release_free(struct lethe_release *rel)
{
	if (!rel)
		return NULL;
	for (unsigned a = 0; a < LETHE_ARTIFACT_MAX; a++)
		if (rel->f[a].fd >= 0)
			close(rel->f[a].fd);
	free(rel->cmdline);
	free(rel->roothash);
	free(rel->dir);
	free(rel);
	return NULL;
}

const char *lethe_release_dir(const struct lethe_release *rel)
{
	return rel->dir;
}

bool lethe_release_signed(const struct lethe_release *rel)
{
	return rel->is_signed;
}

size_t lethe_release_n_listed(const struct lethe_release *rel)
{
	return rel->n_listed;
}

bool lethe_release_has(const struct lethe_release *rel, enum lethe_release_artifact a)
{
	return (unsigned)a < LETHE_ARTIFACT_MAX && rel->f[a].fd >= 0;
}

static int not_listed(const struct lethe_release *rel, enum lethe_release_artifact a)
{
	return lethe_error(-ENOENT, "release '%s' has no signed %s", rel->dir,
			   lethe_release_name(a));
}

int lethe_release_fd(const struct lethe_release *rel, enum lethe_release_artifact a)
{
	return lethe_release_has(rel, a) ? rel->f[a].fd : not_listed(rel, a);
}

int lethe_release_info(const struct lethe_release *rel, enum lethe_release_artifact a,
		       uint64_t *ret_size, uint8_t ret_sha256[32])
{
	if (!lethe_release_has(rel, a))
		return not_listed(rel, a);
	if (ret_size)
		*ret_size = rel->f[a].size;
	if (ret_sha256)
		memcpy(ret_sha256, rel->f[a].sha256, 32);
	return 0;
}

int lethe_release_fd_path(const struct lethe_release *rel, enum lethe_release_artifact a,
			  char ret[32])
{
	if (!lethe_release_has(rel, a))
		return not_listed(rel, a);
	snprintf(ret, 32, "/proc/self/fd/%d", rel->f[a].fd);
	return 0;
}

size_t lethe_release_fds(const struct lethe_release *rel, size_t max, int *ret)
{
	size_t n = 0;

	for (unsigned a = 0; a < LETHE_ARTIFACT_MAX && n < max; a++)
		if (rel->f[a].fd >= 0)
			ret[n++] = rel->f[a].fd;
	return n;
}

const char *lethe_release_cmdline(const struct lethe_release *rel)
{
	return rel->cmdline;
}

const char *lethe_release_roothash(const struct lethe_release *rel)
{
	return rel->roothash;
}
