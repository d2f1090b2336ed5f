/* Secure Boot and measured boot under QEMU (issue 12): OVMF with a variable store that
 * has keys enrolled (a template kept from one enrolment boot, or Debian's snakeoil
 * store), optionally the SMM build, and swtpm as the TPM. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/run.h>
#include <lethe/vm.h>

#include "vm-internal.h"

#define VARS_MAX (64u << 20)

static int need_file(const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || access(path, R_OK) < 0)
		return lethe_error(-ENOENT, "cannot read the %s '%s'%s", what, path,
				   errno == ENOENT ? ": No such file or directory (install ovmf)"
						   : "");
	return 0;
}

static const char *keep(struct lethe_vm_owned *o, const char *s)
{
	return lethe_strv_push(&o->s, s) < 0 ? NULL : o->s.v[o->s.n - 1];
}

int lethe_vm_config_secure_boot(struct lethe_vm_config *c, struct lethe_vm_owned *o,
				const struct lethe_vm_secure_boot *sb)
{
	const char *code = sb->smm ? LETHE_VM_OVMF_CODE_SMM : LETHE_VM_OVMF_CODE;
	const char *vars = sb->enroll ? LETHE_VM_OVMF_VARS
			   : sb->vars ? sb->vars
				      : LETHE_VM_OVMF_VARS_SNAKEOIL;
	bool snakeoil = !sb->vars && !sb->enroll && !sb->smm;
	char *data = NULL;
	size_t len = 0;
	int fd, r;

	if (o->vars_fd <= 0)
		return lethe_error(-EINVAL, "Secure Boot needs a firmware boot (not --direct)");
	if (snakeoil)
		code = LETHE_VM_OVMF_CODE_SNAKEOIL; /* the store's own firmware build */
	r = need_file("UEFI firmware", code);
	if (r >= 0)
		r = need_file("UEFI variable store", vars);
	if (r >= 0) {
		r = lethe_file_read(vars, VARS_MAX, &data, &len);
		if (r < 0)
			r = lethe_error(r, "cannot read '%s': %s", vars, strerror(-r));
	}
	if (r < 0)
		return r;
	/* this run's store: the memfd lethe_vm_config_firmware() made, now a copy of vars */
	fd = o->vars_fd - 1;
	if (ftruncate(fd, 0) < 0 || lethe_pwrite_full(fd, data, len, 0) < 0)
		r = lethe_error(-errno, "cannot copy '%s': %m", vars);
	free(data);
	if (r < 0)
		return r;
	c->firmware_code = keep(o, code);
	if (!c->firmware_code)
		return -ENOMEM;
	c->smm = sb->smm || snakeoil;
	return 0;
}

int lethe_vm_secure_boot_save(const struct lethe_vm_owned *o, const char *path)
{
	struct stat st;
	char *data;
	int r;

	if (o->vars_fd <= 0 || fstat(o->vars_fd - 1, &st) < 0 || st.st_size <= 0 ||
	    st.st_size > VARS_MAX)
		return lethe_error(-EINVAL, "this run has no variable store to keep");
	data = malloc((size_t)st.st_size);
	if (!data)
		return -ENOMEM;
	r = lethe_pread_full(o->vars_fd - 1, data, (size_t)st.st_size, 0) == st.st_size ? 0 : -EIO;
	if (r >= 0)
		r = lethe_file_write_atomic(path, data, (size_t)st.st_size, 0644);
	if (r < 0)
		r = lethe_error(r, "cannot write '%s': %s", path, strerror(-r));
	free(data);
	return r;
}

int vm_tpm_args(const struct lethe_vm_config *c, struct lethe_strv *v)
{
	struct lethe_buf b = { 0 };
	int r = lethe_buf_printf(&b, "socket,id=lethe-tpm-chr,path=%s", c->tpm_socket);

	if (strchr(c->tpm_socket, ','))
		r = lethe_error(-EINVAL, "the TPM socket path '%s' has a comma", c->tpm_socket);
	if (r >= 0)
		r = lethe_strv_push(v, "-chardev");
	if (r >= 0)
		r = lethe_strv_push(v, b.data);
	if (r >= 0)
		r = lethe_strv_push(v, "-tpmdev");
	if (r >= 0)
		r = lethe_strv_push(v, "emulator,id=lethe-tpm,chardev=lethe-tpm-chr");
	if (r >= 0)
		r = lethe_strv_push(v, "-device");
	if (r >= 0)
		r = lethe_strv_push(v, "tpm-tis,tpmdev=lethe-tpm");
	lethe_buf_release(&b);
	return r;
}

