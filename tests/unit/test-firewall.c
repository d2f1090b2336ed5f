/* Unit tests of lib/firewall: every malformed section fails with its exact message,
 * well-formed ones render to exact rulesets, and listings compare rule by rule. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <lethe/firewall.h>
#include <lethe/spec.h>

/* The accounts that rules may name: debian-tor (101) and the group tor (110). */
static struct lethe_spec_user users[] = { { .name = "debian-tor", .uid = 101, .gid = 110 } };
static struct lethe_spec_group groups[] = { { .name = "tor", .gid = 110 } };
static const struct lethe_spec accounts = {
	.users = users,
	.n_users = 1,
	.groups = groups,
	.n_groups = 1,
};

/* Parse YAML text whose top level holds "firewall:" and hand that node to the parser. */
static int parse_text(const char *text, struct lethe_firewall **ret)
{
	struct lethe_node *root = NULL;
	int r;

	r = lethe_yaml_parse("fw.yaml", text, strlen(text), &root);
	assert_int_equal(r, 0);
	r = lethe_firewall_parse("fw.yaml", lethe_node_get(root, "firewall"), &accounts, ret);
	lethe_node_free(root);
	return r;
}

struct bad_case {
	const char *yaml;
	const char *message;
};

#define P "spec 'fw.yaml' "

