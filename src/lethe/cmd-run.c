/* lethe run: boot a built image under QEMU, on the terminal or to run one command. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lethe/release.h>
#include <lethe/sign.h>
#include <lethe/vm.h>

#include "cli.h"

enum {
	OPT_DISK = 0x100,
	OPT_MEM,
	OPT_TIMEOUT,
	OPT_EXEC,
	OPT_ACCEL,
	OPT_APPEND,
	OPT_CMDLINE_FILE,
	OPT_QMP,
	OPT_SERIAL_LOG,
	OPT_NO_BOOT_DISK,
	OPT_DIRECT,
	OPT_BUS,
	OPT_ISO,
	OPT_SECURE_BOOT,
	OPT_SB_VARS,
	OPT_SB_ENROLL_VARS,
	OPT_SMM,
	OPT_TPM,
};

static const struct option options[] = {
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "mem", required_argument, NULL, OPT_MEM },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "exec", required_argument, NULL, OPT_EXEC },
	{ "accel", required_argument, NULL, OPT_ACCEL },
	{ "append", required_argument, NULL, OPT_APPEND },
	{ "cmdline-file", required_argument, NULL, OPT_CMDLINE_FILE },
	{ "qmp", required_argument, NULL, OPT_QMP },
	{ "serial-log", required_argument, NULL, OPT_SERIAL_LOG },
	{ "no-boot-disk", no_argument, NULL, OPT_NO_BOOT_DISK },
	{ "direct", no_argument, NULL, OPT_DIRECT },
	{ "bus", required_argument, NULL, OPT_BUS },
	{ "iso", no_argument, NULL, OPT_ISO },
	{ "secure-boot", no_argument, NULL, OPT_SECURE_BOOT },
	{ "sb-vars", required_argument, NULL, OPT_SB_VARS },
	{ "sb-enroll-vars", required_argument, NULL, OPT_SB_ENROLL_VARS },
	{ "smm", no_argument, NULL, OPT_SMM },
	{ "tpm", no_argument, NULL, OPT_TPM },
	{ "public-key", required_argument, NULL, 'p' },
	{ "public-key-base64", required_argument, NULL, 'P' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static const char usage_text[] =
	"usage: lethe run OUTDIR [-p PUBKEY] [OPTIONS]\n"
	"\n"
	"Boot the image that 'lethe build' wrote to OUTDIR under QEMU. The release is\n"
	"checked first: every file against SHA256SUMS, and with -p SHA256SUMS against its\n"
	"signature; QEMU then opens exactly the files that were checked. A release with\n"
	"lethe.efi boots through UEFI firmware (OVMF, a q35 machine, a private copy of the\n"
	"variable store per run) from disk.img's ESP, as a PC would; --direct (and a release\n"
	"without lethe.efi) has QEMU load vmlinuz, initramfs.img and cmdline itself.\n"
	"disk.img is attached read-only: no boot changes it. There is no network device.\n"
	"The console is this terminal (Ctrl-A x quits, Ctrl-A c is the QEMU monitor).\n"
	"\n"
	"options:\n"
	"  -p, --public-key FILE  check the release's signature with this minisign key\n"
	"  -P, --public-key-base64 KEY  the public key itself\n"
	"  --exec 'CMD'         wait until the system is ready, run CMD in its console shell,\n"
	"                       print CMD's output, power the guest off and exit with CMD's\n"
	"                       status; the console goes to stderr (not with --quiet)\n"
	"                       with control bytes and non-ASCII shown as \\xNN; CMD's\n"
	"                       output too when stdout is a terminal\n"
	"  --timeout S          kill QEMU after S seconds and fail (default: none; 600 with\n"
	"                       --exec)\n"
	"  --disk FILE          attach FILE as one more raw virtio disk, read-write (repeatable,\n"
	"                       up to 8)\n"
	"  --mem MB             guest memory (default 512)\n"
	"  --accel tcg|kvm      QEMU accelerator (default tcg)\n"
	"  --direct             boot vmlinuz and initramfs.img directly, without firmware\n"
	"  --bus virtio|usb|nvme|sata|cdrom  attach the boot medium as a virtio disk (the\n"
	"                       default), a USB stick (qemu-xhci), an NVMe disk, a SATA disk\n"
	"                       (AHCI) or a SATA DVD drive; its driver must be in the image\n"
	"                       (kernel.profile: hardware)\n"
	"  --iso                boot lethe.iso instead of disk.img (the default with\n"
	"                       --bus cdrom)\n"
	"  --append ARGS        add kernel parameters to the image's cmdline (with --direct:\n"
	"                       the UKI's cmdline is signed and fixed)\n"
	"  --cmdline-file F     take the kernel cmdline from F instead of OUTDIR/cmdline\n"
	"                       (with --direct)\n"
	"  --qmp PATH           QMP on a unix socket at PATH\n"
	"  --serial-log F       also write the console to F\n"
	"  --no-boot-disk       do not attach disk.img (implies --direct)\n"
	"  --secure-boot        OVMF with Secure Boot enforced: a copy of --sb-vars, else\n"
	"                       Debian's snakeoil store (its key signs the image)\n"
	"  --sb-vars FILE       the variable store (keys enrolled) each run copies\n"
	"  --sb-enroll-vars F   enrolment boot: start from an empty store (setup mode) so\n"
	"                       that an image built with --sb-enroll enrols its keys, and\n"
	"                       keep the store in F for --sb-vars (implies --secure-boot)\n"
	"  --smm                the SMM firmware build (OVMF_CODE_4M.secboot.fd)\n"
	"  --tpm                a software TPM 2.0 for this run (swtpm, SHA-256 bank):\n"
	"                       measured boot, PCRs in /sys/class/tpm/tpm0\n"
	"  -q, --quiet          with --exec: print only CMD's output\n"
	"\n"
	"Exit status: with --exec, CMD's status; else QEMU's. 1 the release failed a check;\n"
	"2 usage error; 3 runtime error (QEMU or OVMF missing, timeout, no shell on the\n"
	"console).\n";

struct run_args {
	struct lethe_vm_config c;
	const char *exec;
	const char *append;
	const char *cmdline_file;
	const char *key, *key_b64;
	unsigned timeout;
	bool no_boot_disk;
	bool direct;
	bool iso; /* boot lethe.iso (--iso, --bus cdrom) */
	bool secure_boot;
	struct lethe_vm_secure_boot sb;
	const char *sb_save;
	bool tpm;
};

