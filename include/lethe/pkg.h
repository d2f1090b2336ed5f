/* Packages: resolve a spec's packages to their dependency closure with apt (private
 * state, the repository's signed indexes), fetch the .debs into a verified cache, read
 * their control data, and keep the exact set in lethe.lock (docs/formats.md).
 *
 * The flow for `lethe build` (lethe_rootfs_populate() then extracts the set):
 *
 *     struct lethe_pkgset *set;
 *     if (locked) r = lethe_lock_load("lethe.lock", &set)            // exact set
 *                 ?: lethe_pkg_check_lock(spec, set);               // spec still matches
 *     else        r = lethe_pkg_resolve(spec, &opts, &set);         // apt, drop:, kernel
 *     r = lethe_pkg_fetch(spec, &opts, set);  // .debs in the cache, SHA-256, control data
 *     r = lethe_lock_save("out/lethe.lock", set);
 *     ... lethe_rootfs_populate(spec, set, staging, ...) ...
 *     lethe_pkgset_free(set);
 *
 * apt runs as a subprocess (no shell) with APT_CONFIG pointing at a private root under
 * the cache (its own empty dpkg status, a copy of the sources and trusted keyrings), so
 * the host's package state is never read or written, and apt's signature checks stay on:
 * sources that would weaken them are refused (lethe_pkg_sources_check()), and every apt
 * call gets -o options that forbid unsigned, weakly signed and stale repositories.
 */
#ifndef LETHE_PKG_H
#define LETHE_PKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/spec.h>
#include <lethe/util.h>

#define LETHE_PKG_MAX	       4096	    /* packages in one set */
#define LETHE_PKG_MAX_DEB_SIZE (1ull << 31) /* one .deb: 2 GiB */
#define LETHE_PKG_MAX_CONTROL  (256u << 10) /* one control file */
#define LETHE_LOCK_MAX_SIZE    (4u << 20)   /* a lethe.lock file */

/* The control data of one package (its DEBIAN/control paragraph), for
 * /var/lib/dpkg/status and the SBOMs. Every string is owned by the struct; fields a
 * package does not declare are NULL. */
struct lethe_pkg_control {
	char *text; /* the whole paragraph, validated, ending in one '\n' */
	char *package;
	char *version;
	char *architecture;
	char *maintainer;
	char *summary; /* the first line of Description */
	char *depends;
	char *pre_depends;
	char *homepage;
	char *source;		 /* "Source:" if any (may carry a "(version)") */
	uint64_t installed_size; /* KiB, 0 when absent */
};

enum lethe_pkg_role {
	LETHE_PKG_ROOT,	  /* extracted into the root tree */
	LETHE_PKG_KERNEL, /* the kernel: fetched and locked, never extracted into the root */
};

struct lethe_pkg {
	char *name;
	char *version;
	char *arch;
	char *filename; /* NAME_VERSION_ARCH.deb, ':' written %3a (apt's naming) */
	uint8_t sha256[32];
	bool have_sha256; /* known: from the signed index (resolve) or the lock */
	uint64_t size;	  /* bytes of the .deb, 0 until known */
	enum lethe_pkg_role role;
	char *path; /* the verified .deb in the cache, after lethe_pkg_fetch() */
	struct lethe_pkg_control control; /* after lethe_pkg_fetch() */
	/* SPDX-ish licence names from /usr/share/doc/NAME/copyright when it is
	 * machine-readable (DEP-5), in order of appearance, without duplicates; filled by
	 * lethe_rootfs_extract() (lethe_rootfs_populate(), and the build's kernel stage for
	 * kernel packages). */
	struct lethe_strv licenses;
};

/* A set of packages, sorted by name (names are unique). */
struct lethe_pkgset {
	struct lethe_pkg *pkgs;
	size_t n;
	struct lethe_strv dropped; /* closure members removed by the spec's drop:, sorted */
};

/* Free the strings, control data and licences p owns (not p itself). */
void lethe_pkg_release(struct lethe_pkg *p);
struct lethe_pkgset *lethe_pkgset_free(struct lethe_pkgset *set); /* returns NULL */
/* The package called name, or NULL. */
struct lethe_pkg *lethe_pkgset_find(const struct lethe_pkgset *set, const char *name);

/* Compare two Debian versions as dpkg does (deb-version(7)): <0, 0 or >0. */
int lethe_pkg_version_compare(const char *a, const char *b);

/* Checks of Debian's syntax (Policy 5.6.1, 5.6.12); used on every name read from apt,
 * a lock or a package. Versions allow [A-Za-z0-9.+~:-]. */
bool lethe_pkg_name_is_valid(const char *name);
bool lethe_pkg_version_is_valid(const char *version);
bool lethe_pkg_arch_is_valid(const char *arch);
/* apt's file name for a package: NAME_VERSION_ARCH.deb with ':' as "%3a". The caller
 * frees the result; NULL on ENOMEM. */