static const struct bad_case bad_cases[] = {
	{ "firewall:\n  in:\n    allow:\n      - proto: tcp\n        from: 192.0.2.0/33\n",
	  P "line 5 column 15: invalid address or prefix '192.0.2.0/33' (prefix length 0-32)" },
	{ "firewall:\n  in:\n    allow:\n      - proto: tcp\n        port: 70000\n",
	  P "line 5 column 15: port 70000 is out of range (1-65535)" },
	{ "firewall:\n  in:\n    allow:\n      - proto: udp\n        port: [53, \"2000-1000\"]\n",
	  P "line 5 column 20: port range '2000-1000' is reversed (did you mean '1000-2000'?)" },
	{ "firewall:\n  in:\n    allow:\n      - proto: icmp6\n",
	  P "line 4 column 16: unknown proto 'icmp6' (did you mean 'icmpv6'?)" },
	{ "firewall:\n  in:\n    allow:\n      - proto: sctp\n",
	  P "line 4 column 16: unknown proto 'sctp' (expected tcp, udp, icmp or icmpv6)" },
	{ "firewall:\n  in:\n    allow:\n      - proto: icmp\n        port: 7\n",
	  P "line 5 column 15: port needs proto tcp or udp" },
	{ "firewall:\n  in:\n    allow:\n      - port: 22\n",
	  P "line 4 column 15: port needs proto tcp or udp" },
	{ "firewall:\n  out:\n    allow:\n      - proto: tcp\n        user: tor-user\n",
	  P "line 5 column 15: user 'tor-user' is not among the spec's users" },
	{ "firewall:\n  out:\n    allow:\n      - group: wheel\n",
	  P "line 4 column 16: group 'wheel' is not among the spec's groups" },
	{ "firewall:\n  in:\n    allow:\n      - proto: tcp\n        user: debian-tor\n",
	  P "line 5 column 15: user applies only to the out chain (the kernel knows no owner "
	    "of incoming packets)" },
	{ "firewall:\n  in:\n    allow:\n      - group: 0\n",
	  P "line 4 column 16: group applies only to the out chain (the kernel knows no owner "
	    "of incoming packets)" },
	{ "firewall:\n  in:\n    allow:\n      - proto: tcp\n        prot: 22\n",
	  P "line 5 column 9: unknown key 'prot' (did you mean 'proto'?)" },
	{ "firewall:\n  outt: {}\n",
	  P "line 2 column 3: unknown key 'outt' (did you mean 'out'?)" },
	{ "firewall:\n  forward:\n    allow: []\n", P "line 3 column 5: unknown key 'allow'" },
	{ "firewall:\n  in:\n    default: reject\n",
	  P "line 3 column 14: default must be drop or accept" },
	{ "firewall:\n  log: maybe\n",
	  P "line 2 column 8: log must be true or false, not 'maybe'" },
	{ "firewall:\n  log: { rate: \"5/fortnight\" }\n",
	  P "line 2 column 16: invalid rate '5/fortnight' (the unit is second, minute, hour or "
	    "day)" },
	{ "firewall:\n  in:\n    allow:\n      - from: 192.0.2.1/24\n",
	  P "line 4 column 15: prefix '192.0.2.1/24' has host bits set (did you mean "
	    "'192.0.2.0/24'?)" },
	{ "firewall:\n  in:\n    allow:\n      - from: 192.0.2.0/24\n        to: 2001:db8::1\n",
	  P "line 4 column 9: from and to have no address family in common" },
	{ "firewall:\n  in:\n    allow:\n      - proto: icmp\n        from: 2001:db8::/32\n",
	  P "line 4 column 9: proto icmp cannot match IPv6 addresses" },
	{ "firewall:\n  in:\n    allow:\n      - proto: tcp\n        port: [22, 20-30]\n",
	  P "line 5 column 15: ports overlap: 20-30 and 22-22" },
	{ "firewall:\n  in:\n    allow:\n      - from: [192.0.2.0/24, 192.0.2.9]\n",
	  P "line 4 column 15: from lists overlapping addresses" },
	{ "firewall:\n  in:\n    allow:\n      - interface: a-very-long-interface\n",
	  P "line 4 column 20: interface name 'a-very-long-interface' must have 1 to 15 "
	    "characters" },
	{ "firewall:\n  in:\n    allow:\n      - interface: \"eth0 accept\"\n",
	  P "line 4 column 20: invalid interface name 'eth0 accept'" },
	{ "firewall:\n  in:\n    allow:\n      - {}\n",
	  P "line 4 column 9: empty rule would allow everything; use 'default: accept' to mean "
	    "that" },
	{ "firewall:\n  in:\n    allow: { proto: tcp }\n",
	  P "line 3 column 12: allow must be a list, not a mapping" },
	{ "firewall:\n  in:\n    allow:\n      - tcp\n",
	  P "line 4 column 9: a firewall rule must be a mapping, not a scalar" },
	{ "firewall:\n  in:\n    allow:\n      - proto: tcp\n        port: 0\n",
	  P "line 5 column 15: port 0 is out of range (1-65535)" },
	{ "firewall:\n  in:\n    allow:\n      - proto: tcp\n        port: \"+22\"\n",
	  P "line 5 column 15: invalid port '+22' (expected N or \"N-M\")" },
	{ "firewall:\n  in:\n    allow:\n      - proto: tcp\n        port: []\n",
	  P "line 5 column 15: port is an empty list" },
	{ "firewall:\n  in:\n    allow:\n      - proto: tcp\n        port: [1, \"2-3\", 65535]\n",
	  P "line 5 column 15: ports 1-1 and 2-3 are adjacent: write \"1-3\"" },
	{ "firewall:\n  in:\n    allow:\n      - to: [192.0.2.128/25, 192.0.2.0/25]\n",
	  P "line 4 column 13: to lists adjacent prefixes that nft would merge; write the prefix "
	    "that covers both" },
	{ "firewall: [in]\n", P "line 1 column 11: firewall must be a mapping, not a list" },
	/* Allow-all rules that name keys (issue 10.13). */
	{ "firewall:\n  in:\n    allow:\n      - from: [0.0.0.0/0, \"::/0\"]\n",
	  P "line 4 column 15: from [0.0.0.0/0, ::/0] matches every address; to allow every "
	    "address, leave from out" },
	{ "firewall:\n  out:\n    allow:\n      - to: [\"::/0\", 0.0.0.0/0]\n        proto: tcp\n",
	  P "line 4 column 13: to [0.0.0.0/0, ::/0] matches every address; to allow every "
	    "address, leave to out" },
	{ "firewall:\n  in:\n    allow:\n      - proto: [tcp, udp]\n        port: \"1-65535\"\n",
	  P "line 5 column 15: port \"1-65535\" matches every port; to allow every port, leave "
	    "port out" },
	{ "firewall:\n  in:\n    allow:\n      - proto: [tcp, udp, icmp, icmpv6]\n",
	  P "line 4 column 9: rule matches every packet (every protocol, port and address) and "
	    "would allow everything; use 'default: accept' to mean that" },
	{ "firewall:\n  out:\n    allow:\n      - proto: [icmpv6, udp, tcp, icmp]\n",
	  P "line 4 column 9: rule matches every packet (every protocol, port and address) and "
	    "would allow everything; use 'default: accept' to mean that" },
};

