/* Releases through OCI registries and plain HTTP (issue 18).
 *
 * A release pushed to a registry is one OCI image manifest (artifactType
 * application/vnd.lethe.release.v1, the empty config) with every file of the release as
 * a layer of its own media type, titled (org.opencontainers.image.title) with its file
 * name. The signature, both SBOMs and the provenance are also attached as referrers of
 * that manifest: one small manifest each, whose subject is the release's manifest and
 * whose one layer is the file's blob (already uploaded); where the registry has no
 * referrers API (it answers a manifest with a subject without OCI-Subject), the
 * sha256-HEX tag holds an image index of them, as the distribution spec's fallback says.
 *
 * A pull fetches every blob into a directory beside the output directory, checking each
 * blob's digest as it streams, then opens the result with lethe_release_open() (the
 * signature over SHA256SUMS, every file against it, the provenance) and only then
 * renames it into place. An interrupted pull keeps that directory and resumes with
 * Range requests; a pull that fails a check removes it. The same holds for a release
 * served over HTTP(S) as a directory (SHA256SUMS and its signature are fetched and
 * verified first, then each file it lists).
 *
 * Credentials come from the Docker/Podman auth.json conventions: $REGISTRY_AUTH_FILE,
 * else $XDG_RUNTIME_DIR/containers/auth.json, else ~/.docker/config.json ("auths" ->
 * "HOST[:PORT]" -> "auth": base64 of USER:PASSWORD). Basic and bearer-token (the token
 * server of the challenge's realm) authentication; TLS with the system's CAs; plain
 * HTTP only with insecure set and only to a loopback host. */
#ifndef LETHE_OCI_H
#define LETHE_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/util.h>

struct lethe_release;
struct lethe_sign_pubkey;

#define LETHE_OCI_ARTIFACT_TYPE "application/vnd.lethe.release.v1"
#define LETHE_OCI_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define LETHE_OCI_INDEX_TYPE	"application/vnd.oci.image.index.v1+json"
#define LETHE_OCI_EMPTY_TYPE	"application/vnd.oci.empty.v1+json"
#define LETHE_OCI_TITLE		"org.opencontainers.image.title"
#define LETHE_OCI_MANIFEST_MAX	(4u << 20) /* bytes of a manifest or index we read */
#define LETHE_OCI_MAX_LAYERS	64
#define LETHE_OCI_BLOB_MAX	(64ull << 30) /* bytes of one release file */
#define LETHE_OCI_REF_MAX	512

/* A parsed reference: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:HEX (an oci:// prefix
 * is accepted). The registry is the first component and is required. */
struct lethe_oci_ref {
	char registry[256]; /* host[:port] */
	char repo[256];	    /* lowercase path components */
	char tag[129];	    /* "" when by digest */
	char digest[72];    /* "sha256:HEX", "" when by tag */
};

/* Parse s into *ret; -EINVAL with a message saying what is wrong. */
int lethe_oci_ref_parse(const char *s, struct lethe_oci_ref *ret);
/* Is host ("name", "name:port", "[v6]:port") a loopback address (127/8, ::1, localhost)? */
bool lethe_oci_host_is_loopback(const char *host);

