/* lethe.iso (include/lethe/iso.h): xorriso builds the hybrid image, then its GPT
 * partitions are given the UUIDs of disk.img's. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lethe/core.h>
#include <lethe/disk.h>
#include <lethe/iso.h>
#include <lethe/run.h>

#include "uefi-internal.h"

#define SECTOR	     512u
#define GPT_HDR_SIZE 92u
#define MAX_ENTRIES  256u

static uint32_t crc32(const uint8_t *p, size_t len)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c >> 1 ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* UUID text to GPT's mixed-endian bytes (first three groups little endian). */
static int guid_bytes(const char *text, uint8_t ret[16])
{
	char hex[33];
	uint8_t b[16];
	size_t n = 0;

	for (const char *p = text; *p; p++) {
		if (*p == '-')
			continue;
		if (n == 32)
			return -EINVAL;
		hex[n++] = *p;
	}
	hex[n] = '\0';
	if (n != 32 || lethe_hex_decode(hex, b, 16) < 0)
		return -EINVAL;
	memcpy(ret, b, 16);
	ret[0] = b[3], ret[1] = b[2], ret[2] = b[1], ret[3] = b[0];
	ret[4] = b[5], ret[5] = b[4], ret[6] = b[7], ret[7] = b[6];
	return 0;
}

struct relabel {
	const char *type, *uuid, *name;
	bool done;
};

/* Relabel the GPT whose header is at lba: its entry array, then its header CRC. */
static int relabel_one(int fd, const char *what, uint64_t lba, uint64_t sectors,
		       struct relabel *want, size_t n_want)
{
	uint8_t hdr[SECTOR], *entries = NULL;
	uint64_t entries_lba;
	uint32_t n, size;
	size_t total;
	int r = 0;

	if (pread(fd, hdr, SECTOR, (off_t)(lba * SECTOR)) != SECTOR || memcmp(hdr, "EFI PART", 8))
		return lethe_error(-EBADMSG, "'%s': no GPT header at LBA %" PRIu64, what, lba);
	entries_lba = le64(hdr + 72);
	n = le32(hdr + 80);
	size = le32(hdr + 84);
	if (le32(hdr + 12) != GPT_HDR_SIZE || n == 0 || n > MAX_ENTRIES || size < 128 ||
	    size > 4096 || size % 8 || entries_lba < 2 || entries_lba >= sectors ||
	    ((uint64_t)n * size + SECTOR - 1) / SECTOR > sectors - entries_lba)
		return lethe_error(-EBADMSG, "'%s': GPT header at LBA %" PRIu64 " is malformed",
				   what, lba);
	total = (size_t)n * size;
	entries = malloc(total);
	if (!entries)
		return -ENOMEM;
	if (pread(fd, entries, total, (off_t)(entries_lba * SECTOR)) != (ssize_t)total) {
		r = lethe_error(-EIO, "'%s': cannot read the GPT entries at LBA %" PRIu64, what,
				entries_lba);
		goto out;
	}
	for (size_t k = 0; k < n_want; k++)
		want[k].done = false;
	for (uint32_t i = 0; i < n && r >= 0; i++) {
		uint8_t *e = entries + (size_t)i * size, type[16];

		for (size_t k = 0; k < n_want; k++) {
			if (guid_bytes(want[k].type, type) < 0 || memcmp(e, type, 16))
				continue;
			if (want[k].done) {
				r = lethe_error(-EBADMSG, "'%s': two GPT partitions of type %s",
						what, want[k].type);
				break;
			}
			if (guid_bytes(want[k].uuid, e + 16) < 0) {
				r = -EINVAL;
				break;
			}
			memset(e + 56, 0, 72); /* the name: UTF-16LE, ASCII here */
			for (size_t c = 0; want[k].name[c] && c < 36; c++)
				e[56 + 2 * c] = (uint8_t)want[k].name[c];
			want[k].done = true;
		}
	}
	for (size_t k = 0; k < n_want && r >= 0; k++)
		if (!want[k].done)
			r = lethe_error(-EBADMSG, "'%s': no GPT partition of type %s", what,
					want[k].type);
	if (r < 0)
		goto out;
	put32(hdr + 88, crc32(entries, total));
	put32(hdr + 16, 0);
	put32(hdr + 16, crc32(hdr, GPT_HDR_SIZE));
	if (pwrite(fd, entries, total, (off_t)(entries_lba * SECTOR)) != (ssize_t)total ||
	    pwrite(fd, hdr, SECTOR, (off_t)(lba * SECTOR)) != SECTOR)
		r = lethe_error(-EIO, "'%s': cannot write the GPT at LBA %" PRIu64 ": %m", what,
				lba);
out:
	free(entries);
	return r;
}

int lethe_iso_gpt_relabel(int fd, const char *what, const char *uuid_esp, const char *uuid_root,
			  const char *uuid_verity)
{
	struct relabel want[] = {
		{ LETHE_DISK_TYPE_ESP, uuid_esp, "esp", false },
		{ LETHE_DISK_TYPE_ROOT_X86_64, uuid_root, "root-x86-64", false },
		{ LETHE_DISK_TYPE_ROOT_X86_64_VERITY, uuid_verity, "root-x86-64-verity", false },
	};
	uint8_t hdr[SECTOR];
	uint64_t sectors, backup;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return lethe_error(-errno, "cannot stat '%s': %m", what);
	sectors = (uint64_t)st.st_size / SECTOR;
	if (sectors < 4 || pread(fd, hdr, SECTOR, SECTOR) != SECTOR)
		return lethe_error(-EBADMSG, "'%s' is too short for a GPT", what);
	backup = le64(hdr + 32); /* AlternateLBA */
	if (backup < 2 || backup >= sectors)
		return lethe_error(-EBADMSG, "'%s': the backup GPT at LBA %" PRIu64 " is outside",
				   what, backup);
	r = relabel_one(fd, what, 1, sectors, want, LETHE_ARRAY_SIZE(want));
	if (r >= 0)
		r = relabel_one(fd, what, backup, sectors, want, LETHE_ARRAY_SIZE(want));
	return r;
}