static void test_bad_sections(void **state)
{
	bool failed = false;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct lethe_firewall *fw = NULL;
		int r;

		lethe_error_clear();
		r = parse_text(bad_cases[i].yaml, &fw);
		if (r != -EBADMSG || !lethe_error_message() ||
		    strcmp(lethe_error_message(), bad_cases[i].message)) {
			print_error("case %zu: r=%d\n  got:      %s\n  expected: %s\n", i, r,
				    lethe_error_message() ? lethe_error_message() : "(none)",
				    bad_cases[i].message);
			failed = true;
		}
		assert_null(fw);
	}
	assert_false(failed);
}

static void expect_render(const char *yaml, unsigned flags, const char *expected)
{
	struct lethe_firewall *fw = NULL;
	char *text = NULL;
	int r = parse_text(yaml, &fw);

	if (r < 0)
		print_error("parse: %s\n", lethe_error_message());
	assert_int_equal(r, 0);
	assert_int_equal(lethe_firewall_render(fw, flags, &text), 0);
	assert_string_equal(text, expected);
	free(text);
	lethe_firewall_free(fw);
}

/* No section: everything dropped both ways, drops logged, no IPv6 neighbour discovery. */
static void test_render_default(void **state)
{
	expect_render("name: x\n", 0,
		      "table inet lethe {\n"
		      "\tchain input {\n"
		      "\t\ttype filter hook input priority filter; policy drop;\n"
		      "\t\tiif \"lo\" accept\n"
		      "\t\tct state established,related accept\n"
		      "\t\tct state invalid counter drop comment \"lethe-invalid-in\"\n"
		      "\t\tlimit rate 5/minute log prefix \"lethe-drop-in: \"\n"
		      "\t\tcounter comment \"lethe-drop-in\"\n"
		      "\t}\n"
		      "\n"
		      "\tchain output {\n"
		      "\t\ttype filter hook output priority filter; policy drop;\n"
		      "\t\toif \"lo\" accept\n"
		      "\t\tct state established,related accept\n"
		      "\t\tct state invalid counter drop comment \"lethe-invalid-out\"\n"
		      "\t\tmeta l4proto { tcp, udp } th dport 53 jump dns\n"
		      "\t\tlimit rate 5/minute log prefix \"lethe-drop-out: \"\n"
		      "\t\tcounter comment \"lethe-drop-out\"\n"
		      "\t}\n"
		      "\n"
		      "\tchain forward {\n"
		      "\t\ttype filter hook forward priority filter; policy drop;\n"
		      "\t\tlimit rate 5/minute log prefix \"lethe-drop-fwd: \"\n"
		      "\t\tcounter comment \"lethe-drop-fwd\"\n"
		      "\t}\n"
		      "\n"
		      "\tchain dns {\n"
		      "\t\tcounter drop comment \"lethe-dns-out\"\n"
		      "\t}\n"
		      "}\n");
}

/* The privacy shape: only the tor user goes out, to tor's ports; IPv4 only, so no ND. */
static void test_render_privacy(void **state)
{
	expect_render(
		"firewall:\n"
		"  log: false\n"
		"  out:\n"
		"    allow:\n"
		"      - { proto: tcp, port: [443, 9001, 80, \"9030-9031\"], user: debian-tor,"
		" to: [198.51.100.0/24, 192.0.2.0/24] }\n"
		"      - { proto: udp, port: 53, group: tor, interface: eth0, to: 192.0.2.53/32 "
		"}\n",
		0,
		"table inet lethe {\n"
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter; policy drop;\n"
		"\t\tiif \"lo\" accept\n"
		"\t\tct state established,related accept\n"
		"\t\tct state invalid counter drop comment \"lethe-invalid-in\"\n"
		"\t\tcounter comment \"lethe-drop-in\"\n"
		"\t}\n"
		"\n"
		"\tchain output {\n"
		"\t\ttype filter hook output priority filter; policy drop;\n"
		"\t\toif \"lo\" accept\n"
		"\t\tct state established,related accept\n"
		"\t\tct state invalid counter drop comment \"lethe-invalid-out\"\n"
		"\t\tmeta l4proto { tcp, udp } th dport 53 jump dns\n"
		"\t\tmeta skuid 101 ip daddr { 192.0.2.0/24, 198.51.100.0/24 } "
		"tcp dport { 80, 443, 9001, 9030-9031 } accept\n"
		"\t\toifname \"eth0\" meta skgid 110 ip daddr 192.0.2.53 udp dport 53 accept\n"
		"\t\tcounter comment \"lethe-drop-out\"\n"
		"\t}\n"
		"\n"
		"\tchain forward {\n"
		"\t\ttype filter hook forward priority filter; policy drop;\n"
		"\t\tcounter comment \"lethe-drop-fwd\"\n"
		"\t}\n"
		"\n"
		"\tchain dns {\n"
		"\t\tcounter drop comment \"lethe-dns-out\"\n"
		"\t}\n"
		"}\n");
}

