/* lethe-init: PID 1 of a Lethe system. Stage 1 runs in the initramfs (the kernel starts
 * it as /init with no arguments), stage 2 in the verified root (--stage=2), and the
 * last stage from a RAM copy at shutdown (--stage=shutdown HOW). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/reboot.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "init.h"
#include "stage2.h"

static bool root_is_overlay(void)
{
	struct statfs st;

	return statfs("/", &st) == 0 && st.f_type == OVERLAYFS_SUPER_MAGIC;
}

int main(int argc, char **argv)
{
	/* udhcpc runs lethe-init as its script (src/init/dhcp.c): "lethe-init EVENT". */
	if (getpid() != 1 && argc == 2 && init_dhcp_is_event(argv[1]) && getenv("interface"))
		return init_dhcp_event(argv[1]);
	if (getpid() != 1) {
		fprintf(stderr, "lethe-init: must run as PID 1 (use 'lethe poweroff' to stop a "
				"running system)\n");
		return 1;
	}
	/* The kernel hands words after "--" on its cmdline to /init: no argument may skip
	 * stage 1's verification, so stage 2 runs only on the overlay stage 1 made. */
	if (argc >= 2 && !strcmp(argv[1], "--stage=2") && root_is_overlay())
		init_stage2();
	if (argc >= 3 && !strcmp(argv[1], "--stage=shutdown") && access("/oldroot", F_OK) == 0) {
		unsigned how = (unsigned)strtoul(argv[2], NULL, 10);

		if (how != RB_POWER_OFF && how != RB_AUTOBOOT && how != RB_HALT_SYSTEM)
			how = RB_POWER_OFF;
		init_stage_shutdown((int)how);
	}
	init_stage1();
}
