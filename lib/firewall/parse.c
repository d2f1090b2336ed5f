/* Parse and validate a spec's firewall section into struct lethe_firewall: every error
 * names the line and column of the offending node. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firewall-internal.h"

static const char *const proto_names[FW_PROTO_COUNT] = { "tcp", "udp", "icmp", "icmpv6" };
/* icmpv6 before icmp: "icmp6" means the former. */
static const char *const proto_candidates[] = { "tcp", "udp", "icmpv6", "icmp", NULL };
static const char *const chain_keys[FW_CHAIN_COUNT] = { "in", "out", "forward" };

static int fw_error(const char *file, const struct lethe_node *node, const char *fmt, ...)
	LETHE_PRINTF(3, 4);

static int fw_error(const char *file, const struct lethe_node *node, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lethe_error(-LETHE_E_INVALID, "spec '%s' line %u column %u: %s", file, node->line,
			   node->column, msg);
}

/* The items of a scalar-or-sequence node: a scalar is a list of one. */
static int items_of(const char *file, const struct lethe_node *node, const char *what,
		    const struct lethe_node *const **ret_items, size_t *ret_n)
{
	if (node->type == LETHE_NODE_SCALAR) {
		*ret_items = (const struct lethe_node *const *)NULL;
		*ret_n = 1;
		return 0;
	}
	if (node->type != LETHE_NODE_SEQUENCE)
		return fw_error(file, node, "%s must be a value or a list of values", what);
	if (node->n == 0)
		return fw_error(file, node, "%s is an empty list", what);
	if (node->n > LETHE_FIREWALL_MAX_ELEMENTS)
		return fw_error(file, node, "%s has %zu items, more than the %d allowed", what,
				node->n, LETHE_FIREWALL_MAX_ELEMENTS);
	for (size_t i = 0; i < node->n; i++)
		if (node->items[i]->type != LETHE_NODE_SCALAR)
			return fw_error(file, node->items[i], "%s must be a value", what);
	*ret_items = (const struct lethe_node *const *)node->items;
	*ret_n = node->n;
	return 0;
}

static const struct lethe_node *item_at(const struct lethe_node *node,
					const struct lethe_node *const *items, size_t i)
{
	return items ? items[i] : node;
}

/* ---- numbers ---- */

/* A decimal number without sign, spaces or leading zeros, at most max. */
static bool parse_decimal(const char *s, size_t len, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return false;
	*ret = v;
	return true;
}

/* ---- proto ---- */

static int parse_protos(const char *file, const struct lethe_node *node, unsigned *ret)
{
	const struct lethe_node *const *items;
	size_t n;
	unsigned protos = 0;
	int r = items_of(file, node, "proto", &items, &n);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct lethe_node *it = item_at(node, items, i);
		int p;

		for (p = 0; p < FW_PROTO_COUNT; p++)
			if (!strcmp(it->value, proto_names[p]))
				break;
		if (p == FW_PROTO_COUNT) {
			const char *near = lethe_spell_suggest(it->value, proto_candidates);

			if (near)
				return fw_error(file, it, "unknown proto '%s' (did you mean '%s'?)",
						it->value, near);
			return fw_error(file, it,
					"unknown proto '%s' (expected tcp, udp, icmp or icmpv6)",
					it->value);
		}
		if (protos & (1u << p))
			return fw_error(file, it, "proto '%s' is listed twice", it->value);
		protos |= 1u << p;
	}
	*ret = protos;
	return 0;
}

/* ---- port ---- */

