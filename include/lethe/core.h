/* lib/core: the dependency-free layer. What the static PID 1 (lethe-init) and liblethe
 * must agree on byte for byte lives here once: UUID text, the PARTUUIDs that the root
 * hash gives, veritysetup's superblock and the dm-verity table, the GPT entries, the
 * device-mapper ioctls, the kernel cmdline (words, lethe.* keys, the root hash),
 * /proc/self/mountinfo and the image's passwd and group files.
 *
 * The layer needs libc and nothing else (no OpenSSL, libarchive, libyaml or json-c):
 * its sources are compiled into liblethe and, a second time, into the static archive
 * that lethe-init and test-init link (lib/core/meson.build), as systemd builds
 * src/fundamental for sd-boot and for libbasic. Its one helper from lib/util is the
 * error message (lib/util/error.c) and hex (lib/util/hex.c), both libc only.
 *
 * Conventions, as in all of liblethe: functions return 0 (or a length) on success and
 * a negative errno on failure, never print and never exit. Malformed input is
 * -EBADMSG (LETHE_E_INVALID) with a one-line message from lethe_error_message() that
 * says what and where (a byte offset, a line). Parsers take their inputs first and
 * ret_ outputs last; ret_ outputs are left untouched on failure unless said otherwise.
 * Every parser here reads untrusted bytes and has a fuzz target in fuzz/. */
#ifndef LETHE_CORE_H
#define LETHE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <lethe/util.h>

/* ---- MAC addresses (mac.c) ---- */

#define LETHE_MAC_LEN  6
#define LETHE_MAC_STR  18 /* "02:00:5e:10:00:01" and the NUL */
#define LETHE_IFNAMSIZ 16 /* IFNAMSIZ: an interface name and its NUL */

/* What lethe-init does to each Ethernet or Wi-Fi card's address before it goes up
 * (spec network.mac; the default is random). */
enum lethe_mac_mode {
	LETHE_MAC_RANDOM,	      /* random, locally administered, unicast */
	LETHE_MAC_RANDOM_KEEP_VENDOR, /* the permanent OUI, the rest random */
	LETHE_MAC_PERMANENT,	      /* the card's own address, unchanged */
};

/* The spec's spelling of a mode ("random", "random-keep-vendor", "permanent"). */
const char *lethe_mac_mode_name(enum lethe_mac_mode mode);
/* -EINVAL for any other word. */
int lethe_mac_mode_from_name(const char *name, enum lethe_mac_mode *ret);
/* "aa:bb:cc:dd:ee:ff", lower case. */
void lethe_mac_format(const uint8_t mac[LETHE_MAC_LEN], char ret[LETHE_MAC_STR]);
/* That form (either case) into bytes; -EINVAL otherwise. */
int lethe_mac_parse(const char *text, uint8_t ret[LETHE_MAC_LEN]);
/* The new address for mode from the permanent one and 6 random bytes: for random, a
 * locally administered unicast address; for random-keep-vendor, perm's OUI and random
 * low bytes; never equal to perm. -EINVAL for LETHE_MAC_PERMANENT. */
int lethe_mac_randomise(enum lethe_mac_mode mode, const uint8_t perm[LETHE_MAC_LEN],
			const uint8_t rnd[LETHE_MAC_LEN], uint8_t ret[LETHE_MAC_LEN]);
/* The locally administered bit set and the group bit clear. */
bool lethe_mac_is_local_unicast(const uint8_t mac[LETHE_MAC_LEN]);
/* The address the driver says is the card's own (ETHTOOL_GPERMADDR, what `ethtool -P`
 * prints), asked through socket fd; -ENODATA when it tells none, -errno. */
/* An interface name into an ifreq's ifr_name; -ENAMETOOLONG when it is empty or does not
 * fit (then it names no interface). */
int lethe_ifname_copy(char ret[LETHE_IFNAMSIZ], const char *ifname);
int lethe_mac_permanent(int fd, const char *ifname, uint8_t ret[LETHE_MAC_LEN]);

