/* lethe persist: make and manage the opt-in encrypted store (docs/persistence.md), and
 * `lethe persist boot`, which lethe-init's stage 2 runs to open it when the boot menu's
 * persistent-storage entry was chosen and the spec allows it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include <lethe/contract.h>
#include <lethe/core.h>
#include <lethe/persist.h>
#include <lethe/spec.h>

#include "cli.h"

#define PASS_MAX   LETHE_PERSIST_PASSPHRASE_MAX
#define BOOT_TRIES 3

static void usage(FILE *out)
{
	fputs("usage: lethe persist init DEVICE --spec SPEC [--yes] [--passphrase-file F]\n"
	      "       lethe persist status DEVICE [--json]\n"
	      "       lethe persist test-passphrase DEVICE [--passphrase-file F]\n"
	      "       lethe persist change-passphrase DEVICE [--passphrase-file F]\n"
	      "                                      [--new-passphrase-file F] [--spec SPEC]\n"
	      "       lethe persist backup-header DEVICE FILE\n"
	      "       lethe persist boot\n\n"
	      "Make and manage the encrypted persistent store of an image whose spec has a\n"
	      "persistence section: a LUKS2 volume (Argon2id with the spec's pinned cost,\n"
	      "AES-XTS or Adiantum) holding an ext4 file system. Made without device-mapper\n"
	      "(offline encryption), so init works on any Linux host.\n\n"
	      "  init               format DEVICE (a block device or an image file); refuses\n"
	      "                     a device that is mounted, swap, held by device-mapper, or\n"
	      "                     on the same disk as any of these (the running system, its\n"
	      "                     boot medium); writes nothing before you type YES\n"
	      "  status             what the LUKS2 header says (cipher, keyslots, KDF cost)\n"
	      "  test-passphrase    check a passphrase without opening anything\n"
	      "  change-passphrase  replace the keyslot the old passphrase opens\n"
	      "  backup-header      copy the header and keyslots to FILE (a new file)\n"
	      "  boot               (lethe-init, stage 2) find the spec's store, ask for the\n"
	      "                     passphrase on the console (three tries), open it, check\n"
	      "                     it, bind the spec's directories over the RAM root\n\n"
	      "  --spec SPEC              the image spec (its persistence section)\n"
	      "  --yes                    do not ask before erasing DEVICE\n"
	      "  --passphrase-file F      the passphrase: the first line of F; default: asked\n"
	      "                           on the terminal with echo off\n"
	      "  --new-passphrase-file F  change-passphrase: the new one\n"
	      "  --json                   status: as JSON\n"
	      "  -h, --help               this help\n\n"
	      "Exit status: 0 ok, 1 wrong passphrase or no LUKS2 store, 2 usage error,\n"
	      "3 runtime error (including a refused device).\n",
	      out);
}

/* A passphrase in locked memory (sodium_free wipes it). */
static char *pass_alloc(void)
{
	return sodium_init() < 0 ? NULL : sodium_malloc(PASS_MAX + 2);
}

static void pass_free(char *p)
{
	if (p)
		sodium_free(p);
}

static int pass_from_file(const char *path, char *pw)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0) {
		cli_error("cannot open passphrase file '%s': %s", path, strerror(errno));
		return -errno;
	}
	n = lethe_read_full(fd, pw, PASS_MAX + 1);
	close(fd);
	if (n < 0) {
		cli_error("cannot read passphrase file '%s': %s", path, strerror((int)-n));
		return (int)n;
	}
	pw[n] = '\0';
	pw[strcspn(pw, "\r\n")] = '\0';
	if (n > PASS_MAX && strlen(pw) == (size_t)n) {
		cli_error("passphrase in '%s' is longer than %d bytes", path, PASS_MAX);
		return -EINVAL;
	}
	if (!*pw) {
		cli_error("passphrase file '%s' is empty", path);
		return -EINVAL;
	}
	return 0;
}

