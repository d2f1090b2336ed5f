/* The graphical session (issue 13.4, docs/session.md): the Wayland kiosk cage runs the
 * spec's session.graphical.command as session.user, supervised like a service. There is
 * no logind and no udevd: seatd (root, supervised beside cage) grants cage the seat's
 * DRM and input devices through libseat, and lethe-init does the rest once at boot:
 * XDG_RUNTIME_DIR, and the udev properties libinput looks for on input devices. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <lethe/core.h>

#include "graphical.h"
#include "init.h"

#define DRM_CARD	 "/dev/dri/card0"
#define DRM_WAIT_S	 10.0 /* the GPU driver probes after the module loads */
#define UDEV_DATA	 "/run/udev/data"
#define RUNTIME_DIR_BASE "/run/user"

static char *cage_argv[LETHE_SPEC_GRAPHICAL_ARGS_MAX + 3];
static char *seatd_argv[] = { LETHE_INIT_SEATD, "-u", NULL, NULL };

static struct {
	bool on;
	char user[33], home[256], runtime[64];
} g;

char **init_graphical_argv(const struct lethe_spec *spec)
{
	size_t n = 0;

	if (!spec || !spec->session.user || spec->session.graphical.n == 0 ||
	    spec->session.graphical.n > LETHE_SPEC_GRAPHICAL_ARGS_MAX)
		return NULL;
	cage_argv[n++] = LETHE_INIT_CAGE;
	cage_argv[n++] = "--";
	for (size_t i = 0; i < spec->session.graphical.n; i++)
		cage_argv[n++] = spec->session.graphical.v[i];
	cage_argv[n] = NULL;
	return cage_argv;
}

char **init_graphical_seatd_argv(const struct lethe_spec *spec)
{
	if (!init_graphical_argv(spec))
		return NULL;
	seatd_argv[2] = spec->session.user;
	return seatd_argv;
}

/* The kernel's capability bitmap of an input device (sysfs, hex words, most significant
 * first): whether bit is set. */
static bool has_cap(const char *event, const char *what, unsigned bit)
{
	char path[128], buf[1024], *words[64], *save = NULL;
	size_t n = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "/sys/class/input/%s/device/capabilities/%s", event, what);
	len = init_read_file(path, buf, sizeof(buf));
	if (len <= 0)
		return false;
	for (char *w = strtok_r(buf, " \n", &save); w && n < 64; w = strtok_r(NULL, " \n", &save))
		words[n++] = w;
	if (bit / 64 >= n)
		return false;
	return (strtoull(words[n - 1 - bit / 64], NULL, 16) >> (bit % 64)) & 1;
}

/* What udev's input_id builtin would record for /dev/input/EVENT, in udev's database
 * (libinput ignores a device without ID_INPUT). A pointer: relative axes, or absolute
 * ones with a button (QEMU's tablet); a keyboard: the Q key. */
static void describe_input(const char *event, dev_t rdev)
{
	char path[128], text[256];
	bool key = has_cap(event, "ev", 1), rel = has_cap(event, "ev", 2),
	     abs = has_cap(event, "ev", 3);
	bool mouse = rel || (abs && has_cap(event, "key", 0x110 /* BTN_LEFT */));
	bool keyboard = key && has_cap(event, "key", 16 /* KEY_Q */);
	int fd;

	snprintf(path, sizeof(path), UDEV_DATA "/c%u:%u", major(rdev), minor(rdev));
	snprintf(text, sizeof(text), "I:1\nE:ID_INPUT=1\n%s%s%s", key ? "E:ID_INPUT_KEY=1\n" : "",
		 keyboard ? "E:ID_INPUT_KEYBOARD=1\n" : "", mouse ? "E:ID_INPUT_MOUSE=1\n" : "");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		init_msg("graphical: cannot describe %s for libinput: %s", event, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Every input event device: described for libinput. The number of them. */
static unsigned describe_inputs(void)
{
	const char *dir = "/dev/input", *prefix = "event";
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[300];
		struct stat st;

		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) < 0 || !S_ISCHR(st.st_mode))
			continue;
		describe_input(e->d_name, st.st_rdev);
		n++;
	}
	closedir(d);
	return n;
}

void init_graphical_prepare(const struct lethe_spec *spec)
{
	struct lethe_account acc;
	double deadline = init_uptime() + DRM_WAIT_S;
	unsigned n_input;
	int r;

	if (!init_graphical_argv(spec))
		return;
	r = lethe_account_resolve("/etc/passwd", "/etc/group", spec->session.user, NULL, &acc);
	if (r < 0 || acc.uid == 0) {
		init_msg("graphical: session.user '%s' is unusable: no graphical session",
			 spec->session.user);
		return;
	}
	while (access(DRM_CARD, F_OK) < 0 && init_uptime() < deadline)
		nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
	if (access(DRM_CARD, F_OK) < 0)
		init_msg("graphical: no " DRM_CARD " after %.0f s (is the GPU's driver in "
			 "kernel.modules?)",
			 DRM_WAIT_S);
	(void)init_mkdir_p(UDEV_DATA, 0755);
	n_input = describe_inputs();
	snprintf(g.runtime, sizeof(g.runtime), RUNTIME_DIR_BASE "/%u", (unsigned)acc.uid);
	(void)init_mkdir_p(RUNTIME_DIR_BASE, 0755);
	if ((mkdir(g.runtime, 0700) < 0 && errno != EEXIST) ||
	    chown(g.runtime, acc.uid, acc.gid) < 0 || chmod(g.runtime, 0700) < 0) {
		init_msg("graphical: cannot make %s: %s; no graphical session", g.runtime,
			 strerror(errno));
		return;
	}
	snprintf(g.user, sizeof(g.user), "%s", spec->session.user);
	for (size_t i = 0; i < spec->n_users; i++)
		if (!strcmp(spec->users[i].name, spec->session.user))
			snprintf(g.home, sizeof(g.home), "%s", spec->users[i].home);
	g.on = true;
	init_msg("graphical: cage for %s (uid %u), %u input devices, %s", g.user, (unsigned)acc.uid,
		 n_input, spec->session.graphical.v[0]);
}

void init_graphical_env(void)
{
	if (!g.on)
		return;
	setenv("HOME", g.home, 1);
	setenv("USER", g.user, 1);
	setenv("LOGNAME", g.user, 1);
	setenv("SHELL", "/bin/sh", 1);
	setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
	setenv("LANG", "C.UTF-8", 1);
	setenv("XDG_RUNTIME_DIR", g.runtime, 1);
	setenv("XDG_SESSION_TYPE", "wayland", 1);
	/* No logind: libseat asks lethe-init's seatd for the devices. */
	setenv("LIBSEAT_BACKEND", "seatd", 1);
	setenv("SEATD_SOCK", "/run/seatd.sock", 1);
	setenv("WLR_DRM_DEVICES", DRM_CARD, 1);
	/* No GPU but a frame buffer: wlroots' CPU renderer, software cursors. */
	setenv("WLR_RENDERER", "pixman", 1);
	setenv("WLR_NO_HARDWARE_CURSORS", "1", 1);
	/* A kiosk with no keyboard or mouse plugged in still shows its program. */
	setenv("WLR_LIBINPUT_NO_DEVICES", "1", 1);
	setenv("MOZ_ENABLE_WAYLAND", "1", 1);
	if (!g.home[0] || chdir(g.home) < 0)
		(void)!chdir("/");
}