/* Guest bytes reach a terminal only escaped (lethe_vm_console_escape). */
static void write_safe(FILE *f, const char *data, size_t len)
{
	char buf[LETHE_VM_ESCAPE_MAX(1024)];

	for (size_t off = 0; off < len; off += 1024) {
		size_t n = len - off < 1024 ? len - off : 1024;

		fwrite(buf, 1, lethe_vm_console_escape(data + off, n, buf), f);
	}
	fflush(f);
}

static void to_stderr(const char *data, size_t len, void *userdata)
{
	write_safe(stderr, data, len);
}

static int parse(int argc, char **argv, struct run_args *a)
{
	unsigned long long n;
	int opt;

	while ((opt = getopt_long(argc, argv, "p:P:qh", options, NULL)) != -1) {
		switch (opt) {
		case OPT_DISK:
			if (a->c.n_disks >= LETHE_VM_MAX_DISKS)
				return cli_usage_error("run", "at most %d --disk",
						       LETHE_VM_MAX_DISKS);
			a->c.disks[a->c.n_disks++] = optarg;
			break;
		case OPT_MEM:
			if (!cli_parse_u64(optarg, 64, 65536, &n))
				return cli_usage_error(
					"run", "--mem '%s': a number of MB, 64..65536", optarg);
			a->c.mem_mb = (unsigned)n;
			break;
		case OPT_TIMEOUT:
			if (!cli_parse_u64(optarg, 1, 86400, &n))
				return cli_usage_error("run", "--timeout '%s': seconds, 1..86400",
						       optarg);
			a->timeout = (unsigned)n;
			break;
		case OPT_EXEC:
			a->exec = optarg;
			break;
		case OPT_ACCEL:
			if (strcmp(optarg, "tcg") && strcmp(optarg, "kvm"))
				return cli_usage_error("run", "--accel '%s': tcg or kvm", optarg);
			a->c.accel = optarg;
			break;
		case OPT_APPEND:
			a->append = optarg;
			break;
		case OPT_CMDLINE_FILE:
			a->cmdline_file = optarg;
			break;
		case OPT_QMP:
			a->c.qmp = optarg;
			break;
		case OPT_SERIAL_LOG:
			a->c.serial_log = optarg;
			break;
		case OPT_NO_BOOT_DISK:
			a->no_boot_disk = true;
			break;
		case OPT_DIRECT:
			a->direct = true;
			break;
		case OPT_BUS:
			if (lethe_vm_bus_parse(optarg, &a->c.bus) < 0)
				return cli_usage_error("run",
						       "--bus '%s': virtio, usb, nvme, sata or "
						       "cdrom",
						       optarg);
			break;
		case OPT_ISO:
			a->iso = true;
			break;
		case OPT_SECURE_BOOT:
			a->secure_boot = true;
			break;
		case OPT_SB_VARS:
			a->sb.vars = optarg;
			break;
		case OPT_SB_ENROLL_VARS:
			a->sb_save = optarg;
			a->sb.enroll = a->secure_boot = true;
			break;
		case OPT_SMM:
			a->sb.smm = true;
			break;
		case OPT_TPM:
			a->tpm = true;
			break;
		case 'p':
			a->key = optarg;
			break;
		case 'P':
			a->key_b64 = optarg;
			break;
		case 'q':
			cli_quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		default:
			return cli_usage_error("run", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("run", "expected one OUTDIR");
	if (a->key && a->key_b64)
		return cli_usage_error("run", "give the public key once: -p FILE or -P BASE64");
	if (a->c.bus == LETHE_VM_BUS_CDROM)
		a->iso = true;
	if (a->iso && a->no_boot_disk)
		return cli_usage_error("run", "--iso and --no-boot-disk: nothing to boot from");
	if (a->exec && (!*a->exec || strchr(a->exec, '\n')))
		return cli_usage_error("run", "--exec takes one non-empty line");
	if ((a->sb.vars || a->sb.smm) && !a->secure_boot)
		return cli_usage_error("run", "--sb-vars and --smm go with --secure-boot");
	if (a->sb.vars && a->sb.enroll)
		return cli_usage_error("run", "--sb-vars and --sb-enroll-vars exclude each other");
	if ((a->secure_boot || a->tpm) && (a->direct || a->no_boot_disk))
		return cli_usage_error("run", "--secure-boot and --tpm boot through firmware: not "
					      "with --direct or --no-boot-disk");
	return 0;
}

/* The release, checked once: with a key, signed; without, only against its SHA256SUMS. */
static int open_release(const struct run_args *a, const char *dir, struct lethe_release **ret)
{
	struct lethe_release_options o = { .flags = LETHE_RELEASE_OPEN_UNSIGNED };
	struct lethe_sign_pubkey pub;
	int r;

	if (!a->key && !a->key_b64) {
		if (!cli_quiet)
			cli_warning("'%s': files checked against SHA256SUMS, but not its signature "
				    "(give -p PUBKEY)",
				    dir);
		return lethe_release_open_opts(dir, NULL, &o, ret);
	}
	r = a->key ? lethe_sign_pubkey_load(a->key, &pub)
		   : lethe_sign_pubkey_from_base64(a->key_b64, &pub);
	return r < 0 ? r : lethe_release_open(dir, &pub, ret);
}

/* Through firmware unless asked otherwise or the build made no UKI: decided by the
 * directory's layout before any work, so that a missing OVMF is said before the
 * release is hashed. The verified handle decides again below. */
static int want_firmware(const struct run_args *a, const char *dir, bool *ret)
{
	char *uki = lethe_path_join(dir, lethe_release_name(LETHE_ARTIFACT_UKI));
	bool has = uki && access(uki, F_OK) == 0;

	free(uki);
	*ret = false;
	if (a->direct || a->no_boot_disk || !has)
		return 0;
	if (a->append || a->cmdline_file)
		return cli_usage_error("run", "--append and --cmdline-file need --direct: a UKI's "
					      "cmdline is part of the signed lethe.efi");
	*ret = true;
	return lethe_vm_firmware_check(NULL, NULL) < 0 ? -1 : 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { 0 };
	struct lethe_vm_owned owned = { 0 };
	struct lethe_vm_tpm tpm = { 0 };
	struct lethe_release *rel = NULL;
	char *output = NULL;
	bool firmware = false;
	int status = 0, r;

	r = parse(argc, argv, &a);
	if (r)
		return r < 0 ? EXIT_OK : r;
	r = want_firmware(&a, argv[optind], &firmware);
	if (r > 0)
		return r;
	if (r < 0)
		return cli_fail(-ENOENT, "run");
	r = open_release(&a, argv[optind], &rel);
	if (r >= 0)
		r = lethe_vm_config_from_release(&a.c, &owned, rel, a.cmdline_file, a.append);
	if (r >= 0 && firmware)
		r = lethe_vm_config_firmware(&a.c, &owned, rel);
	if (r >= 0 && a.iso)
		r = lethe_vm_config_medium(&a.c, &owned, rel, LETHE_ARTIFACT_ISO);
	if (r >= 0 && a.secure_boot)
		r = firmware ? lethe_vm_config_secure_boot(&a.c, &owned, &a.sb)
			     : lethe_error(-ENOENT, "'%s' has no %s: no Secure Boot", argv[optind],
					   lethe_release_name(LETHE_ARTIFACT_UKI));
	if (r >= 0 && a.tpm) { /* issue 12: measured boot */
		r = lethe_vm_tpm_start(&tpm);
		a.c.tpm_socket = tpm.socket;
	}
	if (r < 0)
		goto fail;
	if (a.no_boot_disk)
		a.c.boot_disk = NULL;
	else if (!a.c.boot_disk)
		cli_warning("'%s' has no disk.img; booting without it", argv[optind]);
	if (!a.exec) {
		a.c.interactive = true;
		r = lethe_vm_run(&a.c, a.timeout);
		if (r >= 0 && a.sb_save) {
			int s = lethe_vm_secure_boot_save(&owned, a.sb_save);

			r = s < 0 ? s : r;
		}
		if (r < 0)
			goto fail;
		lethe_vm_tpm_stop(&tpm);
		lethe_vm_config_release(&owned);
		lethe_release_free(rel);
		return r;
	}
	r = lethe_vm_exec(&a.c, a.exec, a.timeout ? a.timeout : 600, cli_quiet ? NULL : to_stderr,
			  NULL, &output, &status);
	if (r >= 0 && a.sb_save)
		r = lethe_vm_secure_boot_save(&owned, a.sb_save);
	if (r < 0)
		goto fail;
	if (!cli_quiet)
		fputs("\n", stderr);
	/* The command's own output: exact bytes into a pipe or file, escaped on a terminal. */
	if (isatty(STDOUT_FILENO))
		write_safe(stdout, output, strlen(output));
	else
		fputs(output, stdout);
	fflush(stdout);
	free(output);
	lethe_vm_tpm_stop(&tpm);
	lethe_vm_config_release(&owned);
	lethe_release_free(rel);
	return status;
fail:
	lethe_vm_tpm_stop(&tpm);
	lethe_vm_config_release(&owned);
	lethe_release_free(rel);
	return cli_fail(r, "run");
}
