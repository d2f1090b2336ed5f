/* Building and checking dm-verity hash trees: each level of the tree is hashed by a
 * pool of threads, each taking a contiguous range of whole hash blocks, with pread and
 * pwrite so that memory stays bounded whatever the size of the data. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <lethe/util.h>
#include <lethe/verity.h>

#include "verity-internal.h"

/* Bytes read at once by one thread: large enough to amortize the system call, small
 * enough to stay in the cache while it is hashed. */
#define CHUNK_SIZE (256u * 1024)
/* Below this much input a level is hashed by one thread: not worth starting others. */
#define MIN_BYTES_PER_THREAD (1u << 20)
/* Show progress for levels of at least this many bytes. */
#define PROGRESS_MIN_BYTES (64u << 20)

struct tree {
	const EVP_MD *md;
	size_t digest_size;
	const uint8_t *salt;
	size_t salt_size;
	uint32_t hash_block_size;
	uint32_t hash_per_block;
};

/* One level: nblocks blocks of in_bs bytes from in_fd at in_off are hashed into (or
 * checked against) the hash blocks at out_off of hash_fd. */
struct level_job {
	const struct tree *t;
	int in_fd;
	uint64_t in_off;
	uint32_t in_bs;
	uint64_t nblocks;
	int hash_fd;
	uint64_t out_off;
	bool verify;
	bool progress;
	const char *progress_what;
	_Atomic uint64_t done_blocks;
	_Atomic int64_t next_log_ns;
	_Atomic uint64_t first_bad; /* UINT64_MAX: none found (yet) */
};

enum io_what {
	IO_NONE,
	IO_READ_IN,
	IO_READ_HASH,
	IO_WRITE_HASH,
	IO_SHORT_IN,
	IO_SHORT_HASH,
	IO_NOMEM,
	IO_CRYPTO
};

struct worker {
	struct level_job *job;
	uint64_t b0, b1; /* blocks [b0, b1) of the level, b0 a multiple of hash_per_block */
	pthread_t thread;
	int err; /* negative errno, with what and where */
	enum io_what what;
	uint64_t at;
};

struct hasher {
	EVP_MD_CTX *salted; /* fed with the salt once; copied for every block */
	EVP_MD_CTX *ctx;
};

static int hasher_init(struct hasher *h, const struct tree *t)
{
	h->salted = EVP_MD_CTX_new();
	h->ctx = EVP_MD_CTX_new();
	if (!h->salted || !h->ctx)
		return -ENOMEM;
	if (!EVP_DigestInit_ex(h->salted, t->md, NULL) ||
	    (t->salt_size && !EVP_DigestUpdate(h->salted, t->salt, t->salt_size)))
		return -EIO;
	return 0;
}

static void hasher_release(struct hasher *h)
{
	EVP_MD_CTX_free(h->salted);
	EVP_MD_CTX_free(h->ctx);
}

