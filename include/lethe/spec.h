/* The image spec: one YAML file that declares a Lethe image (docs/spec.md documents it
 * field by field). lethe_spec_load() parses and validates it; sections that other
 * modules interpret (firewall) are kept as position-carrying YAML nodes,
 * so that their errors can still name the line and column. */
#ifndef LETHE_SPEC_H
#define LETHE_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <lethe/contract.h>
#include <lethe/kernel-profile.h>
#include <lethe/core.h>
#include <lethe/util.h>

/* ---- A YAML document as a tree that remembers where each node stood. ---- */

enum lethe_node_type {
	LETHE_NODE_SCALAR,
	LETHE_NODE_SEQUENCE,
	LETHE_NODE_MAPPING,
};

struct lethe_node_pair;

struct lethe_node {
	enum lethe_node_type type;
	unsigned line, column;	       /* 1-based, where the node starts */
	char *value;		       /* SCALAR: the text; NULL otherwise */
	size_t n;		       /* SEQUENCE: items; MAPPING: pairs */
	struct lethe_node **items;     /* SEQUENCE */
	struct lethe_node_pair *pairs; /* MAPPING, in document order */
};

struct lethe_node_pair {
	struct lethe_node *key; /* always a SCALAR */
	struct lethe_node *value;
};

/* Parse YAML text (one document; anchors and aliases refused; at most
 * LETHE_YAML_MAX_NODES nodes, LETHE_YAML_MAX_DEPTH levels). name is what messages call
 * the input. The caller frees *ret with lethe_node_free(). */
#define LETHE_YAML_MAX_NODES 100000
#define LETHE_YAML_MAX_DEPTH 32
int lethe_yaml_parse(const char *name, const char *text, size_t len, struct lethe_node **ret);
struct lethe_node *lethe_node_free(struct lethe_node *node); /* returns NULL */

/* The value of key in a MAPPING, or NULL. */
struct lethe_node *lethe_node_get(const struct lethe_node *map, const char *key);

/* Checks for section interpreters. Each fails with -EBADMSG and a message of the form
 * "spec 'FILE' line L column C: WHAT ..." through lethe_error(). */
/* Record such a message about node (NULL: no position) and return -EBADMSG. */
int lethe_node_error(const char *file, const struct lethe_node *node, const char *fmt, ...)
	LETHE_PRINTF(3, 4);
int lethe_node_expect(const char *file, const struct lethe_node *node, enum lethe_node_type type,
		      const char *what);
/* Every key of map must be in allowed (NULL-terminated); an unknown key is an error
 * that suggests the nearest allowed key ("did you mean 'packages'?"). */
int lethe_node_check_keys(const char *file, const struct lethe_node *map,
			  const char *const *allowed);
/* Scalars as typed values; what names the field in the message. */
int lethe_node_bool(const char *file, const struct lethe_node *node, const char *what, bool *ret);
int lethe_node_uint(const char *file, const struct lethe_node *node, const char *what, uint64_t min,
		    uint64_t max, uint64_t *ret);
/* A scalar or a sequence of scalars, appended to *strv. */
int lethe_node_strv(const char *file, const struct lethe_node *node, const char *what,
		    struct lethe_strv *strv);
/* The nearest of candidates to word by edit distance, or NULL if none is close. */
const char *lethe_spell_suggest(const char *word, const char *const *candidates);

/* ---- The spec. ---- */

struct lethe_spec_file {
	char *source;	   /* resolved against the spec's directory */
	char *destination; /* absolute path in the image */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	unsigned line;
};

struct lethe_spec_user {
	char *name;
	uid_t uid;
	gid_t gid;		  /* primary group */
	char *home;		  /* default /nonexistent */
	char *shell;		  /* default /usr/sbin/nologin */
	struct lethe_strv groups; /* supplementary groups, by name */
	unsigned line;
};

struct lethe_spec_group {
	char *name;
	gid_t gid;
	unsigned line;
};

struct lethe_spec_kernel {
	char *package;			   /* e.g. linux-image-cloud-amd64; NULL: no kernel */
	enum lethe_kernel_profile profile; /* kernel.profile (default cloud): the default
					    * package and the modules added to modules */
	struct lethe_strv modules;	   /* modules to load at boot (before the module lock) */
	struct lethe_strv cmdline;	   /* extra kernel parameters */
	struct lethe_strv unsafe;	   /* hardening defaults the spec removes, on purpose: each
					    * an entry of lethe_hardening_cmdline (<lethe/hardening.h>),
					    * whole, even where the spec named only its key */
};

