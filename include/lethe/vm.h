/* Booting a built image under QEMU: on the terminal, or driven through its serial
 * console to run one command and bring back its output and exit status. The boot disk
 * is attached read-only, so a boot never changes it; no network unless asked. */
#ifndef LETHE_VM_H
#define LETHE_VM_H

#include <stdbool.h>
#include <stddef.h>

#include <lethe/release.h>
#include <lethe/util.h>

#define LETHE_VM_MAX_DISKS     8
#define LETHE_VM_READY_MARKER  "lethe-init: stage 2 ready"
#define LETHE_VM_HALT_MARKER   "lethe-init: halting: " /* stage 1 refused to go on */
#define LETHE_VM_DENIED_MARKER ": Access Denied"       /* Secure Boot refused an image */
#define LETHE_VM_MAX_CONSOLE   (64u << 20) /* console bytes kept while driving a guest */

/* Debian's ovmf: the firmware (read-only) and the variable store every run copies. */
#define LETHE_VM_OVMF_CODE     "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define LETHE_VM_OVMF_VARS     "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define LETHE_VM_OVMF_CODE_ENV "LETHE_OVMF_CODE" /* other paths (tests name missing ones) */
#define LETHE_VM_OVMF_VARS_ENV "LETHE_OVMF_VARS"

/* How the boot disk is attached (lethe run --bus). Do not reorder: virtio is zero. */
enum lethe_vm_bus {
	LETHE_VM_BUS_VIRTIO, /* virtio-blk-pci */
	LETHE_VM_BUS_USB,    /* qemu-xhci + usb-storage: a USB stick */
	LETHE_VM_BUS_NVME,   /* an NVMe disk */
	LETHE_VM_BUS_SATA,   /* ahci + ide-hd: a SATA disk */
	LETHE_VM_BUS_CDROM,  /* ahci + ide-cd: a DVD drive (for lethe.iso) */
	LETHE_VM_BUS_N,
};
/* "usb" -> LETHE_VM_BUS_USB; -EINVAL with a message listing the names. */
int lethe_vm_bus_parse(const char *name, enum lethe_vm_bus *ret);
const char *lethe_vm_bus_name(enum lethe_vm_bus bus);

struct lethe_vm_config {
	const char *qemu; /* default "qemu-system-x86_64" */
	/* Direct boot (firmware_code NULL): QEMU loads the kernel itself. */
	const char *kernel;  /* vmlinuz */
	const char *initrd;  /* initramfs.img */
	const char *cmdline; /* the whole kernel command line */
	/* Firmware boot: q35 with OVMF, which boots boot_disk's ESP (bootindex=1). */
	const char *firmware_code;	       /* OVMF_CODE, read-only pflash */
	const char *firmware_vars;	       /* this run's own copy of the variable store */
	const char *boot_disk;		       /* disk.img, attached read-only; NULL: none */
	enum lethe_vm_bus bus;		       /* how boot_disk is attached */
	const char *disks[LETHE_VM_MAX_DISKS]; /* more disks, read-write, raw */
	size_t n_disks;
	unsigned mem_mb;		      /* default 512 */
	const char *accel;		      /* "tcg" (default) or "kvm" */
	const char *qmp;		      /* a unix socket path for QMP, or NULL */
	const char *serial_log;		      /* a copy of the console goes there, or NULL */
	bool interactive;		      /* console on the terminal (monitor on Ctrl-A c) */
	int keep_fds[LETHE_ARTIFACT_MAX + 1]; /* descriptors QEMU inherits (the release's,
					       * the variable store's) */
	size_t n_keep_fds;
	/* Secure Boot and measured boot (lib/vm/secure-boot.c, issue 12) */
	bool smm;		/* SMM firmware: -machine q35,smm=on, secure pflash */
	const char *tpm_socket; /* swtpm's control socket: a TPM 2.0 (tpm-tis), or NULL */
};

/* Fill a config from a verified release (lethe/release.h): its vmlinuz, initramfs.img
 * and disk.img (when listed) as /proc/self/fd/N of the handle's descriptors, which QEMU
 * inherits (so QEMU boots exactly the files that were checked, whatever happens to the
 * directory), and the signed cmdline (or the first line of cmdline_file when not NULL)
 * with append added at its end. The handle must outlive the run. Strings are allocated
 * in owned: release it with lethe_vm_config_release(). */
struct lethe_vm_owned {
	struct lethe_strv s;
	int vars_fd; /* + 1: 0 means none, so that a zeroed struct owns nothing */
};
int lethe_vm_config_from_release(struct lethe_vm_config *c, struct lethe_vm_owned *owned,
				 const struct lethe_release *rel, const char *cmdline_file,
				 const char *append);
void lethe_vm_config_release(struct lethe_vm_owned *owned);

/* The OVMF files (LETHE_VM_OVMF_CODE/VARS, or the paths in their environment
 * variables): both must be readable regular files, else one message naming the
 * missing one (install ovmf, or boot with --direct). */
int lethe_vm_firmware_check(const char **ret_code, const char **ret_vars);

