/* Delta fetches of the UKI (issue 18, performance). A UKI is the systemd stub, a few
 * small sections (.osrel, .cmdline, .uname) and two large ones: .linux, the kernel
 * (vmlinuz), and .initrd (initramfs.img), 99% of its bytes. An update that changes a
 * package of the root changes .cmdline (the root hash) and .osrel, but not the kernel
 * or the initramfs, and the UKI the machine boots already holds those. So the new UKI's
 * headers are fetched first (a Range request), its .linux and .initrd are copied from
 * the local UKI when their contents' SHA-256 are what the signed SHA256SUMS lists for
 * vmlinuz and initramfs.img, and the rest is fetched by range. No index is needed
 * beyond the signed sums; the file is checked whole against them before it is renamed,
 * and anything unexpected falls back to fetching it whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/release.h>
#include <lethe/sums.h>
#include <lethe/uefi.h>

#include "oci-internal.h"

#define UKI_HEAD 4096 /* fetched first: the headers and section table are in it */

/* A section the new UKI shares with the local one, by its content's digest. */
struct reuse {
	const char *section;		  /* ".linux", ".initrd" */
	enum lethe_release_artifact from; /* the release file it is made of */
	uint8_t sha256[32];		  /* that file's, from the signed SHA256SUMS */
	bool listed, local;		  /* in SHA256SUMS; found in the local UKI */
	uint64_t local_off, len;	  /* its content in the local UKI */
	uint64_t new_off, new_size;	  /* its raw data in the new one */
};

static int sums_digests(const char *stage, struct reuse *v, size_t n)
{
	char *path = lethe_path_join(stage, lethe_release_name(LETHE_ARTIFACT_SUMS));
	struct lethe_sums s = { 0 };
	int r = path ? lethe_sums_load(path, &s) : -ENOMEM;

	for (size_t i = 0; i < s.n && r >= 0; i++)
		for (size_t k = 0; k < n; k++)
			if (!strcmp(s.v[i].name, lethe_release_name(v[k].from))) {
				memcpy(v[k].sha256, s.v[i].sha256, 32);
				v[k].listed = true;
			}
	lethe_sums_release(&s);
	free(path);
	return r;
}

/* Find the sections of v in the local UKI whose content has the listed digest. */
static int scan_local(const char *base, struct reuse *v, size_t n)
{
	struct lethe_pe pe;
	struct stat st;
	void *map = MAP_FAILED;
	int fd, r;

	fd = lethe_open_input(AT_FDCWD, base, O_RDONLY, true, &st);
	if (fd < 0)
		return fd;
	r = S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size <= LETHE_PE_MAX_SIZE
		    ? 0
		    : -EPROTONOSUPPORT;
	if (r >= 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		r = map == MAP_FAILED ? -errno : lethe_pe_parse(map, (size_t)st.st_size, base, &pe);
	}
	if (r == -LETHE_E_INVALID) {
		lethe_error_clear();
		r = -EPROTONOSUPPORT; /* not a UKI: nothing to take from it */
	}
	for (size_t k = 0; k < n && r >= 0; k++) {
		const struct lethe_pe_section *s = lethe_pe_find(&pe, v[k].section);
		uint8_t got[32];

		if (!s || !v[k].listed)
			continue;
		r = lethe_sha256((const uint8_t *)map + s->raw_offset, lethe_pe_section_len(s),
				 got);
		if (r >= 0 && !memcmp(got, v[k].sha256, 32)) {
			v[k].local = true;
			v[k].local_off = s->raw_offset;
			v[k].len = lethe_pe_section_len(s);
		}
	}
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	close(fd);
	return r;
}

/* Copy the content of a shared section into part, and zeros for the rest of its raw
 * data (the file alignment's padding). */