/* Hash type 1: digest = H(salt || block). */
static int hasher_block(struct hasher *h, const uint8_t *block, size_t len, uint8_t *out)
{
	if (!EVP_MD_CTX_copy_ex(h->ctx, h->salted) || !EVP_DigestUpdate(h->ctx, block, len) ||
	    !EVP_DigestFinal_ex(h->ctx, out, NULL))
		return -EIO;
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void report_progress(struct level_job *job, uint64_t n)
{
	uint64_t done = atomic_fetch_add(&job->done_blocks, n) + n;
	int64_t now, next;

	if (!job->progress)
		return;
	now = now_ns();
	next = atomic_load(&job->next_log_ns);
	if (now < next ||
	    !atomic_compare_exchange_strong(&job->next_log_ns, &next, now + 500000000))
		return;
	lethe_log(LETHE_LOG_PROGRESS, "%s: %llu of %llu MiB (%u%%)", job->progress_what,
		  (unsigned long long)(done * job->in_bs >> 20),
		  (unsigned long long)(job->nblocks * job->in_bs >> 20),
		  (unsigned)(done * 100 / job->nblocks));
}

static int worker_fail(struct worker *w, int err, enum io_what what, uint64_t at)
{
	w->err = err;
	w->what = what;
	w->at = at;
	return err;
}

/* Read one hash block of stored digests (verify) or write one of computed ones. */
static int hash_block_io(struct worker *w, uint8_t *hblock, uint64_t index, bool write)
{
	const struct level_job *job = w->job;
	uint32_t hbs = job->t->hash_block_size;
	uint64_t off = job->out_off + index * hbs;
	ssize_t n;
	int r;

	if (write) {
		r = lethe_pwrite_full(job->hash_fd, hblock, hbs, (off_t)off);
		return r < 0 ? worker_fail(w, r, IO_WRITE_HASH, off) : 0;
	}
	n = lethe_pread_full(job->hash_fd, hblock, hbs, (off_t)off);
	if (n < 0)
		return worker_fail(w, (int)n, IO_READ_HASH, off);
	if ((size_t)n < hbs)
		return worker_fail(w, -EBADMSG, IO_SHORT_HASH, off);
	return 0;
}

/* Read len bytes of the level's input at off into buf. */
static int input_fetch(struct worker *w, uint8_t *buf, uint64_t off, size_t len)
{
	ssize_t got = lethe_pread_full(w->job->in_fd, buf, len, (off_t)off);

	if (got < 0)
		return worker_fail(w, (int)got, IO_READ_IN, off);
	if ((size_t)got < len)
		return worker_fail(w, -EBADMSG, IO_SHORT_IN, off + (uint64_t)got);
	return 0;
}

static int worker_loop(struct worker *w, struct hasher *h, uint8_t *buf, uint8_t *hblock)
{
	struct level_job *job = w->job;
	const struct tree *t = job->t;
	uint64_t per_chunk = CHUNK_SIZE / job->in_bs ? CHUNK_SIZE / job->in_bs : 1;
	uint64_t b = w->b0, hindex = w->b0 / t->hash_per_block;
	uint8_t digest[LETHE_VERITY_MAX_DIGEST_SIZE];
	uint32_t fill = 0;
	int r;

	while (b < w->b1) {
		uint64_t n = w->b1 - b < per_chunk ? w->b1 - b : per_chunk;
		uint64_t off = job->in_off + b * job->in_bs;

		if ((r = input_fetch(w, buf, off, n * job->in_bs)) < 0)
			return r;
		for (uint64_t i = 0; i < n; i++, b++) {
			uint8_t *slot = hblock + (size_t)fill * t->digest_size;

			if (job->verify && fill == 0 &&
			    (r = hash_block_io(w, hblock, hindex, false)) < 0)
				return r;
			if (hasher_block(h, buf + i * job->in_bs, job->in_bs,
					 job->verify ? digest : slot) < 0)
				return worker_fail(w, -EIO, IO_CRYPTO, 0);
			if (job->verify && !lethe_memeq_consttime(digest, slot, t->digest_size)) {
				/* Ranges are ordered: keep the smallest block number of all. */
				uint64_t cur = atomic_load(&job->first_bad);

				while (b < cur &&
				       !atomic_compare_exchange_weak(&job->first_bad, &cur, b))
					;
				return 0;
			}
			if (++fill < t->hash_per_block && b + 1 < w->b1)
				continue;
			if (!job->verify) {
				memset(hblock + (size_t)fill * t->digest_size, 0,
				       t->hash_block_size - (size_t)fill * t->digest_size);
				if ((r = hash_block_io(w, hblock, hindex, true)) < 0)
					return r;
			}
			hindex++;
			fill = 0;
		}
		report_progress(job, n);
		/* An earlier range already failed: what this one finds no longer matters. */
		if (job->verify && atomic_load(&job->first_bad) < w->b0)
			return 0;
	}
	return 0;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	const struct tree *t = w->job->t;
	uint64_t per_chunk = CHUNK_SIZE / w->job->in_bs ? CHUNK_SIZE / w->job->in_bs : 1;
	struct hasher h = { 0 };
	uint8_t *buf = malloc(per_chunk * w->job->in_bs);
	uint8_t *hblock = malloc(t->hash_block_size);

	if (!buf || !hblock)
		worker_fail(w, -ENOMEM, IO_NOMEM, 0);
	else if (hasher_init(&h, t) < 0)
		worker_fail(w, -EIO, IO_CRYPTO, 0);
	else
		worker_loop(w, &h, buf, hblock);
	hasher_release(&h);
	free(buf);
	free(hblock);
	return NULL;
}

static unsigned threads_for(const struct level_job *job, unsigned max_threads)
{
	uint64_t groups = (job->nblocks + job->t->hash_per_block - 1) / job->t->hash_per_block;
	uint64_t by_size = job->nblocks * job->in_bs / MIN_BYTES_PER_THREAD;
	uint64_t n = max_threads;

	if (n > groups)
		n = groups;
	if (n > by_size)
		n = by_size;
	return n ? (unsigned)n : 1;
}

static int worker_error(const struct worker *w, const char *in_path, const char *hash_path)
{
	switch (w->what) {
	case IO_READ_IN:
		return lethe_error(w->err, "cannot read '%s' at offset %llu: %s", in_path,
				   (unsigned long long)w->at, strerror(-w->err));
	case IO_SHORT_IN:
		return lethe_error(w->err,
				   "'%s' ends at offset %llu, before the last block it "
				   "should hold (did it shrink?)",
				   in_path, (unsigned long long)w->at);
	case IO_READ_HASH:
		return lethe_error(w->err, "cannot read '%s' at offset %llu: %s", hash_path,
				   (unsigned long long)w->at, strerror(-w->err));
	case IO_SHORT_HASH:
		return lethe_error(w->err,
				   "'%s' is truncated at offset %llu, inside the hash "
				   "tree",
				   hash_path, (unsigned long long)w->at);
	case IO_WRITE_HASH:
		return lethe_error(w->err, "cannot write '%s' at offset %llu: %s", hash_path,
				   (unsigned long long)w->at, strerror(-w->err));
	case IO_NOMEM:
		return -ENOMEM;
	case IO_CRYPTO:
	case IO_NONE:
		break;
	}
	return lethe_error(w->err ? w->err : -EIO, "hashing failed in OpenSSL");
}

/* Run one level on up to max_threads threads. On a verify mismatch, returns 1 and the
 * first bad block in *ret_bad. */
static int run_level(struct level_job *job, unsigned max_threads, const char *in_path,
		     const char *hash_path, uint64_t *ret_bad)
{
	unsigned n = threads_for(job, max_threads), started = 0;
	uint64_t groups = (job->nblocks + job->t->hash_per_block - 1) / job->t->hash_per_block;
	struct worker *w = calloc(n, sizeof(*w));
	int r = 0;

	if (!w)
		return -ENOMEM;
	atomic_store(&job->first_bad, UINT64_MAX);
	atomic_store(&job->done_blocks, 0);
	atomic_store(&job->next_log_ns, now_ns() + 500000000);
	for (unsigned i = 0; i < n; i++) {
		uint64_t g0 = groups / n * i + (i < groups % n ? i : groups % n);
		uint64_t g1 = groups / n * (i + 1) + (i + 1 < groups % n ? i + 1 : groups % n);

		w[i].job = job;
		w[i].b0 = g0 * job->t->hash_per_block;
		w[i].b1 = g1 * job->t->hash_per_block;
		if (w[i].b1 > job->nblocks)
			w[i].b1 = job->nblocks;
	}
	/* This thread takes the first range itself. */
	for (unsigned i = 1; i < n; i++) {
		r = -pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
		if (r < 0)
			break;
		started++;
	}
	if (r == 0)
		worker_run(&w[0]);
	for (unsigned i = 1; i <= started; i++)
		pthread_join(w[i].thread, NULL);
	if (r < 0) {
		free(w);
		return lethe_error(r, "cannot start a hashing thread: %s", strerror(-r));
	}
	if (job->progress) /* an empty progress line: the terminal's line is clear again */
		lethe_log(LETHE_LOG_PROGRESS, "%s", "");
	for (unsigned i = 0; i < n && r == 0; i++)
		if (w[i].err)
			r = worker_error(&w[i], in_path, hash_path);
	free(w);
	if (r < 0)
		return r;
	if (job->verify && atomic_load(&job->first_bad) != UINT64_MAX) {
		*ret_bad = atomic_load(&job->first_bad);
		return 1;
	}
	return 0;
}

static unsigned default_threads(unsigned threads)
{
	cpu_set_t set;
	long n;

	if (threads)
		return threads > LETHE_VERITY_MAX_THREADS ? LETHE_VERITY_MAX_THREADS : threads;
	/* The CPUs this process may run on (taskset, cpusets), else every online one. */
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	else
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > LETHE_VERITY_MAX_THREADS ? LETHE_VERITY_MAX_THREADS : (unsigned)n;
}

static int tree_init(struct tree *t, const struct lethe_verity_params *p,
		     const struct verity_layout *l)
{
	*t = (struct tree){
		.md = !strcmp(p->hash_name, "sha512") ? EVP_sha512() : EVP_sha256(),
		.digest_size = l->digest_size,
		.salt = p->salt,
		.salt_size = p->salt_size,
		.hash_block_size = p->hash_block_size,
		.hash_per_block = 1u << l->hash_per_block_bits,
	};
	return t->md ? 0 : lethe_error(-EIO, "OpenSSL has no %s", p->hash_name);
}

/* The root hash: the digest of the top hash block, or of the only data block. */
static int root_digest(const struct tree *t, const struct lethe_verity_params *p,
		       const struct verity_layout *l, int data_fd, int hash_fd,
		       const char *data_path, const char *hash_path, uint8_t *out)
{
	bool top = l->levels > 0;
	uint32_t bs = top ? p->hash_block_size : p->data_block_size;
	uint64_t off = top ? l->level_block[l->levels - 1] * p->hash_block_size : 0;
	int fd = top ? hash_fd : data_fd;
	const char *path = top ? hash_path : data_path;
	struct hasher h = { 0 };
	uint8_t *buf = malloc(bs);
	ssize_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	n = lethe_pread_full(fd, buf, bs, (off_t)off);
	if (n < 0)
		r = lethe_error((int)n, "cannot read '%s' at offset %llu: %s", path,
				(unsigned long long)off, strerror((int)-n));
	else if ((size_t)n < bs)
		r = lethe_error(-EBADMSG, "'%s' is truncated at offset %llu", path,
				(unsigned long long)off);
	else if (hasher_init(&h, t) < 0 || hasher_block(&h, buf, bs, out) < 0)
		r = lethe_error(-EIO, "hashing failed in OpenSSL");
	else
		r = 0;
	hasher_release(&h);
	free(buf);
	return r;
}

static int file_size(int fd, const char *path, uint64_t *ret)
{
	off_t end = lseek(fd, 0, SEEK_END);

	if (end < 0)
		return lethe_error(-errno, "cannot find the size of '%s': %s", path,
				   strerror(errno));
	*ret = (uint64_t)end;
	return 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!b || !strcmp(a, b))
		return true;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Work out data_blocks when the caller left it 0, and check that the data is there. */
static int settle_data_blocks(struct lethe_verity_params *p, const char *data_path, uint64_t size,
			      bool append)
{
	uint32_t dbs = p->data_block_size;

	if (p->data_blocks == 0 && append) {
		if (p->hash_offset == 0 || p->hash_offset % dbs)
			return lethe_error(-EBADMSG,
					   "'%s': with the tree inside the data file, give "
					   "the number of data blocks or a hash offset that is a "
					   "multiple of the data block size %u",
					   data_path, dbs);
		p->data_blocks = p->hash_offset / dbs;
	} else if (p->data_blocks == 0) {
		if (size == 0)
			return lethe_error(-EBADMSG,
					   "'%s' is empty: there is no data block to "
					   "protect",
					   data_path);
		if (size % dbs)
			return lethe_error(
				-EBADMSG,
				"'%s' is %llu bytes, not a multiple of the data "
				"block size %u: pad it, or give the number of data blocks "
				"to protect",
				data_path, (unsigned long long)size, dbs);
		p->data_blocks = size / dbs;
	}
	if (p->data_blocks > (uint64_t)INT64_MAX / dbs || p->data_blocks * dbs > size)
		return lethe_error(-EBADMSG,
				   "'%s' is %llu bytes, too short for %llu data blocks "
				   "of %u bytes",
				   data_path, (unsigned long long)size,
				   (unsigned long long)p->data_blocks, dbs);
	if (append && p->data_blocks * dbs > p->hash_offset)
		return lethe_error(-EBADMSG,
				   "'%s': the data (%llu bytes) overlaps the hash tree at "
				   "offset %llu",
				   data_path, (unsigned long long)(p->data_blocks * dbs),
				   (unsigned long long)p->hash_offset);
	return 0;
}

/* A UUID for the superblock that depends only on the tree: SHA-256 of a label and the
 * root hash, first 16 bytes, marked as an RFC 4122 version 4 (random-looking) UUID. */
static int derive_uuid(struct lethe_verity_params *p, const uint8_t *root, size_t len)
{
	static const char label[] = "lethe-verity-uuid-v1";
	uint8_t d[LETHE_SHA256_BYTES];
	struct lethe_sha256 h;
	int r = lethe_sha256_init(&h);

	if (r < 0)
		return r;
	lethe_sha256_update(&h, label, sizeof(label));
	lethe_sha256_update(&h, root, len);
	if (lethe_sha256_final(&h, d) < 0)
		return lethe_error(-EIO, "hashing failed in OpenSSL");
	memcpy(p->uuid, d, 16);
	p->uuid[6] = (uint8_t)((p->uuid[6] & 0x0f) | 0x40);
	p->uuid[8] = (uint8_t)((p->uuid[8] & 0x3f) | 0x80);
	return 0;
}

static bool uuid_is_zero(const uint8_t uuid[16])
{
	for (int i = 0; i < 16; i++)
		if (uuid[i])
			return false;
	return true;
}

/* Write the superblock block: the 512 bytes and zeros up to the first hash block. */
static int write_superblock(const struct lethe_verity_params *p, const struct verity_layout *l,
			    int fd, const char *path)
{
	uint64_t len = l->hash_area_block * p->hash_block_size - p->hash_offset;
	uint8_t *buf = calloc(1, len);
	int r;

	if (!buf)
		return -ENOMEM;
	r = lethe_verity_superblock_build(p, buf);
	if (r == 0) {
		r = lethe_pwrite_full(fd, buf, len, (off_t)p->hash_offset);
		if (r < 0)
			r = lethe_error(r, "cannot write '%s': %s", path, strerror(-r));
	}
	free(buf);
	return r;
}

static int build_levels(const struct tree *t, const struct lethe_verity_params *p,
			const struct verity_layout *l, int data_fd, int hash_fd,
			const char *data_path, const char *hash_path)
{
	unsigned threads = default_threads(p->threads);
	uint64_t bad;
	int r;

	for (unsigned i = 0; i < l->levels; i++) {
		struct level_job job = {
			.t = t,
			.in_fd = i ? hash_fd : data_fd,
			.in_off = i ? l->level_block[i - 1] * p->hash_block_size : 0,
			.in_bs = i ? p->hash_block_size : p->data_block_size,
			.nblocks = i ? l->level_size[i - 1] : p->data_blocks,
			.hash_fd = hash_fd,
			.out_off = l->level_block[i] * p->hash_block_size,
			.progress_what = "hashing",
		};

		job.progress = job.nblocks * job.in_bs >= PROGRESS_MIN_BYTES;
		r = run_level(&job, threads, i ? hash_path : data_path, hash_path, &bad);
		if (r < 0)
			return r;
	}
	return 0;
}

static int format_into(struct lethe_verity_params *p, const struct verity_layout *l, int data_fd,
		       int hash_fd, const char *data_path, const char *hash_path, uint8_t *root)
{
	struct tree t;
	int r;

	r = tree_init(&t, p, l);
	if (r < 0)
		return r;
	r = build_levels(&t, p, l, data_fd, hash_fd, data_path, hash_path);
	if (r < 0)
		return r;
	r = root_digest(&t, p, l, data_fd, hash_fd, data_path, hash_path, root);
	if (r < 0)
		return r;
	if (!p->no_superblock) {
		if (uuid_is_zero(p->uuid) && (r = derive_uuid(p, root, l->digest_size)) < 0)
			return r;
		r = write_superblock(p, l, hash_fd, hash_path);
	}
	return r;
}

/* Where the tree goes: the data file itself (append), extended if need be, or a new
 * file written atomically. */
static int output_open(bool append, int data_fd, const char *data_path, const char *hash_path,
		       uint64_t size, uint64_t end, struct lethe_atomic_file *af, int *ret_fd)
{
	int r;

	if (append) {
		if (size < end && ftruncate(data_fd, (off_t)end) < 0)
			return lethe_error(-errno, "cannot extend '%s': %s", data_path,
					   strerror(errno));
		*ret_fd = data_fd;
		return 0;
	}
	r = lethe_atomic_open(af, hash_path, 0644);
	if (r < 0)
		return r;
	if (ftruncate(af->fd, (off_t)end) < 0)
		return lethe_error(-errno, "cannot size '%s': %s", hash_path, strerror(errno));
	*ret_fd = af->fd;
	return 0;
}

static int output_commit(bool append, int data_fd, const char *data_path,
			 struct lethe_atomic_file *af)
{
	if (!append)
		return lethe_atomic_commit(af);
	if (fsync(data_fd) < 0)
		return lethe_error(-errno, "cannot sync '%s': %s", data_path, strerror(errno));
	return 0;
}

/* Check p before touching any file, so that a bad value is named as such rather than
 * as a size error. */
static int format_check_params(const struct lethe_verity_params *p, const char *hash_path,
			       bool append, size_t root_hash_len)
{
	struct lethe_verity_params probe = *p;
	struct verity_layout l;
	struct stat st;
	int r;

	if (!append && stat(hash_path, &st) == 0 && !S_ISREG(st.st_mode))
		return lethe_error(-EINVAL,
				   "'%s' is not a regular file: Lethe writes hash trees "
				   "to files only",
				   hash_path);
	probe.data_blocks = probe.data_blocks ? probe.data_blocks : 1;
	if ((r = verity_layout_compute(&probe, "parameters", &l)) < 0)
		return r;
	if (l.digest_size > root_hash_len)
		return lethe_error(-EINVAL, "root hash buffer of %zu bytes is too small for %s",
				   root_hash_len, p->hash_name);
	return 0;
}

int lethe_verity_format(const char *data_path, const char *hash_path, struct lethe_verity_params *p,
			uint8_t *root_hash_out, size_t root_hash_len)
{
	struct lethe_verity_params work = *p;
	struct lethe_atomic_file af = { .fd = -1 };
	uint8_t root[LETHE_VERITY_MAX_DIGEST_SIZE];
	struct verity_layout l = { 0 };
	bool append = same_file(data_path, hash_path);
	uint64_t size = 0;
	int data_fd, hash_fd = -1, r;

	if (!hash_path)
		hash_path = data_path;
	if ((r = format_check_params(p, hash_path, append, root_hash_len)) < 0)
		return r;
	data_fd = lethe_open_input(AT_FDCWD, data_path, append ? O_RDWR : O_RDONLY, true, NULL);
	if (data_fd < 0)
		return data_fd;
	if ((r = file_size(data_fd, data_path, &size)) < 0 ||
	    (r = settle_data_blocks(&work, data_path, size, append)) < 0 ||
	    (r = verity_layout_compute(&work, data_path, &l)) < 0 ||
	    (r = output_open(append, data_fd, data_path, hash_path, size, l.end, &af, &hash_fd)) <
		    0 ||
	    (r = format_into(&work, &l, data_fd, hash_fd, data_path, hash_path, root)) < 0 ||
	    (r = output_commit(append, data_fd, data_path, &af)) < 0) {
		/* Append mode cannot be atomic; at least give the file back its size. */
		if (append && hash_fd >= 0 && size < l.end && ftruncate(data_fd, (off_t)size) < 0)
			lethe_log(LETHE_LOG_WARNING, "cannot truncate '%s' back to %llu bytes",
				  data_path, (unsigned long long)size);
		goto out;
	}
	memcpy(root_hash_out, root, l.digest_size);
	p->data_blocks = work.data_blocks;
	memcpy(p->uuid, work.uuid, sizeof(p->uuid));
out:
	lethe_atomic_abort(&af);
	close(data_fd);
	return r;
}

static int read_superblock(int fd, const char *path, uint64_t offset, struct lethe_verity_params *p)
{
	uint8_t buf[LETHE_VERITY_SUPERBLOCK_SIZE];
	struct lethe_verity_superblock *sb = malloc(sizeof(*sb));
	ssize_t n;
	int r;

	if (!sb)
		return -ENOMEM;
	n = lethe_pread_full(fd, buf, sizeof(buf), (off_t)offset);
	if (n < 0)
		r = lethe_error((int)n, "cannot read '%s': %s", path, strerror((int)-n));
	else if ((size_t)n < sizeof(buf))
		r = lethe_error(-EBADMSG, "'%s' has no verity superblock at offset %llu (%s)", path,
				(unsigned long long)offset,
				n ? "file too short" : "empty or ends there");
	else if ((r = lethe_verity_superblock_parse(buf, sizeof(buf), sb)) < 0)
		r = verity_error_prefix(r, path, offset);
	if (r == 0) {
		/* The algorithm name must outlive sb: take the static string. */
		lethe_verity_params_from_superblock(p, sb);
		p->hash_name = !strcmp(sb->algorithm, "sha512") ? "sha512" : "sha256";
	}
	free(sb);
	return r;
}

static int check_root(const struct tree *t, const struct lethe_verity_params *p,
		      const struct verity_layout *l, int data_fd, int hash_fd,
		      const char *data_path, const char *hash_path, const uint8_t *root)
{
	uint8_t d[LETHE_VERITY_MAX_DIGEST_SIZE];
	int r = root_digest(t, p, l, data_fd, hash_fd, data_path, hash_path, d);

	if (r < 0)
		return r;
	if (lethe_memeq_consttime(d, root, l->digest_size))
		return 0;
	if (l->levels == 0)
		return lethe_error(-EBADMSG,
				   "'%s': data block 0 (offset 0) does not match the "
				   "root hash",
				   data_path);
	return lethe_error(
		-EBADMSG,
		"'%s': top hash block (level %u, offset %llu) does not "
		"match the root hash: wrong root hash, or the superblock (salt, "
		"sizes) or the tree was altered",
		hash_path, l->levels - 1,
		(unsigned long long)(l->level_block[l->levels - 1] * p->hash_block_size));
}

/* From the top down: each level is checked against the one above it, already checked,
 * so the first mismatch names the block that was actually altered. */
static int check_levels(const struct tree *t, const struct lethe_verity_params *p,
			const struct verity_layout *l, int data_fd, int hash_fd,
			const char *data_path, const char *hash_path)
{
	unsigned threads = default_threads(p->threads);
	uint64_t bad = 0;
	int r;

	for (int i = (int)l->levels - 1; i >= 0; i--) {
		struct level_job job = {
			.t = t,
			.in_fd = i ? hash_fd : data_fd,
			.in_off = i ? l->level_block[i - 1] * p->hash_block_size : 0,
			.in_bs = i ? p->hash_block_size : p->data_block_size,
			.nblocks = i ? l->level_size[i - 1] : p->data_blocks,
			.hash_fd = hash_fd,
			.out_off = l->level_block[i] * p->hash_block_size,
			.verify = true,
			.progress_what = "verifying",
		};

		job.progress = job.nblocks * job.in_bs >= PROGRESS_MIN_BYTES;
		r = run_level(&job, threads, i ? hash_path : data_path, hash_path, &bad);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (i == 0)
			return lethe_error(-EBADMSG,
					   "'%s': data block %llu (offset %llu) is corrupt: "
					   "it does not match its hash in '%s'",
					   data_path, (unsigned long long)bad,
					   (unsigned long long)(bad * p->data_block_size),
					   hash_path);
		return lethe_error(-EBADMSG,
				   "'%s': hash block %llu of level %d (offset %llu) is "
				   "corrupt: it does not match its hash in level %d",
				   hash_path, (unsigned long long)bad, i - 1,
				   (unsigned long long)(job.in_off + bad * p->hash_block_size), i);
	}
	return 0;
}

static int verify_open(const char *data_path, const char *hash_path, int *data_fd, int *hash_fd)
{
	*data_fd = lethe_open_input(AT_FDCWD, data_path, O_RDONLY, true, NULL);
	if (*data_fd < 0)
		return *data_fd;
	if (same_file(data_path, hash_path)) {
		*hash_fd = *data_fd;
		return 0;
	}
	*hash_fd = lethe_open_input(AT_FDCWD, hash_path, O_RDONLY, true, NULL);
	if (*hash_fd < 0) {
		int r = *hash_fd;

		close(*data_fd);
		return r;
	}
	return 0;
}

static int check_sizes(const struct lethe_verity_params *p, const struct verity_layout *l,
		       int data_fd, int hash_fd, const char *data_path, const char *hash_path)
{
	uint64_t dsize = 0, hsize = 0;
	int r;

	if ((r = file_size(data_fd, data_path, &dsize)) < 0 ||
	    (r = file_size(hash_fd, hash_path, &hsize)) < 0)
		return r;
	if (dsize < p->data_blocks * p->data_block_size)
		return lethe_error(-EBADMSG,
				   "'%s' is truncated: %llu bytes, the tree covers %llu "
				   "data blocks of %u bytes",
				   data_path, (unsigned long long)dsize,
				   (unsigned long long)p->data_blocks, p->data_block_size);
	if (hsize < l->end)
		return lethe_error(-EBADMSG,
				   "'%s' is truncated: %llu bytes, the hash tree needs "
				   "%llu",
				   hash_path, (unsigned long long)hsize,
				   (unsigned long long)l->end);
	/* As veritysetup, accept a larger data file (a partition larger than its file
	 * system), but say that its tail is not covered. */
	if (data_fd != hash_fd && dsize > p->data_blocks * p->data_block_size)
		lethe_log(LETHE_LOG_WARNING,
			  "'%s' has %llu bytes after the %llu protected "
			  "blocks: the tree does not cover them",
			  data_path,
			  (unsigned long long)(dsize - p->data_blocks * p->data_block_size),
			  (unsigned long long)p->data_blocks);
	return 0;
}

int lethe_verity_verify(const char *data_path, const char *hash_path, const uint8_t *root_hash,
			size_t root_hash_len, const struct lethe_verity_params *params)
{
	struct lethe_verity_params p;
	struct verity_layout l;
	struct tree t;
	uint64_t size;
	int data_fd = -1, hash_fd = -1, r;

	if (params)
		p = *params;
	else
		lethe_verity_params_init(&p);
	if (!hash_path)
		hash_path = data_path;
	r = verify_open(data_path, hash_path, &data_fd, &hash_fd);
	if (r < 0)
		return r;
	if (!p.no_superblock && (r = read_superblock(hash_fd, hash_path, p.hash_offset, &p)) < 0)
		goto out;
	/* Without a superblock, the data file's size gives the block count, as in format. */
	if (p.no_superblock && p.data_blocks == 0 &&
	    ((r = file_size(data_fd, data_path, &size)) < 0 ||
	     (r = settle_data_blocks(&p, data_path, size, hash_fd == data_fd)) < 0))
		goto out;
	if ((r = verity_layout_compute(&p, hash_path, &l)) < 0)
		goto out;
	if (root_hash_len != l.digest_size) {
		r = lethe_error(-EBADMSG, "root hash has %zu bytes, %s needs %zu", root_hash_len,
				p.hash_name, l.digest_size);
		goto out;
	}
	if ((r = check_sizes(&p, &l, data_fd, hash_fd, data_path, hash_path)) < 0 ||
	    (r = tree_init(&t, &p, &l)) < 0 ||
	    (r = check_root(&t, &p, &l, data_fd, hash_fd, data_path, hash_path, root_hash)) < 0)
		goto out;
	r = check_levels(&t, &p, &l, data_fd, hash_fd, data_path, hash_path);
out:
	if (hash_fd != data_fd)
		close(hash_fd);
	close(data_fd);
	return r;
}
