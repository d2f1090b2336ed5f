/* Drive a guest through its serial console: wait until lethe-init says stage 2 is
 * ready, find the shell, run one command framed by markers, power off. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lethe/vm.h>
#include "vm-internal.h"

#define PROBE_INTERVAL_MS 2000
#define POWEROFF_GRACE_MS 60000

size_t lethe_vm_console_escape(const char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if ((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t') {
			out[n++] = (char)c;
		} else if (c != '\r') {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	return n;
}

int lethe_vm_parse_frame(const char *console, size_t len, const char *nonce, char **ret_output,
			 int *ret_status)
{
	struct lethe_buf begin = { 0 }, end = { 0 }, out = { 0 };
	const char *b, *e, *p;
	unsigned long status;
	char *endp;
	int r;

	r = lethe_buf_printf(&begin, "BEGIN-%s\r\n", nonce);
	if (r >= 0)
		r = lethe_buf_printf(&end, "END-%s:", nonce);
	if (r < 0)
		goto out;
	r = 0;
	b = memmem(console, len, begin.data, begin.len);
	if (!b)
		goto out;
	b += begin.len;
	e = memmem(b, len - (size_t)(b - console), end.data, end.len);
	if (!e)
		goto out;
	/* the status, then the end of its line */
	p = e + end.len;
	if (!memchr(p, '\n', len - (size_t)(p - console)))
		goto out;
	errno = 0;
	status = strtoul(p, &endp, 10);
	if (endp == p || errno || status > 255 || (*endp != '\r' && *endp != '\n')) {
		r = lethe_error(-LETHE_E_INVALID, "console: malformed end marker");
		goto out;
	}
	/* The end marker starts a line of its own: printf put a newline before it. */
	if (e > b && e[-1] == '\n')
		e--;
	if (e > b && e[-1] == '\r')
		e--;
	for (p = b; p < e; p++) {
		if (*p == '\r' && p + 1 < e && p[1] == '\n')
			continue;
		r = lethe_buf_append(&out, p, 1);
		if (r < 0)
			goto out;
	}
	*ret_output = out.data ? out.data : strdup("");
	out.data = NULL;
	if (!*ret_output) {
		r = -ENOMEM;
		goto out;
	}
	*ret_status = (int)status;
	r = 1;
out:
	lethe_buf_release(&begin);
	lethe_buf_release(&end);
	lethe_buf_release(&out);
	return r;
}

enum phase { WAIT_READY, WAIT_SHELL, WAIT_FRAME, WAIT_EXIT };

static const char *const phase_what[] = {
	[WAIT_READY] = "the marker '" LETHE_VM_READY_MARKER "'",
	[WAIT_SHELL] = "a shell on the console",
	[WAIT_FRAME] = "the end of the command",
	[WAIT_EXIT] = "the guest to power off",
};

struct driver {
	int in, out;	      /* QEMU's stdin (we write) and stdout (we read) */
	struct lethe_buf con; /* everything the console said */
	size_t scan;	      /* where the current phase started reading */
	char nonce[33];
	enum phase phase;
	int64_t last_probe;
};

static int send(struct driver *d, struct lethe_buf *line, int r)
{
	if (r >= 0)
		r = lethe_write_full(d->in, line->data, line->len);
	lethe_buf_release(line);
	return r;
}

static bool seen(struct driver *d, const char *what)
{
	return memmem(d->con.data + d->scan, d->con.len - d->scan, what, strlen(what)) != NULL;
}

/* lethe-init halted in stage 1 (it waits for the power button then): no shell will ever
 * come, so say why at once instead of waiting for the timeout. 0 while it has not,
 * or while its line is not complete. */
static int halted(struct driver *d)
{
	const char *p = memmem(d->con.data + d->scan, d->con.len - d->scan, LETHE_VM_HALT_MARKER,
			       strlen(LETHE_VM_HALT_MARKER));
	const char *end;

	if (!p) /* issue 12: the firmware or systemd-boot refused an image (Secure Boot) */
		return vm_denied(d->con.data, d->con.len, d->scan);
	end = memchr(p, '\n', d->con.len - (size_t)(p - d->con.data));
	if (!end)
		return 0;
	if (end > p && end[-1] == '\r')
		end--;
	return lethe_error(-EIO, "the guest stopped before stage 2: %.*s", (int)(end - p), p);
}