/* ---- UUIDs (uuid.c) ---- */

#define LETHE_UUID_STR 37 /* "00112233-4455-6677-8899-aabbccddeeff" and the NUL */

/* The one UUID formatter: 16 bytes in order as lowercase 8-4-4-4-12 text. */
void lethe_uuid_format(const uint8_t id[16], char ret[LETHE_UUID_STR]);

/* The PARTUUIDs of the root and the root-verity partition: the first and the last 16
 * bytes of the root hash, in order, no version or variant bits changed (what
 * systemd-repart writes and systemd-dissect and lethe-init look for). len >= 16.
 * -EINVAL if the hash is shorter or either half is all zero (a null UUID). */
int lethe_partuuids_from_roothash(const uint8_t *roothash, size_t len,
				  char ret_data[LETHE_UUID_STR], char ret_verity[LETHE_UUID_STR]);

/* ---- the kernel cmdline (cmdline.c) ---- */

#define LETHE_CMDLINE_MAX	      (64u << 10) /* bytes of a cmdline looked at */
#define LETHE_CMDLINE_WORD_MAX	      4096	  /* bytes of one word, its NUL included */
#define LETHE_ROOTHASH_HEX	      64	  /* SHA-256, the only hash a Lethe root uses */
#define LETHE_CMDLINE_TIMEOUT_DEFAULT 10
#define LETHE_CMDLINE_TIMEOUT_MAX     3600

/* One word of len bytes of cmdline text, split as the kernel splits: runs of white
 * space separate words, double quotes protect spaces and are removed. *pos is where to
 * start (0 first) and is moved past the word. The end is the end of the text, a NUL,
 * or the word "--" (what follows it is init's argv, not the kernel's nor ours).
 * Returns 1 with the word in word (size bytes, NUL-terminated; *ret_truncated when it
 * was longer and was cut), 0 at the end. */
int lethe_cmdline_next_word(const char *text, size_t len, size_t *pos, char *word, size_t size,
			    bool *ret_truncated);

/* Is word the parameter key ("key" or "key=...")? */
bool lethe_cmdline_word_is(const char *word, const char *key);

/* The root hash of len bytes of cmdline text: the value of LETHE_CMDLINE_ROOTHASH
 * (contract.h), LETHE_ROOTHASH_HEX hex digits, returned in lowercase. -ENOENT (and no
 * message) when the key is absent; -EBADMSG with a message when it is given twice, has no value,
 * the wrong length or a character that is not a hex digit. The one reader of the key: lethe-init,
 * the audit, release verification and the spec use it. */
int lethe_cmdline_roothash(const char *text, size_t len, char ret_hex[LETHE_ROOTHASH_HEX + 1]);

/* The lethe.* parameters as lethe-init reads them (untrusted text). */
struct lethe_cmdline {
	char roothash[LETHE_ROOTHASH_HEX + 1]; /* lowercase hex; "" when absent */
	bool toram;
	bool debug;
	bool persistence; /* the boot menu's persistent-storage entry (docs/persistence.md) */
	unsigned timeout; /* seconds, 1..LETHE_CMDLINE_TIMEOUT_MAX */
	unsigned unknown; /* lethe.* words nobody knows */
};

/* Parse every lethe.* parameter of len bytes of cmdline text strictly: the root hash as
 * lethe_cmdline_roothash() reads it, the switches bare or =1/=0/=yes/=no, the timeout
 * in seconds; an unknown lethe.* key is counted, not refused. No root hash is not an
 * error here (PID 1 halts on it). -EBADMSG with a message otherwise; *ret is then
 * what was parsed so far. */
int lethe_cmdline_parse(const char *text, size_t len, struct lethe_cmdline *ret);

/* ---- veritysetup's superblock and the dm-verity table (verity.c) ---- */