/* Both families, protocol lists, ICMP, numeric protocols as the check renders them. */
static void test_render_dual_stack(void **state)
{
	expect_render(
		"firewall:\n"
		"  log: { rate: \"2/second\" }\n"
		"  in:\n"
		"    allow:\n"
		"      - { proto: [udp, tcp], port: 53, from: [\"2001:db8::/32\", 192.0.2.0/24] }\n"
		"      - { proto: icmp }\n"
		"      - { proto: icmpv6, from: \"2001:db8:0:0::1\" }\n"
		"      - { proto: tcp }\n"
		"  out: { default: accept }\n"
		"  forward: { default: drop }\n",
		LETHE_FIREWALL_NUMERIC_PROTO,
		"table inet lethe {\n"
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter; policy drop;\n"
		"\t\tiif \"lo\" accept\n"
		"\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } "
		"ip6 hoplimit 255 accept\n"
		"\t\tct state established,related accept\n"
		"\t\tct state invalid counter drop comment \"lethe-invalid-in\"\n"
		"\t\tip saddr 192.0.2.0/24 tcp dport 53 accept\n"
		"\t\tip6 saddr 2001:db8::/32 tcp dport 53 accept\n"
		"\t\tip saddr 192.0.2.0/24 udp dport 53 accept\n"
		"\t\tip6 saddr 2001:db8::/32 udp dport 53 accept\n"
		"\t\tmeta l4proto 1 accept\n"
		"\t\tip6 saddr 2001:db8::1 meta l4proto 58 accept\n"
		"\t\tmeta l4proto 6 accept\n"
		"\t\tlimit rate 2/second log prefix \"lethe-drop-in: \"\n"
		"\t\tcounter comment \"lethe-drop-in\"\n"
		"\t}\n"
		"\n"
		"\tchain output {\n"
		"\t\ttype filter hook output priority filter; policy accept;\n"
		"\t\toif \"lo\" accept\n"
		"\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } "
		"ip6 hoplimit 255 accept\n"
		"\t\tct state established,related accept\n"
		"\t\tct state invalid counter drop comment \"lethe-invalid-out\"\n"
		"\t\tmeta l4proto { 6, 17 } th dport 53 jump dns\n"
		"\t}\n"
		"\n"
		"\tchain forward {\n"
		"\t\ttype filter hook forward priority filter; policy drop;\n"
		"\t\tlimit rate 2/second log prefix \"lethe-drop-fwd: \"\n"
		"\t\tcounter comment \"lethe-drop-fwd\"\n"
		"\t}\n"
		"\n"
		"\tchain dns {\n"
		"\t\tcounter drop comment \"lethe-dns-out\"\n"
		"\t}\n"
		"}\n");
}

/* network.dns: port 53 out jumps to chain dns, which returns only the named servers
 * (sorted, per family) and counts and drops the rest, even under an accept policy. */
