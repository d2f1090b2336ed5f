/* Stage 1, PID 1 in the initramfs: load modules, find the root by the PARTUUIDs that
 * the root hash gives, verify it with dm-verity, lay a tmpfs overlay on it and hand
 * over to stage 2 inside it. Any failure halts: an unverified root is never used. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <lethe/contract.h>

#include "entry.h"
#include "init.h"

#define MODULES_LIST LETHE_PATH_MODULES
#define MODULES_MAX  512
#define STAGE2	     LETHE_PATH_STAGE2
#define RO_DIR	     LETHE_PATH_RUN "/ro"
#define OVERLAY_DIR  LETHE_PATH_OVERLAY
#define TORAM_DIR    LETHE_PATH_RUN "/toram"
#define NEWROOT	     "/newroot"
#define DM_NAME	     LETHE_DM_ROOT_NAME

struct part {
	const char *what; /* "root" or "verity", for messages */
	char uuid[LETHE_UUID_STR];
	char node[128]; /* a block device node for it */
	dev_t dev;
	bool found;
};

static void mount_api(void)
{
	static const struct {
		const char *what, *where, *type;
		unsigned long flags;
		const char *data;
	} m[] = {
		{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755" },
		{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=0755," LETHE_TMPFS_RUN_OPTIONS },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		(void)mkdir(m[i].where, 0755);
		if (mount(m[i].what, m[i].where, m[i].type, m[i].flags, m[i].data) < 0 &&
		    errno != EBUSY)
			init_msg("cannot mount %s on %s: %s", m[i].type, m[i].where,
				 strerror(errno));
	}
}

static void read_cmdline(struct lethe_cmdline *c)
{
	static char text[LETHE_CMDLINE_MAX];
	ssize_t n = init_read_file("/proc/cmdline", text, sizeof(text));
	int r;

	if (n < 0)
		init_halt("cannot read /proc/cmdline: %s", strerror((int)-n));
	r = lethe_cmdline_parse(text, (size_t)n, c);
	if (r < 0)
		init_halt("kernel command line: %s",
			  lethe_error_message_for(r) ? lethe_error_message_for(r) : strerror(-r));
	init_debug = c->debug;
	if (c->unknown)
		init_msg("warning: %u unknown " LETHE_CMDLINE_PREFIX "* parameter(s) on the kernel "
			 "command line ignored",
			 c->unknown);
	if (!c->roothash[0])
		init_halt("no " LETHE_CMDLINE_ROOTHASH "= on the kernel command line: the root "
			  "cannot be verified");
}

static void load_modules(void)
{
	static char list[MODULES_MAX * 256];
	ssize_t n = init_read_file(MODULES_LIST, list, sizeof(list));
	unsigned loaded = 0, lines = 0;
	char *line, *next;

	if (n < 0) {
		init_dbg("no %s: loading no modules", MODULES_LIST);
		return;
	}
	for (line = list; line && *line; line = next) {
		int fd;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line || *line == '#')
			continue;
		if (++lines > MODULES_MAX) {
			init_msg("warning: %s has more than %d modules; the rest are ignored",
				 MODULES_LIST, MODULES_MAX);
			break;
		}
		fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			init_msg("warning: cannot open module '%s': %s", line, strerror(errno));
			continue;
		}
		double t0 = init_uptime();
		const char *base = strrchr(line, '/') ? strrchr(line, '/') + 1 : line;

		if (syscall(SYS_finit_module, fd, "", 0) == 0) {
			loaded++;
			init_dbg("module %s loaded in %.0f ms", base, (init_uptime() - t0) * 1000);
		} else if (errno == ENODEV) /* a CPU's variant this CPU lacks (crc32c-intel) */
			init_dbg("module '%s' is not for this machine", line);
		else if (errno != EEXIST)
			init_msg("warning: cannot load module '%s': %s", line, strerror(errno));
		close(fd);
	}
	init_dbg("%u modules loaded from %s (uptime %.2f s)", loaded, MODULES_LIST, init_uptime());
}

static void found(struct part *p, const char *devname, unsigned maj, unsigned min)
{
	p->found = true;
	p->dev = makedev(maj, min);
	snprintf(p->node, sizeof(p->node), "/dev/%s", devname);
	init_dbg("found PARTUUID=%s (%s) on %s", p->uuid, p->what, p->node);
}

static bool read_devnum(const char *path, unsigned *maj, unsigned *min)
{
	char text[32];

	return init_read_file(path, text, sizeof(text)) > 0 && sscanf(text, "%u:%u", maj, min) == 2;
}

