/* lethe install: a new A/B disk from a verified release: GPT (ESP, root and verity of
 * slot A, then of slot B), the ESP with systemd-boot and the release's UKI as a good
 * entry, slot A written from the release's verified files and read back, slot B empty. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include <lethe/disk.h>
#include <lethe/media.h>
#include <lethe/uefi.h>

#include "update-internal.h"

#define MIB (1024ull * 1024ull)

static uint64_t align_mib(uint64_t v)
{
	return (v + MIB - 1) / MIB * MIB;
}

/* The hash partition a root partition of size bytes needs: every level of a SHA-256
 * tree of 4 KiB blocks (128 digests a block) and the superblock, rounded to a MiB. */
static uint64_t verity_size_for(uint64_t size)
{
	uint64_t blocks = (size + 4095) / 4096, tree = 1;

	while (blocks > 1) {
		blocks = (blocks + 127) / 128;
		tree += blocks;
	}
	return align_mib((tree + 1) * 4096);
}

int update_empty_uuids(const uint8_t *seed, size_t len, enum lethe_slot s,
		       char root[LETHE_UUID_STR], char verity[LETHE_UUID_STR])
{
	uint8_t buf[64 + 32];
	int n, r;

	if (len > 64)
		return -EINVAL;
	memcpy(buf, seed, len);
	n = snprintf((char *)buf + len, 32, "\nempty-%c-root", lethe_slot_letter(s));
	r = lethe_disk_guid(buf, len + (size_t)n, root);
	n = snprintf((char *)buf + len, 32, "\nempty-%c-verity", lethe_slot_letter(s));
	if (r >= 0)
		r = lethe_disk_guid(buf, len + (size_t)n, verity);
	return r;
}

/* Copy a verified artifact to path, checking its signed hash again on the way. */
static int copy_artifact(const struct lethe_release *rel, enum lethe_release_artifact a,
			 const char *path)
{
	uint8_t digest[32];
	uint64_t size;
	int fd, r = lethe_release_info(rel, a, &size, digest);

	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return lethe_error(-errno, "cannot create '%s': %m", path);
	r = update_copy_in(fd, path, 0, lethe_release_fd(rel, a), size, digest,
			   lethe_release_name(a), NULL);
	if (close(fd) < 0 && r >= 0)
		r = lethe_error(-errno, "cannot write '%s': %m", path);
	return r;
}

static int open_target(const char *device, uint64_t total)
{
	struct stat st;
	uint64_t size = 0;
	int fd;

	if (stat(device, &st) == 0 && S_ISBLK(st.st_mode)) {
		fd = open(device, O_RDWR | O_EXCL | O_CLOEXEC);
		if (fd < 0)
			return lethe_error(-errno, "cannot open '%s' exclusively: %m", device);
		if (ioctl(fd, BLKGETSIZE64, &size) < 0 || size < total) {
			close(fd);
			return lethe_error(-ENOSPC, "'%s' holds %llu bytes; the disk needs %llu",
					   device, (unsigned long long)size,
					   (unsigned long long)total);
		}
		return fd;
	}
	if (!strncmp(device, "/dev/", 5))
		return lethe_error(-ENODEV, "'%s' is not a block device", device);
	fd = open(device, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return lethe_error(-errno, "cannot open '%s': %m", device);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || ftruncate(fd, 0) < 0 ||
	    ftruncate(fd, (off_t)total) < 0) {
		int e = errno ? errno : EINVAL;

		close(fd);
		return lethe_error(-e, "cannot make '%s' a disk image of %llu bytes: %s", device,
				   (unsigned long long)total, strerror(e));
	}
	return fd;
}

struct plan {
	char *scratch, *uki, *esp;
	char version[LETHE_BOOTCOUNT_VERSION_MAX + 1];
	uint8_t roothash[32];
	uint64_t slot, verity, esp_size;
	uint64_t rootfs_size, verity_file_size;
	uint8_t rootfs_sha[32], verity_sha[32], esp_sha[32];
};

static int make_plan(const struct lethe_release *rel, const struct lethe_install_options *o,
		     struct plan *p)
{
	char hex[LETHE_ROOTHASH_HEX + 1], id[64], name[LETHE_BOOTCOUNT_NAME_MAX];
	char uuid[LETHE_UUID_STR], volid[9];
	uint64_t uki_size;
	uint8_t uki_sha[32];
	int r;

