/* The root tree: .debs extracted into a staging directory without running any
 * maintainer script and without trusting the packages (every entry is checked; nothing
 * is ever written through a symbolic link), then the image's own files: accounts,
 * os-release, hostname, /var/lib/dpkg/status, the spec's files, and the excludes.
 * docs/rootfs.md describes the rules. */
#ifndef LETHE_ROOTFS_H
#define LETHE_ROOTFS_H

#include <stdbool.h>
#include <stdint.h>

#include <lethe/pkg.h>
#include <lethe/spec.h>
#include <lethe/util.h>

#define LETHE_ROOTFS_MAX_ENTRY	 (2ull << 30)  /* one file: 2 GiB */
#define LETHE_ROOTFS_MAX_TOTAL	 (16ull << 30) /* all packages together: 16 GiB */
#define LETHE_ROOTFS_MAX_DEPTH	 64	       /* path components */
#define LETHE_ROOTFS_MAX_ENTRIES (1u << 20)    /* entries of one package */

struct lethe_rootfs_options {
	int64_t epoch;		 /* every mtime is clamped to it (SOURCE_DATE_EPOCH) */
	uint64_t max_entry_size; /* 0: LETHE_ROOTFS_MAX_ENTRY */
	uint64_t max_total_size; /* 0: LETHE_ROOTFS_MAX_TOTAL */
	bool allow_devices;	 /* device nodes and fifos from packages (spec) */
	uint64_t max_entries;	 /* entries of one package; 0: LETHE_ROOTFS_MAX_ENTRIES */
};

/* Extract the data.tar of the .deb open at debfd into the directory rootfd. name and
 * file label messages. Every refusal is -EBADMSG with the message
 * "package 'NAME' ('FILE'): entry 'PATH': REASON": '..' components, symbolic links
 * whose target leaves the root, hard links to entries that are absent or not regular
 * files, device nodes and fifos (unless allowed), sizes or entry counts over the caps
 * (an inode bomb is refused like a size bomb), paths that pass
 * through a symbolic link or a non-directory, a corrupt or truncated archive. Owners
 * (numeric, as root only) and modes come from the archive, mtimes are clamped to
 * opts->epoch. *total counts the bytes written so far (for the total cap). When
 * licenses is not NULL, the licences of a DEP-5 usr/share/doc/NAME/copyright are added.
 * On failure the tree is left as it is: the caller removes the staging directory. */
int lethe_rootfs_extract(int rootfd, int debfd, const char *name, const char *file,
			 const struct lethe_rootfs_options *opts, uint64_t *total,
			 struct lethe_strv *licenses);

/* Build the whole root tree in staging (created if absent; it must be empty):
 *   1. extract every LETHE_PKG_ROOT package of set (lethe_pkg_fetch() done), filling
 *      each package's licenses;
 *   2. remove what the excludes select (spec exclude:/include:, plus the minimal
 *      profile's when spec->minimal; see lethe_rootfs_exclude());
 *   3. write /var/lib/dpkg/status (every extracted package, "Status: install ok
 *      installed"), var/lib/dpkg/info/PKG.list and PKG.md5sums (what is still there
 *      after the excludes; dpkg --audit and dpkg -V accept the tree), /etc/passwd,
 *      /etc/group, /etc/shadow (root, nobody, the spec's users and groups; every
 *      password locked), /usr/lib/os-release with /etc/os-release linking to it,
 *      /etc/hostname, and the spec's files with their mode and owner;
 *   4. clamp every mtime to the epoch.
 * spec->allow_devices overrides opts->allow_devices when set. On failure the staging
 * directory is left for the caller to remove. */
int lethe_rootfs_populate(const struct lethe_spec *spec, struct lethe_pkgset *set,
			  const char *staging, const struct lethe_rootfs_options *opts);

/* Accounts that work (lib/rootfs/accounts.c, docs/rootfs.md), both run by populate
 * after the spec's files. lethe_rootfs_busybox_links(): when the root has an executable
 * /bin/busybox, run it (chrooted into staging, as nobody) with --list-full and make a
 * relative symbolic link to it for every applet path where nothing exists yet and no
 * symbolic link is on the way; *ret_links counts the links made.
 * lethe_rootfs_accounts_finish(): every user's home (but /nonexistent) made or taken
 * over, owned by the user and its primary group, mode 0700; every user's shell must
 * resolve in the root to an executable regular file (the no-login shells
 * /usr/sbin/nologin, /sbin/nologin, /bin/false, /usr/bin/false may be absent): else
 * -ENOENT, "spec 'FILE' line N: shell 'PATH' of user 'NAME' is not in the image". */
int lethe_rootfs_busybox_links(const char *staging, int rootfd, int64_t epoch, unsigned *ret_links);
int lethe_rootfs_accounts_finish(const struct lethe_spec *spec, int rootfd);

/* Build-time triggers (lib/rootfs/triggers.c, docs/rootfs.md), run by populate after
 * the accounts: ldconfig -X -r, fc-cache --sysroot, glib-compile-schemas,
 * gdk-pixbuf-query-loaders and gio-querymodules (the image's own, chrooted as nobody),
 * update-mime-database, gtk-update-icon-cache, depmod -b; each only when the root holds
 * its inputs, with SOURCE_DATE_EPOCH=epoch. "NAME: what it wrote" of each that ran is
 * appended to ran. */
int lethe_rootfs_triggers(const char *staging, int rootfd, int64_t epoch, struct lethe_strv *ran);

/* The minimal profile's excludes and includes (NULL-terminated), documented in
 * docs/rootfs.md. */
extern const char *const lethe_rootfs_minimal_exclude[];
extern const char *const lethe_rootfs_minimal_include[];

/* Remove from the tree at rootfd every entry whose absolute path ("/usr/share/doc/x")
 * matches a glob of exclude (fnmatch with FNM_PATHNAME | FNM_PERIOD: '*' never crosses
 * '/'), or lies below such a match, unless it or an ancestor matches a glob of include;
 * a directory stays when something inside it stays. Symbolic links are never followed.
 * *ret_removed (may be NULL) counts removed entries. */
int lethe_rootfs_exclude(int rootfd, const struct lethe_strv *exclude,
			 const struct lethe_strv *include, uint64_t *ret_removed);

/* The /var/lib/dpkg/status text for the LETHE_PKG_ROOT packages of set, appended to
 * out: each control paragraph with "Status: install ok installed" after Package. */
int lethe_rootfs_dpkg_status(const struct lethe_pkgset *set, struct lethe_buf *out);

#endif
