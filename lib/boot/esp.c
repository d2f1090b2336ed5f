/* The EFI System Partition of disk.img, made without loop mounts: mkfs.vfat
 * --invariant (fixed volume id and times) into a file, then mtools' mmd and mcopy with
 * SOURCE_DATE_EPOCH and TZ=UTC, so the same inputs give the same bytes. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/uefi.h>

#include "uefi-internal.h"

#define MIB	      (1024u * 1024u)
#define FAT16_MAX_MIB 32 /* 512-byte clusters: FAT16 holds at most 65524 of them */
#define FAT32_MIN_MIB 34 /* ... and FAT32 needs at least 65525 */
#define ESP_MAX_MIB   4096

int lethe_esp_loader_conf(unsigned timeout, const char *default_entry, char **ret)
{
	struct lethe_buf b = { 0 };
	/* editor no: nobody at the menu edits the cmdline (the root hash is in it). */
	int r = lethe_buf_printf(&b, "timeout %u\neditor no\n", timeout);

	/* default: the amnesic UKI, whatever the menu's order (issue 11.3). */
	if (r >= 0 && default_entry)
		r = lethe_buf_printf(&b, "default %s\n", default_entry);

	if (r < 0)
		return r;
	*ret = b.data;
	return 0;
}

static int file_size(const char *path, uint64_t *ret)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return lethe_error(-errno, "cannot read '%s': %m", path);
	if (!S_ISREG(st.st_mode))
		return lethe_error(-EINVAL, "'%s' is not a regular file", path);
	*ret = (uint64_t)st.st_size;
	return 0;
}

/* Enough for the files, rounded to 512-byte clusters, the FATs and directories, and a
 * eighth to spare (a later boot counter renames, nothing grows). */
static int esp_size_mib(uint64_t files, unsigned *ret_mib, const char **ret_fat)
{
	uint64_t mib = (files + files / 8 + MIB + MIB - 1) / MIB;

	if (mib > ESP_MAX_MIB)
		return lethe_error(-EFBIG, "the ESP would need %" PRIu64 " MiB: more than %u", mib,
				   ESP_MAX_MIB);
	if (mib <= FAT16_MAX_MIB) {
		*ret_fat = "16";
	} else {
		*ret_fat = "32";
		if (mib < FAT32_MIN_MIB)
			mib = FAT32_MIN_MIB;
	}
	*ret_mib = (unsigned)mib;
	return 0;
}

int lethe_esp_size_needed(uint64_t files, unsigned *ret_mib)
{
	const char *fat;

	return esp_size_mib(files, ret_mib, &fat);
}

/* boot.esp_size: at least what the files need (*mib on entry), then that size. */
static int esp_fixed_size(unsigned size_mib, unsigned *mib, const char **fat)
{
	if (size_mib < *mib)
		return lethe_error(-ENOSPC,
				   "boot.esp_size %u MiB is too small for the ESP: systemd-boot "
				   "and the UKI need %u MiB",
				   size_mib, *mib);
	if (size_mib > FAT16_MAX_MIB && size_mib < FAT32_MIN_MIB)
		size_mib = FAT32_MIN_MIB;
	*fat = size_mib <= FAT16_MAX_MIB ? "16" : "32";
	*mib = size_mib;
	return 0;
}

