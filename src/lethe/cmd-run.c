/* lethe run: boot a built image under QEMU, on the terminal or to run one command. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static const char usage_text[] =
	"usage: lethe run OUTDIR [OPTIONS]\n"
	"\n"
	"Boot the image that 'lethe build' wrote to OUTDIR (vmlinuz, initramfs.img, cmdline,\n"
	"disk.img) under QEMU. disk.img is attached read-only: no boot changes it. There is\n"
	"no network device. The console is this terminal (Ctrl-A x quits, Ctrl-A c is the\n"
	"QEMU monitor).\n"
	"\n"
	"options:\n"
	"  --exec 'CMD'         wait until the system is ready, run CMD in its console shell,\n"
	"                       print CMD's output, power the guest off and exit with CMD's\n"
	"                       status; the console goes to stderr (not with --quiet)\n"
	"  --timeout S          kill QEMU after S seconds and fail (default: none; 600 with\n"
	"                       --exec)\n"
	"  --disk FILE          attach FILE as one more raw virtio disk, read-write (repeatable,\n"
	"                       up to 8)\n"
	"  --mem MB             guest memory (default 512)\n"
	"  --accel tcg|kvm      QEMU accelerator (default tcg)\n"
	"  --append ARGS        add kernel parameters to the image's cmdline\n"
	"  --cmdline-file F     take the kernel cmdline from F instead of OUTDIR/cmdline\n"
	"  --qmp PATH           QMP on a unix socket at PATH\n"
	"  --serial-log F       also write the console to F\n"
	"  --no-boot-disk       do not attach disk.img\n"
	"  -q, --quiet          with --exec: print only CMD's output\n"
	"\n"
	"Exit status: with --exec, CMD's status; else QEMU's. 2 usage error; 3 runtime error\n"
	"(QEMU missing, timeout, no shell on the console).\n";

struct run_args {
	struct lethe_vm_config c;
	const char *exec;
	const char *append;
	const char *cmdline_file;
	unsigned timeout;
	bool no_boot_disk;
};

static void to_stderr(const char *data, size_t len, void *userdata)
{
	fwrite(data, 1, len, stderr);
	fflush(stderr);
}

static int parse(int argc, char **argv, struct run_args *a)
{
	unsigned long long n;
	int opt;

	while ((opt = getopt_long(argc, argv, "qh", options, NULL)) != -1) {
		switch (opt) {
		case OPT_DISK:
			if (a->c.n_disks >= LETHE_VM_MAX_DISKS)
				return cli_usage_error("run", "at most %d --disk", LETHE_VM_MAX_DISKS);
			a->c.disks[a->c.n_disks++] = optarg;
			break;
		case OPT_MEM:
			if (!cli_parse_u64(optarg, 64, 65536, &n))
				return cli_usage_error("run", "--mem '%s': a number of MB, 64..65536", optarg);
			a->c.mem_mb = (unsigned)n;
			break;
		case OPT_TIMEOUT:
			if (!cli_parse_u64(optarg, 1, 86400, &n))
				return cli_usage_error("run", "--timeout '%s': seconds, 1..86400", optarg);
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
	if (a->exec && (!*a->exec || strchr(a->exec, '\n')))
		return cli_usage_error("run", "--exec takes one non-empty line");
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { 0 };
	struct lethe_vm_owned owned = { 0 };
	char *output = NULL;
	int status = 0, r;

	r = parse(argc, argv, &a);
	if (r)
		return r < 0 ? EXIT_OK : r;
	r = lethe_vm_config_from_dir(&a.c, &owned, argv[optind], a.cmdline_file, a.append);
	if (r < 0)
		goto fail;
	if (a.no_boot_disk)
		a.c.boot_disk = NULL;
	else if (!a.c.boot_disk)
		cli_warning("'%s' has no disk.img; booting without it", argv[optind]);
	if (!a.exec) {
		a.c.interactive = true;
		r = lethe_vm_run(&a.c, a.timeout);
		if (r < 0)
			goto fail;
		lethe_vm_config_release(&owned);
		return r;
	}
	r = lethe_vm_exec(&a.c, a.exec, a.timeout ? a.timeout : 600,
			  cli_quiet ? NULL : to_stderr, NULL, &output, &status);
	if (r < 0)
		goto fail;
	if (!cli_quiet)
		fputs("\n", stderr);
	fputs(output, stdout);
	fflush(stdout);
	free(output);
	lethe_vm_config_release(&owned);
	return status;
fail:
	lethe_vm_config_release(&owned);
	return cli_fail(r, "run");
}