#define LETHE_VERITY_SUPERBLOCK_SIZE 512
#define LETHE_VERITY_MAX_SALT_SIZE   256
#define LETHE_VERITY_MAX_DIGEST_SIZE 64 /* SHA-512 */
#define LETHE_VERITY_MIN_BLOCK_SIZE  512
#define LETHE_VERITY_MAX_BLOCK_SIZE  65536

/* Digest size in bytes of a hash dm-verity trees may use ("sha256" 32, "sha512" 64),
 * or 0. */
size_t lethe_verity_digest_size(const char *hash_name);

/* A superblock as stored (version 1, hash type 1), numbers in host order. */
struct lethe_verity_superblock {
	uint32_t version;   /* 1 */
	uint32_t hash_type; /* 1 */
	uint8_t uuid[16];
	char algorithm[32]; /* NUL-terminated, "sha256" or "sha512" */
	uint32_t data_block_size;
	uint32_t hash_block_size;
	uint64_t data_blocks;
	uint16_t salt_size;
	uint8_t salt[LETHE_VERITY_MAX_SALT_SIZE];
};

/* Parse and check the 512-byte superblock at buf (len must be at least 512): magic,
 * version 1, hash type 1, a supported algorithm, block sizes powers of two in
 * 512..65536, 1 <= data_blocks with data_blocks * data_block_size in 63 bits,
 * salt_size <= 256, and every reserved or unused byte zero. -EBADMSG with the byte
 * offset of the offending field otherwise. */
int lethe_verity_superblock_parse(const void *buf, size_t len, struct lethe_verity_superblock *ret);
/* The same fields back into 512 bytes (unused bytes zero); no check of the values. */
void lethe_verity_superblock_write(const struct lethe_verity_superblock *sb,
				   uint8_t ret[LETHE_VERITY_SUPERBLOCK_SIZE]);

/* The data area's size in 512-byte sectors, or 0 on overflow. */
uint64_t lethe_verity_data_sectors(const struct lethe_verity_superblock *sb);

/* The dm-verity table parameters (version 1, no optional arguments: a corrupt block
 * reads as EIO) for data device data_dev and hash device hash_dev ("MAJ:MIN" or a
 * path), the tree one hash block after the superblock, and roothash: lowercase hex of
 * the superblock's digest size. Returns the length written (< size), -ENOSPC when it
 * does not fit, -EINVAL for a bad root hash or superblock. */
int lethe_verity_table(const struct lethe_verity_superblock *sb, const char *data_dev,
		       const char *hash_dev, const char *roothash, char *ret, size_t size);

/* ---- the GPT, as far as partition GUIDs (gpt.c) ---- */

#define LETHE_GPT_MAX_ENTRIES 256
#define LETHE_GPT_HEADER_SIZE 92

struct lethe_gpt_header {
	uint64_t entries_lba;
	uint32_t n_entries;  /* capped to LETHE_GPT_MAX_ENTRIES */
	uint32_t entry_size; /* 128..4096, a multiple of 8 */
};

/* Parse the GPT header (the sector at LBA 1, len bytes of it): signature, an entry
 * array at LBA 2..2^40 of entries of 128..4096 bytes. -EBADMSG otherwise. No CRC is
 * checked: lethe-init only matches GUIDs it derived from the verified root hash, and
 * dm-verity checks whatever it then reads. */
int lethe_gpt_header_parse(const void *buf, size_t len, struct lethe_gpt_header *ret);

/* The unique partition GUID of the entry (at least 128 bytes) as UUID text, "" for an
 * unused entry. GPT stores the first three groups little endian. */
void lethe_gpt_entry_uuid(const void *entry, char ret[LETHE_UUID_STR]);

/* A disk's GPT: the header and its whole entry array. */
struct lethe_gpt {
	struct lethe_gpt_header header;
	uint8_t *entries; /* n_entries * entry_size bytes, owned */
};