struct lethe_spec_service {
	char *name;
	struct lethe_strv command; /* argv; command[0] is an absolute path in the image */
	char *user;		   /* default root */
	char *group;		   /* default: the user's primary group */
	bool restart;		   /* default true */
	unsigned line;
};

/* tmpfs: the bounds of the RAM file systems lethe-init mounts (<lethe/contract.h>). */
enum lethe_spec_tmpfs_mount {
	LETHE_SPEC_TMPFS_ROOT, /* the writable layer over the image */
	LETHE_SPEC_TMPFS_TMP,  /* /tmp */
	LETHE_SPEC_TMPFS_SHM,  /* /dev/shm */
	LETHE_SPEC_TMPFS_RUN,  /* /run */
	LETHE_SPEC_TMPFS_N,
};
struct lethe_spec_tmpfs {
	char size[24];	 /* tmpfs's size=: "25%" or "512m"; the default when not given */
	char inodes[24]; /* tmpfs's nr_inodes=, decimal */
};

struct lethe_spec_interface {
	char *name;		     /* e.g. eth0 */
	struct lethe_strv addresses; /* CIDR, IPv4 or IPv6 */
	char *gateway4, *gateway6;   /* NULL when none */
	/* dhcp: true: IPv4 address and routes from busybox udhcpc, started by lethe-init
	 * (no host name, a random client id; docs/network.md); the firewall lets DHCP
	 * through on this interface only. No IPv4 address or gateway4 then. */
	bool dhcp;
	unsigned line;
};

/* session: the console session (issue 13.3, docs/session.md). */
struct lethe_spec_session {
	char *user;	     /* an account of accounts.users, not root; NULL: no session
			      * section, the console shell is root's (as before) */
	bool admin_password; /* "ask": root's password is asked at boot, kept in RAM */
	unsigned line;
	/* session.graphical.command (lib/spec/graphical.c): the program the Wayland kiosk
	 * cage runs as user, started by lethe-init; empty: a console session only. */
	struct lethe_strv graphical;
	unsigned graphical_line;
};
#define LETHE_SPEC_GRAPHICAL_ARGS_MAX 32
/* persistence: (lib/spec/persistence.c; docs/spec.md "persistence"): off unless the spec
 * has the section. The device is "UUID=<LUKS UUID>" or "PARTLABEL=<GPT name>". */
enum lethe_spec_persist_by {
	LETHE_SPEC_PERSIST_BY_UUID,
	LETHE_SPEC_PERSIST_BY_PARTLABEL,
};
enum lethe_spec_unlock {
	LETHE_SPEC_UNLOCK_PASSPHRASE, /* asked on the console */
	LETHE_SPEC_UNLOCK_KEYFILE,    /* a key file on a second device */
};
enum lethe_spec_cipher {
	LETHE_SPEC_CIPHER_AUTO,	    /* AES-XTS where the CPU has AES, else Adiantum */
	LETHE_SPEC_CIPHER_AES_XTS,  /* aes-xts-plain64, 512-bit key */
	LETHE_SPEC_CIPHER_ADIANTUM, /* xchacha12,aes-adiantum-plain64 */
};
#define LETHE_SPEC_PERSIST_MAX_DIRS	  64
#define LETHE_SPEC_PERSIST_PATH_MAX	  1024
#define LETHE_SPEC_MEMORY_DEFAULT_MIB	  512ull /* lethe run's guest */
#define LETHE_SPEC_MEMORY_MIN_MIB	  128ull
#define LETHE_SPEC_MEMORY_MAX_MIB	  (1ull << 20) /* 1 TiB */
#define LETHE_SPEC_KDF_MEMORY_DEFAULT_MIB 256u
#define LETHE_SPEC_KDF_MEMORY_MIN_MIB	  8ull
#define LETHE_SPEC_KDF_MEMORY_MAX_MIB	  4096ull /* libcryptsetup's Argon2 cap: 4 GiB */
#define LETHE_SPEC_KDF_ITERATIONS_DEFAULT 4u	  /* as Tails pins them */
#define LETHE_SPEC_KDF_ITERATIONS_MIN	  4ull	  /* libcryptsetup's Argon2 minimum */
#define LETHE_SPEC_KDF_ITERATIONS_MAX	  1000ull
#define LETHE_SPEC_KDF_PARALLEL_MAX	  4ull
/* What the image must carry to open the store at boot (added to packages). */
#define LETHE_SPEC_PERSIST_PACKAGES "libcryptsetup12", "e2fsprogs"
/* ... and the kernel modules it loads (added to kernel.modules when there is a kernel). */
#define LETHE_SPEC_PERSIST_MODULES                                                                 \
	"dm-crypt", "ecb", "xts", "aesni_intel", "chacha_generic", "nhpoly1305", "adiantum"
