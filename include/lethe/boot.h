/* What boots a Lethe image: the kernel (vmlinuz from Debian's kernel package), the
 * initramfs (lethe-init plus the kernel modules it must load) and the kernel cmdline
 * (hardening defaults plus lethe.roothash=). docs/boot.md describes the formats. */
#ifndef LETHE_BOOT_H
#define LETHE_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/contract.h>
#include <lethe/release.h>
#include <lethe/spec.h>
#include <lethe/util.h>

/* ---- Kernel modules ---- */

/* Caps on what a kernel package may make us read. */
#define LETHE_BOOT_MAX_MODULES	256	    /* modules in one initramfs, dependencies included */
#define LETHE_BOOT_MAX_DEP_FILE (16u << 20) /* modules.dep, modules.builtin */

/* One module to load, in load order (its dependencies come before it). */
struct lethe_boot_module {
	char *name; /* canonical name, '-' turned to '_': "virtio_ring" */
	char *path; /* relative to lib/modules/VERSION: "kernel/drivers/virtio/virtio_ring.ko" */
};

struct lethe_boot_modules {
	struct lethe_boot_module *v; /* load order: dependencies first */
	size_t n;
	struct lethe_strv builtin; /* requested modules built into the kernel (nothing to load) */
};

/* The version of the kernel staged in kernel_dir (an extracted linux-image-* package):
 * the VERSION of its only boot/vmlinuz-VERSION. The caller frees *ret_version. */
int lethe_boot_kernel_version(const char *kernel_dir, char **ret_version);

/* Make lib/modules/VERSION/modules.dep (and modules.softdep) in kernel_dir with Debian's
 * `depmod -b kernel_dir VERSION`, always: what the package ships in their place is
 * removed first, so the package does not decide what counts as a module. The kernel
 * package is untrusted like the root tree: lib/modules/VERSION must be its own
 * directory and depmod's inputs regular files, and no read of lib/boot follows a
 * symbolic link (a link out of the package is an error naming the path). */
int lethe_boot_depmod(const char *kernel_dir, const char *version);

/* Resolve the requested module names (either spelling, '-' or '_') to files with all
 * their dependencies, dependencies first, each once. A requested module that is built
 * in goes to ret->builtin; one that is neither a module nor built in is an error
 * (LETHE_E_INVALID). Release ret with lethe_boot_modules_release(). */
int lethe_boot_modules_resolve(const char *kernel_dir, const char *version,
			       const struct lethe_strv *wanted, struct lethe_boot_modules *ret);
void lethe_boot_modules_release(struct lethe_boot_modules *m);

/* ---- Initramfs ---- */

/* Where lethe-init finds the modules in the initramfs (docs/boot.md): every module at
 * its path in the kernel package, LETHE_BOOT_INITRAMFS_MODDIR/VERSION/kernel/...ko, and
 * the list to load, in order, in LETHE_BOOT_INITRAMFS_MODLIST: one absolute path per
 * line, '#' lines are comments. */
#define LETHE_BOOT_INITRAMFS_MODDIR  LETHE_PATH_MODULES_DIR
#define LETHE_BOOT_INITRAMFS_MODLIST LETHE_PATH_MODULES

struct lethe_boot_initramfs {
	const char *init;	/* lethe-init, static; becomes /init */
	const char *kernel_dir; /* staged kernel package */
	const char *version;	/* kernel version */
	const struct lethe_boot_modules *modules;
	int64_t mtime; /* of every entry: SOURCE_DATE_EPOCH */
};

/* Write a reproducible initramfs (newc cpio, entries sorted, owner 0:0, fixed inode
 * numbers and mtime, gzip without name or time) to path, atomically: /init, the modules,
 * the module list, and the empty directories dev proc sys run newroot. */
int lethe_boot_initramfs_write(const char *path, const struct lethe_boot_initramfs *opts);

/* ---- Kernel cmdline ---- */

#define LETHE_BOOT_CMDLINE_MAX 4096 /* COMMAND_LINE_SIZE on x86 is 2048; stay generous */

/* Split a cmdline the way the kernel does: words separated by spaces, double quotes
 * group (and are removed), a value may be quoted: key="a b". Appends to ret. */
int lethe_boot_cmdline_split(const char *cmdline, struct lethe_strv *ret);

/* The key of a parameter word: "lockdown=integrity" -> "lockdown" (length returned). */
size_t lethe_boot_cmdline_key_len(const char *word);

/* Can the spec put word on the cmdline? 0 if so; -LETHE_E_INVALID for "--" (the rest
 * would go to init, defaults included), lethe.roothash (the build sets it) and a
 * parameter that undoes a hardening default not waived by an entry of unsafe (NULL:
 * none): then *ret_default (if not NULL) is that default's word (lethe_hardening_id()).
 * Names compare as the kernel compares them ('-' == '_'); see <lethe/hardening.h>. */
int lethe_boot_cmdline_check(const char *word, const struct lethe_strv *unsafe,
			     const char **ret_default);

/* The image's cmdline, one line without newline: console=ttyS0, the spec's
 * kernel.cmdline, then the hardening defaults (lethe/hardening.h) where the kernel gives
 * them the last word, and lethe.roothash=HEX. An entry of kernel.unsafe waives the
 * default it names (lethe_hardening_find()): its word is left out and the spec's words
 * may undo it. A spec word that lethe_boot_cmdline_check() refuses is an error.
 * roothash_hex: lowercase hex. The caller frees *ret. */
int lethe_boot_cmdline_make(const struct lethe_spec_kernel *kernel, const char *roothash_hex,
			    char **ret);

/* ---- Everything at once ---- */

struct lethe_boot_artifacts {
	const char *outdir;			/* vmlinuz, initramfs.img, cmdline go here */
	const struct lethe_spec_kernel *kernel; /* modules, cmdline, unsafe */
	const char *kernel_dir;			/* staged (extracted) kernel package */
	const char *init;			/* lethe-init */
	const char *roothash_hex;
	int64_t mtime;
};

/* The artifacts lethe_boot_make_artifacts() writes (names: lethe_release_name()). */
#define LETHE_BOOT_N_ARTIFACTS 3
extern const enum lethe_release_artifact lethe_boot_artifacts[LETHE_BOOT_N_ARTIFACTS];

/* Write outdir/vmlinuz, outdir/initramfs.img and outdir/cmdline. */
int lethe_boot_make_artifacts(const struct lethe_boot_artifacts *a);

#endif