char *lethe_pkg_deb_filename(const char *name, const char *version, const char *arch);

/* ---- lethe.lock (format in docs/formats.md, "lethe.lock"). ---- */

/* Parse a lock from memory; name is what messages call it ("'NAME' line N: ..."). The
 * parser is strict: header, field syntax, sorting, duplicates, file names. The caller
 * frees *ret with lethe_pkgset_free(). -EBADMSG on any malformed line. */
int lethe_lock_parse(const char *name, const char *text, size_t len, struct lethe_pkgset **ret);
int lethe_lock_load(const char *path, struct lethe_pkgset **ret);
/* Append the lock text of set to out (every package must have its SHA-256). */
int lethe_lock_format(const struct lethe_pkgset *set, struct lethe_buf *out);
/* Write the lock of set to path atomically. */
int lethe_lock_save(const char *path, const struct lethe_pkgset *set);
/* In --locked mode: every package the spec names (and its kernel package) must be in
 * the lock with the right role, and no name of drop: may be in it; -EBADMSG naming the
 * package otherwise ("run 'lethe lock' again"). */
int lethe_pkg_check_lock(const struct lethe_spec *spec, const struct lethe_pkgset *set);

/* ---- apt sources (sources.list(5)). ---- */

#define LETHE_PKG_SOURCES_MAX_SIZE (256u << 10) /* one sources file */

enum lethe_pkg_sources_format {
	LETHE_PKG_SOURCES_LIST,	  /* one-line "deb [OPTIONS] URI SUITE [COMPONENT...]" */
	LETHE_PKG_SOURCES_DEB822, /* a .sources file: stanzas of "Field: value" */
};

/* Is entry a one-line source ("deb" or "deb-src", then a blank or '[')? Anything else
 * a spec lists under apt.sources is a file name (such as "debian.sources"). */
bool lethe_pkg_source_is_oneline(const char *entry);

/* Check apt sources text (len bytes, need not be NUL-terminated) for what would weaken
 * apt's signature or freshness checks. Field and option names are compared without
 * case, as apt does; every option must be one of sources.list(5) that Lethe knows:
 * trusted, allow-insecure, allow-weak and allow-downgrade-to-insecure may only be
 * "no", check-valid-until and check-date only "yes"; valid-until-min/-max,
 * date-max-future, inrelease-path and unknown options (deb822 X- fields aside) are
 * refused. -EBADMSG with "apt source 'NAME' line N: WHY" on the first refused or
 * malformed line (name NULL: the message is WHY alone, for a caller that says where);
 * -EFBIG above LETHE_PKG_SOURCES_MAX_SIZE. */
int lethe_pkg_sources_check(const char *name, const char *text, size_t len,
			    enum lethe_pkg_sources_format format);

/* ---- apt and the cache. ---- */

struct lethe_pkg_options {
	/* The cache; NULL: $XDG_CACHE_HOME/lethe, else ~/.cache/lethe. Holds debs/ (the
	 * verified .debs, named SHA256-FILENAME) and apt/KEY/ (a private apt root per
	 * sources configuration, with its downloaded lists). */
	const char *cache_dir;
	/* Run `apt-get update` even if the cached lists are fresh. */
	bool refresh;
	/* Lists older than this many seconds are refreshed; 0: 86400 (a day). A negative
	 * value never refreshes lists that exist (offline work). */
	int64_t max_list_age;
	/* The apt-get program; NULL: $LETHE_APT_GET, else "apt-get" from PATH. */
	const char *apt_get;
};

/* The cache directory that opts selects. The caller frees *ret. */
int lethe_pkg_cache_dir(const struct lethe_pkg_options *opts, char **ret);

/* Resolve the spec's packages (plus kernel.package) to their dependency closure with
 * apt, without recommends: the sources are the spec's (sources:, or suite: from
 * deb.debian.org, plus SUITE-updates and SUITE-security for releases, with Debian's
 * keyring) or else the host's /etc/apt/sources.list{,.d}.
 * Names in drop: are removed from the closure and listed in set->dropped (a name of
 * drop: that is not in the closure is an error: the spec would be stale). The kernel:
 * kernel.package and the linux-image-* packages of its closure get role
 * LETHE_PKG_KERNEL; the rest of its closure (initramfs-tools & co., which only its
 * maintainer scripts use) is not added. Each package's SHA-256 and size come from the
 * repository's signed index (apt-cache show). The caller frees *ret with
 * lethe_pkgset_free(). */
int lethe_pkg_resolve(const struct lethe_spec *spec, const struct lethe_pkg_options *opts,
		      struct lethe_pkgset **ret);