/* Turn a config filled by lethe_vm_config_from_release() into a firmware boot of the
 * release's disk.img: OVMF with a private copy of the variable store (a memfd that
 * QEMU inherits, gone when the run ends: nothing of one boot reaches the next), no
 * kernel, initrd or cmdline of QEMU's (the UKI on the ESP carries them). -ENOENT with
 * a message when the release has no lethe.efi or disk.img. */
int lethe_vm_config_firmware(struct lethe_vm_config *c, struct lethe_vm_owned *owned,
			     const struct lethe_release *rel);

/* Boot from the release's artifact a (LETHE_ARTIFACT_ISO: lethe.iso) instead of
 * disk.img: its verified descriptor, as /proc/self/fd/N. -ENOENT with a message when
 * the release has none. */
int lethe_vm_config_medium(struct lethe_vm_config *c, struct lethe_vm_owned *owned,
			   const struct lethe_release *rel, enum lethe_release_artifact a);
/* Secure Boot under OVMF (lib/vm/secure-boot.c). Applied to a config that
 * lethe_vm_config_firmware() filled: the firmware becomes code (NULL: OVMF_CODE_4M.fd,
 * or the SMM build OVMF_CODE_4M.secboot.fd with smm), and this run's variable store a
 * copy of vars, a store with the keys enrolled (NULL: Debian's snakeoil store
 * OVMF_VARS_4M.snakeoil.fd). With enroll, the copy is of the empty OVMF_VARS_4M.fd
 * instead (setup mode: systemd-boot enrols the keys of an ESP built with --sb-enroll),
 * and lethe_vm_secure_boot_save() keeps what the run left in it as a template. */
#define LETHE_VM_OVMF_CODE_SMM	    "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
#define LETHE_VM_OVMF_CODE_SNAKEOIL "/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd"
#define LETHE_VM_OVMF_VARS_SNAKEOIL "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd"
struct lethe_vm_secure_boot {
	const char *vars; /* NULL: snakeoil */
	bool smm;
	bool enroll;
};
int lethe_vm_config_secure_boot(struct lethe_vm_config *c, struct lethe_vm_owned *owned,
				const struct lethe_vm_secure_boot *sb);
/* Write this run's variable store to path (atomically), once QEMU has exited. */
int lethe_vm_secure_boot_save(const struct lethe_vm_owned *owned, const char *path);

/* A software TPM 2.0 for one run (swtpm, Debian's swtpm): its state and control
 * socket in a new private directory, sha256 PCR bank; c->tpm_socket points at it.
 * lethe_vm_tpm_stop() ends it and removes the directory (safe on a zeroed struct). */
struct lethe_vm_tpm {
	char *dir;
	char *socket;
	int pid;
};
int lethe_vm_tpm_start(struct lethe_vm_tpm *ret);
void lethe_vm_tpm_stop(struct lethe_vm_tpm *t);

/* QEMU's argv for c (argv[0] is the program). Appended to ret. */
int lethe_vm_argv(const struct lethe_vm_config *c, struct lethe_strv *ret);

/* Run QEMU with the console on this process' stdin/stdout until it exits or timeout_s
 * (0: none) runs out, then kill it (-ETIMEDOUT). Returns QEMU's exit status (>= 0). */
int lethe_vm_run(const struct lethe_vm_config *c, unsigned timeout_s);

/* Boot, wait for LETHE_VM_READY_MARKER and a shell on the console, run command there
 * (a LETHE_VM_HALT_MARKER line before the ready marker fails at once with -EIO and
 * that line: lethe-init halted, no shell will come),
 * with its stdout and stderr framed by markers that nobody can type by accident, then
 * power the guest off. Every console byte goes to console_fn (may be NULL). On success
 * *ret_status is the command's exit status and *ret_output its output (the caller frees
 * it). -ETIMEDOUT, with a message that says what did not come, when timeout_s runs out;
 * QEMU is killed then. */
typedef void (*lethe_vm_console_fn)(const char *data, size_t len, void *userdata);
int lethe_vm_exec(const struct lethe_vm_config *c, const char *command, unsigned timeout_s,
		  lethe_vm_console_fn console_fn, void *userdata, char **ret_output,
		  int *ret_status);

/* Make guest console bytes safe for the host's terminal (issue 10.14): printable ASCII,
 * newline and tab pass; carriage returns are dropped (a terminal's own newline handling
 * ends lines); every other byte (ESC and so every CSI, OSC or DCS sequence, other C0
 * controls, DEL, and all bytes >= 0x80, among them the C1 controls and UTF-8) is shown
 * as the four characters \xNN, so nothing the guest sends can move the cursor, retitle
 * the window, or answer a terminal query. Each byte is handled alone: the result does
 * not depend on how the stream was cut into chunks. out holds at least 4 * len bytes;
 * returns the bytes written (no NUL). */
#define LETHE_VM_ESCAPE_MAX(len) ((len)*4)
size_t lethe_vm_console_escape(const char *in, size_t len, char *out);

/* Find the framed output in console text (exposed for tests): the bytes between the
 * line "BEGIN-nonce" and the line "END-nonce:STATUS", with "\r\n" turned into "\n".
 * Returns 1 and fills the results when the whole frame is there, 0 when not yet,
 * negative errno on a malformed frame. */
int lethe_vm_parse_frame(const char *console, size_t len, const char *nonce, char **ret_output,
			 int *ret_status);

#endif
