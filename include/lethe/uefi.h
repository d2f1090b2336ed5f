/* Booting through UEFI firmware: the Unified Kernel Image (systemd-stub with the
 * kernel, initramfs, cmdline and os-release as PE sections), the EFI System Partition
 * that holds it with systemd-boot, and the few PE/COFF header fields the build must
 * read and rewrite to make the UKI reproducible. docs/boot.md ("UEFI") describes the
 * layout. */
#ifndef LETHE_UEFI_H
#define LETHE_UEFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/util.h>

/* Debian's systemd-boot-efi. A build may name others (struct lethe_uki_options, the
 * environment variables of lethe_uefi_tool_path()). */
#define LETHE_UEFI_STUB		    "/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
#define LETHE_UEFI_SYSTEMD_BOOT	    "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
#define LETHE_UEFI_STUB_ENV	    "LETHE_UEFI_STUB"
#define LETHE_UEFI_SYSTEMD_BOOT_ENV "LETHE_UEFI_SYSTEMD_BOOT"

/* Where things are on the ESP (FAT paths, '/' separated). */
#define LETHE_ESP_BOOT_DEFAULT "EFI/BOOT/BOOTX64.EFI" /* the removable-media path */
#define LETHE_ESP_BOOT_SYSTEMD "EFI/systemd/systemd-bootx64.efi"
#define LETHE_ESP_LOADER_CONF  "loader/loader.conf"
#define LETHE_ESP_UKI_DIR      "EFI/Linux"	/* type #2 entries: found by scan */
#define LETHE_ESP_ENTRIES_DIR  "loader/entries" /* type #1 entries: the boot menu */

/* ---- PE/COFF headers ---- */

#define LETHE_PE_MAX_SECTIONS 96 /* the PE format's own limit */
#define LETHE_PE_MAX_SIZE     (1u << 30)

struct lethe_pe_section {
	char name[9];	     /* NUL-terminated (a section name has up to 8 bytes) */
	uint32_t vaddr;	     /* VirtualAddress (RVA) */
	uint32_t vsize;	     /* VirtualSize: the content's length */
	uint32_t raw_offset; /* PointerToRawData */
	uint32_t raw_size;   /* SizeOfRawData (file-aligned) */
};

struct lethe_pe {
	uint32_t pe_offset;	   /* e_lfanew: "PE\0\0" is there */
	uint32_t timestamp_offset; /* of the COFF TimeDateStamp (pe_offset + 8) */
	uint32_t checksum_offset;  /* of the optional header's CheckSum (pe_offset + 88) */
	uint16_t machine;
	uint32_t section_alignment, file_alignment;
	uint32_t size_of_image, size_of_headers;
	uint64_t image_end; /* the highest vaddr + vsize of any section */
	size_t n_sections;
	struct lethe_pe_section sections[LETHE_PE_MAX_SECTIONS];
};

/* Parse the headers of a PE32+ image (untrusted bytes): the DOS header's e_lfanew, the
 * PE signature, the COFF header, the optional header and the section table. Every
 * offset and size is checked against len and against overflow; each section's raw data
 * must lie inside the file, sections must not overlap in memory and come in ascending
 * address order. -LETHE_E_INVALID with a message naming what at which offset ("what"
 * names the file in messages). */
int lethe_pe_parse(const void *data, size_t len, const char *what, struct lethe_pe *ret);

/* The same checks on the first len bytes of a PE image, which must hold its headers:
 * the sections' data may lie beyond them (up to LETHE_PE_MAX_SIZE), as when only the
 * start of a file has been fetched. */
int lethe_pe_parse_headers(const void *data, size_t len, const char *what, struct lethe_pe *ret);

/* The section named name, or NULL. */
const struct lethe_pe_section *lethe_pe_find(const struct lethe_pe *pe, const char *name);

/* A section's content: VirtualSize bytes, or all of its raw data when that is shorter
 * (the rest of a section in memory is zeros). */
static inline uint32_t lethe_pe_section_len(const struct lethe_pe_section *s)
{
	return s->vsize && s->vsize < s->raw_size ? s->vsize : s->raw_size;
}

/* The PE checksum of data (the optional header's CheckSum field, at checksum_offset,
 * counted as zero): 16-bit words summed with carries folded, plus the length. */
uint32_t lethe_pe_checksum(const void *data, size_t len, size_t checksum_offset);

/* Make a PE image reproducible in place: TimeDateStamp 0, the file padded with NULs to
 * a multiple of 8 (the size an Authenticode signature would pad it to, so that signing
 * later does not change the digest), and the CheckSum recomputed. buf must hold a PE
 * image that lethe_pe_parse() accepts. */
int lethe_pe_normalize(struct lethe_buf *buf, const char *what);

/* ---- Unified Kernel Image ---- */

struct lethe_uki_options {
	const char *stub;	 /* systemd-stub; NULL: lethe_uefi_tool_path(STUB) */
	const char *linux_path;	 /* vmlinuz */
	const char *initrd_path; /* initramfs.img */
	const char *osrel;	 /* .osrel: the image's os-release, as text */
	const char *cmdline;	 /* .cmdline: one line, written without a newline */
	const char *uname;	 /* .uname: the kernel version, or NULL */
	const char *workdir;	 /* scratch for the section files (removed afterwards) */
	const char *output;	 /* the UKI, written atomically */
};

