/* Boot media: check a signed release as a whole, write its disk.img to a USB stick (or
 * any block device or file) safely, and check a written medium against the signed
 * hash of disk.img, reading only the image's length. */
#ifndef LETHE_MEDIA_H
#define LETHE_MEDIA_H

#include <stdint.h>

#include <lethe/sign.h>
#include <lethe/sums.h>
#include <lethe/util.h>

#define LETHE_MEDIA_IMAGE "disk.img"
#define LETHE_MEDIA_CHUNK (1u << 20)

/* Read OUTDIR/SHA256SUMS once, verify OUTDIR/SHA256SUMS.minisig over exactly those bytes
 * with pub, and parse them. The caller releases *ret with lethe_sums_release(). */
int lethe_media_signed_sums(const char *outdir, const struct lethe_sign_pubkey *pub,
			    struct lethe_sums *ret);

/* The signed SHA-256 of name in a parsed SHA256SUMS; -ENOENT with a message if absent. */
int lethe_media_sums_digest(const struct lethe_sums *sums, const char *name,
			    uint8_t digest[32]);

/* A whole release: the signature, every file SHA256SUMS lists (fn, if not NULL, hears
 * of each as lethe_sums_check() says), then the dm-verity tree: every block of
 * rootfs.erofs against rootfs.verity and the root hash of the signed cmdline (or of the
 * signed roothash file when there is no cmdline; both must agree when both exist).
 * LETHE_E_INVALID / LETHE_E_REJECTED on a failed check. */
int lethe_media_verify_release(const char *outdir, const struct lethe_sign_pubkey *pub,
			       lethe_sums_check_fn fn, void *userdata);

/* Refuse a target that is mounted (itself or any partition of it, as
 * /proc/self/mountinfo lists them), that something holds (device mapper, md: its
 * holders/ or a partition's are not empty; this covers the running system's root on
 * dm-verity or LVM), or that holds the running system's root. -EBUSY with a message
 * naming what was found. A regular file passes. */
int lethe_media_check_target(const char *device);

/* Compare the first len bytes of device with the signed digest; image (disk.img, or
 * NULL) is read alongside so that a mismatch names the first differing byte offset.
 * Reads bypass the page cache where the device allows it (O_DIRECT). 0 when they
 * match, LETHE_E_INVALID with a message otherwise. */
int lethe_media_verify_device(const char *device, const char *image, uint64_t len,
			      const uint8_t digest[32]);

/* Verify the release's signature and disk.img against it, then check device as
 * lethe_media_verify_device() does, with disk.img's length. */
int lethe_media_verify_written(const char *outdir, const struct lethe_sign_pubkey *pub,
			       const char *device);

/* lethe write: verify the signature and disk.img's hash, check the target
 * (lethe_media_check_target), open it exclusively (O_EXCL on a block device), write
 * disk.img (checking that the bytes written hash to the signed digest), fsync, then
 * read back the image's length and verify it. A regular file target is created or
 * truncated. Progress goes to lethe_log(). */
int lethe_media_write(const char *outdir, const struct lethe_sign_pubkey *pub,
		      const char *device);

#endif
