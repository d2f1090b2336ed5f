/* What the SPDX and CycloneDX writers share. */
#ifndef LETHE_SBOM_INTERNAL_H
#define LETHE_SBOM_INTERNAL_H

#include <json-c/json.h>

#include <lethe/sbom.h>

/* Check the packages and return them sorted by name (an array of pointers, the caller
 * frees it). */
int sbom_sorted(const struct lethe_sbom_package *pkgs, size_t n,
		const struct lethe_sbom_package ***ret);
/* What both documents start from: check img, format its epoch into when, sort the
 * packages into *ret_sorted (the caller frees it) and derive the document's UUID from
 * their content digest (kind: "spdx" or "cyclonedx"). */
int sbom_begin(const struct lethe_sbom_image *img, const struct lethe_sbom_package *pkgs, size_t n,
	       const char *kind, char when[32], char uuid[37],
	       const struct lethe_sbom_package ***ret_sorted);
/* SHA-256 over everything the document says, for its namespace and serial number. */
void sbom_content_digest(const struct lethe_sbom_image *img,
			 const struct lethe_sbom_package *const *pkgs, size_t n, const char *kind,
			 uint8_t out[32]);
/* "2023-11-14T22:13:20Z"; -ERANGE when the epoch is not representable. */
int sbom_iso8601(int64_t epoch, char out[32]);
/* Names of the packages in a Depends-like field that are in pkgs (each once, in field
 * order), appended to deps. */
int sbom_depends(const char *field, const struct lethe_sbom_package *const *pkgs, size_t n,
		 struct lethe_strv *deps);
/* The package called name in the sorted array, or NULL. */
const struct lethe_sbom_package *sbom_find(const struct lethe_sbom_package *const *pkgs, size_t n,
					   const char *name);
/* Serialize obj (pretty, no slash escapes, final newline) into *ret and release obj. */
int sbom_finish(struct json_object *obj, char **ret);

/* Builders that remember the first failure in *err (and then do nothing), so that a
 * document is assembled in a straight line and checked once. v is consumed. */
void sbom_put(struct json_object *obj, const char *key, struct json_object *v, int *err);
void sbom_put_str(struct json_object *obj, const char *key, const char *s, int *err);
void sbom_push(struct json_object *arr, struct json_object *v, int *err);
struct json_object *sbom_new_obj(int *err);
struct json_object *sbom_new_arr(int *err);
#endif
