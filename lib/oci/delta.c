/* Delta pulls (issue 18, performance): the new rootfs.erofs assembled from the blocks a
 * local root image already holds and Range requests for the others. The block index is
 * level 0 of the new release's dm-verity tree (rootfs.verity, fetched and checked
 * against the signed SHA256SUMS first): one SHA-256 per 4 KiB block, as RAUC's adaptive
 * updates publish in their block-hash-index, here salted, so the local image is hashed
 * with the new tree's salt. A block is taken from wherever it is in the local image
 * (a changed package moves the files after it); each block is checked against its
 * digest before it is written, and the file against SHA256SUMS before it is renamed;
 * the release is then verified whole as after any pull. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/release.h>
#include <lethe/sums.h>
#include <lethe/verity.h>

#include "oci-internal.h"

#define DELTA_RUN_BLOCKS  256 /* blocks per Range request at most (1 MiB of 4 KiB) */
#define DELTA_READ	  (1u << 20)
#define DELTA_BASE_BLOCKS (1ull << 22) /* of the local image indexed: 16 GiB of 4 KiB */

struct have {
	uint8_t digest[32];
	uint64_t block; /* in the local image */
};

struct delta {
	struct lethe_verity_params p;
	uint8_t *leaves; /* the new image's digests, p.data_blocks of them */
	struct have *have;
	size_t n_have;
	int base_fd, part_fd;
	uint8_t *buf; /* DELTA_READ bytes */
};

static int cmp_have(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Hash every whole block of the local image (its first limit bytes; 0: all) under the new
 * tree's salt. */
static int index_base(struct delta *d, const char *base, uint64_t limit)
{
	uint32_t bs = d->p.data_block_size;
	uint64_t size, nb, off = 0;
	struct stat st;
	int r;

	d->base_fd = lethe_open_input(AT_FDCWD, base, O_RDONLY, true, &st);
	if (d->base_fd < 0)
		return d->base_fd;
	size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(d->base_fd, BLKGETSIZE64, &size) < 0)
		return lethe_error(-errno, "cannot read the size of '%s': %m", base);
	if (limit && size > limit)
		size = limit;
	nb = size / bs;
	if (nb > DELTA_BASE_BLOCKS)
		nb = DELTA_BASE_BLOCKS; /* a larger device: its start, where a root image is */
	d->have = calloc(nb ? nb : 1, sizeof(*d->have));
	if (!d->have)
		return -ENOMEM;
	while (d->n_have < nb) {
		size_t want = (size_t)((nb - d->n_have) * bs < DELTA_READ ? (nb - d->n_have) * bs
									  : DELTA_READ);
		ssize_t n = lethe_pread_full(d->base_fd, d->buf, want, (off_t)off);

		if (n < 0)
			return lethe_error((int)n, "cannot read '%s': %s", base, strerror((int)-n));
		if ((size_t)n < want)
			break;
		for (size_t k = 0; k + bs <= (size_t)n; k += bs) {
			struct have *h = &d->have[d->n_have];

			r = lethe_verity_hash_block(&d->p, d->buf + k, h->digest);
			if (r < 0)
				return r;
			h->block = d->n_have++;
		}
		off += (uint64_t)n;
	}
	qsort(d->have, d->n_have, sizeof(*d->have), cmp_have);
	return 0;
}

static int block_mismatch(const struct oci_client *c, const struct oci_item *it, uint64_t b,
			  uint32_t bs)
{
	return lethe_error(-LETHE_E_INVALID,
			   "%s: block %llu (offset %llu) of '%s' from '%s' does not match its "
			   "digest in '%s'",
			   it->what, (unsigned long long)b, (unsigned long long)b * bs, it->name,
			   c->host, lethe_release_name(LETHE_ARTIFACT_VERITY));
}

/* Copy block b of the new image from the local image, if it is there: 1 copied, 0 not. */
static int from_base(struct delta *d, uint64_t b)
{
	uint32_t bs = d->p.data_block_size;
	const uint8_t *want = d->leaves + b * 32;
	struct have *h = bsearch(want, d->have, d->n_have, sizeof(*d->have), cmp_have);
	uint8_t got[32];
	ssize_t n;
	int r;

	if (!h)
		return 0;
	n = lethe_pread_full(d->base_fd, d->buf, bs, (off_t)(h->block * bs));
	if (n != (ssize_t)bs)
		return n < 0 ? (int)n : -EIO;
	/* Hashed again: the local image may have changed since it was indexed. */
	r = lethe_verity_hash_block(&d->p, d->buf, got);
	if (r < 0)
		return r;
	if (memcmp(got, want, 32))
		return 0;
	r = lethe_pwrite_full(d->part_fd, d->buf, bs, (off_t)(b * bs));
	return r < 0 ? r : 1;
}

int oci_fetch_range(struct oci_client *c, const struct oci_item *it, int fd, uint64_t start,
		    uint64_t end, uint64_t *ret_end)
{
	struct oci_sink sink = {
		.fd = fd, .offset = start, .max = end ? end : LETHE_OCI_BLOB_MAX, .range_only = true
	};
	struct oci_response resp = { 0 };
	const char *hl[2] = { NULL, NULL };
	char range[80];
	int r;

	if (end)
		snprintf(range, sizeof(range), "Range: bytes=%llu-%llu", (unsigned long long)start,
			 (unsigned long long)(end - 1));
	else
		snprintf(range, sizeof(range), "Range: bytes=%llu-", (unsigned long long)start);
	hl[0] = range;
	r = oci_request(c, "GET", it->url, hl, NULL, &sink, &resp);
	if (c->stats)
		c->stats->ranges++;
	if (r == -EPROTONOSUPPORT || (r >= 0 && resp.status == 200))
		r = -EPROTONOSUPPORT;
	else if (r >= 0 && resp.status == 416 && !end)
		r = 0; /* nothing from start on: the file ends there */
	else if (r >= 0 && resp.status != 206)
		r = oci_status_error(c, resp.status == 404 ? -ENOENT : -EIO, it->what, &resp);
	else if (r >= 0 && end && sink.offset != end)
		r = lethe_error(-LETHE_E_INVALID, "%s: '%s' sent %llu bytes for a range of %llu",
				it->what, c->host, (unsigned long long)(sink.offset - start),
				(unsigned long long)(end - start));
	oci_response_release(&resp);
	if (r >= 0 && ret_end)
		*ret_end = sink.offset;
	return r;
}

