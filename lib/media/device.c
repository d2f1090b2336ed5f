/* Writing disk.img to a medium and checking a medium: refuse a target in use, write
 * exclusively, read back past the page cache, name the first differing byte. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <lethe/audit.h>
#include <lethe/media.h>
#include <lethe/release.h>

#define MAX_DEVS 256
#define ALIGN	 4096

struct devset {
	dev_t v[MAX_DEVS];
	size_t n;
};

static int sysfs_dev(const char *dir, const char *name, dev_t *ret)
{
	struct lethe_buf p = { 0 };
	char *text = NULL;
	unsigned maj, min;
	size_t len;
	int r;

	r = lethe_buf_printf(&p, "%s/%s/dev", dir, name);
	if (r >= 0)
		r = lethe_file_read(p.data, 64, &text, &len);
	if (r >= 0 && sscanf(text, "%u:%u", &maj, &min) == 2)
		*ret = makedev(maj, min);
	else if (r >= 0)
		r = -EINVAL;
	free(text);
	lethe_buf_release(&p);
	return r;
}

static bool holders_empty(dev_t d)
{
	struct lethe_buf p = { 0 };
	struct dirent *de;
	bool empty = true;
	DIR *dir;

	if (lethe_buf_printf(&p, "/sys/dev/block/%u:%u/holders", major(d), minor(d)) < 0)
		return false;
	dir = opendir(p.data);
	lethe_buf_release(&p);
	if (!dir)
		return true; /* no sysfs entry: nothing can hold it */
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			empty = false;
	closedir(dir);
	return empty;
}

/* The device and its partitions. */
static int collect(dev_t d, struct devset *set)
{
	struct lethe_buf p = { 0 };
	struct dirent *de;
	DIR *dir;

	set->v[set->n++] = d;
	if (lethe_buf_printf(&p, "/sys/dev/block/%u:%u", major(d), minor(d)) < 0)
		return -ENOMEM;
	dir = opendir(p.data);
	if (!dir) {
		lethe_buf_release(&p);
		return 0;
	}
	while ((de = readdir(dir)) && set->n < MAX_DEVS) {
		struct lethe_buf part = { 0 };
		dev_t pd;

		if (de->d_name[0] == '.')
			continue;
		if (lethe_buf_printf(&part, "%s/%s/partition", p.data, de->d_name) < 0)
			break;
		if (access(part.data, F_OK) == 0 && sysfs_dev(p.data, de->d_name, &pd) == 0)
			set->v[set->n++] = pd;
		lethe_buf_release(&part);
	}
	closedir(dir);
	lethe_buf_release(&p);
	return 0;
}

static bool in_set(const struct devset *s, dev_t d)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == d)
			return true;
	return false;
}

/* The mount point of the first mount of a device in set, from /proc/self/mountinfo
 * (parsed by lib/audit, which decodes its escapes). */
static int find_mount(const struct devset *set, char **ret_where)
{
	struct lethe_mounts m = { 0 };
	char *text = NULL;
	size_t len;
	int r;

	*ret_where = NULL;
	r = lethe_file_read("/proc/self/mountinfo", 16u << 20, &text, &len);
	if (r < 0)
		return lethe_error(r, "cannot read /proc/self/mountinfo: %s", strerror(-r));
	r = lethe_mountinfo_parse("/proc/self/mountinfo", text, &m);
	free(text);
	if (r < 0)
		return r;
	for (size_t i = 0; i < m.n && !*ret_where; i++)
		if (in_set(set, makedev(m.v[i].major, m.v[i].minor))) {
			*ret_where = strdup(m.v[i].mountpoint);
			if (!*ret_where)
				r = -ENOMEM;
		}
	lethe_mounts_release(&m);
	return r;
}

/* The file behind a loop device (its backing_file in sysfs), by inode; -ENOENT if
 * the device is no loop device or has none. */