static int mtools(const char *tool, const char *img, const char *const *args, int64_t epoch)
{
	char *argv[16];
	size_t n = 0;

	argv[n++] = (char *)tool;
	argv[n++] = (char *)"-i";
	argv[n++] = (char *)img;
	for (; *args && n < LETHE_ARRAY_SIZE(argv) - 1; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	return uefi_run(argv, epoch);
}

static int fill(const struct lethe_esp_options *o, const char *img, const char *boot,
		const char *conf, const char *uki_dest)
{
	static const char *const dirs[] = { "::/EFI",	      "::/EFI/BOOT",
					    "::/EFI/systemd", "::/" LETHE_ESP_UKI_DIR,
					    "::/loader",      NULL };
	int r;

	r = mtools("mmd", img, dirs, o->epoch);
	if (r >= 0)
		r = mtools("mcopy", img,
			   (const char *const[]){ boot, "::/" LETHE_ESP_BOOT_DEFAULT, NULL },
			   o->epoch);
	if (r >= 0)
		r = mtools("mcopy", img,
			   (const char *const[]){ boot, "::/" LETHE_ESP_BOOT_SYSTEMD, NULL },
			   o->epoch);
	if (r >= 0)
		r = mtools("mcopy", img,
			   (const char *const[]){ conf, "::/" LETHE_ESP_LOADER_CONF, NULL },
			   o->epoch);
	if (r >= 0)
		r = mtools("mcopy", img, (const char *const[]){ o->uki, uki_dest, NULL }, o->epoch);
	return r;
}

int lethe_esp_make(const struct lethe_esp_options *o)
{
	const char *boot = o->systemd_boot ? o->systemd_boot
					   : lethe_uefi_tool_path(LETHE_UEFI_FILE_SYSTEMD_BOOT);
	char *conf_text = NULL, *conf = NULL, *tmp = NULL, kib[32], dest[300];
	uint64_t boot_size = 0, uki_size = 0;
	const char *fat = NULL;
	unsigned mib = 0;
	int r;

	if (!o->volume_id || strlen(o->volume_id) != 8 ||
	    strspn(o->volume_id, "0123456789abcdef") != 8)
		return lethe_error(-EINVAL, "ESP volume id '%s': 8 lowercase hex digits",
				   o->volume_id ? o->volume_id : "");
	if (!o->uki_name || !*o->uki_name || strlen(o->uki_name) > 255 ||
	    strchr(o->uki_name, '/') || o->uki_name[0] == '.')
		return lethe_error(-EINVAL, "UKI name '%s' is not a plain file name",
				   o->uki_name ? o->uki_name : "");
	snprintf(dest, sizeof(dest), "::/" LETHE_ESP_UKI_DIR "/%s", o->uki_name);
	r = file_size(boot, &boot_size);
	if (r >= 0)
		r = file_size(o->uki, &uki_size);
	if (r >= 0)
		r = esp_size_mib(2 * boot_size + uki_size + o->spare, &mib, &fat);
	if (r >= 0 && o->size_mib)
		r = esp_fixed_size(o->size_mib, &mib, &fat);
	if (r >= 0)
		r = lethe_esp_loader_conf(o->timeout, o->menu_title ? o->uki_name : NULL,
					  &conf_text);
	if (r >= 0 && o->sb_enroll_dir) { /* issue 12: systemd-boot enrols the keys */
		struct lethe_buf b = { conf_text, strlen(conf_text), strlen(conf_text) + 1 };

		r = lethe_buf_printf(&b, LETHE_ESP_ENROLL_LINE);
		conf_text = b.data;
	}
	if (r < 0)
		return r;
	conf = lethe_path_join(o->workdir, "loader.conf");
	tmp = lethe_path_join(o->workdir, "esp.img.tmp");
	if (!conf || !tmp) {
		r = -ENOMEM;
		goto out;
	}
	r = lethe_file_write_atomic(conf, conf_text, strlen(conf_text), 0644);
	if (r < 0) {
		r = lethe_error(r, "cannot write '%s': %s", conf, strerror(-r));
		goto out;
	}
	unlink(tmp); /* mkfs.vfat -C creates the file and refuses an existing one */
	snprintf(kib, sizeof(kib), "%u", mib * 1024);
	r = uefi_run((char *const[]){ (char *)"mkfs.vfat", (char *)"-F", (char *)fat, (char *)"-s",
				      (char *)"1", (char *)"-S", (char *)"512",
				      (char *)"--invariant", (char *)"-i", (char *)o->volume_id,
				      (char *)"-n", (char *)"LETHE-ESP", (char *)"-C", tmp, kib,
				      NULL },
		     o->epoch);
	if (r >= 0)
		r = fill(o, tmp, boot, conf, dest);
	if (r >= 0 && o->sb_enroll_dir)
		r = lethe_esp_add_enrolment(o, tmp);
	if (r >= 0 && o->menu_title)
		r = lethe_esp_add_menu(o, tmp);
	if (r >= 0 && rename(tmp, o->output) < 0)
		r = lethe_error(-errno, "cannot rename '%s' to '%s': %m", tmp, o->output);
out:
	if (tmp)
		unlink(tmp);
	if (conf)
		unlink(conf);
	free(conf_text);
	free(conf);
	free(tmp);
	return r;
}
