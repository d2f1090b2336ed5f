/* Unit tests of lethe-init's service table (src/init/supervise.c): the spec's services
 * and the console shell fit in LETHE_MAX_SERVICES + 1 slots, and nothing is written
 * past the table however many services and slots there are (issue 9.7). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/contract.h>

#include "session.h"
#include "stage2.h"
#include "supervise.h"

/* What supervise.c takes from the rest of lethe-init. */
bool init_debug;
void init_msg(const char *fmt, ...)
{
	(void)fmt;
}
void init_dbg(const char *fmt, ...)
{
	(void)fmt;
}
double init_uptime(void)
{
	return 1.0;
}
int init_mkdir_p(const char *path, mode_t mode)
{
	(void)path, (void)mode;
	return 0;
}
int init_session_enter(void)
{
	return 0;
}
int init_session_control_open(void)
{
	return -1;
}
int init_session_control_read(int fd)
{
	(void)fd;
	return 0;
}
void init_stage_shutdown(int how)
{
	(void)how;
	abort();
}

#define N_SPEC (LETHE_MAX_SERVICES + 1)
static struct lethe_spec_service spec_services[N_SPEC];
static char names[N_SPEC][8];
static char *argv_s[] = { "/bin/s", NULL };

/* A table of n_slots entries followed by a canary of one entry's size. */
static struct {
	struct init_service table[LETHE_MAX_SERVICES + 1];
	unsigned char canary[sizeof(struct init_service)];
} mem;

static size_t fill(size_t n_spec, bool shell, size_t n_slots)
{
	struct lethe_spec spec = { .services = spec_services, .n_services = n_spec };
	size_t n;

	for (size_t i = 0; i < N_SPEC; i++) {
		snprintf(names[i], sizeof(names[i]), "s%zu", i);
		spec_services[i] = (struct lethe_spec_service){ .name = names[i],
								.command = { argv_s, 1 },
								.restart = true };
	}
	memset(&mem, 0xa5, sizeof(mem));
	n = init_services_fill(&spec, shell, mem.table, n_slots);
	/* Nothing past the slots it was given. */
	for (size_t i = n_slots * sizeof(struct init_service); i < sizeof(mem); i++)
		if (((unsigned char *)&mem)[i] != 0xa5)
			fail_msg("byte %zu past %zu slots was written", i, n_slots);
	return n;
}

static void test_table_holds_cap_and_shell(void **state)
{
	(void)state;
	assert_int_equal(fill(LETHE_MAX_SERVICES, true, LETHE_MAX_SERVICES + 1),
			 LETHE_MAX_SERVICES + 1);
	assert_string_equal(mem.table[0].name, "s0");
	assert_false(mem.table[0].shell);
	assert_int_equal(mem.table[0].out, -1);
	assert_true(mem.table[LETHE_MAX_SERVICES].shell);
	assert_string_equal(mem.table[LETHE_MAX_SERVICES].name, "console shell");
	assert_int_equal(fill(LETHE_MAX_SERVICES, false, LETHE_MAX_SERVICES + 1),
			 LETHE_MAX_SERVICES);
	assert_int_equal(fill(0, true, LETHE_MAX_SERVICES + 1), 1);
}

static void test_table_never_overflows(void **state)
{
	(void)state;
	/* The old table: as many slots as services, then the shell appended past it. */
	assert_int_equal(fill(LETHE_MAX_SERVICES, true, LETHE_MAX_SERVICES), LETHE_MAX_SERVICES);
	assert_false(mem.table[LETHE_MAX_SERVICES - 1].shell);
	assert_int_equal(fill(3, true, 2), 2);
	assert_int_equal(fill(3, true, 0), 0);
	/* More than the cap (the parser refuses it): none of the spec's, the shell still. */
	assert_int_equal(fill(LETHE_MAX_SERVICES + 1, true, LETHE_MAX_SERVICES + 1), 1);
	assert_true(mem.table[0].shell);
}

/* session.graphical (issue 13.4): cage as the session user, between the spec's services
 * and the console shell, with "cage -- COMMAND..." as argv; none without a command. */