/* Prompt on tty with echo off; one line into pw. */
static int pass_ask(int tty, const char *prompt, char *pw)
{
	struct termios old, noecho;
	bool restore = false;
	size_t len = 0;
	int r = 0;

	/* Echo off before the prompt: what is typed as soon as it shows is not echoed.
	 * TCSAFLUSH drops what was typed before the prompt (a passphrase is never
	 * read ahead of its question). */
	if (tcgetattr(tty, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		noecho.c_lflag |= ICANON;
		restore = tcsetattr(tty, TCSAFLUSH, &noecho) == 0;
	}
	if (write(tty, prompt, strlen(prompt)) < 0) {
		r = -errno;
		if (restore)
			tcsetattr(tty, TCSANOW, &old);
		return r;
	}
	for (;;) {
		char c;
		ssize_t n = read(tty, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = r ? r : -EIO;
			break;
		}
		if (c == '\n' || c == '\r')
			break;
		if (len == PASS_MAX) {
			r = -EINVAL;
			continue;
		}
		pw[len++] = c;
	}
	pw[len] = '\0';
	sodium_memzero(&len, sizeof(len));
	if (restore)
		tcsetattr(tty, TCSANOW, &old);
	(void)!write(tty, "\n", 1);
	if (r == 0 && !*pw)
		r = -ENODATA;
	return r;
}

/* From file, or asked on /dev/tty (twice when confirm). Errors are reported. */
static int pass_get(const char *file, const char *prompt, bool confirm, char *pw)
{
	char *again;
	int tty, r;

	if (file)
		return pass_from_file(file, pw);
	tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty < 0) {
		cli_error("a passphrase is needed and there is no terminal to ask for it; use "
			  "--passphrase-file");
		return -ENXIO;
	}
	r = pass_ask(tty, prompt, pw);
	if (r == 0 && confirm) {
		again = pass_alloc();
		r = again ? pass_ask(tty, "Passphrase (again): ", again) : -ENOMEM;
		if (r == 0 && strcmp(pw, again) != 0) {
			cli_error("the passphrases do not match");
			r = -EINVAL;
		}
		pass_free(again);
	}
	close(tty);
	if (r == -ENODATA)
		cli_error("no passphrase given");
	else if (r == -EINVAL && !confirm)
		cli_error("passphrase longer than %d bytes", PASS_MAX);
	return r;
}

struct opts {
	const char *spec, *pass_file, *new_pass_file;
	bool yes, json;
	int argc;
	char **argv; /* the operands */
};

static int parse_opts(const char *sub, int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "spec", required_argument, NULL, 's' },
		{ "yes", no_argument, NULL, 'y' },
		{ "passphrase-file", required_argument, NULL, 'p' },
		{ "new-passphrase-file", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->spec = optarg;
			break;
		case 'y':
			o->yes = true;
			break;
		case 'p':
			o->pass_file = optarg;
			break;
		case 'n':
			o->new_pass_file = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return cli_usage_error("persist", "unknown option for '%s'", sub);
		}
	}
	o->argc = argc - optind;
	o->argv = argv + optind;
	return 0;
}

static int load_spec(const char *path, struct lethe_spec **ret)
{
	int r = lethe_spec_load_flags(path, LETHE_SPEC_LOAD_IN_IMAGE, ret);

	if (r < 0)
		return cli_fail(r, "cannot load the spec");
	if (!(*ret)->persistence) {
		cli_error("spec '%s' has no persistence section: nothing may persist", path);
		*ret = lethe_spec_free(*ret);
		return EXIT_CHECK_FAILED;
	}
	return 0;
}