static int cmp_port(const void *a, const void *b)
{
	const struct fw_port_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

static int parse_port(const char *file, const struct lethe_node *it, struct fw_port_range *ret)
{
	const char *s = it->value, *dash = strchr(s, '-');
	uint64_t lo, hi;

	if (!dash) {
		if (!parse_decimal(s, strlen(s), UINT64_MAX, &lo))
			return fw_error(file, it, "invalid port '%s' (expected N or \"N-M\")", s);
		hi = lo;
	} else if (!parse_decimal(s, (size_t)(dash - s), UINT64_MAX, &lo) ||
		   !parse_decimal(dash + 1, strlen(dash + 1), UINT64_MAX, &hi)) {
		return fw_error(file, it, "invalid port range '%s' (expected \"N-M\")", s);
	}
	if (lo < 1 || lo > 65535)
		return fw_error(file, it, "port %llu is out of range (1-65535)",
				(unsigned long long)lo);
	if (hi < 1 || hi > 65535)
		return fw_error(file, it, "port %llu is out of range (1-65535)",
				(unsigned long long)hi);
	if (hi < lo)
		return fw_error(file, it, "port range '%s' is reversed (did you mean '%llu-%llu'?)",
				s, (unsigned long long)hi, (unsigned long long)lo);
	ret->lo = (uint16_t)lo;
	ret->hi = (uint16_t)hi;
	return 0;
}

static int parse_ports(const char *file, const struct lethe_node *node, struct fw_rule *rule)
{
	const struct lethe_node *const *items;
	size_t n;
	int r = items_of(file, node, "port", &items, &n);

	if (r < 0)
		return r;
	rule->ports = calloc(n, sizeof(*rule->ports));
	if (!rule->ports)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r = parse_port(file, item_at(node, items, i), &rule->ports[i]);
		if (r < 0)
			return r;
	}
	rule->n_ports = n;
	/* Sorted, as nft lists a set. Overlapping or adjacent values are refused: nft would
	 * merge them, and the table would no longer read as the spec says. */
	qsort(rule->ports, n, sizeof(*rule->ports), cmp_port);
	for (size_t i = 1; i < n; i++) {
		const struct fw_port_range *a = &rule->ports[i - 1], *b = &rule->ports[i];

		if (b->lo <= a->hi)
			return fw_error(file, node, "ports overlap: %u-%u and %u-%u", a->lo, a->hi,
					b->lo, b->hi);
		if ((unsigned)b->lo == (unsigned)a->hi + 1)
			return fw_error(file, node,
					"ports %u-%u and %u-%u are adjacent: write "
					"\"%u-%u\"",
					a->lo, a->hi, b->lo, b->hi, a->lo, b->hi);
	}
	/* A match on every port restricts nothing but looks as if it did. */
	if (n == 1 && rule->ports[0].lo == 1 && rule->ports[0].hi == 65535)
		return fw_error(file, node,
				"port \"1-65535\" matches every port; to allow every "
				"port, leave port out");
	return 0;
}

/* ---- addresses ---- */

static size_t addr_len(const struct fw_addr *a)
{
	return a->family == FW_FAMILY_V4 ? 4 : 16;
}

/* The last address of a's prefix, into hi. */
static void addr_last(const struct fw_addr *a, uint8_t hi[16])
{
	memcpy(hi, a->bytes, 16);
	for (unsigned bit = a->prefix; bit < addr_len(a) * 8; bit++)
		hi[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
}

/* a + 1 over len bytes; false when a is all ones. */
static bool addr_increment(uint8_t *a, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (++a[i] != 0)
			return true;
	return false;
}

static int cmp_addr(const void *x, const void *y)
{
	const struct fw_addr *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, addr_len(a));
}

