/* The kernel profiles (include/lethe/kernel-profile.h): a default Debian kernel package
 * and the modules booting needs on that kind of machine. Only top-level modules are
 * listed; lethe_boot_modules_resolve() adds what they depend on (depends= and softdep)
 * and skips what a kernel has built in. */
#include <errno.h>
#include <string.h>

#include <lethe/kernel-profile.h>

/* What every Lethe boot needs on a VM: a virtio disk, dm-verity, EROFS and the overlay;
 * and efivarfs, through which a UEFI boot shows the firmware's Secure Boot state to the
 * audit (it declines to load, quietly, where there is no UEFI). (loop, for lethe.toram,
 * is added for every image by lib/boot/artifacts.c.) */
#define CLOUD_MODULES "virtio_pci", "virtio_blk", "dm-verity", "erofs", "overlay", "efivarfs"

static const char *const cloud_modules[] = { CLOUD_MODULES, NULL };

/* Real PCs boot from a USB stick, a SATA or NVMe disk, an SD card or a DVD; the
 * keyboard at the console may be USB. Checked against linux-image-6.1.0-*-amd64, where
 * every one of these is a module (=m). */
static const char *const hardware_modules[] = {
	CLOUD_MODULES,
	/* USB host controllers: xHCI (USB 3), EHCI (USB 2), OHCI and UHCI (USB 1) */
	"xhci_pci",
	"ehci_pci",
	"ohci_pci",
	"uhci_hcd",
	/* USB sticks: the Bulk-Only and the UAS protocol */
	"usb_storage",
	"uas",
	/* SATA (AHCI) and older IDE-mode controllers, NVMe */
	"ahci",
	"ata_piix",
	"nvme",
	/* SCSI disks (USB and SATA disks are SCSI disks) and CD/DVD drives */
	"sd_mod",
	"sr_mod",
	/* SD cards */
	"sdhci_pci",
	"mmc_block",
	/* file systems of boot media: the ESP (FAT with its code pages) and the ISO */
	"vfat",
	"nls_cp437",
	"nls_iso8859_1",
	"isofs",
	"loop",
	/* a USB keyboard at the console */
	"usbhid",
	"hid_generic",
	NULL,
};

static const char *const no_modules[] = { NULL };

static const struct lethe_kernel_profile_info profiles[LETHE_KERNEL_PROFILE_N] = {
	[LETHE_KERNEL_PROFILE_CLOUD] = { "cloud", "linux-image-cloud-amd64", cloud_modules,
					 "virtual machines: virtio disks" },
	[LETHE_KERNEL_PROFILE_HARDWARE] = { "hardware", "linux-image-amd64", hardware_modules,
					    "real PCs: USB, SATA, NVMe, SD and CD/DVD media" },
	[LETHE_KERNEL_PROFILE_NONE] = { "none", NULL, no_modules,
					"exactly kernel.modules, nothing added" },
};

const struct lethe_kernel_profile_info *lethe_kernel_profile_get(enum lethe_kernel_profile p)
{
	return (unsigned)p < LETHE_KERNEL_PROFILE_N ? &profiles[p]
						    : &profiles[LETHE_KERNEL_PROFILE_NONE];
}

int lethe_kernel_profile_find(const char *name, enum lethe_kernel_profile *ret)
{
	for (size_t i = 0; i < LETHE_KERNEL_PROFILE_N; i++)
		if (!strcmp(profiles[i].name, name)) {
			*ret = (enum lethe_kernel_profile)i;
			return 0;
		}
	return -ENOENT;
}
