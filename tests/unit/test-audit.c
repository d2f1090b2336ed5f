/* Unit tests of lib/audit: every check against a fixture tree where it passes, and a
 * variant of the tree where it fails with the right evidence. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/audit.h>
#include <lethe/firewall.h>
#include <lethe/hardening.h>
#include <lethe/spec.h>

#define ROOTHASH "5a0bcd3f1e2d4c6b8a79605142332415a6b7c8d9e0f1a2b3c4d5e6f708192a3b"

static char root[64];

static void put_bytes(const char *rel, const void *data, size_t len)
{
	char *path = lethe_path_join(root, rel), *dir = strdup(path);

	*strrchr(dir, '/') = '\0';
	assert_int_equal(lethe_mkdir_p(dir, 0755), 0);
	assert_int_equal(lethe_file_write_atomic(path, data, len, 0644), 0);
	free(path);
	free(dir);
}

static void put(const char *rel, const char *content)
{
	put_bytes(rel, content, strlen(content));
}

static void drop(const char *rel)
{
	char *path = lethe_path_join(root, rel);

	assert_int_equal(lethe_rm_rf(path), 0);
	free(path);
}

static const char good_mountinfo[] =
	"20 1 0:20 / / rw,relatime - overlay overlay rw,lowerdir=/run/lethe/ro,"
	"upperdir=/run/lethe/rw/upper,workdir=/run/lethe/rw/work\n"
	"21 20 253:0 / /run/lethe/ro ro,relatime - erofs /dev/mapper/root ro\n"
	"22 20 0:21 / /run/lethe/rw rw,nosuid - tmpfs tmpfs rw\n"
	"23 20 0:5 / /proc rw,nosuid - proc proc rw\n";

static const char good_spec[] = "name: fixture\n"
				"version: \"1\"\n"
				"packages: [busybox-static]\n"
				"accounts: {users: [{name: user, uid: 1000, home: /home/user}]}\n"
				"session: {user: user}\n"
				"firewall:\n"
				"  in: { default: drop, allow: [ { proto: tcp, port: 8080 } ] }\n"
				"  out: { default: drop }\n";

/* The spec of the fixture system and its firewall table as `nft list` would show it. */
static void put_spec_and_table(void)
{
	struct lethe_spec *spec;
	struct lethe_firewall *fw;
	char *path, *table;

	put("etc/lethe/spec.yaml", good_spec);
	path = lethe_path_join(root, "etc/lethe/spec.yaml");
	assert_int_equal(lethe_spec_load(path, &spec), 0);
	assert_int_equal(lethe_firewall_from_spec(spec, &fw), 0);
	assert_int_equal(lethe_firewall_render(fw, 0, &table), 0);
	put("nft/lethe.nft", table);
	free(table);
	free(path);
	lethe_firewall_free(fw);
	lethe_spec_free(spec);
}

static const char good_ruleset[] =
	"{\"nftables\": [{\"metainfo\": {\"json_schema_version\": 1}},"
	"{\"table\": {\"family\": \"inet\", \"name\": \"lethe\", \"handle\": 1}},"
	"{\"chain\": {\"family\": \"inet\", \"table\": \"lethe\", \"name\": \"input\", \"handle\": "
	"1,"
	" \"type\": \"filter\", \"hook\": \"input\", \"prio\": 0, \"policy\": \"drop\"}},"
	"{\"chain\": {\"family\": \"inet\", \"table\": \"lethe\", \"name\": \"output\", "
	"\"handle\": 2,"
	" \"type\": \"filter\", \"hook\": \"output\", \"prio\": 0, \"policy\": \"drop\"}},"
	"{\"rule\": {\"family\": \"inet\", \"table\": \"lethe\", \"chain\": \"output\", "
	"\"handle\": 9, \"comment\": \"lethe-drop-out\", \"expr\": [{\"counter\": {\"packets\": 7, "
	"\"bytes\": 556}}]}}]}";

