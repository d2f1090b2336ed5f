/* The hardening every Lethe boot applies, in one place: lethe-init applies it, the
 * build writes the cmdline from it, and `lethe audit` checks it. docs/hardening.md gives
 * the reason for each entry. Header-only (data and small inline functions) so that the
 * static lethe-init can use it without linking liblethe. */
#ifndef LETHE_HARDENING_H
#define LETHE_HARDENING_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* One hardening default of the kernel cmdline and every parameter that undoes it.
 *
 * word is written on every cmdline, after the spec's own parameters (the kernel takes
 * the last occurrence); NULL marks a default of the kernel itself that Lethe keeps
 * (KASLR, the CPU mitigations) and so writes nothing for. name is what kernel.unsafe
 * names to waive the default; it is word's key.
 *
 * A parameter undoes the default when (names compared as the kernel's parameq() does:
 * '-' and '_' are the same before the '='):
 *   - it has word's key and a value other than word's and the keep list's, or
 *   - it matches one of the undo patterns, and is not in keep:
 *       "key"       that key, with any value or none
 *       "key=value" that key with that value
 *       "key*"      every parameter whose name starts with key: the kernel matches its
 *                   __setup() parameters by prefix ("slab_merge_x" turns merging on)
 *       "key~item"  that key unless its comma-separated value lists item (lsm=)
 * Do not reorder words: the cmdline is written in this order. */
struct lethe_hardening_param {
	const char *name;
	const char *word;
	const char *const *undo; /* NULL-terminated or NULL */
	const char *const *keep; /* NULL-terminated or NULL: values as strong as word's */
};

#define LETHE_HARDENING_LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct lethe_hardening_param lethe_hardening_params[] = {
	/* Page poisoning and slab poisoning take precedence over the zeroing: the kernel
	 * then logs "heap free:off" (mm/mm_init.c, mm/slub.c). */
	{ "init_on_free", "init_on_free=1",
	  LETHE_HARDENING_LIST("page_poison", "slub_debug*", "slab_debug*"), NULL },
	{ "init_on_alloc", "init_on_alloc=1",
	  LETHE_HARDENING_LIST("page_poison", "slub_debug*", "slab_debug*"), NULL },
	/* slub_merge is the old spelling (__setup_param in mm/slab_common.c). */
	{ "slab_nomerge", "slab_nomerge", LETHE_HARDENING_LIST("slab_merge*", "slub_merge*"),
	  NULL },
	/* Only their own key undoes these. */
	{ "page_alloc.shuffle", "page_alloc.shuffle=1", NULL, NULL },
	{ "randomize_kstack_offset", "randomize_kstack_offset=on", NULL, NULL },
	{ "vsyscall", "vsyscall=none", NULL, NULL },
	{ "debugfs", "debugfs=off", NULL, NULL },
	/* An lsm= list without lockdown leaves the lockdown LSM out where it is not an
	 * early LSM; security= picked the only major LSM before Linux 5.1. */
	{ "lockdown", "lockdown=integrity", LETHE_HARDENING_LIST("lsm~lockdown", "security"),
	  LETHE_HARDENING_LIST("lockdown=confidentiality") },
	{ "module.sig_enforce", "module.sig_enforce=1", NULL, NULL },
	/* The kernel's own defaults. */
	{ "kaslr", NULL, LETHE_HARDENING_LIST("nokaslr", "kaslr.disabled"), NULL },
	{ "mitigations", NULL,
	  LETHE_HARDENING_LIST(
		  "mitigations", "nopti", "pti=off", "kpti=0", "kpti=off", "nospectre_v1",
		  "nospectre_v2", "spectre_v2=off", "spectre_v2_user=off", "nospectre_bhb",
		  "spectre_bhi=off", "nospec_store_bypass_disable", "spec_store_bypass_disable=off",
		  "ssbd=force-off", "l1tf=off", "mds=off", "tsx_async_abort=off",
		  "mmio_stale_data=off", "retbleed=off", "srbds=off", "gather_data_sampling=off",
		  "reg_file_data_sampling=off", "spec_rstack_overflow=off", "nosmap", "nosmep",
		  "noexec=off", "nx=off"),
	  LETHE_HARDENING_LIST("mitigations=auto", "mitigations=auto,nosmt") },
};

#define LETHE_HARDENING_N_PARAMS                                                                   \
	(sizeof(lethe_hardening_params) / sizeof(lethe_hardening_params[0]))

