/* The console session (issue 13.3, docs/session.md): the shell runs as the spec's
 * session.user, never root; root is reachable (through busybox's su) only when the spec
 * says session.admin_password: ask and the person at the console typed one at boot,
 * which lives only as a hash in the RAM copy of /etc/shadow. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <lethe/contract.h>
#include <lethe/core.h>

#include "session.h"

#define SHADOW		   "/etc/shadow"
#define SHADOW_TMP	   "/etc/.shadow.lethe-tmp"
#define ADMIN_PROMPT_S	   300 /* then the session goes on without root */
#define ADMIN_PASSWORD_MAX 256

static struct {
	char user[33];
	char home[256];
	bool admin;
	gid_t gid;
} session;

/* One line from the console without echo; its length, 0 for none (empty, timeout). */
static size_t read_secret(char *buf, size_t size)
{
	struct termios old, quiet;
	bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	size_t len = 0;

	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	while (len + 1 < size && poll(&pfd, 1, ADMIN_PROMPT_S * 1000) > 0) {
		ssize_t n = read(STDIN_FILENO, buf + len, 1);

		if (n <= 0 || buf[len] == '\n' || buf[len] == '\r')
			break;
		len++;
	}
	buf[len] = '\0';
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	(void)!write(STDOUT_FILENO, "\n", 1);
	return len;
}

/* "$6$" and 16 random characters of crypt's alphabet. */
static int make_salt(char salt[21])
{
	static const char abc[] =
		"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[16];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	memcpy(salt, "$6$", 3);
	for (size_t i = 0; i < 16; i++)
		salt[3 + i] = abc[rnd[i] & 63];
	salt[19] = '$';
	salt[20] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
	return 0;
}

/* The RAM copy of /etc/shadow with root's password field set to hash (temporary file,
 * then rename: a half-written shadow would lock root out or worse). */
