/* A/B updates: an installed disk holds an ESP and two slots, A and B, each a root and a
 * root-verity partition (DPS types, PARTUUIDs from the slot's root hash), and one UKI
 * per slot on the ESP whose cmdline names that root hash, so the UKI decides the slot.
 * Boot counting is systemd-boot's (lethe-VERSION+LEFT-DONE.efi, <lethe/core.h>).
 *
 * The state of an update lives only in the partition table and the ESP's file names:
 * which slot a UKI boots (its root hash against the slots' PARTUUIDs), its version and
 * its tries (its name). There is no state file that could disagree with them.
 * docs/update.md describes the layout, the order of the writes and why a power cut at
 * any point leaves a disk that boots a good image. */
#ifndef LETHE_UPDATE_H
#define LETHE_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/core.h>
#include <lethe/release.h>
#include <lethe/sign.h>

enum lethe_slot {
	LETHE_SLOT_A,
	LETHE_SLOT_B,
	LETHE_SLOT_N,
};

/* GPT partition names of an installed disk; the slot's letter ends them. */
#define LETHE_UPDATE_LABEL_ESP	  "lethe-esp"
#define LETHE_UPDATE_LABEL_ROOT	  "root-x86-64-" /* + "a" or "b" */
#define LETHE_UPDATE_LABEL_VERITY "root-x86-64-verity-"

#define LETHE_UPDATE_SLOT_MIN	  (16ull << 20) /* the smallest root partition */
#define LETHE_UPDATE_SLOT_DEFAULT (256ull << 20)
#define LETHE_UPDATE_ESP_MIN_MIB  64

/* 'a' or 'b'. */
char lethe_slot_letter(enum lethe_slot s);

/* One partition of an installed disk. */
struct lethe_update_part {
	unsigned partno;       /* 1-based */
	uint64_t offset, size; /* bytes */
	char uuid[LETHE_UUID_STR];
};

/* An installed disk (a block device or a disk image file), its table read. */
struct lethe_update_disk {
	char *path;
	bool is_blockdev;
	struct lethe_update_part esp;
	struct lethe_update_part root[LETHE_SLOT_N], verity[LETHE_SLOT_N];
};

/* Read the GPT of path and find the partitions by their names. -ENOENT with a message
 * when path is not an installed Lethe disk. Release with lethe_update_disk_release(). */
int lethe_update_disk_open(const char *path, struct lethe_update_disk *ret);
void lethe_update_disk_release(struct lethe_update_disk *d);

enum lethe_slot_state {
	LETHE_SLOT_EMPTY,   /* no UKI boots it */
	LETHE_SLOT_GOOD,    /* its UKI has no counter: blessed (or installed) */
	LETHE_SLOT_PENDING, /* its UKI counts tries and has some left */
	LETHE_SLOT_FAILED,  /* its UKI has no tries left (or was rolled back) */
};
const char *lethe_slot_state_name(enum lethe_slot_state s);

struct lethe_slot_status {
	enum lethe_slot_state state;
	char entry[LETHE_BOOTCOUNT_NAME_MAX];  /* its UKI's name in EFI/Linux, or "" */
	struct lethe_bootcount count;	       /* that name parsed */
	char roothash[LETHE_ROOTHASH_HEX + 1]; /* from the UKI's .cmdline, or "" */
	char image_id[64];		       /* IMAGE_ID of the UKI's .osrel, or "" */
	bool booted;			       /* the running system booted it */
};

struct lethe_update_status {
	struct lethe_slot_status slot[LETHE_SLOT_N];
	int booted; /* enum lethe_slot, or -1: not known (a disk from another machine) */
	int next;   /* the slot systemd-boot will boot next, or -1: none */
	struct lethe_strv stray; /* other names in EFI/Linux (left-over temporary files) */
};

/* What the ESP of d says about its slots. booted_roothash: the running system's root
 * hash (its /proc/cmdline) or NULL. Release with lethe_update_status_release(). */
