/* Kernel profiles: what `kernel.profile` in a spec stands for. A profile names the
 * Debian kernel package a spec gets when it names none, and the modules every image of
 * that profile carries in its initramfs (the spec's kernel.modules add to them). The
 * table is lib/boot/kernel-profile.c; docs/spec.md lists the same modules. */
#ifndef LETHE_KERNEL_PROFILE_H
#define LETHE_KERNEL_PROFILE_H

#include <stddef.h>

/* Do not reorder. The zero value adds nothing, so that a struct lethe_spec_kernel made
 * by hand means exactly its modules; the spec parser makes cloud the default. */
enum lethe_kernel_profile {
	LETHE_KERNEL_PROFILE_NONE,     /* exactly kernel.modules, nothing added */
	LETHE_KERNEL_PROFILE_CLOUD,    /* virtual machines: virtio disks (a spec's default) */
	LETHE_KERNEL_PROFILE_HARDWARE, /* real PCs: USB, SATA, NVMe, SD, CD-ROM */
	LETHE_KERNEL_PROFILE_N,
};

struct lethe_kernel_profile_info {
	const char *name;	    /* as written in a spec: "cloud" */
	const char *package;	    /* the default kernel.package; NULL for "none" */
	const char *const *modules; /* NULL-terminated, in load-request order */
	const char *summary;	    /* one line, for messages and docs */
};

/* The profile's entry; never NULL for a valid enum value. */
const struct lethe_kernel_profile_info *lethe_kernel_profile_get(enum lethe_kernel_profile p);

/* The profile named name: 0 and *ret, or -ENOENT. */
int lethe_kernel_profile_find(const char *name, enum lethe_kernel_profile *ret);

#endif
