/* The root file system image: a reproducible EROFS made from a staged root tree by
 * mkfs.erofs (erofs-utils), run as a subprocess without a shell. */
#ifndef LETHE_IMAGE_H
#define LETHE_IMAGE_H

#include <stdint.h>

#include <lethe/util.h>

#define LETHE_IMAGE_DEFAULT_COMPRESSION "lz4hc"
/* Physical cluster size of compressed files (mkfs.erofs -C): 64 KiB compresses about 10%
 * better than the 4 KiB default (a minimal root: 13.5 MB instead of 15.0 MB), and a
 * system that runs from RAM does not mind decompressing up to 64 KiB for a 4 KiB read.
 * Linux reads such "big pclusters" since 5.13. */
#define LETHE_IMAGE_DEFAULT_PCLUSTER 65536u
#define LETHE_IMAGE_MAX_PCLUSTER     (1u << 20)

struct lethe_image_options {
	/* mkfs.erofs -z value ("lz4hc", "lz4", "lz4hc,12", "none" for no compression);
	 * NULL: LETHE_IMAGE_DEFAULT_COMPRESSION. */
	const char *compression;
	/* mkfs.erofs -C: a multiple of 4096 up to LETHE_IMAGE_MAX_PCLUSTER; 0:
	 * LETHE_IMAGE_DEFAULT_PCLUSTER. Ignored without compression. */
	uint32_t pcluster;
	/* Every inode's time and the superblock's build time (SOURCE_DATE_EPOCH). */
	int64_t epoch;
	/* The file system UUID, as 36 characters; derive it from content with
	 * lethe_image_uuid(), never at random. */
	const char *uuid;
	/* The program to run; NULL: $LETHE_MKFS_EROFS, else "mkfs.erofs" from PATH. */
	const char *mkfs;
};

/* Make an EROFS image of the tree at root and write it to output, whole or not at all
 * (a temporary file beside output, renamed when mkfs.erofs succeeded). Files keep the
 * tree's numeric owners and modes; all times become opts->epoch; extended attributes
 * are left out (a build host's labels must not leak into the image). Identical trees
 * and options give identical bytes. 0 or a negative errno; a failure of mkfs.erofs is
 * -EIO with its last line of output in the message. */
int lethe_image_erofs(const char *root, const char *output, const struct lethe_image_options *opts);

/* A UUID derived from a SHA-256 digest (RFC 9562 version 8, "custom"): the first 16
 * bytes with the version and variant bits set, written as 36 lowercase characters and
 * a NUL into out. The same digest always gives the same UUID. */
void lethe_image_uuid(const uint8_t digest[32], char out[37]);

#endif
