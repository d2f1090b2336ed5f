/* QEMU's command line for a Lethe image, and a plain run with the console on the
 * terminal. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lethe/vm.h>
#include "vm-internal.h"

static int artifact_path(struct lethe_vm_config *c, struct lethe_vm_owned *o,
			 const struct lethe_release *rel, enum lethe_release_artifact a,
			 const char **ret);

static const char *own(struct lethe_vm_owned *o, char *s)
{
	int r;

	if (!s)
		return NULL;
	r = lethe_strv_push(&o->s, s);
	free(s);
	return r < 0 ? NULL : o->s.v[o->s.n - 1];
}

void lethe_vm_config_release(struct lethe_vm_owned *owned)
{
	if (!owned)
		return;
	lethe_strv_release(&owned->s);
	if (owned->vars_fd > 0)
		close(owned->vars_fd - 1);
	owned->vars_fd = 0;
}

static int need_firmware_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || access(path, R_OK) < 0)
		return lethe_error(-ENOENT,
				   "cannot read the UEFI firmware '%s': %s (install "
				   "ovmf, or boot with --direct)",
				   path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return lethe_error(-ENOENT,
				   "the UEFI firmware '%s' is not a regular file "
				   "(install ovmf, or boot with --direct)",
				   path);
	return 0;
}

int lethe_vm_firmware_check(const char **ret_code, const char **ret_vars)
{
	const char *code = getenv(LETHE_VM_OVMF_CODE_ENV), *vars = getenv(LETHE_VM_OVMF_VARS_ENV);
	int r;

	code = code && *code ? code : LETHE_VM_OVMF_CODE;
	vars = vars && *vars ? vars : LETHE_VM_OVMF_VARS;
	r = need_firmware_file(code);
	if (r >= 0)
		r = need_firmware_file(vars);
	if (r >= 0 && ret_code)
		*ret_code = code;
	if (r >= 0 && ret_vars)
		*ret_vars = vars;
	return r;
}

/* A private, writable copy of the variable store, in memory: OVMF writes its boot
 * entries there, and it is gone when the last descriptor closes. */
static int vars_copy(const char *vars, int *ret_fd)
{
	char *data = NULL;
	size_t len;
	int fd, r;

	r = lethe_file_read(vars, 64u << 20, &data, &len);
	if (r < 0)
		return lethe_error(r, "cannot read '%s': %s", vars, strerror(-r));
	fd = memfd_create("lethe-ovmf-vars", MFD_CLOEXEC);
	if (fd < 0) {
		r = lethe_error(-errno, "cannot make a copy of '%s': %m", vars);
	} else {
		r = lethe_write_full(fd, data, len);
		if (r < 0) {
			r = lethe_error(r, "cannot copy '%s': %s", vars, strerror(-r));
			close(fd);
		} else {
			*ret_fd = fd;
		}
	}
	free(data);
	return r;
}

int lethe_vm_config_firmware(struct lethe_vm_config *c, struct lethe_vm_owned *o,
			     const struct lethe_release *rel)
{
	const char *code = NULL, *vars = NULL;
	char path[32];
	int fd = -1, r;

	if (!lethe_release_has(rel, LETHE_ARTIFACT_UKI) ||
	    !lethe_release_has(rel, LETHE_ARTIFACT_DISK))
		return lethe_error(-ENOENT,
				   "release '%s' has no signed %s and %s to boot through "
				   "firmware (boot it with --direct)",
				   lethe_release_dir(rel), lethe_release_name(LETHE_ARTIFACT_UKI),
				   lethe_release_name(LETHE_ARTIFACT_DISK));
	r = lethe_vm_firmware_check(&code, &vars);
	if (r >= 0)
		r = artifact_path(c, o, rel, LETHE_ARTIFACT_DISK, &c->boot_disk);
	if (r >= 0)
		r = vars_copy(vars, &fd);
	if (r < 0)
		return r;
	if (o->vars_fd > 0)
		close(o->vars_fd - 1);
	o->vars_fd = fd + 1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	c->firmware_vars = own(o, strdup(path));
	c->firmware_code = own(o, strdup(code));
	if (!c->firmware_vars || !c->firmware_code)
		return -ENOMEM;
	c->kernel = c->initrd = c->cmdline = NULL;
	c->n_keep_fds = lethe_release_fds(rel, LETHE_ARTIFACT_MAX, c->keep_fds);
	c->keep_fds[c->n_keep_fds++] = fd;
	return 0;
}