static void test_render_dns(void **state)
{
	char *servers[] = { "2001:db8::53", "192.0.2.53", "192.0.2.5" }, *bad[] = { "nope" };
	struct lethe_spec spec = { .dns = { servers, 3 } };
	struct lethe_node *root = NULL;
	struct lethe_firewall *fw = NULL;
	const char *yaml = "firewall:\n  log: false\n  out: { default: accept }\n";
	char *text = NULL;

	assert_int_equal(lethe_yaml_parse("fw.yaml", yaml, strlen(yaml), &root), 0);
	assert_int_equal(
		lethe_firewall_parse("fw.yaml", lethe_node_get(root, "firewall"), &spec, &fw), 0);
	assert_int_equal(lethe_firewall_render(fw, 0, &text), 0);
	assert_non_null(strstr(text, "\t\tct state invalid counter drop comment "
				     "\"lethe-invalid-out\"\n"
				     "\t\tmeta l4proto { tcp, udp } th dport 53 jump dns\n"
				     "\t}\n"));
	assert_non_null(strstr(text, "\t}\n"
				     "\n"
				     "\tchain dns {\n"
				     "\t\tip daddr { 192.0.2.5, 192.0.2.53 } return\n"
				     "\t\tip6 daddr 2001:db8::53 return\n"
				     "\t\tcounter drop comment \"lethe-dns-out\"\n"
				     "\t}\n"
				     "}\n"));
	free(text);
	lethe_firewall_free(fw);
	spec.dns = (struct lethe_strv){ bad, 1 };
	assert_int_equal(
		lethe_firewall_parse("fw.yaml", lethe_node_get(root, "firewall"), &spec, &fw),
		-LETHE_E_INVALID);
	lethe_node_free(root);
}

/* dhcp: true: DHCP in and out on that interface only, before the spec's rules; with
 * network.dns: dhcp, DNS to any server but only out of the DHCP interfaces. */
static void test_render_dhcp(void **state)
{
	struct lethe_spec_interface ifs[] = { { .name = "eth0", .dhcp = true },
					      { .name = "eth1" },
					      { .name = "wlan0", .dhcp = true } };
	struct lethe_spec spec = { .interfaces = ifs, .n_interfaces = 3, .dns_dhcp = true };
	struct lethe_node *root = NULL;
	struct lethe_firewall *fw = NULL;
	const char *yaml = "firewall:\n  log: false\n";
	char *text = NULL;

	assert_int_equal(lethe_yaml_parse("fw.yaml", yaml, strlen(yaml), &root), 0);
	assert_int_equal(
		lethe_firewall_parse("fw.yaml", lethe_node_get(root, "firewall"), &spec, &fw), 0);
	assert_int_equal(lethe_firewall_render(fw, 0, &text), 0);
	assert_non_null(strstr(text,
			       "\"lethe-invalid-in\"\n"
			       "\t\tiifname { \"eth0\", \"wlan0\" } udp sport 67 udp dport 68 "
			       "accept\n"
			       "\t\tcounter comment \"lethe-drop-in\"\n"));
	assert_non_null(strstr(text,
			       "jump dns\n"
			       "\t\toifname { \"eth0\", \"wlan0\" } udp sport 68 udp dport 67 "
			       "accept\n"
			       "\t\tcounter comment \"lethe-drop-out\"\n"));
	assert_non_null(strstr(text, "\tchain dns {\n"
				     "\t\toifname { \"eth0\", \"wlan0\" } return\n"
				     "\t\tcounter drop comment \"lethe-dns-out\"\n"));
	free(text);
	lethe_firewall_free(fw);
	/* Without dhcp: true anywhere, no DHCP rule at all. */
	ifs[0].dhcp = ifs[2].dhcp = false;
	assert_int_equal(
		lethe_firewall_parse("fw.yaml", lethe_node_get(root, "firewall"), &spec, &fw), 0);
	assert_int_equal(lethe_firewall_render(fw, 0, &text), 0);
	assert_null(strstr(text, "sport 6"));
	assert_null(strstr(text, "oifname"));
	free(text);
	lethe_firewall_free(fw);
	lethe_node_free(root);
}

/* network.vpn: the kill switch before the replies rule, DHCP before it, DNS servers
 * only through the tunnel, no IPv6 neighbour discovery over an IPv4 endpoint. */
