/* The partition table of an installed disk, read and changed with libfdisk, and the
 * byte copies into its partitions: from a verified release file, hashed as it goes, and
 * back out again, to check what the disk now holds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libfdisk/libfdisk.h>
#include <linux/fs.h>

#include <lethe/update.h>

#include "update-internal.h"

char lethe_slot_letter(enum lethe_slot s)
{
	return s == LETHE_SLOT_B ? 'b' : 'a';
}

void lethe_update_disk_release(struct lethe_update_disk *d)
{
	if (!d)
		return;
	free(d->path);
	d->path = NULL;
}

static int take_part(struct fdisk_partition *pa, unsigned long sector,
		     struct lethe_update_part *ret)
{
	const char *uuid = fdisk_partition_get_uuid(pa);

	if (!uuid || strlen(uuid) != LETHE_UUID_STR - 1)
		return -EBADMSG;
	ret->partno = (unsigned)fdisk_partition_get_partno(pa) + 1;
	ret->offset = (uint64_t)fdisk_partition_get_start(pa) * sector;
	ret->size = (uint64_t)fdisk_partition_get_size(pa) * sector;
	for (size_t i = 0; i < LETHE_UUID_STR; i++)
		ret->uuid[i] = (char)(uuid[i] >= 'A' && uuid[i] <= 'Z' ? uuid[i] + 32 : uuid[i]);
	return 0;
}

static int find_parts(struct fdisk_context *cxt, const char *path, struct lethe_update_disk *d)
{
	unsigned long sector = fdisk_get_sector_size(cxt);
	struct fdisk_table *tb = NULL;
	struct fdisk_iter *it = fdisk_new_iter(FDISK_ITER_FORWARD);
	struct fdisk_partition *pa;
	unsigned found = 0;
	int r;

	if (!it)
		return -ENOMEM;
	r = fdisk_get_partitions(cxt, &tb);
	if (r) {
		r = lethe_error(-ENOENT, "'%s' has no partition table", path);
		goto out;
	}
	while (r == 0 && fdisk_table_next_partition(tb, it, &pa) == 0) {
		const char *name = fdisk_partition_get_name(pa);
		struct lethe_update_part *p = NULL;
		unsigned bit = 0;

		if (!name)
			continue;
		for (int s = 0; s < LETHE_SLOT_N; s++) {
			char root[32], verity[32];

			snprintf(root, sizeof(root), LETHE_UPDATE_LABEL_ROOT "%c",
				 lethe_slot_letter(s));
			snprintf(verity, sizeof(verity), LETHE_UPDATE_LABEL_VERITY "%c",
				 lethe_slot_letter(s));
			if (!strcmp(name, root))
				p = &d->root[s], bit = 1u << (1 + 2 * s);
			else if (!strcmp(name, verity))
				p = &d->verity[s], bit = 1u << (2 + 2 * s);
		}
		if (!strcmp(name, LETHE_UPDATE_LABEL_ESP))
			p = &d->esp, bit = 1;
		if (!p)
			continue;
		if (found & bit)
			r = lethe_error(-EBADMSG, "'%s' has two partitions named '%s'", path, name);
		else if (take_part(pa, sector, p) < 0)
			r = lethe_error(-EBADMSG, "'%s': partition '%s' has a bad UUID", path,
					name);
		found |= bit;
	}
	if (r == 0 && found != 0x1f)
		r = lethe_error(-ENOENT,
				"'%s' is not an installed Lethe disk (no partitions %s, %sa, "
				"%sa, %sb, %sb; see lethe install)",
				path, LETHE_UPDATE_LABEL_ESP, LETHE_UPDATE_LABEL_ROOT,
				LETHE_UPDATE_LABEL_VERITY, LETHE_UPDATE_LABEL_ROOT,
				LETHE_UPDATE_LABEL_VERITY);
out:
	fdisk_unref_table(tb);
	fdisk_free_iter(it);
	return r;
}

int lethe_update_disk_open(const char *path, struct lethe_update_disk *ret)
{
	struct lethe_update_disk d = { 0 };
	struct fdisk_context *cxt = fdisk_new_context();
	struct stat st;
	int r;

	if (!cxt)
		return -ENOMEM;
	if (stat(path, &st) < 0) {
		r = lethe_error(-errno, "cannot open '%s': %m", path);
		goto out;
	}
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
		r = lethe_error(-EINVAL, "'%s' is neither a block device nor a disk image", path);
		goto out;
	}
	d.is_blockdev = S_ISBLK(st.st_mode);
	fdisk_disable_dialogs(cxt, 1);
	r = fdisk_assign_device(cxt, path, 1);
	if (r) {
		r = lethe_error(r < 0 ? r : -EIO, "libfdisk cannot open '%s'", path);
		goto out;
	}
	if (!fdisk_is_labeltype(cxt, FDISK_DISKLABEL_GPT)) {
		r = lethe_error(-ENOENT, "'%s' has no GPT: not an installed Lethe disk", path);
		goto out;
	}
	r = find_parts(cxt, path, &d);
	if (r == 0) {
		d.path = strdup(path);
		r = d.path ? 0 : -ENOMEM;
	}
	if (r == 0)
		*ret = d;
out:
	fdisk_unref_context(cxt);
	return r;
}

/* Give partition partno (1-based) the UUID uuid; the backup GPT follows. */
int update_set_partuuids(const struct lethe_update_disk *d, enum lethe_slot s,
			 const char *root_uuid, const char *verity_uuid)
{
	struct fdisk_context *cxt = fdisk_new_context();
	int r;

	if (!cxt)
		return -ENOMEM;
	fdisk_disable_dialogs(cxt, 1);
	r = fdisk_assign_device(cxt, d->path, 0);
	for (int i = 0; r == 0 && i < 2; i++) {
		struct fdisk_partition *pa = fdisk_new_partition();
		unsigned partno = i ? d->verity[s].partno : d->root[s].partno;

		if (!pa) {
			r = -ENOMEM;
			break;
		}
		r = fdisk_partition_set_uuid(pa, i ? verity_uuid : root_uuid);
		if (r == 0)
			r = fdisk_set_partition(cxt, partno - 1, pa);
		fdisk_unref_partition(pa);
	}
	if (r == 0)
		r = fdisk_write_disklabel(cxt);
	if (r)
		r = lethe_error(r < 0 ? r : -EIO, "cannot change the GPT of '%s'", d->path);
	fdisk_deassign_device(cxt, 0); /* syncs, and re-reads the table of a block device */
	fdisk_unref_context(cxt);
	return r;
}

