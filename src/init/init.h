/* lethe-init's internal interfaces: the pure parts (cmdline, PARTUUIDs, the verity
 * superblock and table) that unit tests and the fuzzer reach, and the stages. */
#ifndef LETHE_INIT_H
#define LETHE_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define INIT_ROOTHASH_HEX 64          /* SHA-256 */
#define INIT_CMDLINE_MAX (64u << 10)  /* bytes of /proc/cmdline we look at */
#define INIT_TIMEOUT_DEFAULT 10
#define INIT_TIMEOUT_MAX 3600

/* ---- cmdline.c: the lethe.* kernel parameters (untrusted text) ---- */
struct init_cmdline {
	char roothash[INIT_ROOTHASH_HEX + 1]; /* lowercase hex; "" when absent */
	bool toram;
	bool debug;
	unsigned timeout;                     /* seconds */
	unsigned unknown;                     /* lethe.* words we did not know */
};

/* Parse len bytes of a kernel command line. On failure returns -EINVAL and writes a
 * one-line reason to err (errlen bytes); *ret then holds what was parsed so far. */
int init_cmdline_parse(const char *text, size_t len, struct init_cmdline *ret, char *err,
		       size_t errlen);

/* ---- verity.c: PARTUUIDs, superblock, table ---- */
#define INIT_UUID_STR 37 /* 36 characters and the NUL */

/* The PARTUUIDs that systemd-repart gives the data and the verity partition: the first
 * and the last 16 bytes of the root hash, as 8-4-4-4-12 lowercase text. roothash is
 * INIT_ROOTHASH_HEX hex digits. -EINVAL if it is not. */
int init_partuuids(const char *roothash, char data[INIT_UUID_STR], char hash[INIT_UUID_STR]);

/* veritysetup's on-disk superblock (version 1), 512 bytes at the start of the hash
 * device, parsed and checked. */
#define INIT_VERITY_SB_SIZE 512
#define INIT_VERITY_SALT_MAX 256
struct init_verity_sb {
	uint32_t hash_type;
	char algorithm[32];
	uint32_t data_block_size;
	uint32_t hash_block_size;
	uint64_t data_blocks;
	uint16_t salt_size;
	uint8_t salt[INIT_VERITY_SALT_MAX];
};

/* Parse the superblock in buf (len bytes, at least 512). Accepts only version 1,
 * hash type 1, sha256, power-of-two block sizes in 512..65536 and at most 256 bytes of
 * salt. -EINVAL with a reason in err otherwise. */
int init_verity_sb_parse(const void *buf, size_t len, struct init_verity_sb *ret, char *err,
			 size_t errlen);

/* The dm-verity table parameters for the data device data_dev ("MAJ:MIN") and hash
 * device hash_dev, with the hash tree one hash block after the superblock. Returns the
 * length written (< size) or -ENOSPC/-EINVAL. */
int init_verity_table(const struct init_verity_sb *sb, const char *data_dev,
		      const char *hash_dev, const char *roothash, char *out, size_t size);
/* The data area's size in 512-byte sectors, or 0 on overflow. */
uint64_t init_verity_data_sectors(const struct init_verity_sb *sb);

/* ---- gpt.c: partition UUIDs from a GPT (the 6.1 kernel's uevent has no PARTUUID) ---- */
#define INIT_GPT_MAX_ENTRIES 256
struct init_gpt_header {
	uint64_t entries_lba;
	uint32_t n_entries;  /* capped to INIT_GPT_MAX_ENTRIES */
	uint32_t entry_size; /* 128..4096, a multiple of 8 */
};
/* Parse the GPT header (the sector at LBA 1). -EINVAL if it is none or is malformed. */
int init_gpt_header_parse(const void *buf, size_t len, struct init_gpt_header *ret);
/* The unique partition GUID of one entry as lowercase 8-4-4-4-12 text ("" for an unused
 * entry); entry has at least 128 bytes. GPT stores the first three groups little
 * endian. */
void init_gpt_entry_uuid(const void *entry, char out[INIT_UUID_STR]);

/* ---- util.c: PID 1's own helpers (print to the console, never exit) ---- */
extern bool init_debug;
void init_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void init_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "lethe-init: halting: ..." and stay halted forever (PID 1 never exits). */
void init_halt(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Same, for a verification failure: "lethe-init: root verification failed: ...". */
void init_verify_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void init_console_open(void);
int init_write_file(const char *path, const char *text);
/* Read at most max-1 bytes of a small file into buf, NUL-terminated; length or -errno. */
ssize_t init_read_file(const char *path, char *buf, size_t max);
int init_mkdir_p(const char *path, mode_t mode);
double init_uptime(void);
/* Copy a file's bytes (for the shutdown root and lethe.toram). */
int init_copy_file(const char *from, const char *to, mode_t mode);

/* ---- the stages ---- */
void init_stage1(void) __attribute__((noreturn));
void init_stage2(void) __attribute__((noreturn));
void init_stage_shutdown(int how) __attribute__((noreturn));

/* ---- dm.c: device mapper through its ioctls ---- */
/* Create name with one verity target (table params) over sectors, read-only, and
 * activate it. *ret_dev is the new device's number. */
int init_dm_create_verity(const char *name, uint64_t sectors, const char *params,
			  dev_t *ret_dev);
int init_dm_remove(const char *name);

#endif