static void test_render_vpn(void **state)
{
	char *servers[] = { "192.0.2.129" };
	struct lethe_spec_interface ifs[] = { { .name = "eth0", .dhcp = true } };
	struct lethe_spec_vpn vpn = { .interface = "wg0", .endpoint = "192.0.2.1", .port = 51820 };
	struct lethe_spec spec = {
		.interfaces = ifs, .n_interfaces = 1, .vpn = &vpn, .dns = { servers, 1 }
	};
	struct lethe_node *root = NULL;
	struct lethe_firewall *fw = NULL;
	const char *yaml = "firewall:\n  log: false\n  out: { default: accept }\n"
			   "  in: { allow: [{ proto: icmpv6 }] }\n";
	char *text = NULL;

	assert_int_equal(lethe_yaml_parse("fw.yaml", yaml, strlen(yaml), &root), 0);
	assert_int_equal(
		lethe_firewall_parse("fw.yaml", lethe_node_get(root, "firewall"), &spec, &fw), 0);
	assert_int_equal(lethe_firewall_render(fw, 0, &text), 0);
	assert_non_null(strstr(text,
			       "\t\tiif \"lo\" accept\n"
			       "\t\tiifname \"eth0\" udp sport 67 udp dport 68 accept\n"
			       "\t\tip saddr 192.0.2.1 udp sport 51820 accept\n"
			       "\t\tiifname != \"wg0\" counter drop comment \"lethe-vpn-in\"\n"
			       "\t\tct state established,related accept\n"));
	assert_non_null(strstr(text,
			       "\t\toif \"lo\" accept\n"
			       "\t\toifname \"eth0\" udp sport 68 udp dport 67 accept\n"
			       "\t\tip daddr 192.0.2.1 udp dport 51820 accept\n"
			       "\t\toifname != \"wg0\" counter drop comment \"lethe-vpn-out\"\n"
			       "\t\tct state established,related accept\n"));
	assert_non_null(strstr(text, "\t\toifname \"wg0\" ip daddr 192.0.2.129 return\n"));
	assert_null(strstr(text, "nd-neighbor")); /* IPv4 endpoint: no ND on the link */
	assert_int_equal(strstr(text, "udp sport 68") - strstr(text, "udp sport 67") > 0, 1);
	free(text);
	lethe_firewall_free(fw);
	/* An IPv6 endpoint needs neighbour discovery on the physical link. */
	vpn.endpoint = "2001:db8::1";
	assert_int_equal(
		lethe_firewall_parse("fw.yaml", lethe_node_get(root, "firewall"), &spec, &fw), 0);
	assert_int_equal(lethe_firewall_render(fw, 0, &text), 0);
	assert_non_null(strstr(text, "nd-neighbor"));
	assert_non_null(strstr(text, "\t\tip6 daddr 2001:db8::1 udp dport 51820 accept\n"));
	free(text);
	lethe_firewall_free(fw);
	lethe_node_free(root);
}

static const char listing[] = "table inet lethe {\n"
			      "\tchain input {\n"
			      "\t\ttype filter hook input priority filter; policy drop;\n"
			      "\t\tiif \"lo\" accept\n"
			      "\t\ttcp dport 22 accept\n"
			      "\t}\n"
			      "\n"
			      "\tchain output {\n"
			      "\t\ttype filter hook output priority filter; policy drop;\n"
			      "\t}\n"
			      "}\n";