/* Build a UKI with objcopy: the sections .osrel .cmdline .uname .initrd .linux (in that
 * order) at 4 KiB-aligned addresses after the stub's last section, then made
 * reproducible (lethe_pe_normalize()). The result is parsed again and every section
 * compared with what went in. */
int lethe_uki_make(const struct lethe_uki_options *o);

/* Read the section name of a UKI file into *ret (NUL-terminated; the caller frees it).
 * -ENOENT with a message when it has no such section. */
int lethe_uki_read_section(const char *path, const char *name, char **ret_data, size_t *ret_len);

/* ---- EFI System Partition ---- */

struct lethe_esp_options {
	const char *output;	  /* the FAT image, written atomically */
	const char *systemd_boot; /* NULL: lethe_uefi_tool_path(SYSTEMD_BOOT) */
	const char *uki;	  /* copied to EFI/Linux/uki_name */
	const char *uki_name;	  /* a plain file name (the release's name for its UKI) */
	unsigned timeout;	  /* loader.conf's timeout, seconds */
	const char *volume_id;	  /* 8 hex digits, the FAT volume serial */
	const char *workdir;	  /* scratch */
	int64_t epoch;		  /* every time stamp on the file system */
	uint64_t spare;		  /* bytes to leave free (lethe install: later UKIs) */
	unsigned size_mib;	  /* a fixed size (boot.esp_size); 0: what the files need */
	/* Secure Boot enrolment (opt-in): a key directory whose PK.auth, KEK.auth and
	 * db.auth go to loader/keys/auto/, with "secure-boot-enroll force" in loader.conf
	 * (lib/boot/esp-enroll.c; docs/secure-boot.md). NULL: none. */
	const char *sb_enroll_dir;
	/* The boot menu (issue 11.3, lib/boot/esp-menu.c): with menu_title (the UKI's
	 * PRETTY_NAME) set, type #1 entries that start the same UKI, "TITLE (toram)" and,
	 * with menu_persistence, "TITLE (persistent storage)", and loader.conf's default is
	 * the UKI itself. NULL: no entries and no default (lethe install: boot counting
	 * renames its UKIs, which an entry could not follow). */
	const char *menu_title;
	const char *menu_version; /* the UKI's IMAGE_VERSION, shown by the menu */
	bool menu_persistence;	  /* the spec has persistence: */
};

/* Make a reproducible ESP image (FAT16, or FAT32 when it must be larger than 30 MiB)
 * with mkfs.vfat --invariant and mtools: systemd-boot as EFI/BOOT/BOOTX64.EFI and
 * EFI/systemd/systemd-bootx64.efi, loader/loader.conf ("timeout N", "editor no") and
 * the UKI. Its size is a whole number of MiB, with room to spare. */
int lethe_esp_make(const struct lethe_esp_options *o);

/* The size lethe_esp_make() gives an ESP for files bytes of files, in whole MiB (the
 * files, an eighth to spare, 1 MiB for the FATs and directories): what boot.esp_size
 * must at least be. -EFBIG beyond the largest ESP. */
int lethe_esp_size_needed(uint64_t files, unsigned *ret_mib);

/* The enrolment files of o->sb_enroll_dir copied into the FAT image img, and the line
 * loader.conf then needs (esp-enroll.c). */
int lethe_esp_add_enrolment(const struct lethe_esp_options *o, const char *img);
#define LETHE_ESP_ENROLL_LINE "secure-boot-enroll force\n"

/* The text of loader.conf for timeout and, when not NULL, the default entry's id
 * (exposed for tests). The caller frees *ret. */
int lethe_esp_loader_conf(unsigned timeout, const char *default_entry, char **ret);

/* The text of the type #1 entry file id LETHE_BOOT_ENTRY_SUFFIX of the boot menu
 * (include/lethe/contract.h: LETHE_BOOT_ENTRY_*_ID): "title TITLE SUFFIX", "version",
 * "efi /EFI/Linux/UKI_NAME", no options (the cmdline stays the signed one; lethe-init
 * reads which entry was chosen). -EINVAL for an unknown id or a title or version with a
 * control character. The caller frees *ret. */
int lethe_esp_menu_entry(const char *id, const char *title, const char *version,
			 const char *uki_name, char **ret);
/* The boot menu's entries of o copied into the FAT image img (esp-menu.c). */
int lethe_esp_add_menu(const struct lethe_esp_options *o, const char *img);

/* ---- Tools ---- */

enum lethe_uefi_file {
	LETHE_UEFI_FILE_STUB,	      /* systemd-stub */
	LETHE_UEFI_FILE_SYSTEMD_BOOT, /* systemd-boot */
};

/* The path of a file the UEFI stages need: its environment variable when set (tests
 * name a missing one), else Debian's path. Never NULL. */
const char *lethe_uefi_tool_path(enum lethe_uefi_file f);

/* Check, before any work, that everything a build with a UKI and an ESP needs is
 * there: the stub and systemd-boot readable, objcopy, mkfs.vfat, mmd and mcopy
 * runnable. One message naming the first missing thing and its Debian package. */
int lethe_uefi_check_tools(void);

#endif
