/* What the files of lib/oci share: one HTTP client over libcurl (auth challenges
 * answered, bodies streamed from descriptors or memory, responses streamed into a
 * descriptor through a SHA-256), credentials from auth.json, and the staging directory
 * of a pull. Private to lib/oci. */
#ifndef LETHE_OCI_INTERNAL_H
#define LETHE_OCI_INTERNAL_H

#include <curl/curl.h>

#include <lethe/oci.h>

#define OCI_ERROR_BODY_MAX (64u << 10)

struct oci_client {
	CURL *curl;
	const struct lethe_oci_options *opts;
	char host[256];	 /* host[:port], for messages and auth.json */
	char base[300];	 /* "https://host[:port]" */
	char scope[320]; /* "repository:REPO:pull[,push]" */
	char *user, *pass;
	char *token; /* bearer token, once a challenge asked for one */
	bool basic;  /* the registry asked for basic auth */
	struct lethe_oci_stats *stats;
};

/* A request body: memory (data, len) or a descriptor read with pread from 0 (fd >= 0). */
struct oci_body {
	const void *data;
	size_t len;
	int fd;
	uint64_t size;
};

/* Where a 2xx response body goes: appended to fd at offset, through h (may be NULL), at
 * most max bytes in all (offset included). A 200 answer to a Range request starts the
 * file again. */
struct oci_sink {
	int fd;
	uint64_t offset, max;
	struct lethe_sha256 *h;
	bool range_only; /* a 200 answer is an error (-EPROTONOSUPPORT), not a restart */
	bool started, overflow;
	int error;
};

struct oci_response {
	long status;
	char *location, *www_auth, *content_type, *digest; /* response headers, or NULL */
	bool oci_subject;
	uint64_t content_length; /* of the header, 0 when none */
	struct lethe_buf body;	 /* the body when there is no sink, or an error body */
};

int oci_client_init(struct oci_client *c, const char *host, const char *repo, bool push,
		    const struct lethe_oci_options *opts, struct lethe_oci_stats *stats);
/* A client for plain URLs (an HTTP release): base is scheme://host[:port]. */
int oci_client_init_url(struct oci_client *c, const char *url, const struct lethe_oci_options *opts,
			struct lethe_oci_stats *stats);
void oci_client_release(struct oci_client *c);
void oci_response_release(struct oci_response *r);

/* One request to url (absolute, or a path below c->base). headers: NULL-terminated
 * extra header lines. A 401 is answered once (basic credentials or a bearer token) and
 * the request repeated. Returns 0 with resp filled whatever the status (transport
 * errors are -errno with a message naming the URL). */
int oci_request(struct oci_client *c, const char *method, const char *url,
		const char *const *headers, const struct oci_body *body, struct oci_sink *sink,
		struct oci_response *resp);
/* A message for an unexpected status: names what, the URL's host and the status, and
 * for 401/403 says the credentials were refused. Returns err. */
int oci_status_error(struct oci_client *c, int err, const char *what,
		     const struct oci_response *resp);

/* auth.json: the credentials for host, or -ENOENT. The caller frees both. */
int oci_auth_lookup(const char *auth_file, const char *host, char **ret_user, char **ret_pass);

/* "sha256:HEX" of a buffer. */
void oci_digest_string(const uint8_t sha256[32], char out[72]);
/* Parse "sha256:HEX" (lowercase, 64 digits) into 32 bytes; -EINVAL otherwise. */
int oci_digest_parse(const char *s, uint8_t ret[32]);

/* pull.c and http-release.c: the staging directory beside outdir, named by key so that
 * the same release resumes into it. */
int oci_stage_open(const char *outdir, const char *key, char **ret_stage);
/* Fetch url into stage/name (resuming what is there) checking size (0: unknown) and
 * sha256; a mismatch is LETHE_E_INVALID naming what, and the file is removed. */
int oci_fetch_file(struct oci_client *c, const char *url, const char *const *headers,
		   const char *stage, const char *name, uint64_t size, const uint8_t sha256[32],
		   const char *what);
/* Verify stage with pub (release and provenance; only the artifacts in the set only,
 * 0: all), then rename it to outdir. A failed check removes stage. */
int oci_stage_commit(const char *stage, const char *outdir, const struct lethe_sign_pubkey *pub,
		     uint64_t only);

/* After a failed check (else nothing): remove stage (may be NULL), keeping the
 * message. Returns r. */
int oci_stage_discard(const char *stage, int r);

/* One file of a release to fetch. */
struct oci_item {
	const char *name;   /* the release file name */
	char url[1200];	    /* absolute, or a path below the client's base */
	uint64_t size;	    /* 0: unknown */
	uint8_t sha256[32]; /* from the signed SHA256SUMS or the manifest */
	char what[1600];    /* names the file in messages */
};
/* Fetch the items opts wants (opts->artifacts; every one when opts is NULL) into stage:
 * SHA256SUMS and its signature first (those of items, or already in stage), the
 * signature verified and opts->on_signed asked before any other file; then
 * oci_stage_commit() into outdir. A failed check, or a nonzero on_signed, removes stage,
 * keeping its message. With opts->delta_base (a local root image), rootfs.erofs is
 * fetched last, by oci_fetch_delta(); with opts->delta_uki, lethe.efi by
 * oci_fetch_delta_uki(); either whole where that cannot be done. */
int oci_stage_fetch(struct oci_client *c, const char *stage, const char *outdir,
		    const struct lethe_sign_pubkey *pub, const struct oci_item *items, size_t n,
		    const struct lethe_oci_options *opts);

/* delta.c: fetch item (rootfs.erofs) into stage from the blocks of base (its first
 * base_limit bytes; 0: all) whose level-0
 * digest in stage/rootfs.verity (fetched and checked already) matches, and the others
 * with Range requests, each block checked against its digest as it arrives, the whole
 * against item->sha256. -EPROTONOSUPPORT (no message) when the server does not answer
 * ranges or the tree cannot serve as an index: the caller then fetches the file whole.
 * A block that does not match is LETHE_E_INVALID naming it. */
int oci_fetch_delta(struct oci_client *c, const struct oci_item *item, const char *stage,
		    const char *base, uint64_t base_limit);

/* Bytes [start, end) of item (end 0: from start to its end) with one Range request,
 * written to fd at start; *ret_end (may be NULL) is where they ended. -EPROTONOSUPPORT
 * (no message) when the server answers with the whole file. */
int oci_fetch_range(struct oci_client *c, const struct oci_item *item, int fd, uint64_t start,
		    uint64_t end, uint64_t *ret_end);

/* delta-uki.c: fetch item (lethe.efi) into stage, its .linux and .initrd sections read
 * from the local UKI base where their contents' SHA-256 are what stage/SHA256SUMS (the
 * signed one) lists for vmlinuz and initramfs.img, the sections it is made of; the rest
 * (headers, the stub, the small sections, a signature) with Range requests; the whole
 * checked against item->sha256. -EPROTONOSUPPORT (no message) when nothing can be
 * reused, the server does not answer ranges, or the result is not the file (a section
 * padded otherwise): the caller then fetches the file whole. */
int oci_fetch_delta_uki(struct oci_client *c, const struct oci_item *item, const char *stage,
			const char *base);

/* http-release.c */
int oci_fetch_http(const char *url, const char *outdir, const struct lethe_sign_pubkey *pub,
		   const struct lethe_oci_options *opts, struct lethe_oci_stats *stats);

#endif