static int loop_backing(const char *sysdir, struct stat *ret)
{
	struct lethe_buf p = { 0 };
	char *text = NULL;
	size_t len;
	int r;

	r = lethe_buf_printf(&p, "%s/loop/backing_file", sysdir);
	if (r >= 0)
		r = lethe_file_read(p.data, 4096, &text, &len);
	if (r >= 0) {
		text[strcspn(text, "\n")] = '\0';
		r = stat(text, ret) < 0 ? -errno : 0;
	}
	free(text);
	lethe_buf_release(&p);
	return r;
}

/* The loop device that st (a regular file) backs, as "loopN" in ret; 0 if none. */
static int find_loop_of(const struct stat *st, char ret[300])
{
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		struct lethe_buf p = { 0 };
		struct stat b;

		if (strncmp(de->d_name, "loop", 4) ||
		    lethe_buf_printf(&p, "/sys/block/%s", de->d_name) < 0)
			continue;
		if (loop_backing(p.data, &b) == 0 && b.st_dev == st->st_dev &&
		    b.st_ino == st->st_ino) {
			snprintf(ret, 300, "%s", de->d_name);
			found = 1;
		}
		lethe_buf_release(&p);
	}
	closedir(d);
	return found;
}

/* The artifact of rel (may be NULL) whose file is st, or -1. */
static int same_as_artifact(const struct lethe_release *rel, const struct stat *st)
{
	for (unsigned a = 0; rel && a < LETHE_ARTIFACT_MAX; a++) {
		struct stat as;
		int fd = lethe_release_has(rel, a) ? lethe_release_fd(rel, a) : -1;

		if (fd >= 0 && fstat(fd, &as) == 0 && as.st_dev == st->st_dev &&
		    as.st_ino == st->st_ino)
			return (int)a;
	}
	return -1;
}

/* A regular file target (issue 10.7): not a file of the release itself, not the
 * backing file of any loop device (mounted or not: a loop device is in use). */
static int check_regular(const struct lethe_release *rel, const char *device, const struct stat *st)
{
	char loop[300];
	int a = same_as_artifact(rel, st);

	if (a >= 0)
		return lethe_error(-EBUSY, "'%s' is the release's own %s", device,
				   lethe_release_name((enum lethe_release_artifact)a));
	if (find_loop_of(st, loop))
		return lethe_error(-EBUSY,
				   "'%s' backs /dev/%s; detach it first (losetup -d "
				   "/dev/%s)",
				   device, loop, loop);
	return 0;
}

int lethe_media_check_target(const struct lethe_release *rel, const char *device)
{
	struct devset set = { 0 };
	struct stat st, root, b;
	char *where = NULL;
	int r;

	if (stat(device, &st) < 0) {
		/* A mistyped /dev/sdX must not become a regular file in /dev. */
		if (errno == ENOENT && strncmp(device, "/dev/", 5))
			return 0; /* a new file */
		return lethe_error(-errno, "cannot stat '%s': %s", device, strerror(errno));
	}
	if (S_ISREG(st.st_mode)) {
		if (!strncmp(device, "/dev/", 5))
			return lethe_error(-EINVAL,
					   "'%s' is a regular file in /dev, not a block "
					   "device",
					   device);
		return check_regular(rel, device, &st);
	}
	if (!S_ISBLK(st.st_mode))
		return lethe_error(-EINVAL, "'%s' is neither a block device nor a regular file",
				   device);
	/* A loop device over one of the release's own files. */
	{
		struct lethe_buf p = { 0 };
		int a = -1;

		if (lethe_buf_printf(&p, "/sys/dev/block/%u:%u", major(st.st_rdev),
				     minor(st.st_rdev)) >= 0 &&
		    loop_backing(p.data, &b) == 0)
			a = same_as_artifact(rel, &b);
		lethe_buf_release(&p);
		if (a >= 0)
			return lethe_error(
				-EBUSY, "'%s' is a loop device over the release's own %s", device,
				lethe_release_name((enum lethe_release_artifact)a));
	}
	r = collect(st.st_rdev, &set);
	if (r < 0)
		return r;
	if (stat("/", &root) == 0 && in_set(&set, root.st_dev))
		return lethe_error(-EBUSY, "'%s' holds the running system's root file system",
				   device);
	r = find_mount(&set, &where);
	if (r < 0)
		return r;
	if (where) {
		r = lethe_error(-EBUSY,
				"'%s' (or a partition of it) is mounted on '%s'; unmount "
				"it first",
				device, where);
		free(where);
		return r;
	}
	for (size_t i = 0; i < set.n; i++)
		if (!holders_empty(set.v[i]))
			return lethe_error(-EBUSY,
					   "'%s' (or a partition of it) is in use by device "
					   "mapper or md (see /sys/dev/block/%u:%u/holders)",
					   device, major(set.v[i]), minor(set.v[i]));
	return 0;
}