int lethe_update_status_read(const struct lethe_update_disk *d, const char *booted_roothash,
			     struct lethe_update_status *ret);
void lethe_update_status_release(struct lethe_update_status *s);

/* ---- install ---- */

struct lethe_install_options {
	uint64_t slot_size; /* bytes of each root partition; 0: LETHE_UPDATE_SLOT_DEFAULT or
			     * twice rootfs.erofs, whichever is larger */
};

/* lethe install: write a new disk to device (a block device or a file): GPT, ESP with
 * systemd-boot and the release's UKI as lethe-VERSION.efi (good), slot A with the
 * release, slot B empty. Refuses what lethe_media_check_target() refuses. The release
 * must have lethe.efi. Slot A is read back and checked against the signed hashes. */
int lethe_update_install(const struct lethe_release *rel, const char *device,
			 const struct lethe_install_options *o);

/* ---- update ---- */

struct lethe_update_options {
	const char *device;		     /* the installed disk (or image) */
	const struct lethe_sign_pubkey *pub; /* the key releases must be signed with */
	const char *booted_roothash;	     /* the running system's, or NULL */
	bool allow_downgrade;
};

struct lethe_update_result {
	enum lethe_slot slot;		      /* the slot written */
	char entry[LETHE_BOOTCOUNT_NAME_MAX]; /* the UKI installed */
	char version[LETHE_BOOTCOUNT_VERSION_MAX + 1];
	uint64_t bytes; /* root and verity bytes written */
};

/* lethe update: open and verify the release in dir (signature, every hash, the verity
 * tree against the signed root hash), check it against the disk (same IMAGE_ID, a newer
 * version unless allow_downgrade, never the same, fits the slot), then write it into
 * the slot that is neither booted nor the newest good one: its old UKI removed, its
 * PARTUUIDs set, root and verity written from the verified files, read back and
 * checked, and last the UKI installed as lethe-VERSION+3.efi (a temporary name,
 * flushed, renamed). A refusal (LETHE_E_INVALID / LETHE_E_REJECTED, -EFBIG, -EEXIST)
 * writes nothing. The entry point other sources (OCI, HTTPS) reuse once they have a
 * local release directory. */
int lethe_update_apply(const char *dir, const struct lethe_update_options *o,
		       struct lethe_update_result *ret);

/* lethe rollback: make the other good slot the one systemd-boot boots next, by giving
 * the next slot's UKI zero tries left (lethe-VERSION+0-N.efi: it sorts last). -ENOENT
 * with a message when the other slot has no good image. ret_slot: the slot that will
 * boot next. */
int lethe_update_rollback(const struct lethe_update_disk *d, const char *booted_roothash,
			  enum lethe_slot *ret_slot);

/* ---- bless ---- */

/* Rename the UKI name in the mounted ESP's EFI/Linux (dir) without its counter, and
 * flush the directory. The name must be a Lethe UKI name. 0 also when it has no counter
 * (already good). */
int lethe_update_bless_dir(const char *esp_dir, const char *name);
/* The same on an ESP reached through mtools (a disk image). */
int lethe_update_bless_disk(const struct lethe_update_disk *d, const char *name);

/* ---- the running system ---- */

/* What an update reads of a release (a set of LETHE_ARTIFACT_BIT): the slot's two files,
 * the UKI, its cmdline and the root hash. Only these are fetched from a URL, opened and
 * hashed; the rest of the release (disk.img, lethe.iso, vmlinuz...) is never read. */
#define LETHE_UPDATE_ARTIFACTS                                                                     \
	(LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_ROOTFS) | LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_VERITY) |   \
	 LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_UKI) | LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_CMDLINE) |     \
	 LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_ROOTHASH))

#define LETHE_UPDATE_KEY "/etc/lethe/update.pub" /* the key an image trusts for updates */

/* The running system's root hash (from /proc/cmdline) into roothash: -ENOENT when it
 * did not boot a Lethe root. With ret_disk, also the disk that holds its root partition
 * ("/dev/vda"; the caller frees it), found by the PARTUUID the root hash gives. */
