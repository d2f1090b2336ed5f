/* What the files of lib/update share: byte copies into the disk, the ESP through
 * mtools, progress and the test hook that stands in for a power cut. */
#ifndef LETHE_UPDATE_INTERNAL_H
#define LETHE_UPDATE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <lethe/update.h>

#define UPDATE_CHUNK (1u << 20)

struct update_progress {
	const char *what;
	uint64_t done, total;
	unsigned last_pct;
};
void update_progress_add(struct update_progress *pg, uint64_t n);

/* Test hook that stands in for a power cut: LETHE_UPDATE_KILL_AT=rootfs.erofs|rootfs.verity|uki
 * makes the process SIGKILL itself half-way through writing the root, the verity tree
 * (update_copy_in() ends a chunk there), or once the UKI is on the ESP under its
 * temporary name, flushed, and not yet renamed (tests/interop/update-power.sh: a
 * process kill, the page cache kept). LETHE_UPDATE_KILL_AT=stop:WHAT stops the process
 * there once (SIGSTOP) instead, after a warning "stopped at WHAT
 * (LETHE_UPDATE_KILL_AT)": tests/interop/update-readback.sh changes the release file
 * meanwhile; tests/vm/powerloss.sh, the update running in the guest, waits for the line
 * on the console and SIGKILLs QEMU (a power cut: the guest's page cache lost).
 * update_pause_wanted(): whether the hook names WHAT. */
bool update_pause_wanted(const char *what);
void update_pause_point(const char *what, uint64_t done, uint64_t total);

/* O_RDWR; a block device with exclusive also O_EXCL (nothing else may hold it), a
 * file never through a link. */
int update_open_disk(const char *path, bool is_blockdev, bool exclusive);
int update_set_partuuids(const struct lethe_update_disk *d, enum lethe_slot s,
			 const char *root_uuid, const char *verity_uuid);
/* Copy len bytes of in to out at offset; with digest, hashed as they go and compared
 * (NULL: the caller reads them back and compares, update_verify_back()). */
int update_copy_in(int out, const char *device, uint64_t offset, int in, uint64_t len,
		   const uint8_t digest[32], const char *what, struct update_progress *pg);
int update_verify_back(int fd, const char *device, uint64_t offset, uint64_t len,
		       const uint8_t digest[32], const char *what, struct update_progress *pg);
int update_zero(int fd, const char *device, uint64_t offset, uint64_t len);

/* The ESP of a disk through mtools (-i DISK@@OFFSET): no mount, works on a disk image
 * and on a block device alike. Names are plain names in EFI/Linux. */
int update_esp_list(const struct lethe_update_disk *d, struct lethe_strv *ret);
int update_esp_get(const struct lethe_update_disk *d, const char *name, const char *local);
int update_esp_put(const struct lethe_update_disk *d, const char *local, const char *name);
int update_esp_rename(const struct lethe_update_disk *d, const char *from, const char *to);
int update_esp_delete(const struct lethe_update_disk *d, const char *name);
/* fsync the disk (what mtools wrote). */
int update_sync(const struct lethe_update_disk *d);

/* A private scratch directory (mkdtemp under TMPDIR or /tmp) and its removal. */
int update_scratch(char **ret);
void update_scratch_remove(char *dir);

/* The UKI at path: its root hash, IMAGE_ID and IMAGE_VERSION (any may be NULL). */
int update_uki_identity(const char *path, char roothash[LETHE_ROOTHASH_HEX + 1], char *image_id,
			size_t id_size, char *version, size_t version_size);

/* The PARTUUIDs of a slot that holds no image: derived from the disk GUID seed. */
int update_empty_uuids(const uint8_t *seed, size_t len, enum lethe_slot s,
		       char root[LETHE_UUID_STR], char verity[LETHE_UUID_STR]);

#endif