/* "Type YES": anything else, or no terminal, and nothing is written. */
static int confirm(const char *device)
{
	char answer[16] = { 0 };
	FILE *tty = fopen("/dev/tty", "r+e");

	if (!tty) {
		cli_error("erasing '%s' needs a confirmation and there is no terminal; pass "
			  "--yes",
			  device);
		return EXIT_USAGE;
	}
	fprintf(tty, "This erases everything on '%s'. Type YES to continue: ", device);
	fflush(tty);
	if (!fgets(answer, sizeof(answer), tty) || strcmp(answer, "YES\n") != 0) {
		fclose(tty);
		cli_error("not confirmed; '%s' is unchanged", device);
		return EXIT_CHECK_FAILED;
	}
	fclose(tty);
	return 0;
}

static int do_init(struct opts *o)
{
	struct lethe_persist_params p;
	struct lethe_spec *spec = NULL;
	char uuid[37], *pw = NULL;
	const char *device;
	int r, rc;

	if (o->argc != 1)
		return cli_usage_error("persist", "init takes one DEVICE");
	if (!o->spec)
		return cli_usage_error("persist", "init needs --spec SPEC");
	device = o->argv[0];
	if ((rc = load_spec(o->spec, &spec)) != 0)
		return rc;
	lethe_persist_params_from_spec(spec->persistence, lethe_persist_cpu_has_aes(), &p);
	spec = lethe_spec_free(spec);
	/* Refusals come before any question, and nothing is written before the answer. */
	r = lethe_persist_check_target(NULL, device);
	if (r < 0)
		return cli_fail(r, "cannot use the device");
	if (!o->yes && (rc = confirm(device)) != 0)
		return rc;
	pw = pass_alloc();
	if (!pw)
		return cli_fail(-ENOMEM, "passphrase");
	r = pass_get(o->pass_file, "New passphrase: ", true, pw);
	if (r < 0) {
		pass_free(pw);
		return EXIT_USAGE;
	}
	r = lethe_persist_format(device, &p, pw, strlen(pw), uuid);
	pass_free(pw);
	if (r < 0)
		return cli_fail(r, "cannot make the store");
	if (!cli_quiet)
		printf("store made on '%s': LUKS2 UUID %s, %s-%s, Argon2id %u MiB x %u, %u "
		       "thread(s)\n"
		       "spec: device: UUID=%s (or a PARTLABEL= of its partition)\n",
		       device, uuid, p.cipher, p.mode, p.kdf_memory_kib / 1024, p.kdf_iterations,
		       p.kdf_parallel, uuid);
	return EXIT_OK;
}

static int do_status(struct opts *o)
{
	struct lethe_persist_status s;
	int r;

	if (o->argc != 1)
		return cli_usage_error("persist", "status takes one DEVICE");
	r = lethe_persist_status(o->argv[0], &s);
	if (r == -ENODEV) {
		cli_fail(r, "status");
		return EXIT_CHECK_FAILED;
	}
	if (r < 0)
		return cli_fail(r, "status");
	if (o->json) {
		struct json_object *j = json_object_new_object(), *slots = json_object_new_array();

		json_object_object_add(j, "device", json_object_new_string(o->argv[0]));
		json_object_object_add(j, "uuid", json_object_new_string(s.uuid));
		json_object_object_add(j, "label", json_object_new_string(s.label));
		json_object_object_add(j, "cipher", json_object_new_string(s.cipher));
		json_object_object_add(j, "key_bits", json_object_new_int((int)s.key_bits));
		json_object_object_add(j, "data_offset",
				       json_object_new_int64((int64_t)s.data_offset));
		json_object_object_add(j, "sector_size", json_object_new_int((int)s.sector_size));
		json_object_object_add(j, "reencrypting", json_object_new_boolean(s.reencrypting));
		for (size_t i = 0; i < s.n_slots; i++) {
			struct json_object *k = json_object_new_object();

			json_object_object_add(k, "slot", json_object_new_int(s.slots[i].slot));
			json_object_object_add(k, "kdf", json_object_new_string(s.slots[i].kdf));
			json_object_object_add(k, "iterations",
					       json_object_new_int64(s.slots[i].iterations));
			json_object_object_add(k, "memory_kib",
					       json_object_new_int64(s.slots[i].memory_kib));
			json_object_object_add(k, "parallel",
					       json_object_new_int64(s.slots[i].parallel));
			json_object_array_add(slots, k);
		}
		json_object_object_add(j, "keyslots", slots);
		cli_json_print(j);
		return EXIT_OK;
	}
	printf("device:       %s\nuuid:         %s\nlabel:        %s\ncipher:       %s, "
	       "%u-bit key\ndata offset:  %llu bytes\nsector size:  %u\n",
	       o->argv[0], s.uuid, s.label[0] ? s.label : "(none)", s.cipher, s.key_bits,
	       (unsigned long long)s.data_offset, s.sector_size);
	if (s.reencrypting)
		printf("state:        unfinished encryption (cannot be opened)\n");
	for (size_t i = 0; i < s.n_slots; i++)
		printf("keyslot %d:    %s, %u iterations, %u KiB, %u thread(s)\n", s.slots[i].slot,
		       s.slots[i].kdf, s.slots[i].iterations, s.slots[i].memory_kib,
		       s.slots[i].parallel);
	return EXIT_OK;
}

