/* The hardening every Lethe boot applies, in one place: lethe-init applies it, the
 * build writes the cmdline from it, and `lethe audit` checks it. docs/hardening.md gives
 * the reason for each entry. Header-only data so that the static lethe-init can use it
 * without linking liblethe. */
#ifndef LETHE_HARDENING_H
#define LETHE_HARDENING_H

#include <stddef.h>

/* Kernel parameters on every cmdline; a spec removes one only through kernel.unsafe. */
static const char *const lethe_hardening_cmdline[] = {
	"init_on_free=1",
	"init_on_alloc=1",
	"slab_nomerge",
	"page_alloc.shuffle=1",
	"randomize_kstack_offset=on",
	"vsyscall=none",
	"debugfs=off",
	"lockdown=integrity",
	"module.sig_enforce=1",
};

/* sysctls (as paths below /proc/sys) and the values lethe-init writes. The Kernel
 * Self-Protection Project's recommendations, less the ones that need a newer kernel. */
struct lethe_hardening_sysctl {
	const char *path;
	const char *value;
};

static const struct lethe_hardening_sysctl lethe_hardening_sysctls[] = {
	{ "kernel/kptr_restrict", "2" },
	{ "kernel/dmesg_restrict", "1" },
	{ "kernel/unprivileged_bpf_disabled", "1" },
	{ "net/core/bpf_jit_harden", "2" },
	{ "kernel/perf_event_paranoid", "3" },
	{ "kernel/kexec_load_disabled", "1" },
	{ "kernel/yama/ptrace_scope", "2" },
	{ "kernel/sysrq", "0" },
	{ "kernel/unprivileged_userns_clone", "0" },
	{ "dev/tty/ldisc_autoload", "0" },
	{ "vm/unprivileged_userfaultfd", "0" },
	{ "fs/protected_symlinks", "1" },
	{ "fs/protected_hardlinks", "1" },
	{ "fs/protected_fifos", "2" },
	{ "fs/protected_regular", "2" },
	{ "fs/suid_dumpable", "0" },
	{ "net/ipv4/conf/all/rp_filter", "1" },
	{ "net/ipv4/conf/all/accept_redirects", "0" },
	{ "net/ipv4/conf/all/send_redirects", "0" },
	{ "net/ipv4/conf/all/accept_source_route", "0" },
	{ "net/ipv6/conf/all/accept_redirects", "0" },
	{ "net/ipv6/conf/all/accept_source_route", "0" },
	{ "net/ipv4/tcp_syncookies", "1" },
};

#define LETHE_HARDENING_N_CMDLINE (sizeof(lethe_hardening_cmdline) / sizeof(lethe_hardening_cmdline[0]))
#define LETHE_HARDENING_N_SYSCTLS (sizeof(lethe_hardening_sysctls) / sizeof(lethe_hardening_sysctls[0]))

#endif