/* A tree that looks like a booted Lethe system: every check passes. */
static int make_good_tree(void **state)
{
	struct lethe_buf cmdline = { 0 };

	snprintf(root, sizeof(root), "/tmp/lethe-test-audit.XXXXXX");
	assert_non_null(mkdtemp(root));
	for (size_t i = 0; i < LETHE_HARDENING_N_PARAMS; i++)
		if (lethe_hardening_params[i].word)
			lethe_buf_printf(&cmdline, "%s ", lethe_hardening_params[i].word);
	lethe_buf_printf(&cmdline, "console=ttyS0 lethe.roothash=%s\n", ROOTHASH);
	put("proc/cmdline", cmdline.data);
	lethe_buf_release(&cmdline);
	put("proc/self/mountinfo", good_mountinfo);
	put("etc/passwd", "root:x:0:0:root:/root:/usr/sbin/nologin\n"
			  "user:x:1000:1000::/home/user:/bin/sh\n");
	put("proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
	put("sys/dev/block/253:0/uevent", "MAJOR=253\nMINOR=0\nDEVNAME=dm-0\nDEVTYPE=disk\n");
	put("sys/block/dm-0/dm/name", "root\n");
	put("sys/block/dm-0/dm/uuid", "LETHE-VERITY-root\n");
	put("dm/root.table",
	    "0 20480 verity 1 254:1 254:2 4096 4096 2560 1 sha256 " ROOTHASH " -\n");
	put("dm/root.status", "0 20480 verity V\n");
	put("sys/class/block/dm-0/dev", "253:0\n");
	put("sys/class/block/dm-0/size", "20480\n");
	put("sys/class/block/dm-0/ro", "1\n");
	put("sys/class/block/dm-0/removable", "0\n");
	put("sys/class/block/vda/dev", "254:0\n");
	put("sys/class/block/vda/size", "65536\n");
	put("sys/class/block/vda/ro", "0\n");
	put("sys/class/block/vda/removable", "0\n");
	put("sys/class/block/vda/uevent", "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n");
	put("nft/ruleset.json", good_ruleset);
	/* eth0 got a new address at boot (NET_ADDR_SET); lo has none to hide. */
	put("sys/class/net/eth0/type", "1\n");
	put("sys/class/net/eth0/address", "5e:3a:91:0c:d2:17\n");
	put("sys/class/net/eth0/addr_assign_type", "3\n");
	put("sys/class/net/lo/type", "772\n");
	put("sys/class/net/lo/address", "00:00:00:00:00:00\n");
	put_spec_and_table();
	put("proc/sys/kernel/modules_disabled", "1\n");
	put("sys/kernel/security/lockdown", "none [integrity] confidentiality\n");
	for (size_t i = 0; i < LETHE_HARDENING_N_SYSCTLS; i++) {
		char rel[256];

		snprintf(rel, sizeof(rel), "proc/sys/%s", lethe_hardening_sysctls[i].path);
		put(rel, lethe_hardening_sysctls[i].value);
	}
	return 0;
}

static int remove_tree(void **state)
{
	return lethe_rm_rf(root);
}

/* Run one check against the tree; return its result's verdict and evidence. */
static enum lethe_audit_verdict run_one(const char *id, char *evidence, size_t len)
{
	const char *only[] = { id, NULL };
	struct lethe_audit_options opts = { .root = root, .only = only };
	struct lethe_audit_report *rep;
	enum lethe_audit_verdict v;

	assert_int_equal(lethe_audit_run(&opts, &rep), 0);
	assert_int_equal(rep->n_results, 1);
	assert_string_equal(rep->results[0].id, id);
	v = rep->results[0].verdict;
	snprintf(evidence, len, "%s", rep->results[0].evidence);
	lethe_audit_report_free(rep);
	return v;
}

#define assert_verdict(id, verdict, needle)                                                        \
	do {                                                                                       \
		char ev[1024];                                                                     \
		assert_int_equal(run_one(id, ev, sizeof(ev)), verdict);                            \
		if (!strstr(ev, needle))                                                           \
			fail_msg("%s: evidence '%s' lacks '%s'", id, ev, needle);                  \
	} while (0)

static void test_all_pass_on_good_tree(void **state)
{
	struct lethe_audit_options opts = { .root = root };
	struct lethe_audit_report *rep;
	const struct lethe_audit_check_info *infos;
	size_t n = lethe_audit_checks(&infos);

	assert_int_equal(lethe_audit_run(&opts, &rep), 0);
	assert_int_equal(rep->n_results, n);
	for (size_t i = 0; i < rep->n_results; i++) {
		const struct lethe_audit_result *r = &rep->results[i];

		if (!strcmp(r->id, "boot.secure-boot") || !strcmp(r->id, "boot.measured") ||
		    !strcmp(r->id, "fim.drift") || !strcmp(r->id, "network.none"))
			assert_int_equal(r->verdict, LETHE_AUDIT_NOT_APPLICABLE);
		else if (r->verdict != LETHE_AUDIT_PASS)
			fail_msg("%s: %s", r->id, r->evidence);
	}
	assert_true(rep->lethe_system);
	assert_true(lethe_audit_passed(rep));
	assert_int_equal(rep->n_blockdevs, 2);
	assert_string_equal(rep->blockdevs[0].name, "dm-0");
	assert_string_equal(rep->blockdevs[0].fstype, "erofs");
	assert_false(rep->blockdevs[0].mounted_writable);
	lethe_audit_report_free(rep);
}

static void test_root_verity(void **state)
{
	assert_verdict("root.verity", LETHE_AUDIT_PASS, "dm-verity verified, mounted ro");
	put("dm/root.status", "0 20480 verity C\n");
	assert_verdict("root.verity", LETHE_AUDIT_FAIL, "verity state 'C'");
	put("dm/root.status", "0 20480 verity V\n");
	put("dm/root.table", "0 20480 linear 254:1 0\n");
	assert_verdict("root.verity", LETHE_AUDIT_FAIL, "is linear, not one dm-verity target");
	put("proc/self/mountinfo",
	    "20 1 0:20 / / rw - overlay overlay "
	    "rw,lowerdir=/run/lethe/ro,upperdir=/run/lethe/rw/upper\n"
	    "21 20 253:0 / /run/lethe/ro rw,relatime - erofs /dev/mapper/root rw\n");
	put("dm/root.table",
	    "0 20480 verity 1 254:1 254:2 4096 4096 2560 1 sha256 " ROOTHASH " -\n");
	assert_verdict("root.verity", LETHE_AUDIT_FAIL, "mounted read-write");
	put("proc/self/mountinfo", "20 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw\n");
	put("sys/dev/block/254:1/uevent", "MAJOR=254\nMINOR=1\nDEVNAME=vda1\n");
	assert_verdict("root.verity", LETHE_AUDIT_FAIL, "not a device-mapper device");
}

static void test_root_hash(void **state)
{
	assert_verdict("root.hash", LETHE_AUDIT_PASS, "equals lethe.roothash");
	put("dm/root.table",
	    "0 20480 verity 1 254:1 254:2 4096 4096 2560 1 sha256 "
	    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff -\n");
	assert_verdict("root.hash", LETHE_AUDIT_FAIL, "differs from lethe.roothash " ROOTHASH);
	put("proc/cmdline", "console=ttyS0\n");
	assert_verdict("root.hash", LETHE_AUDIT_NOT_APPLICABLE, "not booted by Lethe");
}

static void test_root_amnesic(void **state)
{
	assert_verdict("root.amnesic", LETHE_AUDIT_PASS, "on tmpfs");
	put("proc/self/mountinfo",
	    "20 1 0:20 / / rw - overlay overlay rw,lowerdir=/run/lethe/ro,upperdir=/data/upper\n"
	    "21 20 253:0 / /run/lethe/ro ro - erofs /dev/mapper/root ro\n"
	    "22 20 254:1 / /data rw - ext4 /dev/vda1 rw\n");
	assert_verdict("root.amnesic", LETHE_AUDIT_FAIL, "is on ext4 (/dev/vda1), not RAM");
	put("proc/self/mountinfo", "20 1 254:1 / / rw - ext4 /dev/vda1 rw\n");
	assert_verdict("root.amnesic", LETHE_AUDIT_FAIL, "/ is ext4 from '/dev/vda1'");
}

static void test_storage(void **state)
{
	assert_verdict("storage.no-writable", LETHE_AUDIT_PASS,
		       "2 block devices, 1 mounted, none writable");
	put("proc/self/mountinfo", "20 1 254:0 / /mnt/usb rw,relatime - vfat /dev/vda rw\n");
	assert_verdict("storage.no-writable", LETHE_AUDIT_FAIL, "vda on /mnt/usb (vfat, rw)");
	put("proc/self/mountinfo", "20 1 254:0 / /mnt/usb ro,relatime - vfat /dev/vda ro\n");
	assert_verdict("storage.no-writable", LETHE_AUDIT_PASS, "none writable");
}

/* The one writable persistent mount (issue 15.5): lethe-persist, dm-crypt LUKS2, at the
 * store's mount point and the spec's directories only, and only when the spec opts in. */
static void test_storage_persistence(void **state)
{
	static const char store_mounts[] = "30 22 253:1 / /run/lethe/persist rw,nosuid,nodev - "
					   "ext4 /dev/mapper/lethe-persist rw\n"
					   "31 20 253:1 /home/user /home/user rw,nosuid,nodev - "
					   "ext4 /dev/mapper/lethe-persist rw\n";
	char mounts[1024];

	put("sys/class/block/dm-1/dev", "253:1\n");
	put("sys/class/block/dm-1/size", "131072\n");
	put("sys/class/block/dm-1/ro", "0\n");
	put("sys/class/block/dm-1/removable", "0\n");
	put("sys/block/dm-1/dm/name", "lethe-persist\n");
	put("sys/block/dm-1/dm/uuid",
	    "CRYPT-LUKS2-0b3e6a1c95a04d4b8c1e2f5d9a7b6c10-lethe-persist\n");
	snprintf(mounts, sizeof(mounts), "%s%s", good_mountinfo, store_mounts);
	put("proc/self/mountinfo", mounts);
	/* The spec did not opt in: the store is just a writable disk. */
	assert_verdict("storage.no-writable", LETHE_AUDIT_FAIL, "dm-1 on /run/lethe/persist");
	put("etc/lethe/spec.yaml", "name: fixture\nversion: \"1\"\npackages: [busybox-static]\n"
				   "persistence:\n  device: PARTLABEL=lethe-store\n"
				   "  directories: [/home/user, /var/lib/tor]\n");
	assert_verdict("storage.no-writable", LETHE_AUDIT_PASS, "none writable");
	/* Mounted anywhere else as well: fails. */
	snprintf(mounts, sizeof(mounts), "%s%s%s", good_mountinfo, store_mounts,
		 "32 20 253:1 /etc /etc rw - ext4 /dev/mapper/lethe-persist rw\n");
	put("proc/self/mountinfo", mounts);
	assert_verdict("storage.no-writable", LETHE_AUDIT_FAIL, "dm-1 on /run/lethe/persist");
	/* Another dm-crypt device, at the right places: fails. */
	snprintf(mounts, sizeof(mounts), "%s%s", good_mountinfo, store_mounts);
	put("proc/self/mountinfo", mounts);
	put("sys/block/dm-1/dm/name", "other\n");
	assert_verdict("storage.no-writable", LETHE_AUDIT_FAIL, "dm-1 on /run/lethe/persist");
	/* Not LUKS2: fails. */
	put("sys/block/dm-1/dm/name", "lethe-persist\n");
	put("sys/block/dm-1/dm/uuid", "CRYPT-PLAIN-lethe-persist\n");
	assert_verdict("storage.no-writable", LETHE_AUDIT_FAIL, "dm-1 on /run/lethe/persist");
}

static void test_swap(void **state)
{
	assert_verdict("swap.none", LETHE_AUDIT_PASS, "no swap active");
	put("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/swapfile file 1024 0 -2\n");
	assert_verdict("swap.none", LETHE_AUDIT_FAIL, "/swapfile active");
	put("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
	put("etc/fstab", "# comment\n/dev/vda2 none swap sw 0 0\n");
	assert_verdict("swap.none", LETHE_AUDIT_FAIL, "/dev/vda2 in etc/fstab");
}

static void test_firewall_policy(void **state)
{
	char *accepting = strdup(good_ruleset);
	char *p = strstr(strstr(accepting, "\"output\""), "\"drop\"");

	assert_verdict("firewall.policy", LETHE_AUDIT_PASS,
		       "input policy drop, output policy drop");
	/* What the drop rules counted (lethe firewall stats). */
	assert_verdict("firewall.policy", LETHE_AUDIT_PASS,
		       "refused so far: 7 packets (lethe-drop-out 7)");
	memcpy(p, "\"acpt\"", 6);
	put("nft/ruleset.json", accepting);
	assert_verdict("firewall.policy", LETHE_AUDIT_FAIL, "output policy acpt");
	put("nft/ruleset.json", "{\"nftables\": [{\"metainfo\": {}}]}");
	assert_verdict("firewall.policy", LETHE_AUDIT_FAIL, "no table inet lethe");
	drop("nft/ruleset.json");
	assert_verdict("firewall.policy", LETHE_AUDIT_FAIL, "cannot read the nftables ruleset");
	free(accepting);
}

/* Another table's base chain sees the packets before or after Lethe's filter: both
 * firewall checks fail and name it with its hook and priority (issue 10.13). */
static void test_firewall_foreign(void **state)
{
	char json[2048];

	snprintf(json, sizeof(json),
		 "%.*s,{\"table\": {\"family\": \"ip\", \"name\": \"x\"}},"
		 "{\"chain\": {\"family\": \"ip\", \"table\": \"x\", \"name\": \"pre\","
		 " \"type\": \"nat\", \"hook\": \"prerouting\", \"prio\": -100, \"policy\": "
		 "\"accept\"}}]}",
		 (int)(strlen(good_ruleset) - 2), good_ruleset);
	put("nft/ruleset.json", json);
	assert_verdict("firewall.policy", LETHE_AUDIT_FAIL,
		       "other tables hook into the packet path around table inet lethe: ip x pre "
		       "(nat hook prerouting priority -100, policy accept)");
	assert_verdict("firewall.spec", LETHE_AUDIT_FAIL, "foreign hook in ip x pre");
}

static void test_firewall_spec(void **state)
{
	char *path = lethe_path_join(root, "nft/lethe.nft"), *table;
	struct lethe_buf edited = { 0 };
	size_t len;

	assert_verdict("firewall.spec", LETHE_AUDIT_PASS, "matches the spec");
	assert_int_equal(lethe_file_read(path, 1 << 20, &table, &len), 0);
	/* A rule added by hand to the output chain. */
	char *out = strstr(table, "chain output {");
	assert_non_null(out);
	char *eol = strchr(strstr(out, "policy drop;"), '\n');
	lethe_buf_append(&edited, table, (size_t)(eol + 1 - table));
	lethe_buf_puts(&edited, "\t\tip daddr 192.0.2.7 accept\n");
	lethe_buf_puts(&edited, eol + 1);
	put("nft/lethe.nft", edited.data);
	assert_verdict(
		"firewall.spec", LETHE_AUDIT_FAIL,
		"1 difference from the spec: rule added in output 'ip daddr 192.0.2.7 accept'");
	drop("nft/lethe.nft");
	assert_verdict("firewall.spec", LETHE_AUDIT_FAIL, "table missing");
	drop("etc/lethe/spec.yaml");
	assert_verdict("firewall.spec", LETHE_AUDIT_NOT_APPLICABLE, "no image spec");
	lethe_buf_release(&edited);
	free(table);
	free(path);
}

static void test_kernel(void **state)
{
	assert_verdict("kernel.modules-locked", LETHE_AUDIT_PASS, "modules_disabled = 1");
	put("proc/sys/kernel/modules_disabled", "0\n");
	assert_verdict("kernel.modules-locked", LETHE_AUDIT_FAIL, "= 0, expected 1");

	assert_verdict("kernel.lockdown", LETHE_AUDIT_PASS, "[integrity]");
	put("sys/kernel/security/lockdown", "[none] integrity confidentiality\n");
	assert_verdict("kernel.lockdown", LETHE_AUDIT_FAIL, "[none]");
	drop("sys/kernel/security/lockdown");
	assert_verdict("kernel.lockdown", LETHE_AUDIT_FAIL, "not active");

	assert_verdict("kernel.sysctl", LETHE_AUDIT_PASS, "hardening sysctls set");
	put("proc/sys/kernel/kptr_restrict", "0\n");
	drop("proc/sys/kernel/yama");
	assert_verdict("kernel.sysctl", LETHE_AUDIT_FAIL, "kernel/kptr_restrict=0 (want 2)");
	assert_verdict("kernel.sysctl", LETHE_AUDIT_FAIL, "kernel/yama/ptrace_scope absent");

	assert_verdict("kernel.cmdline", LETHE_AUDIT_PASS, "hardening flags on the cmdline");
	put("proc/cmdline", "init_on_alloc=1 console=ttyS0\n");
	assert_verdict("kernel.cmdline", LETHE_AUDIT_FAIL,
		       "missing from the cmdline: init_on_free=1 ");
}

/* Present is not in force: a later word, another spelling, a counter-parameter, or the
 * kernel's own report can undo a default whose word is on the cmdline (issue 10.6). */
static void test_cmdline_in_force(void **state)
{
	char *path = lethe_path_join(root, "proc/cmdline"), *good = NULL, line[4096];
	size_t len;

	assert_int_equal(lethe_file_read(path, 4096, &good, &len), 0);
	free(path);
	good[strcspn(good, "\n")] = '\0';
#define with(extra) (snprintf(line, sizeof(line), "%s %s\n", good, extra), line)
	put("proc/cmdline", with("init_on_free=0"));
	assert_verdict("kernel.cmdline", LETHE_AUDIT_FAIL,
		       "'init_on_free=0' undoes init_on_free=1");
	put("proc/cmdline", with("init-on-free=off"));
	assert_verdict("kernel.cmdline", LETHE_AUDIT_FAIL,
		       "'init-on-free=off' undoes init_on_free=1");
	put("proc/cmdline", with("slab_merge"));
	assert_verdict("kernel.cmdline", LETHE_AUDIT_FAIL, "'slab_merge' undoes slab_nomerge");
	put("proc/cmdline", with("nokaslr"));
	assert_verdict("kernel.cmdline", LETHE_AUDIT_FAIL, "'nokaslr' undoes kaslr");
	put("proc/cmdline", with("\"module.sig_enforce=0\""));
	assert_verdict("kernel.cmdline", LETHE_AUDIT_FAIL, "'module.sig_enforce=0' undoes");
	/* After "--" the words are init's, not the kernel's. */
	put("proc/cmdline", with("-- init_on_free=0"));
	assert_verdict("kernel.cmdline", LETHE_AUDIT_PASS, "in force");
	/* A word earlier than the default is overridden by it. */
	snprintf(line, sizeof(line), "init_on_free=0 %s\n", good);
	put("proc/cmdline", line);
	assert_verdict("kernel.cmdline", LETHE_AUDIT_PASS, "in force");

	/* The kernel's report: what it applied, whatever the cmdline says. */
	put("proc/cmdline", with(""));
	put("dev/kmsg", "6,1,0,-;Linux version 6.1.0\n"
			"6,200,0,-;mem auto-init: stack:all(zero), heap alloc:on, heap free:on\n");
	put("sys/module/module/parameters/sig_enforce", "Y\n");
	put("sys/module/page_alloc/parameters/shuffle", "Y\n");
	put("sys/kernel/security/lsm", "lockdown,capability,yama,apparmor\n");
	assert_verdict("kernel.cmdline", LETHE_AUDIT_PASS, "(5 confirmed by the kernel)");
	put("dev/kmsg", "6,200,0,-;mem auto-init: stack:all(zero), heap alloc:on, heap free:off\n");
	assert_verdict("kernel.cmdline", LETHE_AUDIT_FAIL,
		       "not in force: the kernel logs 'mem auto-init: ... heap free:off' (for "
		       "init_on_free=1)");
	put("dev/kmsg", "6,200,0,-;mem auto-init: CONFIG_PAGE_POISONING is on, will take "
			"precedence over init_on_free\n");
	assert_verdict("kernel.cmdline", LETHE_AUDIT_FAIL, "page poisoning takes precedence");
	drop("dev/kmsg");
	put("sys/module/module/parameters/sig_enforce", "N\n");
	assert_verdict("kernel.cmdline", LETHE_AUDIT_FAIL,
		       "sys/module/module/parameters/sig_enforce = N (for module.sig_enforce=1)");
	put("sys/module/module/parameters/sig_enforce", "Y\n");
	put("sys/kernel/security/lsm", "capability,yama,apparmor\n");
	assert_verdict("kernel.cmdline", LETHE_AUDIT_FAIL, "sys/kernel/security/lsm = capability");
#undef with
	free(good);
}

static void test_persistence_and_secureboot(void **state)
{
	assert_verdict("persistence.opt-in", LETHE_AUDIT_PASS, "no persistence");
	put("proc/cmdline", "console=ttyS0 persistence\n");
	assert_verdict("persistence.opt-in", LETHE_AUDIT_FAIL, "'persistence' on the cmdline, but");

	assert_verdict("boot.secure-boot", LETHE_AUDIT_NOT_APPLICABLE, "not booted through UEFI");
	put("sys/firmware/efi/config_table", "");
	assert_verdict("boot.secure-boot", LETHE_AUDIT_FAIL, "does not report");
	put_bytes("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
		  "\x06\x00\x00\x00\x01", 5);
	assert_verdict("boot.secure-boot", LETHE_AUDIT_PASS, "enabled");
	put_bytes("sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
		  "\x06\x00\x00\x00\x00", 5);
	assert_verdict("boot.secure-boot", LETHE_AUDIT_FAIL, "disabled");
	/* the firmware's state and db's certificates (issue 12) */
	put_bytes("sys/firmware/efi/efivars/SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c",
		  "\x06\x00\x00\x00\x01", 5);
	assert_verdict("boot.secure-boot", LETHE_AUDIT_FAIL, "disabled (setup mode); db is empty");
	{
		char *esl = NULL, *var = NULL;
		size_t len = 0;

		assert_int_equal(lethe_file_read(LETHE_TEST_DATA "/sb-db.esl", 1 << 20, &esl, &len),
				 0);
		var = malloc(len + 4);
		assert_non_null(var);
		memcpy(var, "\x27\x00\x00\x00", 4);
		memcpy(var + 4, esl, len);
		put_bytes("sys/firmware/efi/efivars/db-d719b2cb-3d3a-4596-a3bc-dad00e67656f", var,
			  len + 4);
		put_bytes(
			"sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
			"\x06\x00\x00\x00\x01", 5);
		put_bytes("sys/firmware/efi/efivars/SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c",
			  "\x06\x00\x00\x00\x00", 5);
		assert_verdict("boot.secure-boot", LETHE_AUDIT_PASS,
			       "enabled (user mode); db: CN=Lethe test user db");
		/* a broken list is said, not trusted */
		put_bytes("sys/firmware/efi/efivars/db-d719b2cb-3d3a-4596-a3bc-dad00e67656f", var,
			  40);
		assert_verdict("boot.secure-boot", LETHE_AUDIT_PASS, "db cannot be read");
		free(var);
		free(esl);
	}
}

/* boot.measured: the TPM's PCRs against a pcr.json given from outside (issue 12.5). */
static void test_measured(void **state)
{
	char *pcr = lethe_path_join(root, "pcr.json");
	struct lethe_audit_options opts = { .root = root,
					    .only = (const char *[]){ "boot.measured", NULL } };
	struct lethe_audit_report *rep;
	static const char good[] =
		"{\"sha256\":[{\"pcr\":11,\"hash\":"
		"\"18574a7b32aacacbbd8bde5fb68bf3c151a032d6f40e6998229de0f9fac1c15e\"}]}\n";

	assert_verdict("boot.measured", LETHE_AUDIT_NOT_APPLICABLE, "no TPM");
	put("sys/class/tpm/tpm0/pcr-sha256/11",
	    "18574A7B32AACACBBD8BDE5FB68BF3C151A032D6F40E6998229DE0F9FAC1C15E\n");
	assert_verdict("boot.measured", LETHE_AUDIT_NOT_APPLICABLE, "no prediction");
	put("pcr.json", good);
	opts.pcr_path = pcr;
	assert_int_equal(lethe_audit_run(&opts, &rep), 0);
	assert_int_equal(rep->results[0].verdict, LETHE_AUDIT_PASS);
	assert_non_null(strstr(rep->results[0].evidence, "1 PCR equal"));
	lethe_audit_report_free(rep);
	put("sys/class/tpm/tpm0/pcr-sha256/11",
	    "28574A7B32AACACBBD8BDE5FB68BF3C151A032D6F40E6998229DE0F9FAC1C15E\n");
	assert_int_equal(lethe_audit_run(&opts, &rep), 0);
	assert_int_equal(rep->results[0].verdict, LETHE_AUDIT_FAIL);
	assert_non_null(strstr(rep->results[0].evidence, "PCR 11 is 28574a7b"));
	assert_false(lethe_audit_passed(rep));
	lethe_audit_report_free(rep);
	put("pcr.json", "{\"sha256\":[{\"pcr\":11}]}");
	assert_int_equal(lethe_audit_run(&opts, &rep), 0);
	assert_int_equal(rep->results[0].verdict, LETHE_AUDIT_FAIL);
	assert_non_null(strstr(rep->results[0].evidence, "cannot read the prediction"));
	lethe_audit_report_free(rep);
	free(pcr);
}

static void test_network_mac(void **state)
{
	assert_verdict("network.mac", LETHE_AUDIT_PASS, "eth0 5e:3a:91:0c:d2:17");
	/* A second card still on the address it came with. */
	put("sys/class/net/wlan0/type", "1\n");
	put("sys/class/net/wlan0/address", "00:1b:21:12:34:56\n");
	put("sys/class/net/wlan0/addr_assign_type", "0\n");
	assert_verdict("network.mac", LETHE_AUDIT_FAIL,
		       "permanent MAC address in use: wlan0 00:1b:21:12:34:56");
	/* One whose kernel says nothing about it counts as permanent. */
	drop("sys/class/net/wlan0/addr_assign_type");
	assert_verdict("network.mac", LETHE_AUDIT_FAIL, "wlan0");
	/* Not a card: a tunnel (type 65534) has no MAC address to hide. */
	put("sys/class/net/wlan0/type", "65534\n");
	assert_verdict("network.mac", LETHE_AUDIT_PASS, "eth0");
	drop("sys/class/net/eth0");
	assert_verdict("network.mac", LETHE_AUDIT_NOT_APPLICABLE, "no Ethernet or Wi-Fi card");
	/* A spec that keeps the permanent addresses. */
	put("etc/lethe/spec.yaml", "name: fixture\nversion: \"1\"\npackages: [busybox-static]\n"
				   "network: {mac: permanent}\n");
	assert_verdict("network.mac", LETHE_AUDIT_NOT_APPLICABLE, "network.mac: permanent");
}

static void test_session(void **state)
{
	assert_verdict("session.unprivileged", LETHE_AUDIT_PASS,
		       "session.user 'user' is uid 1000; no console session is running");
	put("run/lethe/session.pid", "42\n");
	put("proc/42/status",
	    "Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
	    "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
	    "CapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n"
	    "CapAmb:\t0000000000000000\n");
	assert_verdict("session.unprivileged", LETHE_AUDIT_PASS,
		       "runs as 'user' (Uid: 1000\t1000\t1000\t1000) with no capabilities");
	put("proc/42/status",
	    "Name:\tsh\nUid:\t1000\t0\t1000\t1000\nCapPrm:\t0\nCapEff:\t0\nCapAmb:\t0\n");
	assert_verdict("session.unprivileged", LETHE_AUDIT_FAIL, "runs with uid 0");
	put("proc/42/status", "Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nCapPrm:\t0000000000000000\n"
			      "CapEff:\t0000000000200000\nCapAmb:\t0000000000000000\n");
	assert_verdict("session.unprivileged", LETHE_AUDIT_FAIL, "holds capabilities (CapEff:");
	drop("proc/42/status");
	assert_verdict("session.unprivileged", LETHE_AUDIT_PASS, "the console session has ended");
	drop("run/lethe/session.pid");
	put("etc/passwd",
	    "root:x:0:0:root:/root:/usr/sbin/nologin\nuser:x:0:0::/home/user:/bin/sh\n");
	assert_verdict("session.unprivileged", LETHE_AUDIT_FAIL, "session.user 'user' has uid 0");
	put("etc/passwd", "root:x:0:0:root:/root:/usr/sbin/nologin\n");
	assert_verdict("session.unprivileged", LETHE_AUDIT_FAIL, "is not in /etc/passwd");
	put("etc/passwd", "root:x:0:0:root:/root:/usr/sbin/nologin\n"
			  "user:x:1000:1000::/home/user:/bin/sh\n");
}

static void test_only_skip_unknown(void **state)
{
	const char *bad[] = { "root.verty", NULL };
	const char *skip[] = { "root.verity", NULL };
	struct lethe_audit_options opts = { .root = root, .only = bad };
	struct lethe_audit_report *rep;

	assert_int_equal(lethe_audit_run(&opts, &rep), -EINVAL);
	assert_non_null(strstr(lethe_error_message(), "unknown check 'root.verty'"));
	opts.only = NULL;
	opts.skip = skip;
	assert_int_equal(lethe_audit_run(&opts, &rep), 0);
	for (size_t i = 0; i < rep->n_results; i++)
		assert_string_not_equal(rep->results[i].id, "root.verity");
	lethe_audit_report_free(rep);
}

static void test_mountinfo_parser(void **state)
{
	struct lethe_mounts m;

	assert_int_equal(lethe_mountinfo_parse("t",
					       "36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 "
					       "- ext3 /dev/root rw,errors=continue\n",
					       &m),
			 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.v[0].major, 98);
	assert_string_equal(m.v[0].mountpoint, "/mnt two");
	assert_string_equal(m.v[0].fstype, "ext3");
	assert_string_equal(m.v[0].superoptions, "rw,errors=continue");
	assert_true(lethe_mount_has_option(m.v[0].options, "noatime"));
	assert_false(lethe_mount_has_option(m.v[0].options, "noat"));
	lethe_mounts_release(&m);
	assert_int_equal(lethe_mountinfo_parse("t", "36 35 98:0 / /\n", &m), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "'t' line 1"));
	assert_int_equal(lethe_mountinfo_parse("t", "ok\n36 35 x:0 / / rw - a b c\n", &m),
			 -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_pass_on_good_tree, make_good_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(test_root_verity, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_root_hash, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_root_amnesic, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_storage, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_swap, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_firewall_policy, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_firewall_spec, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_firewall_foreign, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_kernel, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_cmdline_in_force, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_measured, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_session, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_storage_persistence, make_good_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(test_persistence_and_secureboot, make_good_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(test_network_mac, make_good_tree, remove_tree),
		cmocka_unit_test_setup_teardown(test_only_skip_unknown, make_good_tree,
						remove_tree),
		cmocka_unit_test(test_mountinfo_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