/* Open for reading past the page cache when the file system allows it. */
static int open_uncached(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);

	if (fd >= 0 || errno != EINVAL)
		return fd;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	return fd;
}

int lethe_media_verify_device(const char *device, int image_fd, uint64_t len,
			      const uint8_t digest[32])
{
	struct lethe_sha256 h = { 0 };
	uint8_t *buf = NULL, *ibuf = NULL, md[LETHE_SHA256_BYTES];
	uint64_t off = 0, first_diff = UINT64_MAX;
	int fd = -1, ifd = image_fd, r = 0;

	if (lethe_sha256_init(&h) < 0 || posix_memalign((void **)&buf, ALIGN, LETHE_MEDIA_CHUNK) ||
	    !(ibuf = malloc(LETHE_MEDIA_CHUNK))) {
		r = -ENOMEM;
		goto out;
	}
	fd = open_uncached(device);
	if (fd < 0) {
		r = lethe_error(-errno, "cannot open '%s': %s", device, strerror(errno));
		goto out;
	}
	while (off < len) {
		size_t want =
			len - off < LETHE_MEDIA_CHUNK ? (size_t)(len - off) : LETHE_MEDIA_CHUNK;
		/* O_DIRECT reads whole aligned blocks; only want bytes count */
		size_t ask = (want + ALIGN - 1) / ALIGN * ALIGN;
		ssize_t n = lethe_pread_full(fd, buf, ask, (off_t)off);

		if (n < 0) {
			r = lethe_error((int)n, "cannot read '%s' at offset %llu: %s", device,
					(unsigned long long)off, strerror((int)-n));
			goto out;
		}
		if ((size_t)n < want) {
			r = lethe_error(-LETHE_E_INVALID,
					"'%s' ends at %llu bytes, before the image's "
					"%llu",
					device, (unsigned long long)(off + (uint64_t)n),
					(unsigned long long)len);
			goto out;
		}
		lethe_sha256_update(&h, buf, want);
		if (ifd >= 0 && first_diff == UINT64_MAX &&
		    lethe_pread_full(ifd, ibuf, want, (off_t)off) == (ssize_t)want &&
		    memcmp(buf, ibuf, want))
			for (size_t i = 0; i < want; i++)
				if (buf[i] != ibuf[i]) {
					first_diff = off + i;
					break;
				}
		off += want;
		lethe_log(LETHE_LOG_PROGRESS, "verifying '%s': %llu of %llu MiB", device,
			  (unsigned long long)(off >> 20), (unsigned long long)(len >> 20));
	}
	if (lethe_sha256_final(&h, md) < 0) {
		r = -EIO;
		goto out;
	}
	if (lethe_memeq_consttime(md, digest, 32))
		goto out;
	if (first_diff != UINT64_MAX)
		r = lethe_error(-LETHE_E_INVALID,
				"'%s' differs from the signed image: first "
				"difference at byte offset %llu",
				device, (unsigned long long)first_diff);
	else
		r = lethe_error(-LETHE_E_INVALID,
				"'%s': the SHA-256 of its first %llu bytes does "
				"not match the signed image",
				device, (unsigned long long)len);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(ibuf);
	lethe_sha256_release(&h);
	return r;
}

