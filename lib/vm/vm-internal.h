/* What the files of lib/vm share. */
#ifndef LETHE_VM_INTERNAL_H
#define LETHE_VM_INTERNAL_H

#include <sys/types.h>
#include <stdint.h>

#include <lethe/vm.h>

int vm_spawn(const struct lethe_vm_config *c, int stdin_fd, int stdout_fd, pid_t *ret_pid);
int64_t vm_now_ms(void);
int vm_wait(pid_t pid, int64_t deadline_ms);
void vm_stop(pid_t pid);
/* The -device arguments for the drive "boot" on bus (bus.c). */
int vm_bus_devices(enum lethe_vm_bus bus, struct lethe_strv *v);
/* The start of the -drive value for "boot" on bus, up to "file=" (bus.c). */
const char *vm_bus_drive(enum lethe_vm_bus bus);

#endif