struct lethe_spec_persistence {
	char *device;		       /* UUID=... or PARTLABEL=... */
	struct lethe_strv directories; /* absolute, under /home /root /etc /var, disjoint */
	enum lethe_spec_unlock unlock;
	char *keyfile_device; /* unlock: keyfile: UUID=/PARTLABEL= of the key's file system */
	char *keyfile_path;   /* absolute path on it */
	enum lethe_spec_cipher cipher;
	uint32_t kdf_memory_kib, kdf_iterations, kdf_parallel; /* Argon2id */
	unsigned line;
};
/* Split "UUID=..." / "PARTLABEL=..." (checked); *ret_id points into s. 0 or -EINVAL. */
int lethe_spec_persist_device_parse(const char *s, enum lethe_spec_persist_by *ret_by,
				    const char **ret_id);
/* The most Argon2id memory (KiB) an image of memory_mib MiB of RAM may need: half. */
uint64_t lethe_spec_kdf_memory_limit_kib(uint64_t memory_mib);
struct lethe_spec_persistence *lethe_spec_persistence_free(struct lethe_spec_persistence *p);
struct lethe_spec_vpn *lethe_spec_vpn_free(struct lethe_spec_vpn *v); /* returns NULL */

#define LETHE_SPEC_MAX_DNS 3 /* network.dns: MAXNS of <resolv.h> */

/* network.vpn: one WireGuard tunnel that all traffic but its own must take (the kill
 * switch, docs/network.md). The private key is never in the spec (the image is
 * public): generated at each boot, or read from private_key_file at boot. */
struct lethe_spec_vpn {
	char *interface;	     /* default "wg0" */
	char *private_key_file;	     /* absolute path in the running system, or NULL */
	struct lethe_strv addresses; /* CIDR on the tunnel */
	char *public_key;	     /* the peer's, base64 of 32 bytes */
	char *endpoint;		     /* the peer's IPv4 or IPv6 address, canonical */
	uint16_t port;		     /* the peer's UDP port */
	struct lethe_strv allowed_ips; /* CIDR */
	unsigned keepalive;	       /* seconds, 0: none */
	unsigned line;
};

/* update: where a running system looks for its next release and how a fleet takes it
 * in waves (lib/spec/update.c, docs/update.md "Sources, channels and rollout waves"). */
#define LETHE_SPEC_UPDATE_MAX_WAVES 16
#define LETHE_SPEC_UPDATE_WAIT_MAX  (366ull * 86400) /* a year, in seconds */
/* What an image with update: carries for lethe-update (added to packages): the GPT
 * (libfdisk), HTTP(S) and registries (libcurl), the ESP (mtools). */
#define LETHE_SPEC_UPDATE_PACKAGES  "libfdisk1", "libcurl4", "mtools"
struct lethe_spec_update {
	char *source;  /* https://HOST/PATH/ (ending '/'), oci://REGISTRY/REPO[:TAG], or
			* http:// to a loopback host (tests) */
	char *channel; /* oci: the tag; https: a subdirectory of source; NULL: none */
	unsigned waves[LETHE_SPEC_UPDATE_MAX_WAVES]; /* cumulative percent, rising, last 100 */
	size_t n_waves;				     /* 0: every machine at once */
	uint64_t wait;				     /* seconds from one wave to the next */
	unsigned line;
};
/* The source with the channel applied: what lethe update fetches. Caller frees. */
int lethe_spec_update_url(const struct lethe_spec_update *u, char **ret);
struct lethe_spec_update *lethe_spec_update_free(struct lethe_spec_update *u);

struct lethe_spec {
	char *path; /* the spec file, as given */
	char *dir;  /* its directory, for relative sources */
	char *name; /* [a-z0-9][a-z0-9-]* */
	char *version;
	char *description; /* NULL when none */