/* The partition number partno of disk: its name and number, from sysfs. */
static bool find_partition(const char *disk, unsigned partno, char *name, size_t size,
			   unsigned *maj, unsigned *min)
{
	char path[600], text[32];
	DIR *d;
	struct dirent *e;
	bool ok = false;

	snprintf(path, sizeof(path), "/sys/class/block/%s", disk);
	d = opendir(path);
	if (!d)
		return false;
	while (!ok && (e = readdir(d))) {
		unsigned n;

		if (strncmp(e->d_name, disk, strlen(disk)))
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/%s/partition", disk, e->d_name);
		if (init_read_file(path, text, sizeof(text)) <= 0 || sscanf(text, "%u", &n) != 1 ||
		    n != partno)
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/%s/dev", disk, e->d_name);
		if (!read_devnum(path, maj, min))
			continue;
		snprintf(name, size, "%s", e->d_name);
		ok = true;
	}
	closedir(d);
	return ok;
}

/* Read a whole disk's GPT and match its partitions' unique GUIDs. */
static void scan_gpt(const char *disk, struct part *parts, size_t n)
{
	char path[300], node[300], text[32];
	unsigned maj, min, sector = 512;
	struct lethe_gpt gpt;
	struct stat st;
	bool foreign = false;
	int fd;

	if (!strncmp(disk, "dm-", 3) || !strncmp(disk, "loop", 4) || !strncmp(disk, "ram", 3))
		return;
	snprintf(path, sizeof(path), "/sys/class/block/%s/dev", disk);
	if (!read_devnum(path, &maj, &min))
		return;
	snprintf(path, sizeof(path), "/sys/class/block/%s/queue/logical_block_size", disk);
	if (init_read_file(path, text, sizeof(text)) > 0)
		sscanf(text, "%u", &sector);
	if (sector < 512 || sector > 4096 || (sector & (sector - 1)))
		return;
	snprintf(node, sizeof(node), "/dev/%s", disk);
	if (stat(node, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != makedev(maj, min)) {
		snprintf(node, sizeof(node), LETHE_PATH_RUN "/scan.dev");
		(void)unlink(node);
		if (mknod(node, S_IFBLK | 0600, makedev(maj, min)) < 0)
			return;
	}
	fd = open(node, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	/* A GPT in other sectors than the disk's (an ISO on a CD-ROM) has no partition
	 * devices: the kernel reads GPTs in the disk's own sector size. */
	if (lethe_gpt_read(fd, sector, &gpt) < 0) {
		if (sector == 512 || lethe_gpt_read(fd, 512, &gpt) < 0)
			goto out;
		foreign = true;
		sector = 512;
	}
	for (uint32_t i = 0; i < gpt.header.n_entries; i++) {
		char uuid[LETHE_UUID_STR], name[256];

		lethe_gpt_uuid(&gpt, i, uuid);
		for (size_t k = 0; k < n; k++) {
			if (parts[k].found || strcmp(uuid, parts[k].uuid))
				continue;
			if (foreign ? init_media_map(fd, &gpt, i, sector, name, sizeof(name), &maj,
						     &min)
				    : find_partition(disk, i + 1, name, sizeof(name), &maj, &min))
				found(&parts[k], name, maj, min);
		}
	}
	lethe_gpt_release(&gpt);
out:
	close(fd);
}

/* Look through /sys/class/block once; fill in the partitions found. A kernel that
 * puts PARTUUID= in the uevent saves us reading the GPT. */
static void scan_block(struct part *parts, size_t n)
{
	DIR *d = opendir("/sys/class/block");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], text[2048], partuuid[64] = "", devname[64] = "";
		unsigned maj = 0, min = 0;
		bool is_part = false;
		char *line, *save = NULL;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", e->d_name);
		if (init_read_file(path, text, sizeof(text)) < 0)
			continue;
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(line, "PARTUUID=", 9))
				snprintf(partuuid, sizeof(partuuid), "%s", line + 9);
			else if (!strncmp(line, "DEVNAME=", 8))
				snprintf(devname, sizeof(devname), "%s", line + 8);
			else if (!strncmp(line, "MAJOR=", 6))
				sscanf(line + 6, "%u", &maj);
			else if (!strncmp(line, "MINOR=", 6))
				sscanf(line + 6, "%u", &min);
			else if (!strcmp(line, "DEVTYPE=partition"))
				is_part = true;
		}
		if (!is_part) {
			scan_gpt(e->d_name, parts, n);
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (!parts[i].found && devname[0] && !strcasecmp(partuuid, parts[i].uuid))
				found(&parts[i], devname, maj, min);
	}
	closedir(d);
}

