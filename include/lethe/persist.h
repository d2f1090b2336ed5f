/* The opt-in persistent store (docs/persistence.md): a LUKS2 volume (Argon2id keyslot,
 * AES-XTS or Adiantum) holding an ext4 file system, made, inspected, re-keyed and
 * opened with libcryptsetup. Every function returns 0 or a negative errno, with a
 * message naming the device (lethe_error_message()); none prints. Passphrases are the
 * caller's: pass them with their length, and wipe them afterwards. */
#ifndef LETHE_PERSIST_H
#define LETHE_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <lethe/spec.h>

/* The LUKS2 header and keyslots take the first 16 MiB; the file system the rest. */
#define LETHE_PERSIST_DATA_OFFSET    (16ull << 20)
#define LETHE_PERSIST_MIN_SIZE	     (64ull << 20)   /* a store smaller than this is refused */
#define LETHE_PERSIST_LABEL	     "lethe-persist" /* the LUKS2 label and the ext4 label */
#define LETHE_PERSIST_PASSPHRASE_MAX 512	     /* cryptsetup's own limit */

/* What a store is formatted with. */
struct lethe_persist_params {
	const char *cipher, *mode; /* "aes", "xts-plain64" or "xchacha12,aes", "adiantum-plain64" */
	size_t key_bytes;	   /* 64 for AES-XTS, 32 for Adiantum */
	uint32_t kdf_memory_kib, kdf_iterations, kdf_parallel; /* Argon2id, pinned */
};

/* True when this CPU has AES instructions (the "aes" flag of /proc/cpuinfo). */
bool lethe_persist_cpu_has_aes(void);
/* The parameters a spec's persistence section asks for; cipher auto picks AES-XTS when
 * cpu_aes, else Adiantum. */
void lethe_persist_params_from_spec(const struct lethe_spec_persistence *sp, bool cpu_aes,
				    struct lethe_persist_params *ret);

/* Where to look when judging a target device: the roots of sysfs and of /proc (a test
 * passes a fake tree); NULL fields mean "/sys" and "/proc". */
struct lethe_persist_probe {
	const char *sysfs; /* holds dev/block/MAJ:MIN */
	const char *proc;  /* holds self/mountinfo and swaps */
};
/* May device become a store? A regular file may (an image, a test). A block device may
 * not when it, or another partition of its disk, is mounted, is swap, or is held by
 * device-mapper (the disk of the running system and its boot medium are mounted, or
 * back its verified root): -EBUSY with a message saying which mount or holder. */
int lethe_persist_check_target(const struct lethe_persist_probe *probe, const char *device);

/* Make a store on device: an ext4 file system (mkfs.ext4, labelled
 * LETHE_PERSIST_LABEL) after the first 16 MiB, then encrypted in place by
 * libcryptsetup's offline reencryption with a detached header, which is then put at
 * the head of the device (no device-mapper needed). Overwrites everything on device.
 * *ret_uuid (37 bytes) receives the LUKS UUID. */
int lethe_persist_format(const char *device, const struct lethe_persist_params *p, const char *pass,
			 size_t pass_len, char ret_uuid[37]);

/* What a store's header says. */
#define LETHE_PERSIST_MAX_SLOTS 32
struct lethe_persist_slot {
	int slot;
	char kdf[16]; /* "argon2id", "pbkdf2", ... */
	uint32_t iterations, memory_kib, parallel;
};
struct lethe_persist_status {
	char uuid[40];
	char label[48];
	char cipher[64]; /* "aes-xts-plain64" */
	unsigned key_bits;
	uint64_t data_offset; /* bytes */
	uint32_t sector_size;
	bool reencrypting; /* an unfinished (re)encryption: the store cannot be opened */
	size_t n_slots;
	struct lethe_persist_slot slots[LETHE_PERSIST_MAX_SLOTS];
};
/* -ENODEV (with a message) when device holds no LUKS2 header. */
int lethe_persist_status(const char *device, struct lethe_persist_status *ret);

/* Try pass against every keyslot without opening anything (no device-mapper): the
 * slot it opens, -EPERM for a wrong passphrase. */
int lethe_persist_test_passphrase(const char *device, const char *pass, size_t pass_len);

/* Replace the keyslot that old opens by one for new, with the Argon2id cost of p when
 * not NULL, else the old slot's own. The slot it now is, or -EPERM. */
int lethe_persist_change_passphrase(const char *device, const char *old, size_t old_len,
				    const char *new, size_t new_len,
				    const struct lethe_persist_params *p);

/* Copy the LUKS2 header (with its keyslots) to out: a new file, written whole or not
 * at all (mode 0600). -EEXIST when out exists. */
int lethe_persist_backup_header(const char *device, const char *out);

/* Open the store on device as /dev/mapper/name (needs device-mapper and dm-crypt). The
 * slot it opened, -EPERM for a wrong passphrase. */
int lethe_persist_activate(const char *device, const char *name, const char *pass, size_t pass_len);
/* Close /dev/mapper/name (the kernel wipes the volume key). */
int lethe_persist_deactivate(const char *name);

/* The block device that spec_device ("UUID=..." or "PARTLABEL=...") names, found in
 * probe's sysfs: *ret (caller frees) is "/dev/NAME". -ENOENT when none, -ENOTUNIQ when
 * more than one. A UUID is matched against the LUKS2 headers of the block devices,
 * which are read; a PARTLABEL against the partition names the kernel read. */
int lethe_persist_find(const struct lethe_persist_probe *probe, const char *spec_device,
		       char **ret);

#endif
