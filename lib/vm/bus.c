/* How the boot medium is attached to the guest (lethe run --bus): as the device a PC
 * boots from, so that the image's initramfs must carry that device's driver, as on a
 * real machine. */
#include <errno.h>
#include <string.h>

#include <lethe/vm.h>

#include "vm-internal.h"

static const char *const bus_names[LETHE_VM_BUS_N] = {
	[LETHE_VM_BUS_VIRTIO] = "virtio", [LETHE_VM_BUS_USB] = "usb",
	[LETHE_VM_BUS_NVME] = "nvme",	  [LETHE_VM_BUS_SATA] = "sata",
	[LETHE_VM_BUS_CDROM] = "cdrom",
};

int lethe_vm_bus_parse(const char *name, enum lethe_vm_bus *ret)
{
	for (size_t i = 0; i < LETHE_VM_BUS_N; i++)
		if (!strcmp(name, bus_names[i])) {
			*ret = (enum lethe_vm_bus)i;
			return 0;
		}
	return lethe_error(-EINVAL, "bus '%s': virtio, usb, nvme, sata or cdrom", name);
}

const char *lethe_vm_bus_name(enum lethe_vm_bus bus)
{
	return (unsigned)bus < LETHE_VM_BUS_N ? bus_names[bus] : "?";
}

/* Read-only, so that the guest cannot write the boot medium whatever it does; QEMU's
 * ide-hd takes no read-only drive, so a SATA disk gets a snapshot instead: the guest's
 * writes go to a temporary overlay that QEMU deletes, the medium is opened read-only. */
const char *vm_bus_drive(enum lethe_vm_bus bus)
{
	return bus == LETHE_VM_BUS_SATA ? "if=none,id=boot,format=raw,snapshot=on,file="
					: "if=none,id=boot,format=raw,readonly=on,file=";
}

/* The -device arguments that put the drive "boot" on bus, first in the boot order:
 * virtio-blk; USB 3 (qemu-xhci) with a usb-storage stick; an NVMe controller; an AHCI
 * controller with a SATA disk or a SATA DVD drive. */
int vm_bus_devices(enum lethe_vm_bus bus, struct lethe_strv *v)
{
	static const char *const devices[LETHE_VM_BUS_N][3] = {
		[LETHE_VM_BUS_VIRTIO] = { "virtio-blk-pci,drive=boot,bootindex=1" },
		[LETHE_VM_BUS_USB] = { "qemu-xhci,id=xhci", "usb-storage,bus=xhci.0,drive=boot,"
							    "removable=on,bootindex=1" },
		[LETHE_VM_BUS_NVME] = { "nvme,serial=lethe,drive=boot,bootindex=1" },
		[LETHE_VM_BUS_SATA] = { "ahci,id=ahci",
					"ide-hd,bus=ahci.0,drive=boot,bootindex=1" },
		[LETHE_VM_BUS_CDROM] = { "ahci,id=ahci",
					 "ide-cd,bus=ahci.0,drive=boot,bootindex=1" },
	};
	int r = 0;

	if ((unsigned)bus >= LETHE_VM_BUS_N)
		return -EINVAL;
	for (const char *const *d = devices[bus]; *d && r >= 0; d++) {
		r = lethe_strv_push(v, "-device");
		if (r >= 0)
			r = lethe_strv_push(v, *d);
	}
	return r;
}

int lethe_vm_config_medium(struct lethe_vm_config *c, struct lethe_vm_owned *o,
			   const struct lethe_release *rel, enum lethe_release_artifact a)
{
	char path[32];
	int r;

	r = lethe_release_fd_path(rel, a, path);
	if (r < 0)
		return lethe_error(r, "release '%s' has no signed %s to boot from",
				   lethe_release_dir(rel), lethe_release_name(a));
	r = lethe_strv_push(&o->s, path);
	if (r < 0)
		return r;
	c->boot_disk = o->s.v[o->s.n - 1];
	return 0;
}