static void wait_partitions(struct part *parts, size_t n, unsigned timeout)
{
	double deadline = init_uptime() + timeout;

	for (size_t i = 0; i < n; i++)
		init_dbg("waiting for PARTUUID=%s (%s)", parts[i].uuid, parts[i].what);
	for (;;) {
		bool all = true;

		scan_block(parts, n);
		for (size_t i = 0; i < n; i++)
			all = all && parts[i].found;
		if (all)
			break;
		for (size_t i = 0; i < n; i++)
			if (!parts[i].found)
				init_media_wait_notice(parts[i].what, parts[i].uuid,
						       init_uptime() - deadline + timeout, timeout);
		if (init_uptime() > deadline) {
			for (size_t i = 0; i < n; i++)
				if (!parts[i].found)
					init_halt(
						"partition PARTUUID=%s (%s) not found after %u s; "
						"is the disk attached and does its root hash "
						"match " LETHE_CMDLINE_ROOTHASH "?",
						parts[i].uuid, parts[i].what, timeout);
		}
		/* 10 ms in the first two seconds, when a disk whose driver just probed
		 * shows up (a 100 ms poll lost 50 ms on average there), then 100 ms. */
		long ms = init_uptime() + timeout - deadline < 2 ? 10 : 100;

		nanosleep(&(struct timespec){ 0, ms * 1000 * 1000 }, NULL);
	}
	/* devtmpfs makes the nodes; make one ourselves where it has not (yet). */
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (stat(parts[i].node, &st) == 0 && S_ISBLK(st.st_mode) &&
		    st.st_rdev == parts[i].dev)
			continue;
		snprintf(parts[i].node, sizeof(parts[i].node), LETHE_PATH_RUN "/%s.dev",
			 parts[i].what);
		if (mknod(parts[i].node, S_IFBLK | 0600, parts[i].dev) < 0)
			init_halt("cannot make a device node for %s: %s", parts[i].what,
				  strerror(errno));
	}
}