struct lethe_oci_options {
	bool insecure;		/* plain HTTP; refused unless the host is loopback */
	const char *auth_file;	/* NULL: the auth.json conventions above */
	const char *user_agent; /* NULL: "lethe" */
	/* A local root image (the active slot's root partition, or an older rootfs.erofs):
	 * the blocks of the new rootfs.erofs that it holds, at any offset, by their digest
	 * in the new rootfs.verity (level 0 of the tree, a SHA-256 per 4 KiB block as RAUC's
	 * block-hash-index), are read from it, and only the others fetched, with Range
	 * requests. Every block is checked against its digest, the file against SHA256SUMS,
	 * and the release is verified whole as without it. NULL: fetch whole. */
	const char *delta_base;
	/* A local UKI (the one the machine boots, or an older lethe.efi): the new lethe.efi's
	 * .linux and .initrd are read from it where their contents' SHA-256 are what the
	 * signed SHA256SUMS lists for vmlinuz and initramfs.img, and only the rest (headers,
	 * stub, .osrel, .cmdline, a signature) fetched, with Range requests; the file is
	 * checked whole against SHA256SUMS. NULL: fetch whole. */
	const char *delta_uki;
	/* Only the first bytes of delta_base are indexed (0: all of it, up to 16 GiB): an
	 * installed disk's slots, not the free space after them. */
	uint64_t delta_base_limit;
	/* lethe_fetch_release() only: fetch only these files (a set of LETHE_ARTIFACT_BIT;
	 * SHA256SUMS and its signature always), and verify the result as a release with
	 * lethe_release_options' only = this set. 0: every file SHA256SUMS lists. */
	uint64_t artifacts;
	/* lethe_fetch_release() only: called once the signature over SHA256SUMS is
	 * verified, before any other file is fetched, with its trusted comment. A nonzero
	 * return ends the fetch with that value (nothing else fetched, the partial download
	 * removed). NULL: none. */
	int (*on_signed)(const char *trusted_comment, void *userdata);
	void *userdata;
};

/* What a transfer did, for the CLI and the tests. */
struct lethe_oci_stats {
	unsigned blobs_uploaded, blobs_skipped; /* push: sent, or already there (HEAD) */
	unsigned files;				/* pull: files fetched */
	uint64_t bytes_sent, bytes_received, bytes_resumed;
	uint64_t bytes_reused;	  /* pull with delta_base: read from it instead of fetched */
	unsigned ranges;	  /* pull with delta_base: Range requests made */
	char manifest_digest[72]; /* the release's manifest, "sha256:HEX" */
	bool referrers_api;	  /* push: the registry answered OCI-Subject */
};

/* Push the release in dir to ref (a tag is required). The release is opened and checked
 * first (with pub, its signature too; pub NULL: the sums only), and what is sent is what
 * was checked: the files from the handle's descriptors, SHA256SUMS and its signature
 * from the bytes read (and verified) once. Blobs the registry has are not sent again.
 * ret_stats may be NULL. */
int lethe_oci_push(const char *dir, const struct lethe_sign_pubkey *pub, const char *ref,
		   const struct lethe_oci_options *opts, struct lethe_oci_stats *ret_stats);

/* Fetch a release from source into outdir, verified with pub: source is
 * oci://REGISTRY/REPO:TAG, REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:HEX, or
 * https://HOST/PATH/ (http:// with insecure, loopback only). outdir must not exist or
 * be empty; on success it holds exactly the release, which lethe verify, write, run and
 * update accept. LETHE_E_INVALID / LETHE_E_REJECTED (with a message naming the file or
 * digest) when a check fails; nothing is then left in outdir, and the partial download
 * is removed. Any other failure (network, interruption) keeps the partial download for
 * the next call to resume. ret_stats may be NULL. */
int lethe_fetch_release(const char *source, const char *outdir, const struct lethe_sign_pubkey *pub,
			const struct lethe_oci_options *opts, struct lethe_oci_stats *ret_stats);

/* One layer of a release manifest, as lethe_oci_manifest_parse() read it. */
struct lethe_oci_layer {
	char name[64];	 /* the title: a release file name */
	char digest[72]; /* "sha256:HEX" */
	uint8_t sha256[32];
	uint64_t size;
};
/* Parse a release manifest (untrusted bytes; label names it in messages): an OCI image
 * manifest of artifactType LETHE_OCI_ARTIFACT_TYPE whose layers are each titled with a
 * distinct release file name and have a sha256 digest and a size. layers has room for
 * LETHE_OCI_MAX_LAYERS. LETHE_E_INVALID with a message otherwise. */
int lethe_oci_manifest_parse(const char *text, size_t len, const char *label,
			     struct lethe_oci_layer *layers, size_t *ret_n);

/* The media type a release file gets as a layer: by its artifact, else a generic one. */
const char *lethe_oci_media_type(const char *file_name);

#endif
