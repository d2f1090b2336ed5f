/* disk.img: a GPT written with libfdisk into a file, then the partitions' data copied in.
 * Every identifier comes from the root hash, so the same build gives the same bytes. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libfdisk/libfdisk.h>

#include <lethe/core.h>
#include <lethe/disk.h>

#define SECTOR	   512u
#define COPY_CHUNK (1u << 20)

int lethe_disk_guid(const uint8_t *roothash, size_t len, char guid[LETHE_DISK_UUID_STR])
{
	static const char tag[] = "lethe disk guid\n";
	uint8_t md[LETHE_SHA256_BYTES];
	struct lethe_sha256 h;
	int r = lethe_sha256_init(&h);

	if (r < 0)
		return r;
	lethe_sha256_update(&h, tag, sizeof(tag) - 1);
	lethe_sha256_update(&h, roothash, len);
	if (lethe_sha256_final(&h, md) < 0)
		return -EIO;
	md[6] = (md[6] & 0x0f) | 0x40; /* version 4 */
	md[8] = (md[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	lethe_uuid_format(md, guid);
	return 0;
}

static uint64_t align_up(uint64_t v)
{
	return (v + LETHE_DISK_ALIGN - 1) / LETHE_DISK_ALIGN * LETHE_DISK_ALIGN;
}

/* The size of each partition (aligned) and the whole disk; checked for overflow. */
static int plan(const struct lethe_disk_layout *l, uint64_t *sizes, uint64_t *ret_total)
{
	uint64_t total = LETHE_DISK_ALIGN;

	if (l->n_parts == 0 || l->n_parts > LETHE_DISK_MAX_PARTITIONS)
		return lethe_error(-EINVAL, "a disk needs 1 to %d partitions, not %zu",
				   LETHE_DISK_MAX_PARTITIONS, l->n_parts);
	for (size_t i = 0; i < l->n_parts; i++) {
		const struct lethe_disk_partition *p = &l->parts[i];
		uint64_t size = p->size;
		struct stat st;

		if (p->source) {
			if (stat(p->source, &st) < 0)
				return lethe_error(-errno, "cannot read '%s': %s", p->source,
						   strerror(errno));
			if (!S_ISREG(st.st_mode))
				return lethe_error(-EINVAL, "'%s' is not a regular file",
						   p->source);
			if (size && (uint64_t)st.st_size > size)
				return lethe_error(-EFBIG, "'%s' is larger than its partition",
						   p->source);
			if (!size)
				size = (uint64_t)st.st_size;
		}
		if (!size || size > LETHE_DISK_MAX_SIZE)
			return lethe_error(-EINVAL, "partition %zu: size %llu is out of range",
					   i + 1, (unsigned long long)size);
		sizes[i] = align_up(size);
		total += sizes[i];
		if (total > LETHE_DISK_MAX_SIZE)
			return lethe_error(-EFBIG, "disk image larger than %llu bytes",
					   (unsigned long long)LETHE_DISK_MAX_SIZE);
	}
	*ret_total = total + LETHE_DISK_ALIGN; /* room for the backup GPT */
	return 0;
}

static int add_partition(struct fdisk_context *cxt, const struct lethe_disk_partition *p,
			 size_t partno, uint64_t start, uint64_t size)
{
	struct fdisk_partition *pa = fdisk_new_partition();
	struct fdisk_parttype *type = NULL;
	int r = -ENOMEM;

	if (!pa)
		return -ENOMEM;
	type = fdisk_label_parse_parttype(fdisk_get_label(cxt, NULL), p->type);
	if (!type) {
		r = lethe_error(-EINVAL, "partition %zu: bad type UUID '%s'", partno + 1, p->type);
		goto out;
	}
	r = fdisk_partition_set_partno(pa, partno);
	if (!r)
		r = fdisk_partition_set_start(pa, start / SECTOR);
	if (!r)
		r = fdisk_partition_set_size(pa, size / SECTOR);
	if (!r)
		r = fdisk_partition_set_type(pa, type);
	if (!r)
		r = fdisk_partition_set_uuid(pa, p->uuid);
	if (!r && p->label)
		r = fdisk_partition_set_name(pa, p->label);
	if (!r)
		r = fdisk_add_partition(cxt, pa, NULL);
	if (r)
		r = lethe_error(r < 0 ? r : -EINVAL, "partition %zu (%s): libfdisk refused it: %s",
				partno + 1, p->label ? p->label : p->type,
				strerror(r < 0 ? -r : EINVAL));
out:
	fdisk_unref_parttype(type);
	fdisk_unref_partition(pa);
	return r;
}

static int write_table(int fd, const char *path, const struct lethe_disk_layout *l,
		       const uint64_t *sizes)
{
	struct fdisk_context *cxt = fdisk_new_context();
	uint64_t start = LETHE_DISK_ALIGN;
	int r;

	if (!cxt)
		return -ENOMEM;
	fdisk_disable_dialogs(cxt, 1);
	r = fdisk_assign_device_by_fd(cxt, fd, path, 0);
	if (r) {
		r = lethe_error(r < 0 ? r : -EIO, "libfdisk cannot open '%s'", path);
		goto out;
	}
	r = fdisk_create_disklabel(cxt, "gpt");
	if (!r)
		r = fdisk_set_disklabel_id_from_string(cxt, l->guid);
	if (r) {
		r = lethe_error(r < 0 ? r : -EINVAL, "cannot create a GPT with GUID '%s'", l->guid);
		goto out;
	}
	for (size_t i = 0; i < l->n_parts; i++) {
		r = add_partition(cxt, &l->parts[i], i, start, sizes[i]);
		if (r < 0)
			goto out;
		start += sizes[i];
	}
	r = fdisk_write_disklabel(cxt);
	if (r)
		r = lethe_error(r < 0 ? r : -EIO, "cannot write the GPT of '%s'", path);
out:
	fdisk_deassign_device(cxt, 1); /* nosync: we fsync the file ourselves */
	fdisk_unref_context(cxt);
	return r;
}

static int copy_in(int fd, const char *source, uint64_t offset)
{
	char *buf = malloc(COPY_CHUNK);
	int in = lethe_open_input(AT_FDCWD, source, O_RDONLY, true, NULL);
	int r = 0;

	if (!buf || in < 0) {
		r = in < 0 ? in : -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = lethe_read_full(in, buf, COPY_CHUNK);

		if (n < 0) {
			r = lethe_error((int)n, "cannot read '%s': %s", source, strerror((int)-n));
			break;
		}
		if (n == 0)
			break;
		r = lethe_pwrite_full(fd, buf, (size_t)n, (off_t)offset);
		if (r < 0)
			break;
		offset += (uint64_t)n;
	}
out:
	if (in >= 0)
		close(in);
	free(buf);
	return r;
}

int lethe_disk_write(const char *path, const struct lethe_disk_layout *l)
{
	uint64_t sizes[LETHE_DISK_MAX_PARTITIONS], total = 0, offset = LETHE_DISK_ALIGN;
	struct lethe_atomic_file f = { .fd = -1 };
	int r;

	r = plan(l, sizes, &total);
	if (r < 0)
		return r;
	r = lethe_atomic_open(&f, path, 0644);
	if (r < 0)
		return r;
	if (ftruncate(f.fd, (off_t)total) < 0) {
		r = lethe_error(-errno, "cannot size '%s': %s", path, strerror(errno));
		goto out;
	}
	r = write_table(f.fd, path, l, sizes);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < l->n_parts; i++) {
		if (l->parts[i].source) {
			r = copy_in(f.fd, l->parts[i].source, offset);
			if (r < 0) {
				r = lethe_error(r, "cannot write '%s': %s", path, strerror(-r));
				goto out;
			}
		}
		offset += sizes[i];
	}
	r = lethe_atomic_commit(&f);
out:
	lethe_atomic_abort(&f);
	return r;
}