static int write_root_hash(const char *hash)
{
	char *text = malloc(LETHE_ACCOUNT_FILE_MAX), *line, *save = NULL;
	ssize_t n = text ? init_read_file(SHADOW, text, LETHE_ACCOUNT_FILE_MAX) : -ENOMEM;
	bool found = false;
	int fd, r = 0;

	if (n < 0) {
		free(text);
		return (int)n;
	}
	fd = open(SHADOW_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(text);
		return -errno;
	}
	for (line = strtok_r(text, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *rest = strchr(line, ':');

		if (!strncmp(line, "root:", 5) && rest && (rest = strchr(rest + 1, ':'))) {
			found = true;
			r = dprintf(fd, "root:%s%s\n", hash, rest) < 0 ? -EIO : 0;
		} else {
			r = dprintf(fd, "%s\n", line) < 0 ? -EIO : 0;
		}
	}
	if (r == 0 && !found)
		r = -ENOENT;
	if (r == 0 && (fchown(fd, 0, 0) < 0 || fchmod(fd, 0600) < 0 || fsync(fd) < 0))
		r = -errno;
	close(fd);
	if (r == 0 && rename(SHADOW_TMP, SHADOW) < 0)
		r = -errno;
	if (r < 0)
		unlink(SHADOW_TMP);
	explicit_bzero(text, LETHE_ACCOUNT_FILE_MAX);
	free(text);
	return r;
}

static void ask_admin_password(void)
{
	char pw[ADMIN_PASSWORD_MAX], salt[21];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *hash = NULL;
	size_t len;
	int r;

	init_msg("%s for this session (nothing: no root; asked once, kept in RAM only):",
		 LETHE_SESSION_ADMIN_PROMPT + strlen("lethe-init: "));
	len = read_secret(pw, sizeof(pw));
	if (len && cd && make_salt(salt) == 0)
		hash = crypt_r(pw, salt, cd);
	explicit_bzero(pw, sizeof(pw));
	if (!len) {
		init_msg("session: no administration password: root cannot be reached");
	} else if (!hash || hash[0] != '$') {
		init_msg("session: cannot hash the administration password: root stays locked");
	} else if ((r = write_root_hash(hash)) < 0) {
		init_msg("session: cannot write " SHADOW ": %s; root stays locked", strerror(-r));
	} else {
		init_msg("session: administration password set (su works in this session)");
	}
	if (cd) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
}

void init_session_prepare(const struct lethe_spec *spec)
{
	const struct lethe_spec_user *u = NULL;

	if (!spec || !spec->session.user)
		return;
	for (size_t i = 0; i < spec->n_users; i++)
		if (!strcmp(spec->users[i].name, spec->session.user))
			u = &spec->users[i];
	if (!u || u->uid == 0 || strlen(u->name) >= sizeof(session.user) ||
	    strlen(u->home) >= sizeof(session.home)) {
		/* The parser refuses all of these; a session that cannot be the user's is not
		 * started as root instead. */
		init_msg("session: session.user '%s' is unusable: no console session",
			 spec->session.user);
		snprintf(session.user, sizeof(session.user), "%s", "-");
		return;
	}
	snprintf(session.user, sizeof(session.user), "%s", u->name);
	snprintf(session.home, sizeof(session.home), "%s", u->home);
	session.admin = spec->session.admin_password;
	if (session.admin)
		ask_admin_password();
	else
		init_msg("session: %s, without administration: root cannot be reached",
			 session.user);
}

int init_session_enter(void)
{
	struct lethe_account acc;
	char pid[24];
	int fd, r;

	if (!session.user[0]) {
		setenv("HOME", "/root", 1); /* no session: section, the owner's root shell */
		return 0;
	}
	if (!strcmp(session.user, "-"))
		return -EPERM;
	/* While still root: say which process the session is, for the audit. */
	fd = open(LETHE_PATH_SESSION_PID, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd >= 0) {
		snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		(void)!write(fd, pid, strlen(pid));
		close(fd);
	}
	r = lethe_account_resolve("/etc/passwd", "/etc/group", session.user, NULL, &acc);
	if (r < 0)
		return r;
	if (acc.uid == 0)
		return -EPERM;
	/* Groups first, then the gid, then the uid: after setuid() nothing else may be
	 * changed. All of real, effective and saved ids, so no way back. */
	if (setgroups(acc.n_groups, acc.groups) < 0 || setresgid(acc.gid, acc.gid, acc.gid) < 0 ||
	    setresuid(acc.uid, acc.uid, acc.uid) < 0)
		return -errno;
	if (setuid(0) == 0 || geteuid() == 0 || getuid() == 0)
		return -EPERM;
	/* setresuid() away from 0 cleared the permitted and effective sets; the ambient
	 * set too, to be sure. Without an administration password nothing may ever raise
	 * privileges again (the image has no setuid file either). */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (!session.admin && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	clearenv();
	setenv("HOME", session.home, 1);
	setenv("USER", session.user, 1);
	setenv("LOGNAME", session.user, 1);
	setenv("SHELL", "/bin/sh", 1);
	setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
	setenv("TERM", "linux", 1);
	if (chdir(session.home) < 0 && chdir("/") < 0)
		return -errno;
	return 0;
}

int init_session_control_open(void)
{
	struct lethe_account acc;
	int fd;

	if (!session.user[0] || !strcmp(session.user, "-") ||
	    lethe_account_resolve("/etc/passwd", "/etc/group", session.user, NULL, &acc) < 0)
		return -1;
	(void)unlink(LETHE_PATH_SESSION_CONTROL);
	if (mkfifo(LETHE_PATH_SESSION_CONTROL, 0600) < 0) {
		init_msg("session: no " LETHE_PATH_SESSION_CONTROL ": %s", strerror(errno));
		return -1;
	}
	/* Read and write: the FIFO never reads as closed when a writer goes away. */
	fd = open(LETHE_PATH_SESSION_CONTROL, O_RDWR | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, 0, acc.gid) < 0 || fchmod(fd, 0620) < 0) {
		init_msg("session: cannot open " LETHE_PATH_SESSION_CONTROL ": %s",
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int init_session_control_read(int fd)
{
	char buf[128];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int how = 0;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (char *line = buf, *nl; line && *line && !how; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		if (lethe_pid1_signal_for(line))
			how = lethe_pid1_signal_how(lethe_pid1_signal_for(line));
	}
	return how;
}