static int parse_addr(const char *file, const struct lethe_node *it, struct fw_addr *ret)
{
	const char *s = it->value, *slash = strchr(s, '/');
	char host[INET6_ADDRSTRLEN];
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	struct fw_addr a = { 0 };
	uint64_t prefix;

	if (hlen == 0 || hlen >= sizeof(host))
		return fw_error(file, it, "invalid address or prefix '%s'", s);
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, a.bytes) == 1)
		a.family = FW_FAMILY_V4;
	else if (inet_pton(AF_INET6, host, a.bytes) == 1)
		a.family = FW_FAMILY_V6;
	else
		return fw_error(file, it, "invalid address or prefix '%s'", s);
	prefix = addr_len(&a) * 8;
	if (slash && !parse_decimal(slash + 1, strlen(slash + 1), addr_len(&a) * 8, &prefix))
		return fw_error(file, it, "invalid address or prefix '%s' (prefix length 0-%zu)", s,
				addr_len(&a) * 8);
	a.prefix = (unsigned)prefix;
	/* Host bits would be masked away by the kernel: say so rather than guess. */
	{
		struct fw_addr masked = a;
		char net[INET6_ADDRSTRLEN];

		for (unsigned bit = a.prefix; bit < addr_len(&a) * 8; bit++)
			masked.bytes[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
		if (memcmp(masked.bytes, a.bytes, 16)) {
			inet_ntop(a.family == FW_FAMILY_V4 ? AF_INET : AF_INET6, masked.bytes, net,
				  sizeof(net));
			return fw_error(file, it,
					"prefix '%s' has host bits set (did you mean '%s/%u'?)", s,
					net, a.prefix);
		}
	}
	*ret = a;
	return 0;
}

static int parse_addrs(const char *file, const struct lethe_node *node, const char *what,
		       struct fw_addr **ret, size_t *ret_n)
{
	const struct lethe_node *const *items;
	struct fw_addr *addrs;
	size_t n;
	int r = items_of(file, node, what, &items, &n);

	if (r < 0)
		return r;
	addrs = calloc(n, sizeof(*addrs));
	if (!addrs)
		return -ENOMEM;
	*ret = addrs;
	for (size_t i = 0; i < n; i++) {
		r = parse_addr(file, item_at(node, items, i), &addrs[i]);
		if (r < 0)
			return r;
	}
	*ret_n = n;
	qsort(addrs, n, sizeof(*addrs), cmp_addr);
	for (size_t i = 1; i < n; i++) {
		uint8_t hi[16];

		if (addrs[i].family != addrs[i - 1].family)
			continue;
		addr_last(&addrs[i - 1], hi);
		if (memcmp(addrs[i].bytes, hi, addr_len(&addrs[i])) <= 0)
			return fw_error(file, node, "%s lists overlapping addresses", what);
		/* Adjacent prefixes: nft would merge them into one range. */
		if (addr_increment(hi, addr_len(&addrs[i])) &&
		    !memcmp(addrs[i].bytes, hi, addr_len(&addrs[i])))
			return fw_error(file, node,
					"%s lists adjacent prefixes that nft would merge; "
					"write the prefix that covers both",
					what);
	}
	/* Both whole address spaces: a match that restricts nothing but looks as if it did.
	 * (One of them alone restricts the family, which is a real choice.) */
	{
		unsigned whole = 0;

		for (size_t i = 0; i < n; i++)
			if (addrs[i].prefix == 0)
				whole |= addrs[i].family;
		if (whole == (FW_FAMILY_V4 | FW_FAMILY_V6))
			return fw_error(file, node,
					"%s [0.0.0.0/0, ::/0] matches every address; to "
					"allow every address, leave %s out",
					what, what);
	}
	return 0;
}

static unsigned addr_families(const struct fw_addr *a, size_t n)
{
	unsigned f = 0;

	for (size_t i = 0; i < n; i++)
		f |= a[i].family;
	return f;
}

/* ---- interface, user, group ---- */