/* The length of a parameter's name: "lockdown" of "lockdown=integrity". */
static inline size_t lethe_hardening_key_len(const char *param)
{
	return strcspn(param, "=");
}

/* Are the first n bytes of a and b the same name to the kernel ('-' == '_')? */
static inline bool lethe_hardening_name_eqn(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return true;
}

/* Is a (a name of length alen) the name b (of length blen)? */
static inline bool lethe_hardening_name_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && lethe_hardening_name_eqn(a, b, alen);
}

/* Is param the same parameter, name and value, as word? */
static inline bool lethe_hardening_same(const char *param, const char *word)
{
	size_t pk = lethe_hardening_key_len(param), wk = lethe_hardening_key_len(word);

	return lethe_hardening_name_eq(param, pk, word, wk) && !strcmp(param + pk, word + wk);
}

/* Does the comma-separated list hold item? */
static inline bool lethe_hardening_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, item, n))
			return true;
		p += len;
		if (!*p)
			return false;
	}
}

/* Does param match one undo pattern (see struct lethe_hardening_param)? */
static inline bool lethe_hardening_pattern_matches(const char *pattern, const char *param)
{
	size_t pk = lethe_hardening_key_len(param);
	size_t plen = strcspn(pattern, "=*~");

	switch (pattern[plen]) {
	case '*':
		return pk >= plen && lethe_hardening_name_eqn(param, pattern, plen);
	case '~':
		return lethe_hardening_name_eq(param, pk, pattern, plen) &&
		       !(param[pk] && lethe_hardening_list_has(param + pk + 1, pattern + plen + 1));
	case '=':
		return lethe_hardening_same(param, pattern);
	default:
		return lethe_hardening_name_eq(param, pk, pattern, plen);
	}
}

/* Does param (one cmdline word) undo the default p? */
static inline bool lethe_hardening_undoes(const struct lethe_hardening_param *p, const char *param)
{
	if (p->word && lethe_hardening_same(param, p->word))
		return false;
	for (const char *const *k = p->keep; k && *k; k++)
		if (lethe_hardening_same(param, *k))
			return false;
	if (p->word && lethe_hardening_name_eq(param, lethe_hardening_key_len(param), p->word,
					       lethe_hardening_key_len(p->word)))
		return true;
	for (const char *const *u = p->undo; u && *u; u++)
		if (lethe_hardening_pattern_matches(*u, param))
			return true;
	return false;
}

/* The default that a kernel.unsafe entry names: its word whole ("init_on_free=1") or
 * its name ("init_on_free", either spelling), or NULL. */
static inline const struct lethe_hardening_param *lethe_hardening_find(const char *entry)
{
	for (size_t i = 0; i < LETHE_HARDENING_N_PARAMS; i++) {
		const struct lethe_hardening_param *p = &lethe_hardening_params[i];

		if ((p->word && lethe_hardening_same(entry, p->word)) ||
		    (!strchr(entry, '=') &&
		     lethe_hardening_name_eq(entry, strlen(entry), p->name, strlen(p->name))))
			return p;
	}
	return NULL;
}

/* What kernel.unsafe holds for p once parsed: its word, or its name for the kernel's
 * own defaults. */
static inline const char *lethe_hardening_id(const struct lethe_hardening_param *p)
{
	return p->word ? p->word : p->name;
}

/* Is p waived by one of the n kernel.unsafe entries? */
static inline bool lethe_hardening_waived(const struct lethe_hardening_param *p,
					  const char *const *unsafe, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lethe_hardening_find(unsafe[i]) == p)
			return true;
	return false;
}

/* The first default, not waived by the n unsafe entries, that param undoes; or NULL. */
static inline const struct lethe_hardening_param *
lethe_hardening_undone_by(const char *param, const char *const *unsafe, size_t n)
{
	for (size_t i = 0; i < LETHE_HARDENING_N_PARAMS; i++) {
		const struct lethe_hardening_param *p = &lethe_hardening_params[i];

		if (lethe_hardening_undoes(p, param) && !lethe_hardening_waived(p, unsafe, n))
			return p;
	}
	return NULL;
}

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

#define LETHE_HARDENING_N_SYSCTLS                                                                  \
	(sizeof(lethe_hardening_sysctls) / sizeof(lethe_hardening_sysctls[0]))

#endif