/* The first line of a cmdline file, without its newline. */
static int read_cmdline(const char *path, char **ret)
{
	char *text = NULL;
	size_t len;
	int r;

	r = lethe_file_read(path, 64 * 1024, &text, &len);
	if (r < 0)
		return lethe_error(r, "cannot read '%s': %s", path, strerror(-r));
	text[strcspn(text, "\r\n")] = '\0';
	if (!*text) {
		free(text);
		return lethe_error(-LETHE_E_INVALID, "'%s' is empty", path);
	}
	*ret = text;
	return 0;
}

/* "/proc/self/fd/N" of a verified artifact, kept in o; QEMU inherits N. */
static int artifact_path(struct lethe_vm_config *c, struct lethe_vm_owned *o,
			 const struct lethe_release *rel, enum lethe_release_artifact a,
			 const char **ret)
{
	char path[32];
	int r;

	r = lethe_release_fd_path(rel, a, path);
	if (r < 0)
		return lethe_error(r,
				   "release '%s' has no signed %s (is it a build with "
				   "kernel.package?)",
				   lethe_release_dir(rel), lethe_release_name(a));
	*ret = own(o, strdup(path));
	return *ret ? 0 : -ENOMEM;
}

int lethe_vm_config_from_release(struct lethe_vm_config *c, struct lethe_vm_owned *o,
				 const struct lethe_release *rel, const char *cmdline_file,
				 const char *append)
{
	struct lethe_buf b = { 0 };
	char *cl = NULL;
	int r;

	r = artifact_path(c, o, rel, LETHE_ARTIFACT_KERNEL, &c->kernel);
	if (r >= 0)
		r = artifact_path(c, o, rel, LETHE_ARTIFACT_INITRAMFS, &c->initrd);
	if (r >= 0 && lethe_release_has(rel, LETHE_ARTIFACT_DISK))
		r = artifact_path(c, o, rel, LETHE_ARTIFACT_DISK, &c->boot_disk);
	else
		c->boot_disk = NULL;
	if (r < 0)
		return r;
	if (cmdline_file)
		r = read_cmdline(cmdline_file, &cl);
	else if (!lethe_release_cmdline(rel) || !*lethe_release_cmdline(rel))
		r = lethe_error(-LETHE_E_INVALID, "release '%s' has no signed %s",
				lethe_release_dir(rel), lethe_release_name(LETHE_ARTIFACT_CMDLINE));
	else
		r = (cl = strdup(lethe_release_cmdline(rel))) ? 0 : -ENOMEM;
	if (r < 0)
		return r;
	r = lethe_buf_puts(&b, cl);
	/* Under TCG on a loaded host the kernel's IO-APIC timer check can take too long and
	 * panic; it tests real hardware, not the image, so the emulator skips it. */
	if (r >= 0)
		r = lethe_buf_puts(&b, " no_timer_check");
	if (r >= 0 && append && *append)
		r = lethe_buf_printf(&b, " %s", append);
	free(cl);
	if (r < 0) {
		lethe_buf_release(&b);
		return r;
	}
	c->cmdline = own(o, b.data);
	if (!c->cmdline)
		return -ENOMEM;
	c->n_keep_fds = lethe_release_fds(rel, LETHE_ARTIFACT_MAX, c->keep_fds);
	return 0;
}

/* QEMU splits -drive and -chardev values at ',': refuse paths that hold one. */
static int check_path(const char *what, const char *p)
{
	if (strchr(p, ','))
		return lethe_error(-EINVAL, "%s '%s': QEMU cannot take a path with ','", what, p);
	return 0;
}

static int push_all(struct lethe_strv *v, const char *const *args)
{
	for (; *args; args++) {
		int r = lethe_strv_push(v, *args);

		if (r < 0)
			return r;
	}
	return 0;
}

static int push3(struct lethe_strv *v, const char *a, const char *arg, const char *c)
{
	struct lethe_buf b = { 0 };
	int r = lethe_buf_printf(&b, "%s%s%s", a, arg, c);

	if (r >= 0)
		r = lethe_strv_push(v, b.data);
	lethe_buf_release(&b);
	return r;
}