/* lethe.toram: copy a partition into /run and put a read-only loop device on it. */
static void to_ram(struct part *p)
{
	char file[128], loopdev[64];
	int ctl, nr, file_fd, loop_fd;
	struct stat st;

	/* A tmpfs of its own: the loop devices keep these files, and with them their
	 * file system, alive until power-off; /run (logs) must still be freed at
	 * shutdown. */
	static bool mounted;

	if (!mounted) {
		(void)init_mkdir_p(TORAM_DIR, 0700);
		if (mount("tmpfs", TORAM_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=0700," LETHE_TMPFS_TORAM_OPTIONS) < 0)
			init_halt(LETHE_CMDLINE_TORAM ": cannot mount a tmpfs: %s",
				  strerror(errno));
		mounted = true;
	}
	snprintf(file, sizeof(file), TORAM_DIR "/%s", p->what);
	if (init_copy_file(p->node, file, 0400) < 0)
		init_halt(LETHE_CMDLINE_TORAM ": cannot copy %s into RAM: %s", p->node,
			  strerror(errno));
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		init_halt(LETHE_CMDLINE_TORAM ": cannot open /dev/loop-control: %s (is loop.ko "
					      "in %s?)",
			  strerror(errno), MODULES_LIST);
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		init_halt(LETHE_CMDLINE_TORAM ": no free loop device: %s", strerror(errno));
	snprintf(loopdev, sizeof(loopdev), "/dev/loop%d", nr);
	if (stat(loopdev, &st) < 0)
		(void)mknod(loopdev, S_IFBLK | 0600, makedev(7, (unsigned)nr));
	file_fd = open(file, O_RDONLY | O_CLOEXEC);
	loop_fd = open(loopdev, O_RDONLY | O_CLOEXEC);
	if (file_fd < 0 || loop_fd < 0 || ioctl(loop_fd, LOOP_SET_FD, file_fd) < 0 ||
	    fstat(loop_fd, &st) < 0)
		init_halt(LETHE_CMDLINE_TORAM ": cannot attach %s to %s: %s", file, loopdev,
			  strerror(errno));
	close(file_fd);
	close(loop_fd);
	snprintf(p->node, sizeof(p->node), "%s", loopdev);
	p->dev = st.st_rdev;
	init_dbg("%s copied into RAM, on %s", p->what, loopdev);
}

static uint64_t device_size(const char *node)
{
	uint64_t size = 0;
	int fd = open(node, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0)
		size = 0;
	if (fd >= 0)
		close(fd);
	return size;
}

static void read_superblock(const struct part *hash, struct lethe_verity_superblock *sb)
{
	uint8_t buf[LETHE_VERITY_SUPERBLOCK_SIZE];
	int fd = open(hash->node, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0 || pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		init_halt("cannot read the verity superblock from %s: %s", hash->node,
			  strerror(errno));
	close(fd);
	r = lethe_verity_superblock_parse(buf, sizeof(buf), sb);
	if (r < 0)
		init_verify_failed("verity partition %s: %s", hash->node,
				   lethe_error_message_for(r) ? lethe_error_message_for(r)
							      : strerror(-r));
	/* The root hash on the cmdline is LETHE_ROOTHASH_HEX digits: SHA-256 only. */
	if (strcmp(sb->algorithm, "sha256"))
		init_verify_failed("verity partition %s: hash algorithm '%s', only sha256 is "
				   "accepted",
				   hash->node, sb->algorithm);
}

/* The verified device's node: devtmpfs names it dm-N. */
static void dm_node(dev_t dev, char *node, size_t size)
{
	struct stat st;

	snprintf(node, size, "/dev/dm-%u", minor(dev));
	for (int i = 0; i < 20; i++) {
		if (stat(node, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev)
			return;
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
	snprintf(node, size, LETHE_PATH_RUN "/%s.dev", DM_NAME);
	if (mknod(node, S_IFBLK | 0600, dev) < 0)
		init_halt("cannot make a device node for %s: %s", DM_NAME, strerror(errno));
}

/* Read every block once through dm-verity: a changed block anywhere stops the boot
 * here, not later when some file happens to be read. */
static void verify_all(const char *node, uint64_t bytes)
{
	static char buf[1 << 20];
	int fd = open(node, O_RDONLY | O_CLOEXEC);
	uint64_t off = 0;
	double start = init_uptime();

	if (fd < 0)
		init_halt("cannot open %s: %s", node, strerror(errno));
	while (off < bytes) {
		ssize_t n = pread(fd, buf, sizeof(buf), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			init_verify_failed("reading the root at offset %llu: %s (a block does not "
					   "match its hash)",
					   (unsigned long long)off, strerror(errno));
		if (n == 0)
			break;
		off += (uint64_t)n;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	if (off != bytes)
		init_verify_failed("the root device ended at %llu bytes, expected %llu",
				   (unsigned long long)off, (unsigned long long)bytes);
	init_dbg("read %llu bytes through dm-verity in %.2f s", (unsigned long long)bytes,
		 init_uptime() - start);
}

static void setup_verity(const struct lethe_cmdline *c, struct part *data, struct part *hash,
			 char *node, size_t size)
{
	struct lethe_verity_superblock sb;
	char params[1024], ddev[32], hdev[32];
	uint64_t sectors, have;
	dev_t dev;
	int r;

	read_superblock(hash, &sb);
	sectors = lethe_verity_data_sectors(&sb);
	have = device_size(data->node);
	if (sectors == 0 || have / 512 < sectors)
		init_verify_failed("the verity superblock describes %llu data blocks of %u bytes, "
				   "the root partition has %llu bytes",
				   (unsigned long long)sb.data_blocks, sb.data_block_size,
				   (unsigned long long)have);
	snprintf(ddev, sizeof(ddev), "%u:%u", major(data->dev), minor(data->dev));
	snprintf(hdev, sizeof(hdev), "%u:%u", major(hash->dev), minor(hash->dev));
	r = lethe_verity_table(&sb, ddev, hdev, c->roothash, params, sizeof(params));
	if (r < 0)
		init_halt("cannot build the dm-verity table: %s", strerror(-r));
	init_dbg("verity table: 0 %llu verity %s", (unsigned long long)sectors, params);
	r = lethe_dm_create_verity(DM_NAME, sectors, params, &dev);
	if (r < 0)
		init_verify_failed("the kernel refused the dm-verity table: %s", strerror(-r));
	dm_node(dev, node, size);
	verify_all(node, sectors * 512);
}

static void mount_root(const char *node)
{
	const char *ovl =
		"lowerdir=" RO_DIR ",upperdir=" OVERLAY_DIR "/upper,workdir=" OVERLAY_DIR "/work";

	(void)init_mkdir_p(RO_DIR, 0755);
	if (mount(node, RO_DIR, "erofs", MS_RDONLY | MS_NODEV, NULL) < 0) {
		if (errno == EIO)
			init_verify_failed("cannot mount the root: %s", strerror(errno));
		init_halt("cannot mount the root (%s) as erofs: %s", node, strerror(errno));
	}
	(void)init_mkdir_p(OVERLAY_DIR, 0755);
	if (mount("tmpfs", OVERLAY_DIR, "tmpfs", MS_NOSUID | MS_NODEV,
		  "mode=0755," LETHE_TMPFS_ROOT_OPTIONS) < 0)
		init_halt("cannot mount the tmpfs for the overlay: %s", strerror(errno));
	if (init_mkdir_p(OVERLAY_DIR "/upper", 0755) < 0 ||
	    init_mkdir_p(OVERLAY_DIR "/work", 0700) < 0)
		init_halt("cannot make the overlay's directories: %s", strerror(errno));
	(void)mkdir(NEWROOT, 0755);
	if (mount("overlay", NEWROOT, "overlay", 0, ovl) < 0)
		init_halt("cannot mount the overlay on %s: %s", NEWROOT, strerror(errno));
}

/* Delete the initramfs' files (they would stay in RAM for nothing), staying on it. */
static void remove_tree(int dfd, dev_t rootdev)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != rootdev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				remove_tree(sub, rootdev);
			(void)unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
		} else {
			(void)unlinkat(dirfd(d), e->d_name, 0);
		}
	}
	closedir(d);
}

static void switch_root(void)
{
	static const char *const api[] = { "/proc", "/sys", "/dev", "/run" };
	struct stat st;
	int fd;

	for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
		char target[64];

		snprintf(target, sizeof(target), NEWROOT "%s", api[i]);
		(void)mkdir(target, 0755);
		if (mount(api[i], target, NULL, MS_MOVE, NULL) < 0)
			init_halt("cannot move %s into the new root: %s", api[i], strerror(errno));
	}
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0)
		remove_tree(fd, st.st_dev);
	if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		init_halt("cannot switch to the new root: %s", strerror(errno));
}

/* The menu's toram entry asks what the toram key of the cmdline asks (entry.c;
 * efivarfs is one of the modules just loaded; it stays mounted until the switch, so
 * that a halt on a counted boot finds the boot counter, health.c). */
static void menu_entry(struct lethe_cmdline *c)
{
	char name[256];

	init_efivarfs_mount();
	if (!(init_boot_entry(name, sizeof(name)) & LETHE_BOOT_ENTRY_TORAM))
		return;
	init_msg("boot menu entry '%s': " LETHE_CMDLINE_TORAM, name);
	c->toram = true;
}

void init_stage1(void)
{
	struct lethe_cmdline c;
	struct part parts[2] = { { .what = "root" }, { .what = "verity" } };
	uint8_t roothash[LETHE_ROOTHASH_HEX / 2];
	char node[128];

	umask(022);
	mount_api();
	init_console_open();
	init_msg("stage 1 (lethe-init %s)", LETHE_VERSION);
	read_cmdline(&c);
	load_modules();
	menu_entry(&c);
	if (lethe_hex_decode(c.roothash, roothash, sizeof(roothash)) < 0 ||
	    lethe_partuuids_from_roothash(roothash, sizeof(roothash), parts[0].uuid,
					  parts[1].uuid) < 0)
		init_halt(LETHE_CMDLINE_ROOTHASH " %s gives no partition UUIDs", c.roothash);
	(void)init_mkdir_p(LETHE_PATH_RUN, 0755);
	wait_partitions(parts, 2, c.timeout);
	if (c.toram) {
		to_ram(&parts[0]);
		to_ram(&parts[1]);
	}
	setup_verity(&c, &parts[0], &parts[1], node, sizeof(node));
	mount_root(node);
	init_msg("root verified: %s", c.roothash);
	init_dbg("root mounted (uptime %.2f s)", init_uptime());
	init_efivarfs_unmount();
	switch_root();
	execv(STAGE2, (char *const[]){ "lethe-init", "--stage=2", NULL });
	if (errno == EIO)
		init_verify_failed("cannot execute %s: %s", STAGE2, strerror(errno));
	init_halt("cannot execute %s: %s", STAGE2, strerror(errno));
}