/* Read the GPT of the disk open as fd with logical sector size sector (512..4096, a
 * power of two): the header at LBA 1, then the entries. -EBADMSG when there is no
 * valid header or the entries lie beyond the end. Release with lethe_gpt_release(). */
int lethe_gpt_read(int fd, unsigned sector, struct lethe_gpt *ret);
/* The GUID of entry i (< header.n_entries), as lethe_gpt_entry_uuid(). */
void lethe_gpt_uuid(const struct lethe_gpt *gpt, uint32_t i, char ret[LETHE_UUID_STR]);
/* The first and last LBA (inclusive) of entry i: -ENOENT past the array, -EBADMSG for
 * an empty or reversed range or one beyond 2^48 sectors. */
int lethe_gpt_lbas(const struct lethe_gpt *gpt, uint32_t i, uint64_t *ret_first,
		   uint64_t *ret_last);
void lethe_gpt_release(struct lethe_gpt *gpt);

/* ---- device mapper through its ioctls (dm.c) ---- */

#define LETHE_DM_CONTROL "/dev/mapper/control"

/* Create name with one verity target (table params, from lethe_verity_table()) over
 * sectors, read-only, and activate it; *ret_dev is the new device's number. Makes
 * /dev/mapper/control (misc 10:236) when it is missing, as in an initramfs. */
int lethe_dm_create_verity(const char *name, uint64_t sectors, const char *params, dev_t *ret_dev);
int lethe_dm_remove(const char *name);
/* DM_TABLE_STATUS of name: every target as "START LENGTH TYPE PARAMS\n" lines, the
 * table (table true) or the status. The caller frees *ret with free(). */
int lethe_dm_table_status(const char *name, bool table, char **ret);

/* ---- /proc/PID/mountinfo (mountinfo.c) ---- */

struct lethe_mount {
	unsigned major, minor;
	char *root; /* root of the mount within its file system */
	char *mountpoint;
	char *options; /* per-mount options: "ro,nosuid,..." */
	char *fstype;
	char *source;
	char *superoptions;
};

struct lethe_mounts {
	struct lethe_mount *v;
	size_t n;
};

/* Parse the text of /proc/PID/mountinfo (octal escapes decoded). name is for messages.
 * At most 100000 lines. The caller releases *ret with lethe_mounts_release(). */
int lethe_mountinfo_parse(const char *name, const char *text, struct lethe_mounts *ret);
void lethe_mounts_release(struct lethe_mounts *m);
/* True when a comma-separated option list holds opt exactly. */
bool lethe_mount_has_option(const char *options, const char *opt);

/* ---- small files (small-file.c) ---- */

/* Read at most size-1 bytes of the file at path into buf and NUL-terminate it (a longer
 * file is cut there). The length read, or -errno (-ENOBUFS for size 0). */
ssize_t lethe_small_file_read(const char *path, char *buf, size_t size);

/* ---- users and groups from passwd and group files (accounts.c) ---- */

#define LETHE_ACCOUNT_MAX_GROUPS 32
#define LETHE_ACCOUNT_FILE_MAX	 (1u << 20)

struct lethe_account {
	uid_t uid;
	gid_t gid;
	gid_t groups[LETHE_ACCOUNT_MAX_GROUPS]; /* the primary group first */
	size_t n_groups;
};

/* Who a service runs as, from the passwd and group files (a static PID 1 has no NSS):
 * user NULL or "root" is uid 0; group NULL is the user's primary group; the
 * supplementary groups are every group that lists the user. -ENOENT: no such user or
 * group (or no passwd file); -EBADMSG: a malformed id. */
int lethe_account_resolve(const char *passwd, const char *group_file, const char *user,
			  const char *group, struct lethe_account *ret);

/* ---- boot counting: the ESP's UKI names and the loader's variables (bootcount.c) ---- */

/* A Lethe UKI on the ESP is EFI/Linux/lethe-VERSION[+LEFT[-DONE]].efi, systemd-boot's
 * boot counting convention: LEFT tries left, DONE tries made; no counter: a good
 * (blessed) entry. VERSION is 1..64 characters of [A-Za-z0-9.~-] (no '+', so the
 * counter is never ambiguous). */