/* An image of the release (disk.img or lethe.iso): its verified descriptor, length and
 * signed digest. */
static int release_image(const struct lethe_release *rel, enum lethe_release_artifact a,
			 int *ret_fd, uint64_t *ret_len, uint8_t digest[32])
{
	int fd;

	if (a != LETHE_ARTIFACT_DISK && a != LETHE_ARTIFACT_ISO)
		return lethe_error(-EINVAL, "'%s' is not a boot medium image",
				   lethe_release_name(a));
	fd = lethe_release_fd(rel, a);
	if (fd < 0)
		return lethe_error(-LETHE_E_INVALID,
				   "the signed SHA256SUMS of '%s' does not list "
				   "'%s'",
				   lethe_release_dir(rel), lethe_release_name(a));
	*ret_fd = fd;
	return lethe_release_info(rel, a, ret_len, digest);
}

int lethe_media_verify_written(const struct lethe_release *rel, const char *device)
{
	enum lethe_release_artifact a;

	return lethe_media_verify_any(rel, device, &a);
}

int lethe_media_verify_image(const struct lethe_release *rel, const char *device,
			     enum lethe_release_artifact a)
{
	uint8_t digest[32];
	uint64_t len;
	int fd = -1, r;

	r = release_image(rel, a, &fd, &len, digest);
	if (r >= 0)
		r = lethe_media_verify_device(device, fd, len, digest);
	return r;
}

/* Does device start like image_fd's GPT: the same disk GUID (LBA 1, offset 56)? */
static bool same_disk_guid(const char *device, int image_fd)
{
	uint8_t a[16], b[16];
	int fd = open(device, O_RDONLY | O_CLOEXEC);
	bool same;

	if (fd < 0)
		return false;
	same = pread(fd, a, 16, 512 + 56) == 16 && pread(image_fd, b, 16, 512 + 56) == 16 &&
	       !memcmp(a, b, 16);
	close(fd);
	return same;
}

int lethe_media_verify_any(const struct lethe_release *rel, const char *device,
			   enum lethe_release_artifact *ret)
{
	enum lethe_release_artifact a = LETHE_ARTIFACT_DISK;
	int iso = lethe_release_fd(rel, LETHE_ARTIFACT_ISO), r;

	/* A medium made from lethe.iso (a stick or a DVD) carries the ISO's disk GUID,
	 * one made from disk.img disk.img's; the check is then against that image alone,
	 * so that its message (the first differing byte) is about the right one. */
	if (iso >= 0 && same_disk_guid(device, iso))
		a = LETHE_ARTIFACT_ISO;
	r = lethe_media_verify_image(rel, device, a);
	if (r >= 0)
		*ret = a;
	return r;
}

