/* Software bills of materials of an image: SPDX 2.3 JSON (sbom.spdx.json) and
 * CycloneDX 1.5 JSON (sbom.cdx.json). The image is the described root; every Debian
 * package is a component with its purl (pkg:deb/debian/NAME@VERSION?arch=ARCH), the
 * SHA-256 of its .deb, its supplier (Maintainer) and its licences where its
 * debian/copyright is machine-readable. Nothing random or time-of-day goes in: the
 * document namespace and serial number derive from the content, the creation time is
 * the image's epoch (SOURCE_DATE_EPOCH). */
#ifndef LETHE_SBOM_H
#define LETHE_SBOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/util.h>

#define LETHE_SBOM_MAX_PACKAGES 4096

/* One package, as the caller knows it (lethe_pkg in lib/pkg); strings are not owned
 * and may be NULL when the package does not declare them (name, version, arch and
 * sha256 are required). */
struct lethe_sbom_package {
	const char *name;
	const char *version;
	const char *arch;
	const uint8_t *sha256;		   /* of the .deb, 32 bytes */
	const char *maintainer;		   /* Maintainer: "Name <email>" */
	const char *summary;		   /* first line of Description */
	const char *depends;		   /* Depends: as in the control file */
	const char *pre_depends;	   /* Pre-Depends: */
	const struct lethe_strv *licenses; /* DEP-5 License: names; NULL or empty: unknown */
	bool kernel;			   /* the kernel: boots the image, not in its root */
};

/* The image itself: the root component of both documents. */
struct lethe_sbom_image {
	const char *name;
	const char *version;
	const uint8_t *rootfs_sha256; /* of rootfs.erofs, 32 bytes; may be NULL */
	int64_t epoch;		      /* creation time, seconds since 1970, UTC */
	const char *tool_version;     /* Lethe's version, for creators/tools */
};

/* The SPDX 2.3 document, pretty-printed JSON ending with a newline. Packages may come in
 * any order: the output is sorted by name. The caller frees *ret with free().
 * -EINVAL (with a message naming the package) for a package without name, version,
 * arch or SHA-256, or more than LETHE_SBOM_MAX_PACKAGES. */
int lethe_sbom_spdx(const struct lethe_sbom_image *img, const struct lethe_sbom_package *pkgs,
		    size_t n, char **ret);

/* The CycloneDX 1.5 document, with the same rules. */
int lethe_sbom_cyclonedx(const struct lethe_sbom_image *img, const struct lethe_sbom_package *pkgs,
			 size_t n, char **ret);

/* Both into dir/sbom.spdx.json and dir/sbom.cdx.json, each written atomically. */
int lethe_sbom_write(const char *dir, const struct lethe_sbom_image *img,
		     const struct lethe_sbom_package *pkgs, size_t n);

/* A package's licences as one SPDX licence expression: each DEP-5 name mapped to its
 * SPDX identifier where one is known (GPL-2+ -> GPL-2.0-or-later, Expat -> MIT...),
 * else to LicenseRef-NAME; "or"/"and" inside a name become OR/AND; several names are
 * joined with AND. NULL in *ret when licenses is NULL or empty. Caller frees *ret. */
int lethe_sbom_license_expression(const struct lethe_strv *licenses, char **ret);

/* The purl of a Debian package, percent-encoded: pkg:deb/debian/NAME@VERSION?arch=ARCH.
 * The caller frees *ret. */
int lethe_sbom_purl(const char *name, const char *version, const char *arch, char **ret);

#endif
