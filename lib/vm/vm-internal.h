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
/* secure-boot.c: -chardev/-tpmdev/-device for c->tpm_socket (issue 12). */
int vm_tpm_args(const struct lethe_vm_config *c, struct lethe_strv *v);
/* secure-boot.c: a complete console line at or after scan that says LETHE_VM_DENIED_MARKER
 * (the firmware or systemd-boot refused to load an image): -EIO with that line, else 0. */
int vm_denied(const char *con, size_t len, size_t scan);

#endif