static int parse_interface(const char *file, const struct lethe_node *node, char **ret)
{
	const char *s;
	size_t len;

	if (node->type != LETHE_NODE_SCALAR)
		return fw_error(file, node, "interface must be a name");
	s = node->value;
	len = strlen(s);
	if (len == 0 || len > 15)
		return fw_error(file, node, "interface name '%s' must have 1 to 15 characters", s);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || strchr("_.-@+:", c) ||
			  (c == '*' && i == len - 1 && i > 0);

		if (!ok)
			return fw_error(file, node, "invalid interface name '%s'", s);
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static bool parse_id(const char *s, uint32_t *ret)
{
	uint64_t v;

	if (!parse_decimal(s, strlen(s), 4294967294u, &v))
		return false;
	*ret = (uint32_t)v;
	return true;
}

static int parse_user(const char *file, const struct lethe_node *node,
		      const struct lethe_spec *accounts, uint32_t *ret)
{
	if (node->type != LETHE_NODE_SCALAR)
		return fw_error(file, node, "user must be a name or a number");
	if (parse_id(node->value, ret))
		return 0;
	if (!strcmp(node->value, "root")) {
		*ret = 0;
		return 0;
	}
	for (size_t i = 0; accounts && i < accounts->n_users; i++)
		if (!strcmp(accounts->users[i].name, node->value)) {
			*ret = (uint32_t)accounts->users[i].uid;
			return 0;
		}
	return fw_error(file, node, "user '%s' is not among the spec's users", node->value);
}

static int parse_group(const char *file, const struct lethe_node *node,
		       const struct lethe_spec *accounts, uint32_t *ret)
{
	if (node->type != LETHE_NODE_SCALAR)
		return fw_error(file, node, "group must be a name or a number");
	if (parse_id(node->value, ret))
		return 0;
	if (!strcmp(node->value, "root")) {
		*ret = 0;
		return 0;
	}
	for (size_t i = 0; accounts && i < accounts->n_groups; i++)
		if (!strcmp(accounts->groups[i].name, node->value)) {
			*ret = (uint32_t)accounts->groups[i].gid;
			return 0;
		}
	return fw_error(file, node, "group '%s' is not among the spec's groups", node->value);
}

/* ---- a rule ---- */

static const char *const rule_keys[] = { "proto",     "port", "from",  "to",
					 "interface", "user", "group", NULL };

/* Which families the rule's addresses leave; an error when they exclude each other. */
static int rule_families(const char *file, const struct lethe_node *node, struct fw_rule *rule)
{
	unsigned from = addr_families(rule->from, rule->n_from);
	unsigned to = addr_families(rule->to, rule->n_to);
	unsigned f = FW_FAMILY_V4 | FW_FAMILY_V6;

	if (from)
		f &= from;
	if (to)
		f &= to;
	if (!f)
		return fw_error(file, node, "from and to have no address family in common");
	if ((rule->protos & (1u << FW_PROTO_ICMP)) && !(f & FW_FAMILY_V4))
		return fw_error(file, node, "proto icmp cannot match IPv6 addresses");
	if ((rule->protos & (1u << FW_PROTO_ICMPV6)) && !(f & FW_FAMILY_V6))
		return fw_error(file, node, "proto icmpv6 cannot match IPv4 addresses");
	rule->families = f;
	return 0;
}

static int parse_rule(const char *file, const struct lethe_node *node, enum fw_chain_id chain,
		      const struct lethe_spec *accounts, struct fw_rule *rule)
{
	const struct lethe_node *v;
	int r;

	r = lethe_node_expect(file, node, LETHE_NODE_MAPPING, "a firewall rule");
	if (r < 0)
		return r;
	r = lethe_node_check_keys(file, node, rule_keys);
	if (r < 0)
		return r;
	if (node->n == 0)
		return fw_error(file, node,
				"empty rule would allow everything; "
				"use 'default: accept' to mean that");
	rule->line = node->line;
	rule->column = node->column;
	if ((v = lethe_node_get(node, "proto")) && (r = parse_protos(file, v, &rule->protos)) < 0)
		return r;
	if ((v = lethe_node_get(node, "port"))) {
		if (!rule->protos ||
		    (rule->protos & ~((1u << FW_PROTO_TCP) | (1u << FW_PROTO_UDP))))
			return fw_error(file, v, "port needs proto tcp or udp");
		if ((r = parse_ports(file, v, rule)) < 0)
			return r;
	}
	if ((v = lethe_node_get(node, "from")) &&
	    (r = parse_addrs(file, v, "from", &rule->from, &rule->n_from)) < 0)
		return r;
	if ((v = lethe_node_get(node, "to")) &&
	    (r = parse_addrs(file, v, "to", &rule->to, &rule->n_to)) < 0)
		return r;
	if ((r = rule_families(file, node, rule)) < 0)
		return r;
	if ((v = lethe_node_get(node, "interface")) &&
	    (r = parse_interface(file, v, &rule->interface)) < 0)
		return r;
	if ((v = lethe_node_get(node, "user"))) {
		if (chain != FW_CHAIN_OUT)
			return fw_error(file, v,
					"user applies only to the out chain "
					"(the kernel knows no owner of incoming packets)");
		if ((r = parse_user(file, v, accounts, &rule->uid)) < 0)
			return r;
		rule->has_uid = true;
	}
	if ((v = lethe_node_get(node, "group"))) {
		if (chain != FW_CHAIN_OUT)
			return fw_error(file, v,
					"group applies only to the out chain "
					"(the kernel knows no owner of incoming packets)");
		if ((r = parse_group(file, v, accounts, &rule->gid)) < 0)
			return r;
		rule->has_gid = true;
	}
	/* Every protocol Lethe knows and nothing else: the rule matches every packet. */
	if ((rule->protos == 0 || rule->protos == (1u << FW_PROTO_COUNT) - 1) && !rule->n_ports &&
	    !rule->n_from && !rule->n_to && !rule->interface && !rule->has_uid && !rule->has_gid)
		return fw_error(file, node,
				"rule matches every packet (every protocol, port and "
				"address) and would allow everything; use 'default: "
				"accept' to mean that");
	return 0;
}

/* ---- chains, log, the section ---- */

static const char *const chain_keys_allow[] = { "default", "allow", NULL };
static const char *const chain_keys_forward[] = { "default", NULL };

static int parse_chain(const char *file, const struct lethe_node *node, enum fw_chain_id id,
		       const struct lethe_spec *accounts, struct fw_chain *chain)
{
	const struct lethe_node *v;
	int r;

	r = lethe_node_expect(file, node, LETHE_NODE_MAPPING, chain_keys[id]);
	if (r < 0)
		return r;
	r = lethe_node_check_keys(file, node,
				  id == FW_CHAIN_FORWARD ? chain_keys_forward : chain_keys_allow);
	if (r < 0)
		return r;
	if ((v = lethe_node_get(node, "default"))) {
		if (v->type != LETHE_NODE_SCALAR ||
		    (strcmp(v->value, "drop") && strcmp(v->value, "accept")))
			return fw_error(file, v, "default must be drop or accept");
		chain->accept = !strcmp(v->value, "accept");
	}
	v = lethe_node_get(node, "allow");
	if (!v)
		return 0;
	r = lethe_node_expect(file, v, LETHE_NODE_SEQUENCE, "allow");
	if (r < 0)
		return r;
	if (v->n > LETHE_FIREWALL_MAX_RULES)
		return fw_error(file, v, "allow has %zu rules, more than the %d allowed", v->n,
				LETHE_FIREWALL_MAX_RULES);
	chain->rules = calloc(v->n ? v->n : 1, sizeof(*chain->rules));
	if (!chain->rules)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		chain->n_rules = i + 1; /* so that free() sees what was allocated */
		r = parse_rule(file, v->items[i], id, accounts, &chain->rules[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static const char *const log_keys[] = { "rate", NULL };
static const char *const rate_units[] = { "second", "minute", "hour", "day", NULL };

/* "N/unit": at most 10000 log lines per unit. */
static int parse_rate(const char *file, const struct lethe_node *node, struct lethe_firewall *fw)
{
	const char *s, *slash;
	uint64_t n;

	if (node->type != LETHE_NODE_SCALAR)
		return fw_error(file, node,
				"rate must be \"N/second\", \"N/minute\", "
				"\"N/hour\" or \"N/day\"");
	s = node->value;
	slash = strchr(s, '/');
	if (!slash || !parse_decimal(s, (size_t)(slash - s), 10000, &n) || n == 0)
		return fw_error(file, node,
				"invalid rate '%s' (expected \"N/minute\" and the like, "
				"N from 1 to 10000)",
				s);
	for (size_t i = 0; rate_units[i]; i++)
		if (!strcmp(slash + 1, rate_units[i])) {
			fw->log_rate = (unsigned)n;
			fw->log_unit = rate_units[i];
			return 0;
		}
	return fw_error(file, node, "invalid rate '%s' (the unit is second, minute, hour or day)",
			s);
}

static int parse_log(const char *file, const struct lethe_node *node, struct lethe_firewall *fw)
{
	const struct lethe_node *v;
	int r;

	if (node->type == LETHE_NODE_SCALAR)
		return lethe_node_bool(file, node, "log", &fw->log);
	if (node->type != LETHE_NODE_MAPPING)
		return fw_error(file, node, "log must be true, false or { rate: \"N/minute\" }");
	r = lethe_node_check_keys(file, node, log_keys);
	if (r < 0)
		return r;
	fw->log = true;
	if ((v = lethe_node_get(node, "rate")))
		return parse_rate(file, v, fw);
	return 0;
}

static const char *const section_keys[] = { "log", "in", "out", "forward", NULL };

static void rule_release(struct fw_rule *rule)
{
	free(rule->ports);
	free(rule->from);
	free(rule->to);
	free(rule->interface);
}

struct lethe_firewall *lethe_firewall_free(struct lethe_firewall *fw)
{
	if (!fw)
		return NULL;
	for (int c = 0; c < FW_CHAIN_COUNT; c++) {
		for (size_t i = 0; i < fw->chains[c].n_rules; i++)
			rule_release(&fw->chains[c].rules[i]);
		free(fw->chains[c].rules);
	}
	fw_egress_release(fw);
	free(fw);
	return NULL;
}

static int parse_section(const char *file, const struct lethe_node *section,
			 const struct lethe_spec *accounts, struct lethe_firewall *fw)
{
	const struct lethe_node *v;
	int r;

	r = lethe_node_expect(file, section, LETHE_NODE_MAPPING, "firewall");
	if (r < 0)
		return r;
	r = lethe_node_check_keys(file, section, section_keys);
	if (r < 0)
		return r;
	if ((v = lethe_node_get(section, "log")) && (r = parse_log(file, v, fw)) < 0)
		return r;
	for (int c = 0; c < FW_CHAIN_COUNT; c++) {
		v = lethe_node_get(section, chain_keys[c]);
		if (v &&
		    (r = parse_chain(file, v, (enum fw_chain_id)c, accounts, &fw->chains[c])) < 0)
			return r;
	}
	return 0;
}

int lethe_firewall_parse(const char *file, const struct lethe_node *section,
			 const struct lethe_spec *accounts, struct lethe_firewall **ret)
{
	struct lethe_firewall *fw = calloc(1, sizeof(*fw));
	int r;

	if (!fw)
		return -ENOMEM;
	/* No section, or a section that says little: drop everything, log the drops. */
	fw->log = true;
	fw->log_rate = 5;
	fw->log_unit = "minute";
	if (section) {
		r = parse_section(file ? file : "spec", section, accounts, fw);
		if (r < 0) {
			lethe_firewall_free(fw);
			return r;
		}
	}
	if (accounts && (r = fw_egress_from_spec(accounts, fw)) < 0) {
		lethe_firewall_free(fw);
		return r;
	}
	*ret = fw;
	return 0;
}

int lethe_firewall_from_spec(const struct lethe_spec *spec, struct lethe_firewall **ret)
{
	return lethe_firewall_parse(spec->path, spec->firewall, spec, ret);
}
