/* Render struct lethe_firewall as nftables text, in exactly the form in which
 * `nft list table inet lethe` prints it back (sets sorted, host prefixes without a
 * length, chains separated by a blank line), so that the check can compare text. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firewall-internal.h"

static const char *const chain_names[FW_CHAIN_COUNT] = { "input", "output", "forward" };
/* The names of the counters (rule comments) that lethe firewall stats reports. */
static const char *const drop_counters[FW_CHAIN_COUNT] = { "lethe-drop-in", "lethe-drop-out",
							   "lethe-drop-fwd" };
static const char *const invalid_counters[FW_CHAIN_COUNT] = { "lethe-invalid-in",
							      "lethe-invalid-out", NULL };
static const char *const log_prefixes[FW_CHAIN_COUNT] = { "lethe-drop-in: ", "lethe-drop-out: ",
							  "lethe-drop-fwd: " };
static const char *const proto_words[FW_PROTO_COUNT] = { "tcp", "udp", "icmp", "icmpv6" };
static const unsigned proto_numbers[FW_PROTO_COUNT] = { 6, 17, 1, 58 };

/* IPv6 neighbour discovery: without it no IPv6 packet leaves or arrives. Hop limit 255
 * proves the sender is on the link (RFC 4861). */
static const char *const nd_rules[2] = {
	"icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } "
	"ip6 hoplimit 255 accept",
	"icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } "
	"ip6 hoplimit 255 accept",
};

#define PROTO_BIT(p) (1u << (p))
#define V6_PROTOS    (PROTO_BIT(FW_PROTO_TCP) | PROTO_BIT(FW_PROTO_UDP) | PROTO_BIT(FW_PROTO_ICMPV6))

static int put_addr(struct lethe_buf *b, const struct fw_addr *a)
{
	char text[INET6_ADDRSTRLEN];
	int af = a->family == FW_FAMILY_V4 ? AF_INET : AF_INET6;
	unsigned full = a->family == FW_FAMILY_V4 ? 32 : 128;

	if (!inet_ntop(af, a->bytes, text, sizeof(text)))
		return -errno;
	if (a->prefix == full)
		return lethe_buf_puts(b, text);
	return lethe_buf_printf(b, "%s/%u", text, a->prefix);
}

/* "ip saddr X " or "ip6 daddr { X, Y } " with the addresses of one family. */
static int put_addrs(struct lethe_buf *b, const char *dir, const struct fw_addr *addrs, size_t n,
		     enum fw_family family)
{
	size_t count = 0, done = 0;
	int r;

	for (size_t i = 0; i < n; i++)
		count += addrs[i].family == family;
	if (!count)
		return 0;
	r = lethe_buf_printf(b, "%s %s %s", family == FW_FAMILY_V4 ? "ip" : "ip6", dir,
			     count > 1 ? "{ " : "");
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (addrs[i].family != family)
			continue;
		if (done++ && (r = lethe_buf_puts(b, ", ")) < 0)
			break;
		r = put_addr(b, &addrs[i]);
	}
	if (r >= 0)
		r = lethe_buf_puts(b, count > 1 ? " } " : " ");
	return r;
}

static int put_ports(struct lethe_buf *b, const struct fw_rule *rule)
{
	int r = lethe_buf_puts(b, rule->n_ports > 1 ? "{ " : "");

	for (size_t i = 0; r >= 0 && i < rule->n_ports; i++) {
		const struct fw_port_range *p = &rule->ports[i];

		if (i && (r = lethe_buf_puts(b, ", ")) < 0)
			break;
		if (p->lo == p->hi)
			r = lethe_buf_printf(b, "%u", p->lo);
		else
			r = lethe_buf_printf(b, "%u-%u", p->lo, p->hi);
	}
	if (r >= 0)
		r = lethe_buf_puts(b, rule->n_ports > 1 ? " } " : " ");
	return r;
}

/* One line: the rule for one protocol (-1: any) and one family (0: no address match). */
static int put_rule(struct lethe_buf *b, enum fw_chain_id chain, const struct fw_rule *rule,
		    int proto, enum fw_family family, unsigned flags)
{
	int r = lethe_buf_puts(b, "\t\t");

	if (r >= 0 && rule->interface)
		r = lethe_buf_printf(b, "%s \"%s\" ", chain == FW_CHAIN_IN ? "iifname" : "oifname",
				     rule->interface);
	if (r >= 0 && rule->has_uid)
		r = lethe_buf_printf(b, "meta skuid %u ", rule->uid);
	if (r >= 0 && rule->has_gid)
		r = lethe_buf_printf(b, "meta skgid %u ", rule->gid);
	if (r >= 0 && family) {
		r = put_addrs(b, "saddr", rule->from, rule->n_from, family);
		if (r >= 0)
			r = put_addrs(b, "daddr", rule->to, rule->n_to, family);
	}
	if (r >= 0 && proto >= 0) {
		if (rule->n_ports) {
			r = lethe_buf_printf(b, "%s dport ", proto_words[proto]);
			if (r >= 0)
				r = put_ports(b, rule);
		} else if (flags & LETHE_FIREWALL_NUMERIC_PROTO) {
			r = lethe_buf_printf(b, "meta l4proto %u ", proto_numbers[proto]);
		} else {
			r = lethe_buf_printf(b, "meta l4proto %s ", proto_words[proto]);
		}
	}
	if (r >= 0)
		r = lethe_buf_puts(b, "accept\n");
	return r;
}