/* One step of the conversation after new console bytes came (or a probe is due). */
static int step(struct driver *d, const char *command, char **ret_output, int *ret_status)
{
	struct lethe_buf want = { 0 }, line = { 0 };
	int r = 0;

	switch (d->phase) {
	case WAIT_READY:
		if (!seen(d, LETHE_VM_READY_MARKER))
			return halted(d);
		d->phase = WAIT_SHELL;
		d->scan = d->con.len;
		d->last_probe = 0;
		/* fall through */
	case WAIT_SHELL:
		/* The shell's answer holds "42", the echo of what we typed only "$((6*7))". */
		r = lethe_buf_printf(&want, "LETHE-42-%s", d->nonce);
		if (r < 0)
			return r;
		if (seen(d, want.data)) {
			lethe_buf_release(&want);
			d->phase = WAIT_FRAME;
			d->scan = d->con.len;
			/* Neither marker appears as such in the echo of this line. */
			r = lethe_buf_printf(
				&line,
				"printf '%%s-%%s\\n' BEGIN %s; ( %s ) 2>&1 </dev/null; "
				"printf '\\n%%s-%%s:%%d\\n' END %s $?\n",
				d->nonce, command, d->nonce);
			return send(d, &line, r);
		}
		lethe_buf_release(&want);
		if (vm_now_ms() - d->last_probe >= PROBE_INTERVAL_MS) {
			d->last_probe = vm_now_ms();
			r = lethe_buf_printf(&line, "echo LETHE-$((6*7))-%s\n", d->nonce);
			return send(d, &line, r);
		}
		return 0;
	case WAIT_FRAME:
		r = lethe_vm_parse_frame(d->con.data + d->scan, d->con.len - d->scan, d->nonce,
					 ret_output, ret_status);
		if (r <= 0)
			return r;
		d->phase = WAIT_EXIT;
		/* busybox poweroff signals PID 1, which wipes and powers off */
		r = lethe_buf_puts(&line, "lethe poweroff || busybox poweroff\n");
		return send(d, &line, r);
	case WAIT_EXIT:
		return 0;
	}
	return 0;
}

static int drive(struct driver *d, pid_t pid, const char *command, unsigned timeout_s,
		 lethe_vm_console_fn fn, void *userdata, char **ret_output, int *ret_status)
{
	int64_t deadline = vm_now_ms() + (int64_t)timeout_s * 1000;
	bool grace = false;
	char buf[4096];
	int r;

	for (;;) {
		int64_t left;
		struct pollfd pfd = { .fd = d->out, .events = POLLIN };
		ssize_t n;

		/* Once the command ran, the guest gets a while to power off, then is killed. */
		if (d->phase == WAIT_EXIT && !grace) {
			grace = true;
			if (deadline > vm_now_ms() + POWEROFF_GRACE_MS)
				deadline = vm_now_ms() + POWEROFF_GRACE_MS;
		}
		left = deadline - vm_now_ms();
		if (left <= 0) {
			vm_stop(pid);
			if (d->phase == WAIT_EXIT)
				return 0; /* the command ran; the guest just would not power off */
			return lethe_error(-ETIMEDOUT,
					   "timed out after %u s waiting for %s; QEMU was killed",
					   timeout_s, phase_what[d->phase]);
		}
		r = poll(&pfd, 1, (int)(left < 500 ? left : 500));
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0) {
			n = read(d->out, buf, sizeof(buf));
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				return -errno;
			if (n == 0) { /* QEMU exited */
				r = vm_wait(pid, 0);
				if (d->phase == WAIT_EXIT)
					return 0;
				return lethe_error(-EIO, "QEMU exited (status %d) before %s", r,
						   phase_what[d->phase]);
			}
			if (n > 0) {
				if (fn)
					fn(buf, (size_t)n, userdata);
				if (d->con.len + (size_t)n > LETHE_VM_MAX_CONSOLE)
					return lethe_error(-EFBIG,
							   "the console said more than %u bytes",
							   LETHE_VM_MAX_CONSOLE);
				r = lethe_buf_append(&d->con, buf, (size_t)n);
				if (r < 0)
					return r;
			}
		}
		r = step(d, command, ret_output, ret_status);
		if (r < 0)
			return r;
	}
}

int lethe_vm_exec(const struct lethe_vm_config *c, const char *command, unsigned timeout_s,
		  lethe_vm_console_fn fn, void *userdata, char **ret_output, int *ret_status)
{
	struct driver d = { .in = -1, .out = -1 };
	int to_guest[2] = { -1, -1 }, from_guest[2] = { -1, -1 };
	struct lethe_vm_config cc = *c;
	char *output = NULL;
	uint8_t rnd[16];
	int status = 0, r;
	pid_t pid;

	if (strchr(command, '\n') || strchr(command, '\r'))
		return lethe_error(-EINVAL, "the command must be one line");
	if (!timeout_s)
		return lethe_error(-EINVAL, "driving a guest needs a timeout");
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	lethe_hex_encode(rnd, sizeof(rnd), d.nonce);
	cc.interactive = false;
	if (pipe2(to_guest, O_CLOEXEC) < 0 || pipe2(from_guest, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	/* A guest that dies while we type must give EPIPE, not kill the caller. */
	signal(SIGPIPE, SIG_IGN);
	r = vm_spawn(&cc, to_guest[0], from_guest[1], &pid);
	if (r < 0)
		goto out;
	close(to_guest[0]);
	close(from_guest[1]);
	to_guest[0] = from_guest[1] = -1;
	d.in = to_guest[1];
	d.out = from_guest[0];
	r = drive(&d, pid, command, timeout_s, fn, userdata, &output, &status);
	if (r < 0 && d.phase != WAIT_EXIT)
		vm_stop(pid);
	if (r >= 0 || d.phase == WAIT_EXIT) {
		*ret_output = output;
		*ret_status = status;
		output = NULL;
		r = 0;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (to_guest[i] >= 0)
			close(to_guest[i]);
		if (from_guest[i] >= 0)
			close(from_guest[i]);
	}
	lethe_buf_release(&d.con);
	free(output);
	return r;
}
