/* The ELF closure check: every x86-64 executable and shared library of a staged root
 * must find its interpreter and every DT_NEEDED library inside that root, where the
 * dynamic loader of the running image will look (no ld.so.cache: the default
 * directories, plus DT_RUNPATH / DT_RPATH with $ORIGIN). ELF headers are parsed here,
 * bounds-checked: the files come from packages, untrusted. */
#ifndef LETHE_ELF_H
#define LETHE_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/util.h>

#define LETHE_ELF_MAX_SIZE   (2ull << 30) /* larger files are not looked into */
#define LETHE_ELF_MAX_NEEDED 1024	  /* DT_NEEDED entries of one object */

/* What the check needs from one ELF file. */
struct lethe_elf_info {
	bool relevant;		   /* 64-bit little-endian x86-64, ET_EXEC or ET_DYN */
	char *interp;		   /* PT_INTERP, or NULL (static, or a library) */
	struct lethe_strv needed;  /* DT_NEEDED, in order */
	struct lethe_strv runpath; /* DT_RUNPATH split at ':' */
	struct lethe_strv rpath;   /* DT_RPATH split at ':' (ignored when runpath is set) */
};

/* Parse the ELF image data (len bytes); name labels messages. Anything that is not a
 * relevant object (another class, byte order or machine, a relocatable .o) returns 0
 * with relevant false. A malformed relevant object is -EBADMSG "'NAME': malformed ELF:
 * REASON". Release *ret with lethe_elf_info_release(), also after failure. */
int lethe_elf_parse(const uint8_t *data, size_t len, const char *name, struct lethe_elf_info *ret);
void lethe_elf_info_release(struct lethe_elf_info *info);

/* The directories searched after RUNPATH/RPATH, as absolute paths inside the root. */
extern const char *const lethe_elf_default_libdirs[];

struct lethe_elf_report {
	unsigned objects; /* relevant ELF files checked */
	unsigned missing; /* unresolved interpreters and libraries */
};

/* Check every relevant ELF file below root (kernel modules *.ko and lib/modules are
 * skipped; symbolic links are followed only inside root, '..' stopping at root).
 * Returns 0 when everything resolves, else -EBADMSG with the message of the first
 * failure in path order: "ELF closure: '/usr/bin/x' needs 'libfoo.so.1', which is not
 * in the image" (plus "(and N more)"). ret (may be NULL) gets the counts either way. */
int lethe_elf_check_closure(const char *root, struct lethe_elf_report *ret);

#endif