int vm_denied(const char *con, size_t len, size_t scan)
{
	const char *p = memmem(con + scan, len - scan, LETHE_VM_DENIED_MARKER,
			       strlen(LETHE_VM_DENIED_MARKER));
	const char *begin, *end;

	if (!p)
		return 0;
	end = memchr(p, '\n', len - (size_t)(p - con));
	if (!end)
		return 0;
	if (end > p && end[-1] == '\r')
		end--;
	for (begin = p; begin > con && begin[-1] != '\n' && begin[-1] != '\r'; begin--)
		;
	/* OVMF draws with escape sequences: start at the last one on the line */
	for (const char *q = begin; q < p; q++)
		if (*q == '\033')
			begin = q;
	while (begin < p &&
	       (*begin == '\033' || *begin == '[' || (*begin >= '0' && *begin <= '9') ||
		*begin == ';' || *begin == 'm' || *begin == 'H' || *begin == 'J'))
		begin++;
	return lethe_error(-EIO, "the firmware refused to boot: %.*s", (int)(end - begin), begin);
}

int lethe_vm_tpm_start(struct lethe_vm_tpm *ret)
{
	struct lethe_vm_tpm t = { .pid = -1 };
	char *pidfile = NULL, *state = NULL, *ctrl = NULL, *pidtext = NULL;
	const char *tmp = getenv("TMPDIR");
	size_t len = 0;
	int r;

	if (asprintf(&t.dir, "%s/lethe-tpm-XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		return -ENOMEM;
	if (!mkdtemp(t.dir)) {
		r = lethe_error(-errno, "cannot create '%s': %m", t.dir);
		free(t.dir);
		return r;
	}
	t.socket = lethe_path_join(t.dir, "ctrl.sock");
	pidfile = lethe_path_join(t.dir, "swtpm.pid");
	r = t.socket && pidfile && asprintf(&state, "dir=%s", t.dir) >= 0 &&
			    asprintf(&ctrl, "type=unixio,path=%s", t.socket) >= 0
		    ? 0
		    : -ENOMEM;
	if (r >= 0)
		r = lethe_run((char *const[]){ (char *)"swtpm_setup", (char *)"--tpm2",
					       (char *)"--tpmstate", t.dir, (char *)"--pcr-banks",
					       (char *)"sha256", NULL },
			      NULL, NULL);
	if (r >= 0) {
		char pidarg[4200];

		snprintf(pidarg, sizeof(pidarg), "file=%s", pidfile);
		r = lethe_run((char *const[]){ (char *)"swtpm", (char *)"socket", (char *)"--tpm2",
					       (char *)"--tpmstate", state, (char *)"--ctrl", ctrl,
					       (char *)"--terminate", (char *)"--daemon",
					       (char *)"--pid", pidarg, NULL },
			      NULL, NULL);
	}
	if (r >= 0)
		r = lethe_file_read(pidfile, 32, &pidtext, &len);
	if (r >= 0) {
		t.pid = (int)strtol(pidtext, NULL, 10);
		if (t.pid <= 1)
			r = lethe_error(-EIO, "'%s': no process id", pidfile);
	}
	free(pidfile);
	free(state);
	free(ctrl);
	free(pidtext);
	if (r < 0) {
		lethe_vm_tpm_stop(&t);
		return r;
	}
	*ret = t;
	return 0;
}

void lethe_vm_tpm_stop(struct lethe_vm_tpm *t)
{
	if (!t)
		return;
	if (t->pid > 1)
		kill(t->pid, SIGTERM);
	if (t->dir)
		lethe_rm_rf(t->dir);
	free(t->dir);
	free(t->socket);
	memset(t, 0, sizeof(*t));
}