static int open_target(const struct lethe_release *rel, const char *device, uint64_t len)
{
	struct stat st;
	uint64_t size;
	int fd;

	if (stat(device, &st) == 0 && S_ISBLK(st.st_mode)) {
		/* O_EXCL on a block device: fails if anything has it open exclusively (a
		 * mounted file system, device mapper, md, another writer). */
		fd = open(device, O_WRONLY | O_EXCL | O_CLOEXEC);
		if (fd < 0)
			return lethe_error(-errno, "cannot open '%s' exclusively: %s", device,
					   strerror(errno));
		if (ioctl(fd, BLKGETSIZE64, &size) == 0 && size < len) {
			close(fd);
			return lethe_error(-ENOSPC, "'%s' holds %llu bytes; the image needs %llu",
					   device, (unsigned long long)size,
					   (unsigned long long)len);
		}
		return fd;
	}
	if (!strncmp(device, "/dev/", 5))
		return lethe_error(-ENODEV, "'%s' is not a block device", device);
	/* Truncated only once the file opened is known not to be one in use. */
	fd = open(device, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return lethe_error(-errno, "cannot open '%s': %s", device, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return lethe_error(-EINVAL, "'%s' is neither a block device nor a regular file",
				   device);
	}
	int r = check_regular(rel, device, &st);

	if (r >= 0 && ftruncate(fd, 0) < 0)
		r = lethe_error(-errno, "cannot truncate '%s': %m", device);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

static int copy_image(int out, const char *device, int in, const char *image, uint64_t len,
		      const uint8_t digest[32])
{
	struct lethe_sha256 h;
	uint8_t *buf = malloc(LETHE_MEDIA_CHUNK), md[LETHE_SHA256_BYTES];
	int hr = lethe_sha256_init(&h);
	uint64_t off = 0;
	int r = 0;

	if (hr < 0 || !buf) {
		r = -ENOMEM;
		goto out;
	}
	while (off < len) {
		size_t want =
			len - off < LETHE_MEDIA_CHUNK ? (size_t)(len - off) : LETHE_MEDIA_CHUNK;
		ssize_t n = lethe_pread_full(in, buf, want, (off_t)off);

		if (n != (ssize_t)want) {
			r = lethe_error(n < 0 ? (int)n : -LETHE_E_INVALID,
					"'%s' changed while it was "
					"written (short read at %llu)",
					image, (unsigned long long)off);
			goto out;
		}
		lethe_sha256_update(&h, buf, want);
		r = lethe_write_full(out, buf, want);
		if (r < 0) {
			r = lethe_error(r, "cannot write '%s' at offset %llu: %s", device,
					(unsigned long long)off, strerror(-r));
			goto out;
		}
		off += want;
		lethe_log(LETHE_LOG_PROGRESS, "writing '%s': %llu of %llu MiB", device,
			  (unsigned long long)(off >> 20), (unsigned long long)(len >> 20));
	}
	/* What was written must be what was signed, even if disk.img changed meanwhile. */
	if (lethe_sha256_final(&h, md) < 0 || !lethe_memeq_consttime(md, digest, 32))
		r = lethe_error(-LETHE_E_INVALID,
				"'%s' changed while it was written; '%s' does "
				"not hold the signed image",
				image, device);
out:
	free(buf);
	lethe_sha256_release(&h);
	return r;
}

int lethe_media_write(const struct lethe_release *rel, const char *device)
{
	return lethe_media_write_image(rel, device, LETHE_ARTIFACT_DISK);
}

int lethe_media_write_image(const struct lethe_release *rel, const char *device,
			    enum lethe_release_artifact a)
{
	uint8_t digest[32];
	char *image = lethe_path_join(lethe_release_dir(rel), lethe_release_name(a));
	uint64_t len;
	int fd = -1, in = -1, r;

	if (!image)
		return -ENOMEM;
	r = release_image(rel, a, &in, &len, digest);
	if (r >= 0)
		r = lethe_media_check_target(rel, device);
	if (r < 0)
		goto out;
	fd = open_target(rel, device, len);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	r = copy_image(fd, device, in, image, len, digest);
	if (r >= 0 && fsync(fd) < 0)
		r = lethe_error(-errno, "cannot flush '%s': %s", device, strerror(errno));
	if (r >= 0)
		ioctl(fd, BLKFLSBUF, 0); /* block devices: drop cached blocks before reading back */
	if (close(fd) < 0 && r >= 0)
		r = lethe_error(-errno, "cannot write '%s': %s", device, strerror(errno));
	if (r >= 0) {
		lethe_log(LETHE_LOG_INFO, "wrote %llu bytes to '%s'; reading them back",
			  (unsigned long long)len, device);
		r = lethe_media_verify_device(device, in, len, digest);
	}
out:
	free(image);
	return r;
}
