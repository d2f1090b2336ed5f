/* What changed between two releases, for the review before a fleet gets a new image
 * (issue 18.5): packages added, removed, upgraded or downgraded (from the CycloneDX
 * SBOMs), files added, removed or changed (from the manifests), and the kernel cmdline
 * and root hash. Both releases are opened (verified) handles; their SBOMs and manifests
 * are read from the verified descriptors. */
#ifndef LETHE_DIFF_H
#define LETHE_DIFF_H

#include <stddef.h>

#include <lethe/util.h>

struct lethe_release;

#define LETHE_DIFF_MAX_ENTRIES 1000000 /* manifest lines or SBOM components per release */

enum lethe_diff_change {
	LETHE_DIFF_ADDED,
	LETHE_DIFF_REMOVED,
	LETHE_DIFF_UPGRADED, /* packages: a newer version; files: changed */
	LETHE_DIFF_DOWNGRADED,
};

struct lethe_diff_pkg {
	char *name;
	char *old_version, *new_version; /* NULL when added / removed */
	enum lethe_diff_change change;
};

struct lethe_diff_file {
	char *path;	 /* as the manifest spells it (mtree encoding), "./usr/bin/x" */
	char *old_attrs; /* the manifest's keywords, NULL when added */
	char *new_attrs; /* NULL when removed */
	enum lethe_diff_change change; /* ADDED, REMOVED or UPGRADED (changed) */
};

struct lethe_diff {
	struct lethe_diff_pkg *pkgs; /* sorted by name */
	size_t n_pkgs;
	struct lethe_diff_file *files; /* sorted by path */
	size_t n_files;
	char *old_cmdline, *new_cmdline; /* NULL when the release has none */
	char *old_roothash, *new_roothash;
};

/* Compare old and new. The caller frees *ret with lethe_diff_free(). LETHE_E_INVALID
 * with a message naming the file and line when an SBOM or manifest is malformed. */
int lethe_diff_releases(const struct lethe_release *old_rel, const struct lethe_release *new_rel,
			struct lethe_diff **ret);
struct lethe_diff *lethe_diff_free(struct lethe_diff *d); /* NULL-safe; returns NULL */

#endif
