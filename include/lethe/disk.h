/* disk.img: a GPT disk laid out by the Discoverable Partitions Specification, with the
 * root file system and its dm-verity hash tree in partitions whose UUIDs derive from the
 * verity root hash as systemd-repart does. `systemd-dissect disk.img` understands it.
 * docs/boot.md tells the derivations. */
#ifndef LETHE_DISK_H
#define LETHE_DISK_H

#include <stddef.h>
#include <stdint.h>

#include <lethe/core.h>
#include <lethe/util.h>

/* Discoverable Partitions Specification type UUIDs (as util-linux and systemd know them). */
#define LETHE_DISK_TYPE_ROOT_X86_64	   "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#define LETHE_DISK_TYPE_ROOT_X86_64_VERITY "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"
#define LETHE_DISK_TYPE_ESP		   "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"

#define LETHE_DISK_UUID_STR	  LETHE_UUID_STR /* 8-4-4-4-12 and the NUL */
#define LETHE_DISK_ALIGN	  (1024 * 1024)	 /* every partition starts and ends on a MiB */
#define LETHE_DISK_MAX_PARTITIONS 16
#define LETHE_DISK_MAX_SIZE	  (64ull << 30)

/* The partition UUIDs of the root and root-verity partitions derive from the root hash
 * by lethe_partuuids_from_roothash() (<lethe/core.h>), which lethe-init shares. */

/* The disk GUID: the first 16 bytes of SHA-256("lethe disk guid\n" || root hash), with
 * the version set to 4 and the variant to RFC 4122 (as systemd-repart marks the UUIDs
 * it derives), so that the same root hash always gives the same disk. */
int lethe_disk_guid(const uint8_t *roothash, size_t len, char guid[LETHE_DISK_UUID_STR]);

struct lethe_disk_partition {
	const char *type;   /* type UUID text, e.g. LETHE_DISK_TYPE_ROOT_X86_64 */
	const char *uuid;   /* partition UUID text */
	const char *label;  /* GPT partition name, ASCII, at most 36 characters */
	const char *source; /* file copied to the start of the partition, or NULL (zeros) */
	uint64_t size;	    /* bytes; 0: the source's size. Rounded up to LETHE_DISK_ALIGN */
};

struct lethe_disk_layout {
	const char *guid;			  /* disk GUID text */
	const struct lethe_disk_partition *parts; /* in disk order, numbered from 1 */
	size_t n_parts;
};

/* Write a GPT disk image to path, atomically: 1 MiB before the first partition, the
 * partitions one after the other, each MiB-aligned, then 1 MiB for the backup GPT.
 * The same layout and sources give the same bytes. */
int lethe_disk_write(const char *path, const struct lethe_disk_layout *layout);

/* Only the GPT of layout (sources are not copied) into the open disk fd, which must be
 * large enough (the partitions' sizes and 2 MiB); for lethe install. */
int lethe_disk_write_table(int fd, const char *what, const struct lethe_disk_layout *layout);

/* The image of a build: root (rootfs.erofs) and root-verity (rootfs.verity) partitions,
 * labelled "root-x86-64" and "root-x86-64-verity", UUIDs and GUID from the root hash. */
int lethe_disk_make_image(const char *path, const char *rootfs, const char *verity,
			  const uint8_t *roothash, size_t len);
/* The same with an EFI System Partition (the FAT image esp; NULL: none) as the third
 * partition, last on the disk, labelled "esp", its UUID from the root hash
 * (lethe_disk_esp_uuid()). */
int lethe_disk_make_image_esp(const char *path, const char *rootfs, const char *verity,
			      const char *esp, const uint8_t *roothash, size_t len);
/* The ESP's partition UUID: lethe_disk_guid() of the root hash followed by "\nesp". */
int lethe_disk_esp_uuid(const uint8_t *roothash, size_t len, char uuid[LETHE_DISK_UUID_STR]);

#endif