int lethe_disk_write_table(int fd, const char *what, const struct lethe_disk_layout *l)
{
	uint64_t sizes[LETHE_DISK_MAX_PARTITIONS], total = 0;
	int r = plan(l, sizes, &total);

	return r < 0 ? r : write_table(fd, what, l, sizes);
}

int lethe_disk_make_image(const char *path, const char *rootfs, const char *verity,
			  const uint8_t *roothash, size_t len)
{
	return lethe_disk_make_image_esp(path, rootfs, verity, NULL, roothash, len);
}

int lethe_disk_esp_uuid(const uint8_t *roothash, size_t len, char uuid[LETHE_DISK_UUID_STR])
{
	uint8_t seed[64 + 4];

	if (len > 64)
		return -EINVAL;
	memcpy(seed, roothash, len);
	memcpy(seed + len, "\nesp", 4);
	return lethe_disk_guid(seed, len + 4, uuid);
}

int lethe_disk_make_image_esp(const char *path, const char *rootfs, const char *verity,
			      const char *esp, const uint8_t *roothash, size_t len)
{
	char data_uuid[LETHE_DISK_UUID_STR], verity_uuid[LETHE_DISK_UUID_STR];
	char guid[LETHE_DISK_UUID_STR], esp_uuid[LETHE_DISK_UUID_STR];
	int r;

	r = lethe_partuuids_from_roothash(roothash, len, data_uuid, verity_uuid);
	if (r < 0)
		return r;
	r = lethe_disk_guid(roothash, len, guid);
	if (r >= 0)
		r = lethe_disk_esp_uuid(roothash, len, esp_uuid);
	if (r < 0)
		return r;
	/* The ESP is the third entry and last on the disk: root and root-verity keep their
	 * numbers and offsets; lethe-init and the firmware find partitions by type/UUID. */
	const struct lethe_disk_partition parts[] = {
		{ .type = LETHE_DISK_TYPE_ROOT_X86_64,
		  .uuid = data_uuid,
		  .label = "root-x86-64",
		  .source = rootfs },
		{ .type = LETHE_DISK_TYPE_ROOT_X86_64_VERITY,
		  .uuid = verity_uuid,
		  .label = "root-x86-64-verity",
		  .source = verity },
		{ .type = LETHE_DISK_TYPE_ESP, .uuid = esp_uuid, .label = "esp", .source = esp },
	};
	return lethe_disk_write(
		path, &(struct lethe_disk_layout){ .guid = guid,
						   .parts = parts,
						   .n_parts = LETHE_ARRAY_SIZE(parts) - !esp });
}