int lethe_iso_check_tools(void)
{
	static const char *const dirs[] = { "/usr/bin", "/usr/sbin", "/bin", "/sbin" };
	char p[64];

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof(p), "%s/" LETHE_ISO_PROGRAM, dirs[i]);
		if (access(p, X_OK) == 0)
			return 0;
	}
	return lethe_error(-ENOENT, "cannot find '" LETHE_ISO_PROGRAM "' for lethe.iso (install "
				    "xorriso)");
}

static bool volume_id_ok(const char *v)
{
	size_t len = v ? strlen(v) : 0;

	return len > 0 && len <= 32 && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == len;
}

/* xorriso in mkisofs mode: -append_partition for the three partitions, the GPT for
 * them, and the ESP (appended partition 2) as the El Torito UEFI image. Every date is
 * the epoch: SOURCE_DATE_EPOCH (xorriso then fixes the volume dates and the GPT's
 * GUIDs), --modification-date and --set_all_file_dates (without it the root
 * directory's record carries the scratch directory's mtime: tests/interop/build-repro.sh
 * caught that). */
static int run_xorriso(const struct lethe_iso_options *o, const char *root, const char *tmp)
{
	char date[32], mod[64];
	time_t t = (time_t)o->epoch;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(date, sizeof(date), "%Y%m%d%H%M%S00", &tm))
		return -EINVAL;
	snprintf(mod, sizeof(mod), "--modification-date=%s", date);
	char *const argv[] = {
		(char *)LETHE_ISO_PROGRAM,
		(char *)"-as",
		(char *)"mkisofs",
		(char *)"-quiet",
		(char *)"-o",
		(char *)tmp,
		(char *)"-V",
		(char *)o->volume_id,
		(char *)"-iso-level",
		(char *)"3",
		(char *)"-r", /* Rock Ridge with owner 0 and modes made uniform */
		(char *)"-J",
		mod,
		(char *)"--set_all_file_dates", /* the root directory's too, not its mtime */
		date,
		(char *)"-append_partition",
		(char *)"2",
		(char *)LETHE_DISK_TYPE_ESP,
		(char *)o->esp,
		(char *)"-append_partition",
		(char *)"3",
		(char *)LETHE_DISK_TYPE_ROOT_X86_64,
		(char *)o->rootfs,
		(char *)"-append_partition",
		(char *)"4",
		(char *)LETHE_DISK_TYPE_ROOT_X86_64_VERITY,
		(char *)o->verity,
		(char *)"-appended_part_as_gpt",
		(char *)"-e",
		(char *)"--interval:appended_partition_2:all::",
		(char *)"-no-emul-boot",
		(char *)root,
		NULL,
	};
	return uefi_run(argv, o->epoch);
}

int lethe_iso_make(const struct lethe_iso_options *o)
{
	char data_uuid[LETHE_UUID_STR], verity_uuid[LETHE_UUID_STR], esp_uuid[LETHE_UUID_STR];
	char *root = NULL, *tmp = NULL;
	int fd = -1, r;

	if (!volume_id_ok(o->volume_id))
		return lethe_error(-EINVAL, "ISO volume id '%s': 1 to 32 of A-Z 0-9 _",
				   o->volume_id ? o->volume_id : "");
	if (o->epoch < 0)
		return lethe_error(-EINVAL, "lethe.iso needs a fixed epoch");
	r = lethe_partuuids_from_roothash(o->roothash, o->roothash_len, data_uuid, verity_uuid);
	if (r >= 0)
		r = lethe_disk_esp_uuid(o->roothash, o->roothash_len, esp_uuid);
	if (r < 0)
		return r;
	root = lethe_path_join(o->workdir, "iso-root");
	tmp = lethe_path_join(o->workdir, "lethe.iso.tmp");
	if (!root || !tmp) {
		r = -ENOMEM;
		goto out;
	}
	/* The ISO 9660 file system holds nothing: everything is in the partitions. */
	if (mkdir(root, 0755) < 0 && errno != EEXIST) {
		r = lethe_error(-errno, "cannot create '%s': %m", root);
		goto out;
	}
	/* xorriso records the directory's own time: the epoch, not when this build ran. */
	if (utimensat(AT_FDCWD, root,
		      (const struct timespec[2]){ { .tv_sec = (time_t)o->epoch },
						  { .tv_sec = (time_t)o->epoch } },
		      0) < 0) {
		r = lethe_error(-errno, "cannot set the times of '%s': %m", root);
		goto out;
	}
	unlink(tmp);
	r = run_xorriso(o, root, tmp);
	if (r < 0)
		goto out;
	fd = open(tmp, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = lethe_error(-errno, "cannot open '%s': %m", tmp);
		goto out;
	}
	r = lethe_iso_gpt_relabel(fd, tmp, esp_uuid, data_uuid, verity_uuid);
	if (r >= 0 && fsync(fd) < 0)
		r = lethe_error(-errno, "cannot write '%s': %m", tmp);
	if (r >= 0 && fchmod(fd, 0644) < 0)
		r = lethe_error(-errno, "cannot chmod '%s': %m", tmp);
	if (r >= 0 && rename(tmp, o->output) < 0)
		r = lethe_error(-errno, "cannot rename '%s' to '%s': %m", tmp, o->output);
out:
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	if (root)
		rmdir(root);
	free(root);
	free(tmp);
	return r;
}