/* q35 with OVMF in two pflash units, and the boot disk as the first boot device. */
static int firmware_args(const struct lethe_vm_config *c, struct lethe_strv *v)
{
	int r;

	if (!c->firmware_vars || !c->boot_disk)
		return lethe_error(-EINVAL, "a firmware boot needs the variable store and a disk");
	r = check_path("firmware", c->firmware_code);
	if (r >= 0)
		r = check_path("variable store", c->firmware_vars);
	if (r >= 0)
		r = check_path("disk", c->boot_disk);
	if (r >= 0 && c->smm) /* issue 12: the SMM build keeps the store from the OS */
		r = push_all(v,
			     (const char *const[]){ "-machine", "q35,smm=on", "-global",
						    "driver=cfi.pflash01,property=secure,value=on",
						    "-drive", NULL });
	else if (r >= 0)
		r = push_all(v, (const char *const[]){ "-machine", "q35", "-drive", NULL });
	if (r >= 0)
		r = push3(v, "if=pflash,format=raw,unit=0,readonly=on,file=", c->firmware_code, "");
	if (r >= 0)
		r = lethe_strv_push(v, "-drive");
	if (r >= 0)
		r = push3(v, "if=pflash,format=raw,unit=1,file=", c->firmware_vars, "");
	if (r >= 0)
		r = lethe_strv_push(v, "-drive");
	/* read-only: the guest cannot write the boot disk, whatever it does */
	if (r >= 0)
		r = push3(v, vm_bus_drive(c->bus), c->boot_disk,
			  c->bus == LETHE_VM_BUS_CDROM ? ",media=cdrom" : "");
	if (r >= 0)
		r = vm_bus_devices(c->bus, v);
	if (r >= 0 && c->tpm_socket) /* issue 12: swtpm as a TPM 2.0 */
		r = vm_tpm_args(c, v);
	return r;
}

int lethe_vm_argv(const struct lethe_vm_config *c, struct lethe_strv *v)
{
	const char *accel = c->accel ? c->accel : "tcg";
	char mem[32];
	int r;

	if (strcmp(accel, "tcg") && strcmp(accel, "kvm"))
		return lethe_error(-EINVAL, "accelerator '%s': tcg or kvm", accel);
	if (c->n_disks > LETHE_VM_MAX_DISKS)
		return lethe_error(-EINVAL, "at most %d disks", LETHE_VM_MAX_DISKS);
	snprintf(mem, sizeof(mem), "%u", c->mem_mb ? c->mem_mb : 512);
	{
		const char *const base[] = {
			c->qemu ? c->qemu : "qemu-system-x86_64",
			"-nodefaults",
			"-no-user-config",
			"-accel",
			accel,
			"-m",
			mem,
			"-smp",
			"1",
			"-display",
			"none",
			"-no-reboot",
			"-nic",
			"none",
			NULL,
		};
		r = push_all(v, base);
	}
	if (r >= 0 && c->firmware_code)
		r = firmware_args(c, v);
	else if (r >= 0)
		r = push_all(v, (const char *const[]){ "-kernel", c->kernel, "-initrd", c->initrd,
						       "-append", c->cmdline, NULL });
	if (r < 0)
		return r;
	/* The console: the first serial port, on stdio; the monitor too when a person
	 * drives it (Ctrl-A c), never when a program does. */
	{
		struct lethe_buf ch = { 0 };

		r = lethe_buf_printf(&ch, "stdio,id=con,signal=off%s",
				     c->interactive ? ",mux=on" : "");
		if (r >= 0 && c->serial_log) {
			r = check_path("serial log", c->serial_log);
			if (r >= 0)
				r = lethe_buf_printf(&ch, ",logfile=%s", c->serial_log);
		}
		if (r >= 0)
			r = lethe_strv_push(v, "-chardev");
		if (r >= 0)
			r = lethe_strv_push(v, ch.data);
		lethe_buf_release(&ch);
	}
	if (r >= 0)
		r = push_all(v, (const char *const[]){ "-serial", "chardev:con", NULL });
	if (r >= 0 && c->interactive)
		r = push_all(v, (const char *const[]){ "-mon", "chardev=con,mode=readline", NULL });
	if (r >= 0 && c->boot_disk && !c->firmware_code) {
		r = check_path("disk", c->boot_disk);
		if (r >= 0)
			r = lethe_strv_push(v, "-drive");
		/* read-only: the guest cannot write the boot disk, whatever it does */
		if (r >= 0 && c->bus == LETHE_VM_BUS_VIRTIO)
			r = push3(v, "file=", c->boot_disk, ",format=raw,if=virtio,readonly=on");
		else if (r >= 0)
			r = push3(v, vm_bus_drive(c->bus), c->boot_disk,
				  c->bus == LETHE_VM_BUS_CDROM ? ",media=cdrom" : "");
		if (r >= 0 && c->bus != LETHE_VM_BUS_VIRTIO)
			r = vm_bus_devices(c->bus, v);
	}
	for (size_t i = 0; r >= 0 && i < c->n_disks; i++) {
		r = check_path("disk", c->disks[i]);
		if (r >= 0)
			r = lethe_strv_push(v, "-drive");
		if (r >= 0)
			r = push3(v, "file=", c->disks[i], ",format=raw,if=virtio");
	}
	if (r >= 0 && c->qmp) {
		r = check_path("QMP socket", c->qmp);
		if (r >= 0)
			r = lethe_strv_push(v, "-qmp");
		if (r >= 0)
			r = push3(v, "unix:", c->qmp, ",server=on,wait=off");
	}
	return r;
}