int update_open_disk(const char *path, bool is_blockdev, bool exclusive)
{
	int fd = open(path,
		      O_RDWR | O_CLOEXEC | (is_blockdev ? (exclusive ? O_EXCL : 0) : O_NOFOLLOW));

	if (fd < 0)
		return lethe_error(-errno, "cannot open '%s'%s: %m", path,
				   is_blockdev && exclusive ? " exclusively" : "");
	return fd;
}

int update_copy_in(int out, const char *device, uint64_t offset, int in, uint64_t len,
		   const uint8_t digest[32], const char *what, struct update_progress *pg)
{
	struct lethe_sha256 h;
	uint8_t *buf = malloc(UPDATE_CHUNK), md[LETHE_SHA256_BYTES];
	int hr = lethe_sha256_init(&h);
	bool pause = update_pause_wanted(what);
	uint64_t off = 0;
	int r = 0;

	if (hr < 0 || !buf) {
		r = -ENOMEM;
		goto out;
	}
	while (off < len) {
		size_t want = len - off < UPDATE_CHUNK ? (size_t)(len - off) : UPDATE_CHUNK;
		ssize_t n;

		/* The test hook's point falls half-way exactly, also in a file of one chunk
		 * (the verity tree of a small image). */
		if (pause && off < len / 2 && off + want > len / 2)
			want = (size_t)(len / 2 - off);
		n = lethe_pread_full(in, buf, want, (off_t)off);

		if (n != (ssize_t)want) {
			r = lethe_error(n < 0 ? (int)n : -LETHE_E_INVALID,
					"'%s' changed while it was written (short read at %llu)",
					what, (unsigned long long)off);
			goto out;
		}
		if (digest)
			lethe_sha256_update(&h, buf, want);
		r = lethe_pwrite_full(out, buf, want, (off_t)(offset + off));
		if (r < 0) {
			r = lethe_error(r, "cannot write '%s' at offset %llu: %s", device,
					(unsigned long long)(offset + off), strerror(-r));
			goto out;
		}
		off += want;
		update_progress_add(pg, want);
		update_pause_point(what, off, len);
	}
	if (digest && (lethe_sha256_final(&h, md) < 0 || !lethe_memeq_consttime(md, digest, 32)))
		r = lethe_error(-LETHE_E_INVALID,
				"'%s' changed while it was written: not the signed file", what);
out:
	free(buf);
	lethe_sha256_release(&h);
	return r;
}