int lethe_update_running(char roothash[LETHE_ROOTHASH_HEX + 1], char **ret_disk);

/* ---- sources and rollout waves (lib/update/source.c, rollout.c) ---- */

struct lethe_spec_update;
struct lethe_oci_options;

/* Where a machine stands in a rollout (docs/update.md, "Rollout waves"). */
struct lethe_rollout {
	unsigned bucket;  /* 0-99, from the machine id: its place in the fleet */
	bool known;	  /* a machine id was found (else bucket 99: the last wave) */
	int64_t released; /* the release's signed timestamp (its signature's trusted comment) */
	unsigned open;	  /* the wave open now (0-based) */
	unsigned percent; /* the share of the fleet it reaches */
	bool in;	  /* bucket < percent: this machine updates now */
	unsigned wave;	  /* the wave this machine is in */
	int64_t at;	  /* when that wave opens */
};

/* The machine's place in the fleet: the first 8 bytes of SHA-256("lethe-rollout\n" ||
 * id) modulo 100, the id lowercased and without dashes or white space (so that a UUID
 * given with --machine-id is the machine its SMBIOS UUID names). */
unsigned lethe_rollout_bucket(const char *machine_id);
/* The "timestamp:N" of a minisign trusted comment; -ENOENT when it has none. */
int lethe_rollout_timestamp(const char *trusted_comment, int64_t *ret);
/* Where machine_id (NULL: none known) stands in u's waves for a release signed at
 * released, at time now. u with no waves: every machine is in. */
void lethe_rollout_decide(const struct lethe_spec_update *u, const char *machine_id,
			  int64_t released, int64_t now, struct lethe_rollout *ret);
/* The running machine's id: /etc/machine-id when it holds one (a persisted id, or one
 * the spec's files: gives), else the firmware's SMBIOS system UUID
 * (/sys/class/dmi/id/product_uuid). Lowercase, into ret (size >= 65). -ENOENT when
 * neither is there. ret_from names the file. */
int lethe_rollout_machine_id(char *ret, size_t size, const char **ret_from);

struct lethe_update_source_options {
	const struct lethe_oci_options *net;	 /* for URL sources: insecure, auth */
	const struct lethe_spec_update *rollout; /* the waves to honour, or NULL: none */
	const char *machine_id;			 /* NULL: none known (the last wave) */
	int64_t now;				 /* the time the waves are judged at */
};

#define LETHE_UPDATE_NOT_YET 1 /* lethe_update_from(): outside the open wave */

/* lethe update SOURCE: a release directory, https://HOST/PATH/ (http:// to loopback
 * with net->insecure) or oci://REGISTRY/REPO:TAG. The signature over SHA256SUMS is
 * checked first; then the waves (so->rollout) decide: LETHE_UPDATE_NOT_YET (with
 * ret_rollout filled) when this machine's wave has not opened, nothing fetched or
 * written. Else a URL source fetches only rootfs.erofs, rootfs.verity, lethe.efi,
 * cmdline and roothash into a scratch directory under TMPDIR (each checked as it
 * streams, the whole verified) and lethe_update_apply() writes it; the scratch is
 * removed. ret_rollout may be NULL. */
int lethe_update_from(const char *source, const struct lethe_update_options *o,
		      const struct lethe_update_source_options *so, struct lethe_update_result *ret,
		      struct lethe_rollout *ret_rollout);
/* Is source a URL (https://, http://, oci://) rather than a directory? */
bool lethe_update_source_is_url(const char *source);

/* ---- os-release ---- */

/* The value of key in os-release text (KEY=VALUE lines, values optionally quoted);
 * NUL-terminated into ret (size bytes). -ENOENT when absent, -EBADMSG when too long or
 * badly quoted. */
int lethe_osrel_value(const char *text, size_t len, const char *key, char *ret, size_t size);

#endif
