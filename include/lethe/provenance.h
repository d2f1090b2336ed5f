/* Build provenance: provenance.intoto.json, an in-toto Statement v1 whose predicate is
 * SLSA Provenance v1. Its subjects are the release's outputs (every file but
 * SHA256SUMS, its signature and the provenance itself) with their SHA-256; its
 * resolved dependencies are the spec, the lock and every package built. Nothing in it
 * depends on the time, host, user or temporary paths of the build: the only date is the
 * build's epoch (SOURCE_DATE_EPOCH, or the newest package), so it is as reproducible as
 * the rest. SHA256SUMS lists it, so the release's signature covers it.
 *
 * lethe_provenance_check() is what `lethe verify` runs on an opened release: the
 * statement is parsed from the verified bytes and its subjects must be exactly the
 * release's listed files with the signed digests. */
#ifndef LETHE_PROVENANCE_H
#define LETHE_PROVENANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/util.h>

struct lethe_release;

#define LETHE_PROVENANCE_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define LETHE_PROVENANCE_PREDICATE_TYPE "https://slsa.dev/provenance/v1"
#define LETHE_PROVENANCE_MEDIA_TYPE	"application/vnd.in-toto+json"
/* The build type and the builder: URNs, so that no host name is claimed. */
#define LETHE_PROVENANCE_BUILD_TYPE "urn:lethe:build-type:lethe-build:v1"
#define LETHE_PROVENANCE_BUILDER_ID "urn:lethe:builder:lethe-build"

#define LETHE_PROVENANCE_MAX_SIZE     (8u << 20) /* bytes of the document */
#define LETHE_PROVENANCE_MAX_SUBJECTS 256
#define LETHE_PROVENANCE_MAX_INPUTS   8192

/* One resolved dependency (strings not owned; uri and media_type may be NULL). */
struct lethe_provenance_input {
	const char *name;
	const char *uri;
	const char *media_type;
	const uint8_t *sha256; /* 32 bytes */
};

/* What the build knows of itself. */
struct lethe_provenance_build {
	const char *spec_name; /* externalParameters.spec: the spec's file name */
	/* Not whether a lock was given: a build from the lock it would resolve is the same
	 * build (the lock is an input either way), and gives the same document. */
	int64_t epoch;		     /* internalParameters.sourceDateEpoch */
	const char *builder_version; /* runDetails.builder.version.lethe */
	const struct lethe_provenance_input *inputs;
	size_t n_inputs;
};

/* The document for the regular files of dir (subjects, sorted by name; dot files,
 * SHA256SUMS, its signature and the provenance are not subjects), pretty JSON ending
 * with a newline. The caller frees *ret with free(). */
int lethe_provenance_render(const char *dir, const struct lethe_provenance_build *b, char **ret);
/* The same, written atomically to dir/provenance.intoto.json. */
int lethe_provenance_write(const char *dir, const struct lethe_provenance_build *b);

/* A parsed statement: what the check needs. */
struct lethe_provenance_subject {
	char *name;
	uint8_t sha256[32];
};
struct lethe_provenance {
	struct lethe_provenance_subject *subjects;
	size_t n_subjects;
	char *builder_id;
	size_t n_inputs;
};

/* Parse an in-toto Statement v1 with an SLSA Provenance v1 predicate from untrusted
 * bytes; name labels the messages. Every subject needs a name and a sha256 digest of 64
 * lowercase hex digits; names are unique. LETHE_E_INVALID with a message otherwise.
 * The caller frees *ret with lethe_provenance_free(). */
int lethe_provenance_parse(const char *text, size_t len, const char *name,
			   struct lethe_provenance **ret);
struct lethe_provenance *lethe_provenance_free(struct lethe_provenance *p); /* NULL-safe */

/* Check the provenance of an open release: its bytes (read from the verified
 * descriptor and hashed again) match the signed digest, and its subjects are exactly
 * the release's listed files with their signed digests. LETHE_E_INVALID with a message
 * naming the first file that differs. A release that lists no provenance (built before
 * it existed) passes: 0 with *ret_present false (ret_present may be NULL). */
int lethe_provenance_check(const struct lethe_release *rel, bool *ret_present);

#endif
