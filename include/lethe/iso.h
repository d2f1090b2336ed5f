/* lethe.iso: a hybrid ISO 9660 image for DVDs and USB sticks. xorriso writes it: an
 * El Torito catalogue whose one UEFI boot image is the ESP, and a GPT (behind a
 * protective MBR) with the ESP, the root and the root-verity partitions appended after
 * the (empty) ISO 9660 file system. The partitions then get the same UUIDs, from the
 * root hash, as in disk.img, so that lethe-init finds and verifies them the same way:
 * through the kernel's partitions on a stick, through loop devices at their offsets on
 * a CD-ROM (whose 2048-byte sectors the kernel reads no 512-byte GPT in). docs/boot.md
 * ("lethe.iso") describes the layout. */
#ifndef LETHE_ISO_H
#define LETHE_ISO_H

#include <stddef.h>
#include <stdint.h>

#define LETHE_ISO_PROGRAM "xorriso" /* Debian's xorriso */

struct lethe_iso_options {
	const char *output;	 /* lethe.iso, written atomically */
	const char *esp;	 /* the FAT image of the ESP (as in disk.img) */
	const char *rootfs;	 /* rootfs.erofs */
	const char *verity;	 /* rootfs.verity */
	const char *volume_id;	 /* the ISO 9660 volume id: [A-Z0-9_], at most 32 */
	const uint8_t *roothash; /* the partition UUIDs derive from it */
	size_t roothash_len;
	const char *workdir; /* scratch */
	int64_t epoch;	     /* every time in the image: SOURCE_DATE_EPOCH */
};

/* Make lethe.iso. The same inputs give the same bytes. */
int lethe_iso_make(const struct lethe_iso_options *o);

/* xorriso is runnable: one message naming its Debian package otherwise. */
int lethe_iso_check_tools(void);

/* Set the unique GUIDs (and names) of the GPT partitions of the image open as fd whose
 * type GUIDs are the ESP's, root-x86-64's and root-x86-64-verity's to uuid_esp,
 * uuid_root, uuid_verity, in the primary and the backup GPT, and recompute their
 * CRCs. The GPT is read as untrusted: every LBA and size is checked against the file.
 * -EBADMSG with a message when it is not a GPT with exactly one of each. */
int lethe_iso_gpt_relabel(int fd, const char *what, const char *uuid_esp, const char *uuid_root,
			  const char *uuid_verity);

#endif