static int do_test_passphrase(struct opts *o)
{
	char *pw;
	int r;

	if (o->argc != 1)
		return cli_usage_error("persist", "test-passphrase takes one DEVICE");
	pw = pass_alloc();
	if (!pw)
		return cli_fail(-ENOMEM, "passphrase");
	r = pass_get(o->pass_file, "Passphrase: ", false, pw);
	if (r < 0) {
		pass_free(pw);
		return EXIT_USAGE;
	}
	r = lethe_persist_test_passphrase(o->argv[0], pw, strlen(pw));
	pass_free(pw);
	if (r == -EPERM || r == -ENODEV) {
		cli_fail(r, "test-passphrase");
		return EXIT_CHECK_FAILED;
	}
	if (r < 0)
		return cli_fail(r, "test-passphrase");
	if (!cli_quiet)
		printf("keyslot %d opens with this passphrase\n", r);
	return EXIT_OK;
}

static int do_change_passphrase(struct opts *o)
{
	struct lethe_persist_params p, *pp = NULL;
	struct lethe_spec *spec = NULL;
	char *old = NULL, *new = NULL;
	int r, rc = EXIT_USAGE;

	if (o->argc != 1)
		return cli_usage_error("persist", "change-passphrase takes one DEVICE");
	if (o->spec) {
		if ((rc = load_spec(o->spec, &spec)) != 0)
			return rc;
		lethe_persist_params_from_spec(spec->persistence, true, &p);
		spec = lethe_spec_free(spec);
		pp = &p;
	}
	old = pass_alloc();
	new = pass_alloc();
	if (!old || !new) {
		rc = cli_fail(-ENOMEM, "passphrase");
		goto out;
	}
	if (pass_get(o->pass_file, "Old passphrase: ", false, old) < 0 ||
	    pass_get(o->new_pass_file, "New passphrase: ", !o->new_pass_file, new) < 0)
		goto out;
	r = lethe_persist_change_passphrase(o->argv[0], old, strlen(old), new, strlen(new), pp);
	if (r == -EPERM || r == -ENODEV) {
		cli_fail(r, "change-passphrase");
		rc = EXIT_CHECK_FAILED;
	} else if (r < 0) {
		rc = cli_fail(r, "change-passphrase");
	} else {
		if (!cli_quiet)
			printf("keyslot %d now opens with the new passphrase only\n", r);
		rc = EXIT_OK;
	}
out:
	pass_free(old);
	pass_free(new);
	return rc;
}

static int do_backup_header(struct opts *o)
{
	int r;

	if (o->argc != 2)
		return cli_usage_error("persist", "backup-header takes DEVICE and FILE");
	r = lethe_persist_backup_header(o->argv[0], o->argv[1]);
	if (r == -ENODEV) {
		cli_fail(r, "backup-header");
		return EXIT_CHECK_FAILED;
	}
	if (r < 0)
		return cli_fail(r, "backup-header");
	if (!cli_quiet)
		printf("header of '%s' saved in '%s' (keep it as safe as the passphrase)\n",
		       o->argv[0], o->argv[1]);
	return EXIT_OK;
}

