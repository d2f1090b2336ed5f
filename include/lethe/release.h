/* A release: the directory `lethe build` writes. Its artifact names are spelled here
 * once, as a table; and a release is opened and verified once, into a handle that every
 * consumer (lethe write, verify, run; later update and push) takes instead of a path,
 * as RAUC's operations take a checked bundle.
 *
 * lethe_release_open() opens the directory and SHA256SUMS, verifies the signature over
 * the bytes it read, then opens every listed file (O_NOFOLLOW, regular files only) and
 * hashes it from that open file. The handle keeps those descriptors: nothing re-opens a
 * path of the directory afterwards, so a file renamed or replaced after the check is
 * never used. Tools that need a path (QEMU, the verity check) get /proc/self/fd/N of
 * the verified descriptor (lethe_release_fd_path()). The content of a file whose inode
 * a writer keeps changing is not protected by this: a consumer that copies an artifact
 * (lethe write) hashes what it copies again. */
#ifndef LETHE_RELEASE_H
#define LETHE_RELEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/sign.h>
#include <lethe/sums.h>
#include <lethe/util.h>

/* The artifacts of a release. Do not reorder: the values index lethe_release_names and
 * the handle's tables, and tools may store them. New artifacts go before
 * LETHE_ARTIFACT_MAX. */
enum lethe_release_artifact {
	LETHE_ARTIFACT_ROOTFS,	  /* rootfs.erofs: the root file system */
	LETHE_ARTIFACT_VERITY,	  /* rootfs.verity: its dm-verity hash tree */
	LETHE_ARTIFACT_ROOTHASH,  /* roothash: the tree's root hash, hex, one line */
	LETHE_ARTIFACT_MANIFEST,  /* manifest.mtree */
	LETHE_ARTIFACT_SBOM_SPDX, /* sbom.spdx.json */
	LETHE_ARTIFACT_SBOM_CDX,  /* sbom.cdx.json */
	LETHE_ARTIFACT_LOCK,	  /* lethe.lock: the packages built */
	LETHE_ARTIFACT_KERNEL,	  /* vmlinuz (only with kernel.package) */
	LETHE_ARTIFACT_INITRAMFS, /* initramfs.img (only with kernel.package) */
	LETHE_ARTIFACT_CMDLINE,	  /* cmdline: one line, with lethe.roothash= (idem) */
	LETHE_ARTIFACT_DISK,	  /* disk.img: GPT, root + root-verity (+ ESP) partitions */
	LETHE_ARTIFACT_SUMS,	  /* SHA256SUMS: every file above that exists */
	LETHE_ARTIFACT_SIG,	  /* SHA256SUMS.minisig: its signature */
	LETHE_ARTIFACT_UKI,	  /* lethe.efi: the Unified Kernel Image (with kernel.package) */
	LETHE_ARTIFACT_PCR,	  /* pcr.json: predicted TPM PCRs (11; 4 when signed for SB) */
	/* provenance.intoto.json: in-toto Statement v1, SLSA Provenance v1 (issue 18) */
	LETHE_ARTIFACT_PROVENANCE,
	LETHE_ARTIFACT_ISO, /* lethe.iso: hybrid ISO 9660 for DVDs and sticks (idem) */
	LETHE_ARTIFACT_MAX
};

/* The file names, indexed by enum lethe_release_artifact. */
extern const char *const lethe_release_names[LETHE_ARTIFACT_MAX];

/* The file name of an artifact (never NULL for a valid id). */
const char *lethe_release_name(enum lethe_release_artifact a);

/* The artifact named name, or -ENOENT when no artifact has that name. */
int lethe_release_artifact_from_name(const char *name, enum lethe_release_artifact *ret);

/* Does the directory hold a release, by its layout alone (no signature is checked: a
 * build signed with another key is still a build)? True when it holds only regular files
 * (no subdirectory, link, dot file or other name), every name is an artifact name,
 * SHA256SUMS and SHA256SUMS.minisig are there, and SHA256SUMS lists exactly the other
 * files. `lethe build -o DIR` replaces DIR only then. 0 yes; -ENOTEMPTY with a message
 * saying what else DIR holds; -errno when it cannot be read. */
int lethe_release_probe(const char *dir);

/* ---- The verified handle ---- */

struct lethe_release;

