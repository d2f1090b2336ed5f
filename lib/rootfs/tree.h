/* Safe file system operations below a root directory fd: never follow a symbolic link,
 * never leave the root. Internal to lib/rootfs. */
#ifndef LETHE_ROOTFS_TREE_H
#define LETHE_ROOTFS_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Open the directory that holds rel (a safe relative path) below rootfd, walking one
 * component at a time with O_NOFOLLOW; with create, missing directories are made
 * (0755, root-owned). *ret_base points into rel at the last component. On failure
 * returns a negative errno and sets *why to a short reason (static text). */
int tree_open_parent(int rootfd, const char *rel, bool create, int *ret_fd, const char **ret_base,
		     const char **why);

/* Remove a non-directory entry name in dirfd if there is one; -EISDIR for a
 * directory. */
int tree_unlink_nondir(int dirfd, const char *name);

/* Write a whole file below rootfd (replacing any non-directory there), with mode,
 * owner and mtime. */
int tree_write_file(int rootfd, const char *rel, const void *data, size_t len, mode_t mode,
		    uid_t uid, gid_t gid, int64_t epoch);
/* A symbolic link below rootfd (replacing any non-directory there). */
int tree_symlink(int rootfd, const char *rel, const char *target, int64_t epoch);

/* Set every mtime in the tree to min(mtime, epoch), without following links. */
int tree_clamp_times(int rootfd, int64_t epoch);

/* lethe_rootfs_extract() that also appends every entry's absolute path ("/.", "/usr",
 * "/usr/bin/x", in archive order) to files when it is not NULL: dpkg's .list file. */
struct lethe_rootfs_options;
struct lethe_strv;
int rootfs_extract_listed(int rootfd, int debfd, const char *name, const char *file,
			  const struct lethe_rootfs_options *opts, uint64_t *total,
			  struct lethe_strv *licenses, struct lethe_strv *files);

#endif