/* Make every package of set available as a verified file in the cache (pkg->path):
 * a cached file whose SHA-256 matches is used as is (no apt, no network); others are
 * downloaded with `apt-get download NAME:ARCH=VERSION` (apt checks them against the
 * signed index) into the cache. The downloaded file must have the package's SHA-256
 * (from the index or the lock), else -EBADMSG "package 'NAME': SHA-256 of 'FILE' is X,
 * the lock says Y". Then the control data is read and must agree with the name,
 * version and architecture. spec gives the sources when apt must run. */
int lethe_pkg_fetch(const struct lethe_spec *spec, const struct lethe_pkg_options *opts,
		    struct lethe_pkgset *set);

/* ---- .deb files (ar archives: debian-binary, control.tar.*, data.tar.*). ---- */

struct archive;
struct archive_entry;

/* Called for every entry of the chosen inner tar; a nonzero return stops the walk and
 * is returned. The callback may read the entry's data with archive_read_data(a, ...). */
typedef int (*lethe_deb_entry_fn)(struct archive *a, struct archive_entry *entry, void *userdata);

enum lethe_deb_part { LETHE_DEB_CONTROL, LETHE_DEB_DATA };

/* Walk the control or data tar of the .deb open at fd (read from its current offset).
 * label names the package in messages, e.g. "package 'busybox' ('busybox_1_amd64.deb')".
 * Checks the ar layout (debian-binary "2.x" first, then control.tar[.gz|.xz|.zst],
 * then data.tar[.gz|.xz|.zst|.bz2]); a corrupt or truncated archive is -EBADMSG. */
int lethe_deb_walk(int fd, const char *label, enum lethe_deb_part part, lethe_deb_entry_fn fn,
		   void *userdata);

/* Parse a control paragraph (from a .deb or a Packages file) into *ret; name labels
 * messages. Strict: field names [A-Za-z0-9-], continuation lines, no NUL, size capped;
 * Package, Version and Architecture must be present and valid. */
int lethe_pkg_control_parse(const char *name, const char *text, size_t len,
			    struct lethe_pkg_control *ret);
void lethe_pkg_control_release(struct lethe_pkg_control *c);
/* Read the control file of the .deb at path. */
int lethe_deb_read_control(const char *path, const char *label, struct lethe_pkg_control *ret);

/* Read member (e.g. "md5sums") of the control.tar of the .deb at path, at most max
 * bytes, into a NUL-terminated buffer the caller frees. -ENOENT when there is none. */
int lethe_deb_read_control_member(const char *path, const char *label, const char *member,
				  size_t max, char **ret, size_t *ret_len);

/* The License: values of a machine-readable debian/copyright (DEP-5: its first
 * paragraph has a Format: field), appended to licenses without duplicates. A file that
 * is not machine-readable adds nothing and is not an error. */
int lethe_pkg_parse_copyright(const char *text, size_t len, struct lethe_strv *licenses);

/* ---- what the archive has that is newer than a lock (lethe lock --outdated). ---- */

/* A locked package for which the archive has a newer version: apt's candidate (the
 * version a new `lethe lock` would take, pins included) compared with the lock's as dpkg
 * does. A repository counts as a security suite when its signed Release file says so
 * the way Debian's and Ubuntu's do, and as unattended-upgrades reads it: Label
 * "Debian-Security", or a Suite (archive) or Codename ending in "-security". */
struct lethe_pkg_update {
	char *name;
	char *locked;	 /* the lock's version */
	char *available; /* the archive's newer version */
	char *suite;	 /* the Suite (else Codename) of the repository it is from, or NULL */
	bool security;	 /* the newer version is in a security suite */
	enum lethe_pkg_role role;
};

struct lethe_pkg_updates {
	struct lethe_pkg_update *v; /* sorted by name, as the lock */
	size_t n;
	size_t checked;		  /* packages of the lock that were looked up */
	struct lethe_strv absent; /* packages of the lock the archive no longer has */
};

void lethe_pkg_updates_release(struct lethe_pkg_updates *u);

/* Parse what `apt-cache policy` (its "Package files:" part, with the release line of
 * each repository) followed by `apt-cache policy NAME...` printed (untrusted text; len
 * bytes), and fill *ret with the packages of lock whose candidate is newer than the
 * locked version. -EBADMSG naming the line when the text is not apt's format. *ret is
 * untouched on failure; release it with lethe_pkg_updates_release(). */
int lethe_pkg_policy_parse(const char *text, size_t len, const struct lethe_pkgset *lock,
			   struct lethe_pkg_updates *ret);

/* Update the lists of the spec's sources (unless opts say offline) and compare the lock
 * with them: lethe_pkg_policy_parse() of what apt-cache says. */
int lethe_pkg_outdated(const struct lethe_spec *spec, const struct lethe_pkg_options *opts,
		       const struct lethe_pkgset *lock, struct lethe_pkg_updates *ret);

#endif