/* Read back len bytes at offset from the disk itself: O_DIRECT (no page cache, so
 * neither what the writes left there nor a copy out of it), 1 MiB at a time into an
 * aligned buffer; the last read is rounded up to 4 KiB (partitions are whole MiB) and
 * only len bytes are hashed. Where O_DIRECT is refused (tmpfs), the cache of the range
 * is dropped and the reads go through it. */
int update_verify_back(int fd, const char *device, uint64_t offset, uint64_t len,
		       const uint8_t digest[32], const char *what, struct update_progress *pg)
{
	struct lethe_sha256 h;
	uint8_t *buf = NULL, md[LETHE_SHA256_BYTES];
	int hr = lethe_sha256_init(&h);
	char path[64];
	int dfd, rfd, r = 0;
	uint64_t off = 0;

	if (hr < 0 || posix_memalign((void **)&buf, 4096, UPDATE_CHUNK)) {
		buf = NULL;
		r = -ENOMEM;
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	dfd = offset % 4096 ? -1 : open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	rfd = dfd >= 0 ? dfd : fd;
	if (dfd < 0 && ioctl(fd, BLKFLSBUF, 0) < 0)
		(void)posix_fadvise(fd, (off_t)offset, (off_t)len, POSIX_FADV_DONTNEED);
	while (off < len) {
		size_t want = len - off < UPDATE_CHUNK ? (size_t)(len - off) : UPDATE_CHUNK;
		size_t get = dfd >= 0 ? (want + 4095) & ~(size_t)4095 : want;
		ssize_t n = lethe_pread_full(rfd, buf, get, (off_t)(offset + off));

		if (n < (ssize_t)want) {
			r = lethe_error(n < 0 ? (int)n : -EIO, "cannot read back '%s' at %llu",
					device, (unsigned long long)(offset + off));
			break;
		}
		lethe_sha256_update(&h, buf, want);
		off += want;
		update_progress_add(pg, want);
	}
	if (dfd >= 0)
		close(dfd);
	if (r == 0 && (lethe_sha256_final(&h, md) < 0 || !lethe_memeq_consttime(md, digest, 32)))
		r = lethe_error(-LETHE_E_INVALID,
				"'%s' read back from '%s' does not match the signed %s", what,
				device, what);
out:
	free(buf);
	lethe_sha256_release(&h);
	return r;
}

int update_zero(int fd, const char *device, uint64_t offset, uint64_t len)
{
	static const uint8_t zeros[64 * 1024];

	for (uint64_t off = 0; off < len; off += sizeof(zeros)) {
		size_t n = len - off < sizeof(zeros) ? (size_t)(len - off) : sizeof(zeros);
		int r = lethe_pwrite_full(fd, zeros, n, (off_t)(offset + off));

		if (r < 0)
			return lethe_error(r, "cannot write '%s' at offset %llu: %s", device,
					   (unsigned long long)(offset + off), strerror(-r));
	}
	return 0;
}