	/* Where packages come from. NULL/empty: the host's apt configuration. */
	char *suite;
	char *architecture;	   /* default amd64 */
	struct lethe_strv sources; /* deb822 .sources files, or one-line "deb ..." entries */

	struct lethe_strv packages; /* the named packages; apt resolves their closure */
	struct lethe_strv drop;	    /* packages removed from the closure */
	struct lethe_strv exclude;  /* path globs removed from the root */
	struct lethe_strv include;  /* path globs kept despite exclude */
	bool minimal;		    /* profile: docs, man pages, locales excluded (default) */
	bool allow_devices;	    /* device nodes from packages allowed (default false) */
	char *compression;	    /* mkfs.erofs -z value, default "lz4hc" */

	struct lethe_spec_file *files;
	size_t n_files;
	struct lethe_spec_user *users;
	size_t n_users;
	struct lethe_spec_group *groups;
	size_t n_groups;

	struct lethe_spec_kernel kernel;

	struct lethe_spec_service *services;
	size_t n_services;
	struct lethe_spec_interface *interfaces;
	size_t n_interfaces;
	char *hostname;		 /* default: the image name */
	enum lethe_mac_mode mac; /* network.mac, default random (0) */
	/* network: none: air-gapped; the build refuses network drivers and tools
	 * (lib/build/airgap.c), the audit's network.none checks it (docs/spec.md). */
	bool network_none;
	/* network.dns: the only name servers (lib/spec/dns.c, docs/network.md): what
	 * /etc/resolv.conf lists, and the only addresses port-53 traffic may go to.
	 * Canonical addresses, at most LETHE_SPEC_MAX_DNS. dns_dhcp: "dhcp", the servers
	 * of the DHCP leases instead (DNS then goes out only on the DHCP interfaces). */
	struct lethe_strv dns;
	bool dns_dhcp;
	struct lethe_spec_vpn *vpn; /* network.vpn, or NULL (lib/spec/vpn.c) */

	struct lethe_spec_tmpfs tmpfs[LETHE_SPEC_TMPFS_N]; /* always filled: spec or default */
	unsigned boot_timeout; /* boot: timeout: the boot menu's seconds (default 0:
				* no menu unless a key is pressed) */
	struct lethe_spec_session session;
	unsigned boot_esp_mib; /* boot: esp_size: MiB; 0: as large as the files need */
	bool boot_ab;	       /* boot: layout: ab (lethe install, update; docs/update.md) */

	/* health: the gate lethe-init passes before it blesses a counted boot
	 * (lib/spec/health.c, docs/update.md). */
	unsigned health_settle;		     /* seconds every service must keep running (30) */
	unsigned health_timeout;	     /* seconds before a failing gate reboots (300) */
	struct lethe_strv health_command;    /* argv of an extra check, or empty */
	struct lethe_strv health_audit_skip; /* audit checks the gate does not require */

	uint64_t memory_mib; /* memory: the RAM the image is for (default 512) */
	struct lethe_spec_persistence *persistence; /* NULL: nothing persists */
	struct lethe_spec_update *update;	    /* NULL: no update: section */

	/* Kept for the module that interprets it; NULL when the spec has none. */
	const struct lethe_node *firewall;

	struct lethe_node *root; /* the whole document; owns the nodes above */
};

/* Read, parse and validate a spec. The caller frees *ret with lethe_spec_free().
 * File and apt sources are resolved against the spec's directory and must exist. */
#define LETHE_SPEC_MAX_SIZE (1u << 20)
int lethe_spec_load(const char *path, struct lethe_spec **ret);
/* The same with flags. LETHE_SPEC_LOAD_IN_IMAGE: the copy of the spec that a built
 * image carries (lethe-init reads it, the audit judges the image by it), whose file
 * and apt sources were consumed at build time: they are neither resolved nor looked
 * up. Whatever the path, only this flag says so. */
#define LETHE_SPEC_LOAD_IN_IMAGE (1u << 0)
int lethe_spec_load_flags(const char *path, unsigned flags, struct lethe_spec **ret);
/* The same from text in memory; name is used in messages, dir for relative sources
 * (NULL: sources are neither resolved nor looked up). */
int lethe_spec_parse(const char *name, const char *dir, const char *text, size_t len,
		     struct lethe_spec **ret);
struct lethe_spec *lethe_spec_free(struct lethe_spec *spec); /* returns NULL */

#endif
