/* The parsed firewall section, shared by the parser, the renderer and the checker. */
#ifndef LETHE_FIREWALL_INTERNAL_H
#define LETHE_FIREWALL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <lethe/firewall.h>

enum fw_proto {
	FW_PROTO_TCP,
	FW_PROTO_UDP,
	FW_PROTO_ICMP,
	FW_PROTO_ICMPV6,
	FW_PROTO_COUNT,
};

enum fw_family {
	FW_FAMILY_V4 = 1u << 0,
	FW_FAMILY_V6 = 1u << 1,
};

struct fw_port_range {
	uint16_t lo, hi;
};

struct fw_addr {
	enum fw_family family;
	uint8_t bytes[16]; /* network order; 4 used for IPv4 */
	unsigned prefix;   /* 0-32 or 0-128 */
};

struct fw_rule {
	unsigned line, column;
	unsigned protos;	     /* bit (1u << enum fw_proto); 0: any protocol */
	struct fw_port_range *ports; /* sorted, disjoint */
	size_t n_ports;
	struct fw_addr *from, *to; /* sorted by family then address, disjoint */
	size_t n_from, n_to;
	unsigned families; /* enum fw_family bits the addresses allow */
	char *interface;
	bool has_uid, has_gid;
	uint32_t uid, gid;
};

enum fw_chain_id {
	FW_CHAIN_IN,
	FW_CHAIN_OUT,
	FW_CHAIN_FORWARD,
	FW_CHAIN_COUNT,
};

struct fw_chain {
	bool accept; /* the policy: accept, or drop (the default) */
	struct fw_rule *rules;
	size_t n_rules;
};

struct lethe_firewall {
	bool log;
	unsigned log_rate;    /* packets per log_unit */
	const char *log_unit; /* "second", "minute", "hour" or "day" */
	struct fw_chain chains[FW_CHAIN_COUNT];
	/* From the spec's network section (egress.c). */
	struct fw_addr *dns; /* network.dns, sorted by family then address */
	size_t n_dns;
	bool dns_dhcp;		/* network.dns: dhcp: DNS out of the DHCP interfaces */
	struct lethe_strv dhcp; /* interfaces with dhcp: true, in spec order */
	char *vpn;		/* network.vpn's interface (kill switch), or NULL */
	struct fw_addr vpn_endpoint;
	uint16_t vpn_port;
};

/* egress.c: the network section's part of the table. */
int fw_egress_from_spec(const struct lethe_spec *spec, struct lethe_firewall *fw);
void fw_egress_release(struct lethe_firewall *fw);
/* The network section's rules of chain c: early (before the replies rule), with a
 * tunnel, DHCP and the kill switch; late (before the spec's rules), the jump of
 * port-53 traffic to chain dns (output) and, without a tunnel, DHCP. */
int fw_put_egress_rules(struct lethe_buf *b, const struct lethe_firewall *fw,
			enum fw_chain_id c, unsigned flags, bool early);
/* Whether IPv6 neighbour discovery may go out: not with a tunnel over IPv4, where
 * IPv6 goes through the tunnel only and would leak on the physical link. */
bool fw_egress_allows_nd(const struct lethe_firewall *fw);
/* The chains after forward (chain dns), each after a blank line. */
int fw_put_egress_chains(struct lethe_buf *b, const struct lethe_firewall *fw);

/* Append a difference to d (copies the strings). */
int fw_push_diff(struct lethe_firewall_drift *d, enum lethe_firewall_diff_kind kind,
		 const char *chain, const char *expected, const char *live);

struct json_object;
/* The string member key of a JSON object of nft's listing, or NULL (ruleset.c). */
const char *fw_json_string(struct json_object *o, const char *key);

#endif
