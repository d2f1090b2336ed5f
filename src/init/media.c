/* Stage 1 and the boot medium: say what it waits for while a slow device (a USB stick)
 * comes up, and reach the partitions of a medium the kernel does not partition itself
 * (a hybrid ISO on a CD-ROM: its GPT counts 512-byte sectors, the drive 2048-byte
 * ones, so the kernel makes no partition devices) through read-only loop devices at
 * the partitions' offsets. dm-verity checks whatever they then read. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.h"

#define NOTICE_FIRST 1.0 /* s: a disk that is there at once says nothing */
#define NOTICE_EVERY 5.0

void init_media_wait_notice(const char *what, const char *uuid, double waited, unsigned timeout)
{
	/* One schedule per partition: at most two are waited for. */
	static struct {
		const char *what;
		double next;
	} slot[4];
	size_t i;

	for (i = 0; i < sizeof(slot) / sizeof(slot[0]) && slot[i].what && slot[i].what != what; i++)
		;
	if (i == sizeof(slot) / sizeof(slot[0]))
		return;
	if (!slot[i].what)
		slot[i] = (typeof(slot[i])){ what, NOTICE_FIRST };
	if (waited < slot[i].next)
		return;
	slot[i].next = waited + NOTICE_EVERY;
	init_msg("waiting for the %s partition PARTUUID=%s (%.0f s of %u s; a USB stick can "
		 "take a few seconds)",
		 what, uuid, waited, timeout);
}

int init_media_map(int disk_fd, const struct lethe_gpt *gpt, uint32_t i, unsigned sector,
		   char *name, size_t size, unsigned *ret_major, unsigned *ret_minor)
{
	struct loop_config cfg = { 0 };
	uint64_t first, last, disk_size = 0;
	char node[64];
	struct stat st;
	int ctl, nr, fd, r;

	if (lethe_gpt_lbas(gpt, i, &first, &last) < 0 ||
	    ioctl(disk_fd, BLKGETSIZE64, &disk_size) < 0 || (last + 1) > disk_size / sector)
		return 0;
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		init_msg("cannot open /dev/loop-control for a partition of the CD-ROM: %s",
			 strerror(errno));
		return 0;
	}
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return 0;
	snprintf(node, sizeof(node), "/dev/loop%d", nr);
	if (stat(node, &st) < 0)
		(void)mknod(node, S_IFBLK | 0600, makedev(7, (unsigned)nr));
	fd = open(node, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	cfg.fd = (unsigned)disk_fd;
	cfg.info.lo_offset = first * sector;
	cfg.info.lo_sizelimit = (last - first + 1) * sector;
	cfg.info.lo_flags = LO_FLAGS_READ_ONLY;
	r = ioctl(fd, LOOP_CONFIGURE, &cfg);
	if (r == 0 && fstat(fd, &st) == 0) {
		*ret_major = major(st.st_rdev);
		*ret_minor = minor(st.st_rdev);
		snprintf(name, size, "loop%d", nr);
		init_dbg("partition %u of the medium (LBA %llu..%llu of %u bytes) on %s", i + 1,
			 (unsigned long long)first, (unsigned long long)last, sector, node);
	} else {
		init_msg("cannot map partition %u of the CD-ROM on %s: %s", i + 1, node,
			 strerror(errno));
		r = -1;
	}
	close(fd);
	return r == 0;
}