#define LETHE_BOOTCOUNT_PREFIX	    "lethe-"
#define LETHE_BOOTCOUNT_SUFFIX	    ".efi"
#define LETHE_BOOTCOUNT_VERSION_MAX 64
#define LETHE_BOOTCOUNT_MAX	    9999 /* the largest LEFT or DONE read */
#define LETHE_BOOTCOUNT_NAME_MAX    128	 /* a formatted name, its NUL included */
#define LETHE_BOOTCOUNT_TRIES	    3	 /* how many tries an update gets */

struct lethe_bootcount {
	char version[LETHE_BOOTCOUNT_VERSION_MAX + 1];
	bool counting; /* the name has +LEFT[-DONE] */
	unsigned left, done;
};

/* Is v a version a UKI name may carry? */
bool lethe_bootcount_version_valid(const char *v);
/* Parse a file name (no directory). -EBADMSG (no message: most names on an ESP are not
 * ours) when it is not a Lethe UKI name; *ret untouched then. */
int lethe_bootcount_parse(const char *name, struct lethe_bootcount *ret);
/* The file name for e (LETHE_BOOTCOUNT_NAME_MAX bytes). -EINVAL for a bad version. */
int lethe_bootcount_format(const struct lethe_bootcount *e, char ret[LETHE_BOOTCOUNT_NAME_MAX]);
/* systemd's version order (strverscmp_improved, as systemd-boot sorts entries): <0 when
 * a is older than b, 0 same, >0 newer. */
int lethe_version_compare(const char *a, const char *b);

/* The systemd-boot loader interface's vendor GUID and the variables bless reads. */
#define LETHE_LOADER_GUID	     "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
#define LETHE_LOADER_BOOT_COUNT_PATH "LoaderBootCountPath"
#define LETHE_LOADER_ENTRY_SELECTED  "LoaderEntrySelected"
#define LETHE_LOADER_DEVICE_PARTUUID "LoaderDevicePartUUID"
#define LETHE_EFIVARS_DIR	     "/sys/firmware/efi/efivars"

/* Decode an efivarfs file's bytes (4 bytes of attributes, then UTF-16LE, NUL-ended or
 * not) into ASCII, backslashes turned into '/' and a leading one dropped. size bytes of
 * ret. -EBADMSG (with a message) for odd lengths, non-ASCII or an empty value. */
int lethe_efivar_string(const void *data, size_t len, char *ret, size_t size);

/* ---- the boot menu's entry (lib/core/boot-entry.c; docs/boot.md "The boot menu") ---- */

#define LETHE_BOOT_ENTRY_AMNESIC     0u	       /* the default entry, or no loader at all */
#define LETHE_BOOT_ENTRY_TORAM	     (1u << 0) /* the "(toram)" entry */
#define LETHE_BOOT_ENTRY_PERSISTENCE (1u << 1) /* the "(persistent storage)" entry */
#define LETHE_EFI_VARIABLE_NON_VOLATILE 0x1u   /* the attribute bit of an efivarfs file */

/* Which entry the boot loader started, from the bytes of the efivarfs file
 * LoaderEntrySelected (untrusted: 4 bytes of attributes, then UTF-16LE): the ID of
 * LETHE_BOOT_ENTRY_*_ID in include/lethe/contract.h, with or without its ".conf",
 * compared without case (systemd-boot lower-cases ids). Only a volatile variable
 * counts, as systemd-boot sets it in each boot: a NON_VOLATILE one is something else's,
 * left from an earlier boot, and means the amnesic default. *ret is
 * LETHE_BOOT_ENTRY_AMNESIC for any other entry name; -EBADMSG (with a message) for
 * bytes that are no such variable (*ret untouched). */
int lethe_boot_entry_selected(const void *data, size_t len, unsigned *ret);

#endif