/* A spec rule becomes one line per protocol and, when it names addresses, per family. */
static int put_spec_rule(struct lethe_buf *b, enum fw_chain_id chain, const struct fw_rule *rule,
			 unsigned flags)
{
	bool addrs = rule->n_from || rule->n_to;
	int r = 0;

	for (int p = rule->protos ? 0 : -1; r >= 0 && p < FW_PROTO_COUNT; p++) {
		unsigned fams = rule->families;

		if (p >= 0 && !(rule->protos & PROTO_BIT(p)))
			continue;
		if (p == FW_PROTO_ICMP)
			fams &= FW_FAMILY_V4;
		if (p == FW_PROTO_ICMPV6)
			fams &= FW_FAMILY_V6;
		if (!addrs)
			r = put_rule(b, chain, rule, p, 0, flags);
		if (addrs && (fams & FW_FAMILY_V4))
			r = put_rule(b, chain, rule, p, FW_FAMILY_V4, flags);
		if (r >= 0 && addrs && (fams & FW_FAMILY_V6))
			r = put_rule(b, chain, rule, p, FW_FAMILY_V6, flags);
		if (!rule->protos)
			break;
	}
	return r;
}

static bool rule_allows_v6(const struct fw_rule *rule)
{
	return (rule->families & FW_FAMILY_V6) && (!rule->protos || (rule->protos & V6_PROTOS));
}

/* Neighbour discovery goes both ways for any IPv6 flow, so both chains get it when
 * either direction lets IPv6 through. */
static bool firewall_allows_v6(const struct lethe_firewall *fw)
{
	for (int c = FW_CHAIN_IN; c <= FW_CHAIN_OUT; c++) {
		if (fw->chains[c].accept)
			return true;
		for (size_t i = 0; i < fw->chains[c].n_rules; i++)
			if (rule_allows_v6(&fw->chains[c].rules[i]))
				return true;
	}
	return false;
}

static int put_chain(struct lethe_buf *b, const struct lethe_firewall *fw, enum fw_chain_id c,
		     bool nd, unsigned flags)
{
	const struct fw_chain *chain = &fw->chains[c];
	int r;

	r = lethe_buf_printf(b,
			     "\tchain %s {\n\t\ttype filter hook %s priority filter; "
			     "policy %s;\n",
			     chain_names[c], chain_names[c], chain->accept ? "accept" : "drop");
	if (r >= 0 && c != FW_CHAIN_FORWARD) {
		r = lethe_buf_puts(b, c == FW_CHAIN_IN ? "\t\tiif \"lo\" accept\n"
						       : "\t\toif \"lo\" accept\n");
		if (r >= 0 && nd)
			r = lethe_buf_printf(b, "\t\t%s\n", nd_rules[c]);
		/* A tunnel's kill switch comes before the replies: a flow established in
		 * the tunnel may not follow a route out of another interface. */
		if (r >= 0)
			r = fw_put_egress_rules(b, fw, c, flags, true);
		if (r >= 0)
			r = lethe_buf_printf(b,
					     "\t\tct state established,related accept\n"
					     "\t\tct state invalid counter drop comment \"%s\"\n",
					     invalid_counters[c]);
		/* Before the spec's rules: no rule and no accept policy lets DNS out to a
		 * server the spec did not name; DHCP where the network section asks. */
		if (r >= 0)
			r = fw_put_egress_rules(b, fw, c, flags, false);
		for (size_t i = 0; r >= 0 && i < chain->n_rules; i++)
			r = put_spec_rule(b, c, &chain->rules[i], flags);
	}
	if (r >= 0 && fw->log && !chain->accept)
		r = lethe_buf_printf(b, "\t\tlimit rate %u/%s log prefix \"%s\"\n", fw->log_rate,
				     fw->log_unit, log_prefixes[c]);
	/* Last: count what the policy is about to drop (lethe firewall stats). */
	if (r >= 0 && !chain->accept)
		r = lethe_buf_printf(b, "\t\tcounter comment \"%s\"\n", drop_counters[c]);
	if (r >= 0)
		r = lethe_buf_puts(b, "\t}\n");
	return r;
}

int lethe_firewall_render(const struct lethe_firewall *fw, unsigned flags, char **ret)
{
	struct lethe_buf b = { 0 };
	bool nd = firewall_allows_v6(fw) && fw_egress_allows_nd(fw);
	int r = lethe_buf_puts(&b, "table inet lethe {\n");

	for (int c = 0; r >= 0 && c < FW_CHAIN_COUNT; c++) {
		if (c && (r = lethe_buf_puts(&b, "\n")) < 0)
			break;
		r = put_chain(&b, fw, (enum fw_chain_id)c, nd, flags);
	}
	if (r >= 0)
		r = fw_put_egress_chains(&b, fw);
	if (r >= 0)
		r = lethe_buf_puts(&b, "}\n");
	if (r < 0) {
		lethe_buf_release(&b);
		return r;
	}
	*ret = b.data;
	return 0;
}