static int copy_section(const char *base, int part_fd, const struct reuse *x)
{
	static const uint8_t zeros[4096];
	uint8_t *buf = malloc(1u << 20);
	int in = open(base, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r = 0;

	if (!buf || in < 0) {
		r = in < 0 ? lethe_error(-errno, "cannot open '%s': %m", base) : -ENOMEM;
		goto out;
	}
	for (uint64_t done = 0; done < x->len && r >= 0;) {
		size_t want = x->len - done < (1u << 20) ? (size_t)(x->len - done) : (1u << 20);
		ssize_t got = lethe_pread_full(in, buf, want, (off_t)(x->local_off + done));

		if (got != (ssize_t)want)
			r = got < 0 ? (int)got : -EIO;
		else
			r = lethe_pwrite_full(part_fd, buf, want, (off_t)(x->new_off + done));
		done += want;
	}
	for (uint64_t off = x->len; off < x->new_size && r >= 0;) {
		size_t want = x->new_size - off < sizeof(zeros) ? (size_t)(x->new_size - off)
								: sizeof(zeros);

		r = lethe_pwrite_full(part_fd, zeros, want, (off_t)(x->new_off + off));
		off += want;
	}
out:
	if (in >= 0)
		close(in);
	free(buf);
	return r;
}

static int cmp_new_off(const void *a, const void *b)
{
	const struct reuse *x = a, *y = b;

	return x->new_off < y->new_off ? -1 : x->new_off > y->new_off;
}

/* The new UKI's headers into part; then, per section of v it shares with the local
 * one, where its raw data lies in the new file. */
static int place_sections(struct oci_client *c, const struct oci_item *it, int part_fd,
			  struct reuse *v, size_t n, uint64_t *ret_head)
{
	uint8_t head[UKI_HEAD];
	struct lethe_pe pe;
	uint64_t end = 0;
	ssize_t got;
	int r;

	r = oci_fetch_range(c, it, part_fd, 0,
			    it->size && it->size < UKI_HEAD ? it->size : UKI_HEAD, &end);
	if (r < 0)
		return r;
	got = lethe_pread_full(part_fd, head, (size_t)end, 0);
	if (got != (ssize_t)end)
		return got < 0 ? (int)got : -EIO;
	if (lethe_pe_parse_headers(head, (size_t)end, it->name, &pe) < 0) {
		lethe_error_clear();
		return -EPROTONOSUPPORT; /* not a PE image we can read by parts */
	}
	for (size_t k = 0; k < n; k++) {
		const struct lethe_pe_section *s = lethe_pe_find(&pe, v[k].section);

		if (!v[k].local || !s || lethe_pe_section_len(s) != v[k].len || s->raw_offset < end)
			v[k].local = false;
		else {
			v[k].new_off = s->raw_offset;
			v[k].new_size = s->raw_size;
		}
	}
	*ret_head = end;
	return 0;
}

/* Copy the shared sections, fetch what lies between and after them. */
static int assemble(struct oci_client *c, const struct oci_item *it, const char *base, int part_fd,
		    struct reuse *v, size_t n, uint64_t head)
{
	uint64_t at = head, reused = 0, end = 0;
	int r = 0;

	qsort(v, n, sizeof(*v), cmp_new_off);
	for (size_t k = 0; k < n && r >= 0; k++) {
		if (!v[k].local || v[k].new_off < at)
			continue;
		if (v[k].new_off > at)
			r = oci_fetch_range(c, it, part_fd, at, v[k].new_off, NULL);
		if (r >= 0)
			r = copy_section(base, part_fd, &v[k]);
		reused += v[k].len;
		at = v[k].new_off + v[k].new_size;
	}
	if (r >= 0)
		r = oci_fetch_range(c, it, part_fd, at, 0, &end); /* to the end of the file */
	if (r >= 0 && ftruncate(part_fd, (off_t)(end > at ? end : at)) < 0)
		r = -errno;
	if (r >= 0 && c->stats)
		c->stats->bytes_reused += reused;
	if (r >= 0)
		lethe_log(LETHE_LOG_INFO, "pull: %s: %llu bytes of its sections from '%s'",
			  it->name, (unsigned long long)reused, base);
	return r;
}

int oci_fetch_delta_uki(struct oci_client *c, const struct oci_item *item, const char *stage,
			const char *base)
{
	struct reuse v[] = {
		{ .section = ".linux", .from = LETHE_ARTIFACT_KERNEL },
		{ .section = ".initrd", .from = LETHE_ARTIFACT_INITRAMFS },
	};
	char *final = lethe_path_join(stage, item->name), *part = NULL;
	uint64_t head = 0;
	bool any = false;
	uint8_t got[32];
	int part_fd = -1, r;

	if (!final || asprintf(&part, "%s.part", final) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = sums_digests(stage, v, LETHE_ARRAY_SIZE(v));
	if (r >= 0)
		r = scan_local(base, v, LETHE_ARRAY_SIZE(v));
	for (size_t k = 0; k < LETHE_ARRAY_SIZE(v); k++)
		any |= v[k].local;
	if (r >= 0 && !any)
		r = -EPROTONOSUPPORT;
	if (r < 0)
		goto out;
	unlink(part);
	part_fd = open(part, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (part_fd < 0) {
		r = lethe_error(-errno, "cannot create '%s': %m", part);
		goto out;
	}
	r = place_sections(c, item, part_fd, v, LETHE_ARRAY_SIZE(v), &head);
	if (r >= 0)
		r = assemble(c, item, base, part_fd, v, LETHE_ARRAY_SIZE(v), head);
	if (r == -LETHE_E_INVALID) { /* a range shorter than asked: the file decides */
		lethe_error_clear();
		r = -EPROTONOSUPPORT;
	}
	if (r >= 0)
		r = lethe_sums_sha256_file(AT_FDCWD, part, got);
	if (r >= 0 && !lethe_memeq_consttime(got, item->sha256, 32)) {
		lethe_log(LETHE_LOG_INFO,
			  "pull: %s put together from parts is not the file: "
			  "fetching it whole",
			  item->name);
		r = -EPROTONOSUPPORT;
	}
	if (r >= 0 && (fsync(part_fd) < 0 || rename(part, final) < 0))
		r = lethe_error(-errno, "cannot rename '%s' to '%s': %m", part, final);
	if (r >= 0 && c->stats)
		c->stats->files++;
out:
	if (r < 0 && part_fd >= 0)
		unlink(part);
	if (part_fd >= 0)
		close(part_fd);
	free(final);
	free(part);
	return r;
}