/* fork + exec rather than posix_spawn: QEMU must die with us (PR_SET_PDEATHSIG), so
 * that a killed `lethe run` never leaves a guest running. stdin_fd/stdout_fd: -1 to
 * inherit. */
int vm_spawn(const struct lethe_vm_config *c, int stdin_fd, int stdout_fd, pid_t *ret_pid)
{
	struct lethe_strv argv = { 0 };
	pid_t parent = getpid(), pid;
	int r, err[2];

	r = lethe_vm_argv(c, &argv);
	if (r < 0)
		goto out;
	if (pipe2(err, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(err[0]);
		close(err[1]);
		goto out;
	}
	if (pid == 0) {
		int e;

		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(127);
		/* The verified files QEMU opens as /proc/self/fd/N stay open across exec. */
		for (size_t i = 0; i < c->n_keep_fds; i++)
			if (fcntl(c->keep_fds[i], F_SETFD, 0) < 0)
				_exit(127);
		if ((stdin_fd >= 0 && dup2(stdin_fd, 0) < 0) ||
		    (stdout_fd >= 0 && dup2(stdout_fd, 1) < 0))
			_exit(127);
		execvp(argv.v[0], argv.v);
		e = errno;
		(void)!write(err[1], &e, sizeof(e));
		_exit(127);
	}
	close(err[1]);
	/* The exec's errno comes through the pipe; EOF means exec succeeded. */
	if (read(err[0], &r, sizeof(r)) == sizeof(r)) {
		close(err[0]);
		waitpid(pid, NULL, 0);
		r = lethe_error(-r, "cannot run '%s': %s (install qemu-system-x86)", argv.v[0],
				strerror(r));
		goto out;
	}
	close(err[0]);
	*ret_pid = pid;
	r = 0;
out:
	lethe_strv_release(&argv);
	return r;
}

int64_t vm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SIGTERM first, so that QEMU puts the terminal back as it found it; SIGKILL if it is
 * still there 2 s later. Reaps it. */
void vm_stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	for (int i = 0; i < 40; i++) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			return;
		poll(NULL, 0, 50);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* Wait for pid until deadline_ms (0: forever); kill it at the deadline. Returns the exit
 * status or -ETIMEDOUT. */
int vm_wait(pid_t pid, int64_t deadline_ms)
{
	int status;

	for (;;) {
		pid_t w = waitpid(pid, &status, deadline_ms ? WNOHANG : 0);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		if (vm_now_ms() >= deadline_ms) {
			vm_stop(pid);
			return -ETIMEDOUT;
		}
		poll(NULL, 0, 50);
	}
}

int lethe_vm_run(const struct lethe_vm_config *c, unsigned timeout_s)
{
	pid_t pid;
	int r;

	r = vm_spawn(c, -1, -1, &pid);
	if (r < 0)
		return r;
	r = vm_wait(pid, timeout_s ? vm_now_ms() + (int64_t)timeout_s * 1000 : 0);
	if (r == -ETIMEDOUT)
		return lethe_error(r, "the guest still ran after %u s; QEMU was killed", timeout_s);
	return r;
}