	if (!lethe_release_has(rel, LETHE_ARTIFACT_UKI))
		return lethe_error(-LETHE_E_INVALID, "'%s' has no %s: nothing to boot a slot",
				   lethe_release_dir(rel), lethe_release_name(LETHE_ARTIFACT_UKI));
	r = lethe_release_info(rel, LETHE_ARTIFACT_ROOTFS, &p->rootfs_size, p->rootfs_sha);
	if (r >= 0)
		r = lethe_release_info(rel, LETHE_ARTIFACT_VERITY, &p->verity_file_size,
				       p->verity_sha);
	if (r >= 0)
		r = lethe_release_info(rel, LETHE_ARTIFACT_UKI, &uki_size, uki_sha);
	if (r >= 0)
		r = update_scratch(&p->scratch);
	if (r < 0)
		return r;
	p->uki = lethe_path_join(p->scratch, lethe_release_name(LETHE_ARTIFACT_UKI));
	p->esp = lethe_path_join(p->scratch, "esp.img");
	if (!p->uki || !p->esp)
		return -ENOMEM;
	r = copy_artifact(rel, LETHE_ARTIFACT_UKI, p->uki);
	if (r >= 0)
		r = update_uki_identity(p->uki, hex, id, sizeof(id), p->version,
					sizeof(p->version));
	if (r < 0)
		return r;
	if (strcmp(hex, lethe_release_roothash(rel)))
		return lethe_error(-LETHE_E_INVALID,
				   "'%s': the UKI's root hash is not the release's",
				   lethe_release_dir(rel));
	struct lethe_bootcount c = { 0 };

	snprintf(c.version, sizeof(c.version), "%s", p->version);
	if (lethe_bootcount_format(&c, name) < 0)
		return lethe_error(
			-LETHE_E_INVALID,
			"IMAGE_VERSION '%s' cannot be a UKI name (1-64 of A-Z a-z 0-9 . ~ -)",
			p->version);
	lethe_hex_decode(hex, p->roothash, sizeof(p->roothash));
	p->slot = o && o->slot_size ? align_mib(o->slot_size) : LETHE_UPDATE_SLOT_DEFAULT;
	if (!(o && o->slot_size) && p->slot < 2 * p->rootfs_size)
		p->slot = align_mib(2 * p->rootfs_size);
	if (p->slot < LETHE_UPDATE_SLOT_MIN || p->slot > LETHE_DISK_MAX_SIZE / 4)
		return lethe_error(-EINVAL, "slot size %llu MiB is out of range (%llu MiB or more)",
				   (unsigned long long)(p->slot / MIB),
				   (unsigned long long)(LETHE_UPDATE_SLOT_MIN / MIB));
	if (p->rootfs_size > p->slot)
		return lethe_error(-EFBIG, "%s (%llu bytes) is larger than a slot (%llu)",
				   lethe_release_name(LETHE_ARTIFACT_ROOTFS),
				   (unsigned long long)p->rootfs_size, (unsigned long long)p->slot);
	p->verity = verity_size_for(p->slot);
	r = lethe_disk_esp_uuid(p->roothash, sizeof(p->roothash), uuid);
	if (r < 0)
		return r;
	memcpy(volid, uuid, 8);
	volid[8] = '\0';
	r = lethe_esp_make(&(struct lethe_esp_options){
		.output = p->esp,
		.uki = p->uki,
		.uki_name = name,
		.timeout = 0,
		.volume_id = volid,
		.workdir = p->scratch,
		.epoch = 0,
		/* room for the other slot's UKI, twice as large, and a temporary name */
		.spare = 2 * uki_size + (16u << 20) });
	if (r >= 0) {
		int fd = open(p->esp, O_RDONLY | O_CLOEXEC);

		r = fd < 0 ? -errno : lethe_sha256_fd(fd, UINT64_MAX, p->esp_sha, &p->esp_size);
		if (fd >= 0)
			close(fd);
	}
	return r;
}