/* Blocks [b0, b1) with one Range request, each checked before the next. */
static int fetch_run(struct oci_client *c, const struct oci_item *it, struct delta *d, uint64_t b0,
		     uint64_t b1)
{
	uint32_t bs = d->p.data_block_size;
	int r = oci_fetch_range(c, it, d->part_fd, b0 * bs, b1 * bs, NULL);

	for (uint64_t b = b0; b < b1 && r >= 0; b++) {
		uint8_t got[32];
		ssize_t n = lethe_pread_full(d->part_fd, d->buf, bs, (off_t)(b * bs));

		if (n != (ssize_t)bs)
			return n < 0 ? (int)n : -EIO;
		r = lethe_verity_hash_block(&d->p, d->buf, got);
		if (r >= 0 && !lethe_memeq_consttime(got, d->leaves + b * 32, 32))
			r = block_mismatch(c, it, b, bs);
	}
	return r;
}

static int assemble(struct oci_client *c, const struct oci_item *it, struct delta *d)
{
	uint64_t nb = d->p.data_blocks, run = 0, reused = 0;
	uint32_t bs = d->p.data_block_size;
	int r = 0;

	if (ftruncate(d->part_fd, (off_t)(nb * bs)) < 0)
		return -errno;
	for (uint64_t b = 0; b <= nb && r >= 0; b++) {
		int got = 0;

		if (b < nb) {
			got = from_base(d, b);
			if (got < 0)
				return got;
			reused += (uint64_t)got;
		}
		if (!got && b < nb && run < DELTA_RUN_BLOCKS) {
			run++; /* fetched with the blocks missing before it */
			continue;
		}
		if (run)
			r = fetch_run(c, it, d, b - run, b);
		run = !got && b < nb; /* a full run: this block starts the next one */
	}
	if (r < 0)
		return r;
	if (c->stats)
		c->stats->bytes_reused += reused * bs;
	lethe_log(LETHE_LOG_INFO, "pull: %s: %llu of %llu blocks from the local image", it->name,
		  (unsigned long long)reused, (unsigned long long)nb);
	return 0;
}

int oci_fetch_delta(struct oci_client *c, const struct oci_item *item, const char *stage,
		    const char *base, uint64_t base_limit)
{
	struct delta d = { .base_fd = -1, .part_fd = -1 };
	char *vpath = lethe_path_join(stage, lethe_release_name(LETHE_ARTIFACT_VERITY));
	char *final = lethe_path_join(stage, item->name), *part = NULL;
	uint8_t got[32];
	int r;

	if (!vpath || !final || asprintf(&part, "%s.part", final) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (access(vpath, F_OK) < 0) {
		r = -EPROTONOSUPPORT; /* not fetched (a subset): no index to go by */
		goto out;
	}
	r = lethe_verity_read_leaves(vpath, &d.p, &d.leaves);
	if (r == -EOPNOTSUPP) {
		r = -EPROTONOSUPPORT; /* no index to go by: the caller fetches whole */
		goto out;
	}
	if (r >= 0 && item->size && d.p.data_blocks * d.p.data_block_size != item->size)
		r = lethe_error(-LETHE_E_INVALID, "%s: '%s' describes %llu bytes, not %llu",
				item->what, lethe_release_name(LETHE_ARTIFACT_VERITY),
				(unsigned long long)(d.p.data_blocks * d.p.data_block_size),
				(unsigned long long)item->size);
	if (r < 0)
		goto out;
	d.buf = malloc(DELTA_READ);
	if (!d.buf) {
		r = -ENOMEM;
		goto out;
	}
	r = index_base(&d, base, base_limit);
	if (r < 0)
		goto out;
	unlink(part); /* what a whole fetch left is of no use here */
	d.part_fd = open(part, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (d.part_fd < 0) {
		r = lethe_error(-errno, "cannot create '%s': %m", part);
		goto out;
	}
	r = assemble(c, item, &d);
	if (r >= 0)
		r = lethe_sums_sha256_file(AT_FDCWD, part, got);
	if (r >= 0 && !lethe_memeq_consttime(got, item->sha256, 32)) {
		char want[72], have[72];

		oci_digest_string(item->sha256, want);
		oci_digest_string(got, have);
		r = lethe_error(-LETHE_E_INVALID, "%s: '%s' assembled is not %s (got %s)",
				item->what, item->name, want, have);
	}
	if (r >= 0 && (fsync(d.part_fd) < 0 || rename(part, final) < 0))
		r = lethe_error(-errno, "cannot rename '%s' to '%s': %m", part, final);
	if (r >= 0 && c->stats)
		c->stats->files++;
out:
	if (r < 0 && part && d.part_fd >= 0)
		unlink(part);
	if (d.part_fd >= 0)
		close(d.part_fd);
	if (d.base_fd >= 0)
		close(d.base_fd);
	free(d.leaves);
	free(d.have);
	free(d.buf);
	free(vpath);
	free(final);
	free(part);
	return r;
}
