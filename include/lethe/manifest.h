/* manifest.mtree: a BSD mtree(5) description of every entry of a root tree, that
 * `mtree -f manifest.mtree -p ROOT` (mtree-netbsd) and libarchive read. */
#ifndef LETHE_MANIFEST_H
#define LETHE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include <lethe/util.h>

/* Limits on the tree, so that a hostile tree cannot exhaust memory or stack. */
#define LETHE_MANIFEST_MAX_ENTRIES 1000000u
#define LETHE_MANIFEST_MAX_DEPTH   64u

struct lethe_manifest_stats {
	uint64_t files;	 /* regular files */
	uint64_t dirs;	 /* directories, the root included */
	uint64_t links;	 /* symbolic links */
	uint64_t others; /* devices, fifos, sockets */
	uint64_t bytes;	 /* total size of the regular files */
};

/* Describe the tree at root. The text starts with "#mtree", then one line per entry:
 * "./PATH type=... mode=... uid=... gid=..." plus size= and sha256digest= for regular
 * files, link= for symbolic links and device= for devices. Entries are sorted (byte
 * order of names, each directory before its contents); names and link targets are
 * encoded with octal escapes (\ooo) for every byte that is not a printable ASCII
 * character and for space, '#', '\\' and glob characters (lethe_fim_encode(); the
 * lines are lethe_fim_entry_format()'s). No time, host name, user or
 * directory order leaks into it: the same tree always gives the same bytes.
 * The caller frees *ret_text with free(); ret_stats may be NULL. 0 or a negative errno. */
int lethe_manifest_generate(const char *root, char **ret_text, size_t *ret_len,
			    struct lethe_manifest_stats *ret_stats);

/* lethe_manifest_generate() into path (written atomically, mode 0644). */
int lethe_manifest_write(const char *root, const char *path, struct lethe_manifest_stats *stats);

#endif