static void test_compare(void **state)
{
	struct lethe_firewall_drift d = { 0 };
	const char *live = "table inet lethe {\n"
			   "\tchain input {\n"
			   "\t\ttype filter hook input priority filter; policy drop;\n"
			   "\t\tiif \"lo\" accept # handle 3\n"
			   "\t\taccept # handle 9\n"
			   "\t}\n"
			   "\tchain output {\n"
			   "\t\ttype filter hook output priority filter; policy accept;\n"
			   "\t}\n"
			   "\tset evil {\n"
			   "\t\ttype ipv4_addr\n"
			   "\t\telements = { 192.0.2.1 }\n"
			   "\t}\n"
			   "}\n";

	assert_int_equal(lethe_firewall_compare(listing, listing, &d), 0);
	assert_int_equal(d.n, 0);

	assert_int_equal(lethe_firewall_compare(listing, NULL, &d), 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.diffs[0].kind, LETHE_FIREWALL_TABLE_MISSING);
	lethe_firewall_drift_release(&d);

	assert_int_equal(lethe_firewall_compare(listing, live, &d), 0);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.diffs[0].kind, LETHE_FIREWALL_RULE_ADDED);
	assert_string_equal(d.diffs[0].live, "accept");
	assert_int_equal(d.diffs[1].kind, LETHE_FIREWALL_RULE_MISSING);
	assert_string_equal(d.diffs[1].expected, "tcp dport 22 accept");
	assert_int_equal(d.diffs[2].kind, LETHE_FIREWALL_POLICY_CHANGED);
	assert_string_equal(d.diffs[2].chain, "output");
	assert_int_equal(d.diffs[3].kind, LETHE_FIREWALL_CHAIN_ADDED);
	assert_string_equal(d.diffs[3].chain, "set evil");
	lethe_firewall_drift_release(&d);

	/* A chain gone, and order matters: the same rules swapped are a drift. */
	live = "table inet lethe {\n"
	       "\tchain input {\n"
	       "\t\ttype filter hook input priority filter; policy drop;\n"
	       "\t\ttcp dport 22 accept\n"
	       "\t\tiif \"lo\" accept\n"
	       "\t}\n"
	       "}\n";
	assert_int_equal(lethe_firewall_compare(listing, live, &d), 0);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.diffs[2].kind, LETHE_FIREWALL_CHAIN_MISSING);
	assert_string_equal(d.diffs[2].chain, "output");
	lethe_firewall_drift_release(&d);

	assert_int_equal(lethe_firewall_compare(listing, "table ip other {\n}\n", &d), -EBADMSG);
	assert_int_equal(lethe_firewall_compare(listing, "table inet lethe {\n", &d), -EBADMSG);
}

/* Names resolve to ids: a numeric id is taken as it is, root is 0. */
/* The base chains of a ruleset: those of other tables are foreign hooks, named with
 * their hook and priority. */
static void test_foreign_hooks(void **state)
{
	static const char json[] =
		"{\"nftables\": [{\"metainfo\": {\"json_schema_version\": 1}},"
		"{\"table\": {\"family\": \"inet\", \"name\": \"lethe\", \"handle\": 1}},"
		"{\"chain\": {\"family\": \"inet\", \"table\": \"lethe\", \"name\": \"input\","
		" \"handle\": 1, \"type\": \"filter\", \"hook\": \"input\", \"prio\": 0,"
		" \"policy\": \"drop\"}},"
		"{\"table\": {\"family\": \"ip\", \"name\": \"nat\", \"handle\": 2}},"
		"{\"chain\": {\"family\": \"ip\", \"table\": \"nat\", \"name\": \"pre\","
		" \"handle\": 1, \"type\": \"nat\", \"hook\": \"prerouting\", \"prio\": -100,"
		" \"policy\": \"accept\"}},"
		"{\"chain\": {\"family\": \"ip\", \"table\": \"nat\", \"name\": \"helper\","
		" \"handle\": 2}},"
		"{\"chain\": {\"family\": \"netdev\", \"table\": \"n\", \"name\": \"in\","
		" \"handle\": 1, \"type\": \"filter\", \"hook\": \"ingress\", \"dev\": \"eth0\","
		" \"prio\": -500, \"policy\": \"accept\"}}]}";
	struct lethe_firewall_hooks h = { 0 };
	struct lethe_firewall_drift d = { 0 };

	assert_int_equal(lethe_firewall_hooks_parse(json, &h), 0);
	assert_true(h.lethe_table);
	assert_int_equal(h.n, 3); /* the regular chain "helper" is no hook */
	assert_true(lethe_firewall_hook_is_lethe(&h.v[0]));
	assert_int_equal(lethe_firewall_foreign_hooks(&h, &d), 0);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.diffs[0].kind, LETHE_FIREWALL_FOREIGN_HOOK);
	assert_string_equal(d.diffs[0].chain, "ip nat pre");
	assert_string_equal(d.diffs[0].live,
			    "type nat hook prerouting priority -100; policy accept;");
	assert_string_equal(d.diffs[1].live,
			    "type filter hook ingress device eth0 priority -500; policy accept;");
	assert_string_equal(lethe_firewall_diff_kind_name(d.diffs[0].kind), "foreign hook");
	lethe_firewall_drift_release(&d);
	lethe_firewall_hooks_release(&h);
	assert_int_equal(lethe_firewall_hooks_parse("[1, 2]", &h), -LETHE_E_INVALID);
}

