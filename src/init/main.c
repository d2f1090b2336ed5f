/* lethe-init: PID 1 of a Lethe system. Stage 1 runs in the initramfs, stage 2 in the
 * verified root. Until boot lands, it only says so. */
#include <stdio.h>

int main(void)
{
	fputs("lethe-init: not yet able to boot a system\n", stderr);
	return 1;
}