static void test_graphical_session(void **state)
{
	static char *cmd[] = { "/usr/bin/firefox-esr", "--private-window" };
	static struct init_service table[LETHE_MAX_SERVICES + 3];
	struct lethe_spec spec = { .services = spec_services, .n_services = 1 };
	size_t n;

	(void)state;
	fill(1, false, 1); /* names the spec's services */
	spec.session.user = "user";
	spec.session.graphical = (struct lethe_strv){ cmd, 2 };
	n = init_services_fill(&spec, true, table, LETHE_MAX_SERVICES + 3);
	assert_int_equal(n, 4);
	/* seatd first, as root, its socket the user's. */
	assert_string_equal(table[1].name, "seatd");
	assert_null(table[1].user);
	assert_false(table[1].graphical);
	assert_string_equal(table[1].argv[0], "/usr/sbin/seatd");
	assert_string_equal(table[1].argv[1], "-u");
	assert_string_equal(table[1].argv[2], "user");
	assert_null(table[1].argv[3]);
	assert_string_equal(table[2].name, "graphical");
	assert_true(table[2].graphical);
	assert_false(table[2].shell);
	assert_true(table[2].restart);
	assert_string_equal(table[2].user, "user");
	assert_string_equal(table[2].argv[0], "/usr/bin/cage");
	assert_string_equal(table[2].argv[1], "--");
	assert_string_equal(table[2].argv[2], "/usr/bin/firefox-esr");
	assert_string_equal(table[2].argv[3], "--private-window");
	assert_null(table[2].argv[4]);
	assert_true(table[3].shell);
	/* The spec's full cap of services still leaves seatd, cage and the shell their
	 * slots. */
	spec.n_services = LETHE_MAX_SERVICES;
	fill(LETHE_MAX_SERVICES, false, 1);
	assert_int_equal(init_services_fill(&spec, true, table, LETHE_MAX_SERVICES + 3),
			 LETHE_MAX_SERVICES + 3);
	assert_true(table[LETHE_MAX_SERVICES + 1].graphical);
	/* No command, no cage; no session user, no cage. */
	spec.n_services = 1;
	spec.session.graphical.n = 0;
	assert_int_equal(init_services_fill(&spec, true, table, LETHE_MAX_SERVICES + 3), 2);
	assert_false(table[1].graphical);
	spec.session.graphical.n = 2;
	spec.session.user = NULL;
	assert_int_equal(init_services_fill(&spec, false, table, LETHE_MAX_SERVICES + 3), 1);
}

/* The signal protocol of <lethe/contract.h>: busybox's convention, and lethe-init
 * watches every signal of it. */
static void test_signals(void **state)
{
	sigset_t blocked;
	int sfd;

	(void)state;
	assert_int_equal(lethe_pid1_signal_for("poweroff"), SIGUSR2);
	assert_int_equal(lethe_pid1_signal_for("halt"), SIGUSR1);
	assert_int_equal(lethe_pid1_signal_for("reboot"), SIGTERM);
	assert_int_equal(lethe_pid1_signal_for("shutdown"), 0);
	assert_true(lethe_pid1_signal_how(SIGUSR2) == (int)RB_POWER_OFF);
	assert_true(lethe_pid1_signal_how(SIGUSR1) == (int)RB_HALT_SYSTEM);
	assert_true(lethe_pid1_signal_how(SIGTERM) == (int)RB_AUTOBOOT);
	assert_true(lethe_pid1_signal_how(SIGINT) == (int)RB_AUTOBOOT);
	assert_int_equal(lethe_pid1_signal_how(SIGHUP), 0);
	assert_int_equal(lethe_pid1_signal_how(SIGCHLD), 0);

	sfd = init_signal_fd();
	assert_true(sfd >= 0);
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &blocked), 0);
	for (size_t i = 0; i < LETHE_PID1_N_SIGNALS; i++)
		assert_true(sigismember(&blocked, lethe_pid1_signals[i].sig));
	close(sfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_holds_cap_and_shell),
		cmocka_unit_test(test_table_never_overflows),
		cmocka_unit_test(test_graphical_session),
		cmocka_unit_test(test_signals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