enum {
	/* Also check every block of rootfs.erofs against rootfs.verity and the root hash
	 * of the signed cmdline (and roothash: both must agree when both exist). */
	LETHE_RELEASE_OPEN_VERITY = 1u << 0,
	/* pub is NULL: check every file against SHA256SUMS, but SHA256SUMS is not
	 * authenticated (lethe run without a key). The handle says so. */
	LETHE_RELEASE_OPEN_UNSIGNED = 1u << 1,
};

/* A set of artifacts, for lethe_release_options' only and unhashed. */
#define LETHE_ARTIFACT_BIT(a) (UINT64_C(1) << (a))

struct lethe_release_options {
	unsigned flags;		/* LETHE_RELEASE_OPEN_* */
	lethe_sums_check_fn fn; /* hears of each listed file as lethe_sums_check() says */
	void *userdata;
	/* 0: open and hash every listed file. Else only the artifacts in this set (they
	 * must be listed when the caller needs them: lethe_release_has()); the other
	 * listed files are neither opened nor hashed, and need not exist (a verb that
	 * reads three files of a release does not hash the other seven; lethe update).
	 * SHA256SUMS's signature and syntax are checked in full either way. */
	uint64_t only;
	/* Of the artifacts opened, those not hashed at open: the caller reads each of them
	 * once, hashing what it reads, and compares with lethe_release_info()'s signed
	 * digest before it uses the bytes (lib/update copies the UKI that way). Not
	 * cmdline or roothash, whose text the handle keeps (always hashed). rootfs.erofs
	 * with LETHE_RELEASE_OPEN_VERITY is proven by the tree instead: every block
	 * against the signed root hash, and its size exactly the blocks the tree covers
	 * (one pass over the root where there were two; lib/update). */
	uint64_t unhashed;
};

/* Open and verify the release in dir with pub (opts may be NULL: signature and every
 * checksum). The release must list rootfs.erofs and rootfs.verity. LETHE_E_INVALID /
 * LETHE_E_REJECTED (lethe_error_is_check()) when a check fails, with a message; *ret is
 * then untouched. The caller frees *ret with lethe_release_free(). */
int lethe_release_open(const char *dir, const struct lethe_sign_pubkey *pub,
		       struct lethe_release **ret);
int lethe_release_open_opts(const char *dir, const struct lethe_sign_pubkey *pub,
			    const struct lethe_release_options *opts, struct lethe_release **ret);
/* Closes everything; accepts NULL; returns NULL. */
struct lethe_release *lethe_release_free(struct lethe_release *rel);

/* The directory as given to open: for messages, never to open files. */
const char *lethe_release_dir(const struct lethe_release *rel);
/* Was SHA256SUMS's signature checked (false only with LETHE_RELEASE_OPEN_UNSIGNED)? */
bool lethe_release_signed(const struct lethe_release *rel);
/* How many files SHA256SUMS lists. */
size_t lethe_release_n_listed(const struct lethe_release *rel);

/* Is artifact a listed (and so checked) in the release? */
bool lethe_release_has(const struct lethe_release *rel, enum lethe_release_artifact a);
/* The verified open file of a listed artifact (read it with pread; do not close it),
 * or -ENOENT with a message when the release does not list it. */
int lethe_release_fd(const struct lethe_release *rel, enum lethe_release_artifact a);
/* Its size and signed SHA-256 (as checked at open, or for an artifact opened unhashed
 * as the caller must check it); -ENOENT when not listed. */
int lethe_release_info(const struct lethe_release *rel, enum lethe_release_artifact a,
		       uint64_t *ret_size, uint8_t ret_sha256[32]);
/* "/proc/self/fd/N" for the verified file, for a tool that takes a path (in this
 * process, or in a child that inherits N: see lethe_release_fds()). */
int lethe_release_fd_path(const struct lethe_release *rel, enum lethe_release_artifact a,
			  char ret[32]);
/* The descriptors of the handle, for a child that must keep them across exec. Fills
 * up to max, returns how many. */
size_t lethe_release_fds(const struct lethe_release *rel, size_t max, int *ret);

/* The signed kernel cmdline (its one line, no newline), or NULL when the release has
 * none. Owned by the handle. */
const char *lethe_release_cmdline(const struct lethe_release *rel);
/* The signed root hash (from cmdline's lethe.roothash=, else roothash), lowercase hex.
 * Owned by the handle; never NULL for an open release. */
const char *lethe_release_roothash(const struct lethe_release *rel);

#endif