/* ---- lethe persist boot: run by lethe-init's stage 2 (src/init/persist.c) ---- */

/* Messages for the console: lethe-init adds whether the boot stays amnesic. */
static void boot_msg(const char *fmt, ...) LETHE_PRINTF(1, 2);
static void boot_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("lethe persist: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* What was set up, to undo on failure (never half-mounted). */
struct boot_state {
	bool active, store_mounted;
	size_t n_bound;
	const struct lethe_strv *dirs;
};

static void boot_undo(struct boot_state *b)
{
	while (b->n_bound > 0) {
		const char *d = b->dirs->v[--b->n_bound];

		if (umount2(d, 0) < 0 && umount2(d, MNT_DETACH) < 0)
			boot_msg("cannot unmount '%s': %s", d, strerror(errno));
	}
	if (b->store_mounted && umount2(LETHE_PATH_PERSIST_STORE, 0) < 0 &&
	    umount2(LETHE_PATH_PERSIST_STORE, MNT_DETACH) < 0)
		boot_msg("cannot unmount the store: %s", strerror(errno));
	if (b->active && lethe_persist_deactivate(LETHE_DM_PERSIST_NAME) < 0)
		boot_msg("%s", lethe_error_message());
	b->store_mounted = b->active = false;
}

/* Up to BOOT_TRIES passphrases from the console. 0, -EPERM after the last wrong one,
 * or another -errno. */
static int boot_unlock_passphrase(const char *device, const char *spec_device)
{
	char prompt[512], *pw = pass_alloc();
	int con, r = -EPERM;

	if (!pw)
		return -ENOMEM;
	con = open("/dev/console", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (con < 0) {
		pass_free(pw);
		return -errno;
	}
	for (int i = 1; i <= BOOT_TRIES && r == -EPERM; i++) {
		snprintf(prompt, sizeof(prompt),
			 "Passphrase for the persistent store %s (%s), try %d of %d: ", spec_device,
			 device, i, BOOT_TRIES);
		r = pass_ask(con, prompt, pw);
		if (r == -ENODATA || r == -EINVAL) {
			r = -EPERM; /* an empty or too long line is a wrong try */
			continue;
		}
		if (r < 0)
			break;
		r = lethe_persist_activate(device, LETHE_DM_PERSIST_NAME, pw, strlen(pw));
		sodium_memzero(pw, PASS_MAX + 2);
		if (r == -EPERM)
			(void)!write(con, "wrong passphrase\n", 17);
		else if (r >= 0)
			r = 0;
	}
	close(con);
	pass_free(pw);
	return r;
}

/* unlock: keyfile: the key device's file system, read-only, for as long as it takes
 * to read the key. */
static int boot_unlock_keyfile(const struct lethe_spec_persistence *sp, const char *device)
{
	static const char *const fstypes[] = { "ext4", "vfat", "iso9660" };
	char *keydev = NULL, *key = NULL, path[PATH_MAX];
	const char *mnt = LETHE_PATH_PERSIST_STORE;
	size_t len = 0;
	int r, fd;

	r = lethe_persist_find(NULL, sp->keyfile_device, &keydev);
	if (r < 0)
		return r;
	(void)mkdir(mnt, 0700);
	r = -ENODEV;
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(fstypes) && r < 0; i++)
		r = mount(keydev, mnt, fstypes[i], MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  NULL) == 0
			    ? 0
			    : -errno;
	if (r < 0) {
		r = lethe_error(r, "cannot mount the key device '%s': %s", keydev, strerror(-r));
		free(keydev);
		return r;
	}
	snprintf(path, sizeof(path), "%s%s", mnt, sp->keyfile_path);
	key = pass_alloc();
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (!key || fd < 0) {
		r = lethe_error(-errno, "cannot open key file '%s' on '%s': %m", sp->keyfile_path,
				keydev);
	} else {
		ssize_t n = lethe_read_full(fd, key, PASS_MAX + 1);

		/* Its first line, as `persist init --passphrase-file` reads the same file when
		 * it enrols it (pass_from_file): a key file written with a newline works. */
		if (n > 0)
			key[n] = '\0';
		len = n > 0 ? strcspn(key, "\r\n") : 0;
		r = len < 1 || n > PASS_MAX ? lethe_error(-EINVAL,
							  "key file '%s' must hold a line of 1 "
							  "to %d bytes",
							  sp->keyfile_path, PASS_MAX)
					    : 0;
	}
	if (fd >= 0)
		close(fd);
	(void)umount2(mnt, MNT_DETACH);
	if (r == 0) {
		r = lethe_persist_activate(device, LETHE_DM_PERSIST_NAME, key, len);
		r = r > 0 ? 0 : r;
	}
	pass_free(key);
	free(keydev);
	return r;
}

/* e2fsck -p: 0 clean, 1 repaired; anything else and the store is not used. */
static int boot_fsck(const char *dev)
{
	static const char *const tools[] = { "/usr/sbin/e2fsck", "/sbin/e2fsck" };
	const char *tool = NULL;
	int status;
	pid_t pid;

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(tools) && !tool; i++)
		if (access(tools[i], X_OK) == 0)
			tool = tools[i];
	if (!tool)
		return lethe_error(-ENOENT, "no e2fsck in the image (package e2fsprogs)");
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execl(tool, "e2fsck", "-p", dev, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) <= 1)
		return 0;
	return lethe_error(-EIO, "e2fsck -p of the store exited %d: not repaired, not used",
			   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Every component of path below the store must be a real directory (a symlink in the
 * store must not bind something else over a listed directory); made when missing,
 * with the image's owner and mode of the same path. */
static int boot_store_dir(const char *dir, char *ret, size_t size)
{
	size_t base = strlen(LETHE_PATH_PERSIST_STORE);
	struct stat st, img;

	if ((size_t)snprintf(ret, size, "%s%s", LETHE_PATH_PERSIST_STORE, dir) >= size)
		return -ENAMETOOLONG;
	for (char *p = ret + base + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (lstat(ret, &st) < 0) {
			const char *imgpath = ret + base;
			mode_t mode = lstat(imgpath, &img) == 0 && S_ISDIR(img.st_mode)
					      ? (img.st_mode & 07777)
					      : 0755;

			if (mkdir(ret, mode) < 0)
				return lethe_error(-errno, "cannot make '%s' in the store: %m",
						   ret);
			if (lstat(imgpath, &img) == 0 && S_ISDIR(img.st_mode))
				(void)!chown(ret, img.st_uid, img.st_gid);
		} else if (!S_ISDIR(st.st_mode)) {
			return lethe_error(-ENOTDIR,
					   "'%s' in the store is not a directory (a symlink?)",
					   ret + base);
		}
		*p = c;
		if (!c)
			return 0;
	}
}

static int boot_bind(struct boot_state *b)
{
	char src[PATH_MAX + 64];
	struct stat st;
	int r;

	for (size_t i = 0; i < b->dirs->n; i++) {
		const char *d = b->dirs->v[i];

		r = boot_store_dir(d, src, sizeof(src));
		if (r < 0)
			return r;
		/* The target in the RAM root: a directory, never a link to elsewhere. */
		if (lstat(d, &st) < 0) {
			if (lethe_mkdir_p(d, 0755) < 0)
				return lethe_error(-errno, "cannot make '%s': %m", d);
		} else if (!S_ISDIR(st.st_mode)) {
			return lethe_error(-ENOTDIR, "'%s' is not a directory in the image", d);
		}
		if (mount(src, d, NULL, MS_BIND, NULL) < 0)
			return lethe_error(-errno, "cannot bind the store's '%s': %m", d);
		b->n_bound++;
		if (mount(NULL, d, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, NULL) < 0)
			return lethe_error(-errno, "cannot remount '%s' nosuid,nodev: %m", d);
	}
	return 0;
}

static int persist_boot(void)
{
	struct lethe_spec *spec = NULL;
	struct boot_state b = { 0 };
	const struct lethe_spec_persistence *sp;
	char *device = NULL;
	int r;

	/* It binds over /home and friends: only lethe-init, at boot, may ask for that. */
	if (getppid() != 1) {
		cli_error("'persist boot' is run by lethe-init (PID 1) at boot, not by hand");
		return EXIT_USAGE;
	}
	r = lethe_spec_load_flags(LETHE_PATH_SPEC, LETHE_SPEC_LOAD_IN_IMAGE, &spec);
	if (r < 0) {
		boot_msg("cannot read the spec: %s", lethe_error_message_for(r) ?: strerror(-r));
		return EXIT_RUNTIME;
	}
	sp = spec->persistence;
	if (!sp) {
		boot_msg("the spec allows no persistence: no device is opened");
		lethe_spec_free(spec);
		return EXIT_CHECK_FAILED;
	}
	b.dirs = &sp->directories;
	r = lethe_persist_find(NULL, sp->device, &device);
	if (r == 0) {
		boot_msg("store %s is '%s'", sp->device, device);
		r = sp->unlock == LETHE_SPEC_UNLOCK_KEYFILE
			    ? boot_unlock_keyfile(sp, device)
			    : boot_unlock_passphrase(device, sp->device);
		if (r == -EPERM)
			lethe_error(r, "%d wrong passphrases", BOOT_TRIES);
	}
	b.active = r == 0;
	if (r == 0)
		r = boot_fsck("/dev/mapper/" LETHE_DM_PERSIST_NAME);
	if (r == 0) {
		(void)mkdir(LETHE_PATH_PERSIST_STORE, 0700);
		if (mount("/dev/mapper/" LETHE_DM_PERSIST_NAME, LETHE_PATH_PERSIST_STORE, "ext4",
			  MS_NOSUID | MS_NODEV | MS_NOATIME, "errors=remount-ro") < 0)
			r = lethe_error(-errno, "cannot mount the store: %m");
		else
			b.store_mounted = true;
	}
	if (r == 0)
		r = boot_bind(&b);
	if (r < 0) {
		const char *m = lethe_error_message_for(r);

		boot_msg("%s", m ? m : strerror(-r));
		boot_undo(&b);
	} else {
		boot_msg("%zu directories persist:", sp->directories.n);
		for (size_t i = 0; i < sp->directories.n; i++)
			fprintf(stderr, "  %s\n", sp->directories.v[i]);
	}
	free(device);
	lethe_spec_free(spec);
	return r < 0 ? (r == -EPERM ? EXIT_CHECK_FAILED : EXIT_RUNTIME) : EXIT_OK;
}

int cmd_persist(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct opts *o);
	} subs[] = {
		{ "init", do_init },
		{ "status", do_status },
		{ "test-passphrase", do_test_passphrase },
		{ "change-passphrase", do_change_passphrase },
		{ "backup-header", do_backup_header },
	};
	struct opts o = { 0 };
	int r;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (!strcmp(argv[1], "boot"))
		return argc == 2 ? persist_boot()
				 : cli_usage_error("persist", "boot takes nothing");
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(subs); i++) {
		if (strcmp(argv[1], subs[i].name))
			continue;
		r = parse_opts(argv[1], argc - 1, argv + 1, &o);
		if (r)
			return r < 0 ? EXIT_OK : r;
		return subs[i].fn(&o);
	}
	return cli_usage_error("persist", "unknown subcommand '%s'", argv[1]);
}
