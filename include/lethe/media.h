/* Boot media: write the disk.img of a verified release (lethe/release.h) to a USB stick
 * (or any block device or file) safely, and check a written medium against the signed
 * hash of disk.img, reading only the image's length. */
#ifndef LETHE_MEDIA_H
#define LETHE_MEDIA_H

#include <stdint.h>

#include <lethe/release.h>
#include <lethe/util.h>

#define LETHE_MEDIA_CHUNK (1u << 20)

/* Refuse a target that is mounted (itself or any partition of it, as
 * /proc/self/mountinfo lists them), that something holds (device mapper, md: its
 * holders/ or a partition's are not empty; this covers the running system's root on
 * dm-verity or LVM), or that holds the running system's root; a loop device over a
 * file of rel. A regular file (or a new one) passes unless it is a file of rel (the
 * same inode: disk.img itself) or backs a loop device, attached or mounted (any
 * /sys/block/loop*\/loop/backing_file). A path under /dev must be an existing block
 * device: a mistyped /dev/sdX never becomes a file. -EBUSY (in use), -ENOENT or -EINVAL
 * with a message naming what was found. rel may be NULL. */
int lethe_media_check_target(const struct lethe_release *rel, const char *device);

/* Compare the first len bytes of device with the signed digest; image_fd (disk.img, or
 * -1) is read alongside so that a mismatch names the first differing byte offset.
 * Reads bypass the page cache where the device allows it (O_DIRECT). 0 when they
 * match, LETHE_E_INVALID with a message otherwise. */
int lethe_media_verify_device(const char *device, int image_fd, uint64_t len,
			      const uint8_t digest[32]);

/* Check device as lethe_media_verify_device() does, against the release's disk.img
 * (its verified descriptor, length and signed digest). */
int lethe_media_verify_written(const struct lethe_release *rel, const char *device);

/* lethe write: check the target (lethe_media_check_target), open it exclusively
 * (O_EXCL on a block device), write the release's disk.img from its verified
 * descriptor (checking that the bytes written hash to the signed digest), fsync, then
 * read back the image's length and verify it. A regular file target is created or
 * truncated. Progress goes to lethe_log(). */
int lethe_media_write(const struct lethe_release *rel, const char *device);

/* The same with the release's image a: LETHE_ARTIFACT_DISK or LETHE_ARTIFACT_ISO. */
int lethe_media_write_image(const struct lethe_release *rel, const char *device,
			    enum lethe_release_artifact a);
int lethe_media_verify_image(const struct lethe_release *rel, const char *device,
			     enum lethe_release_artifact a);
/* Which of the release's images device holds: disk.img, else lethe.iso when the release
 * has one (*ret says which). LETHE_E_INVALID naming both when it is neither. */
int lethe_media_verify_any(const struct lethe_release *rel, const char *device,
			   enum lethe_release_artifact *ret);

#endif