static void test_accounts(void **state)
{
	expect_render(
		"firewall:\n  log: false\n  in: { default: accept }\n"
		"  out:\n    allow:\n      - { user: 4242 }\n      - { group: root }\n"
		"  forward: { default: accept }\n",
		0,
		"table inet lethe {\n"
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\tiif \"lo\" accept\n"
		"\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } "
		"ip6 hoplimit 255 accept\n"
		"\t\tct state established,related accept\n"
		"\t\tct state invalid counter drop comment \"lethe-invalid-in\"\n"
		"\t}\n"
		"\n"
		"\tchain output {\n"
		"\t\ttype filter hook output priority filter; policy drop;\n"
		"\t\toif \"lo\" accept\n"
		"\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } "
		"ip6 hoplimit 255 accept\n"
		"\t\tct state established,related accept\n"
		"\t\tct state invalid counter drop comment \"lethe-invalid-out\"\n"
		"\t\tmeta l4proto { tcp, udp } th dport 53 jump dns\n"
		"\t\tmeta skuid 4242 accept\n"
		"\t\tmeta skgid 0 accept\n"
		"\t\tcounter comment \"lethe-drop-out\"\n"
		"\t}\n"
		"\n"
		"\tchain forward {\n"
		"\t\ttype filter hook forward priority filter; policy accept;\n"
		"\t}\n"
		"\n"
		"\tchain dns {\n"
		"\t\tcounter drop comment \"lethe-dns-out\"\n"
		"\t}\n"
		"}\n");
}

/* The counters of table inet lethe in nft's JSON; other tables' counters are not ours. */
static void test_counters_parse(void **state)
{
	struct lethe_firewall_counters cs = { 0 };
	const char *json =
		"{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\"}},"
		"{\"table\": {\"family\": \"inet\", \"name\": \"lethe\", \"handle\": 1}},"
		"{\"rule\": {\"family\": \"inet\", \"table\": \"lethe\", \"chain\": \"output\","
		" \"handle\": 5, \"comment\": \"lethe-drop-out\", \"expr\": [{\"counter\":"
		" {\"packets\": 7, \"bytes\": 556}}]}},"
		"{\"rule\": {\"family\": \"inet\", \"table\": \"lethe\", \"chain\": \"input\","
		" \"handle\": 6, \"expr\": [{\"accept\": null}]}},"
		"{\"rule\": {\"family\": \"inet\", \"table\": \"lethe\", \"chain\": \"input\","
		" \"handle\": 8, \"expr\": [{\"counter\": {\"packets\": 2, \"bytes\": 3}},"
		" {\"drop\": null}]}},"
		"{\"rule\": {\"family\": \"ip\", \"table\": \"other\", \"chain\": \"c\","
		" \"handle\": 2, \"expr\": [{\"counter\": {\"packets\": 99, \"bytes\": 1}}]}}]}";

	assert_int_equal(lethe_firewall_counters_parse(json, &cs), 0);
	assert_int_equal(cs.n, 2);
	assert_string_equal(cs.v[0].chain, "output");
	assert_string_equal(cs.v[0].name, "lethe-drop-out");
	assert_int_equal(cs.v[0].packets, 7);
	assert_int_equal(cs.v[0].bytes, 556);
	assert_string_equal(cs.v[1].name, "handle 8");
	assert_int_equal(lethe_firewall_counters_dropped(&cs), 9);
	lethe_firewall_counters_release(&cs);
	assert_int_equal(lethe_firewall_counters_parse("{\"nftables\": [{\"rule\": {\"family\":"
						       " \"inet\", \"table\": \"lethe\","
						       " \"expr\": [{\"counter\": {}}]}}]}",
						       &cs),
			 -LETHE_E_INVALID);
	assert_int_equal(lethe_firewall_counters_parse("[]", &cs), -LETHE_E_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_parse),	  cmocka_unit_test(test_bad_sections),
		cmocka_unit_test(test_render_default),	  cmocka_unit_test(test_render_privacy),
		cmocka_unit_test(test_render_dual_stack), cmocka_unit_test(test_compare),
		cmocka_unit_test(test_accounts),	  cmocka_unit_test(test_render_dns),
		cmocka_unit_test(test_render_dhcp),	  cmocka_unit_test(test_render_vpn),
		cmocka_unit_test(test_foreign_hooks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