static int write_disk(const struct lethe_release *rel, const char *device, struct plan *p)
{
	char guid[LETHE_DISK_UUID_STR], esp_uuid[LETHE_DISK_UUID_STR];
	char ra[LETHE_UUID_STR], va[LETHE_UUID_STR], rb[LETHE_UUID_STR], vb[LETHE_UUID_STR];
	uint64_t esp_part = align_mib(p->esp_size), total;
	uint64_t off_a = MIB + esp_part, off_va = off_a + p->slot;
	uint64_t off_b = off_va + p->verity, off_vb = off_b + p->slot;
	struct update_progress pg = { .what = "installing slot a",
				      .total = 2 * (p->rootfs_size + p->verity_file_size) };
	int fd, esp_fd = -1, r;

	total = off_vb + p->verity + MIB;
	r = lethe_disk_guid(p->roothash, sizeof(p->roothash), guid);
	if (r >= 0)
		r = lethe_disk_esp_uuid(p->roothash, sizeof(p->roothash), esp_uuid);
	if (r >= 0)
		r = lethe_partuuids_from_roothash(p->roothash, sizeof(p->roothash), ra, va);
	if (r >= 0)
		r = update_empty_uuids(p->roothash, sizeof(p->roothash), LETHE_SLOT_B, rb, vb);
	if (r < 0)
		return r;
	const struct lethe_disk_partition parts[] = {
		{ .type = LETHE_DISK_TYPE_ESP,
		  .uuid = esp_uuid,
		  .label = LETHE_UPDATE_LABEL_ESP,
		  .size = esp_part },
		{ .type = LETHE_DISK_TYPE_ROOT_X86_64,
		  .uuid = ra,
		  .label = LETHE_UPDATE_LABEL_ROOT "a",
		  .size = p->slot },
		{ .type = LETHE_DISK_TYPE_ROOT_X86_64_VERITY,
		  .uuid = va,
		  .label = LETHE_UPDATE_LABEL_VERITY "a",
		  .size = p->verity },
		{ .type = LETHE_DISK_TYPE_ROOT_X86_64,
		  .uuid = rb,
		  .label = LETHE_UPDATE_LABEL_ROOT "b",
		  .size = p->slot },
		{ .type = LETHE_DISK_TYPE_ROOT_X86_64_VERITY,
		  .uuid = vb,
		  .label = LETHE_UPDATE_LABEL_VERITY "b",
		  .size = p->verity },
	};
	fd = open_target(device, total);
	if (fd < 0)
		return fd;
	r = lethe_disk_write_table(
		fd, device,
		&(struct lethe_disk_layout){
			.guid = guid, .parts = parts, .n_parts = LETHE_ARRAY_SIZE(parts) });
	if (r >= 0) {
		esp_fd = open(p->esp, O_RDONLY | O_CLOEXEC);
		r = esp_fd < 0 ? lethe_error(-errno, "cannot open '%s': %m", p->esp) : 0;
	}
	if (r >= 0)
		r = update_copy_in(fd, device, MIB, esp_fd, p->esp_size, p->esp_sha, "the ESP",
				   NULL);
	if (r >= 0)
		r = update_copy_in(fd, device, off_a, lethe_release_fd(rel, LETHE_ARTIFACT_ROOTFS),
				   p->rootfs_size, p->rootfs_sha,
				   lethe_release_name(LETHE_ARTIFACT_ROOTFS), &pg);
	if (r >= 0)
		r = update_copy_in(fd, device, off_va, lethe_release_fd(rel, LETHE_ARTIFACT_VERITY),
				   p->verity_file_size, p->verity_sha,
				   lethe_release_name(LETHE_ARTIFACT_VERITY), &pg);
	/* Slot B holds no image: nothing there may look like a file system or a tree. */
	if (r >= 0)
		r = update_zero(fd, device, off_b, MIB);
	if (r >= 0)
		r = update_zero(fd, device, off_vb, MIB);
	if (r >= 0 && fsync(fd) < 0)
		r = lethe_error(-errno, "cannot flush '%s': %m", device);
	if (r >= 0)
		r = update_verify_back(fd, device, off_a, p->rootfs_size, p->rootfs_sha,
				       lethe_release_name(LETHE_ARTIFACT_ROOTFS), &pg);
	if (r >= 0)
		r = update_verify_back(fd, device, off_va, p->verity_file_size, p->verity_sha,
				       lethe_release_name(LETHE_ARTIFACT_VERITY), &pg);
	if (esp_fd >= 0)
		close(esp_fd);
	if (close(fd) < 0 && r >= 0)
		r = lethe_error(-errno, "cannot write '%s': %m", device);
	return r;
}

int lethe_update_install(const struct lethe_release *rel, const char *device,
			 const struct lethe_install_options *o)
{
	struct plan p = { 0 };
	int r = lethe_media_check_target(rel, device);

	if (r >= 0)
		r = make_plan(rel, o, &p);
	if (r >= 0)
		r = write_disk(rel, device, &p);
	if (r >= 0)
		lethe_log(LETHE_LOG_INFO, "'%s': slot a holds %s, slot b is empty", device,
			  p.version);
	free(p.uki);
	free(p.esp);
	update_scratch_remove(p.scratch);
	return r;
}
