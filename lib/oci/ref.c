/* References: REGISTRY/REPO:TAG and REGISTRY/REPO@sha256:HEX (the distribution spec's
 * grammar, restricted to what a release needs), and the loopback test for --insecure. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "oci-internal.h"

static bool repo_ok(const char *s)
{
	/* [a-z0-9]+([._-][a-z0-9]+)* components separated by '/' */
	bool prev_alnum = false;

	if (!*s)
		return false;
	for (const char *p = s; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');

		if (!alnum && (!prev_alnum || !strchr("._-/", *p) || !p[1]))
			return false;
		prev_alnum = alnum;
	}
	return true;
}

static bool tag_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-", *p)))
			return false;
	return true;
}

static bool host_ok(const char *s)
{
	if (!*s)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(".-:[]", *p)))
			return false;
	return true;
}

int lethe_oci_ref_parse(const char *s, struct lethe_oci_ref *ret)
{
	struct lethe_oci_ref r = { 0 };
	const char *in = s, *slash, *at, *colon;
	uint8_t d[32];
	size_t n;

	if (!strncmp(in, "oci://", 6))
		in += 6;
	if (strlen(in) > LETHE_OCI_REF_MAX)
		return lethe_error(-EINVAL, "reference '%.40s...' is too long", s);
	slash = strchr(in, '/');
	if (!slash)
		return lethe_error(-EINVAL,
				   "reference '%s' has no registry: write REGISTRY/REPO:TAG", s);
	n = (size_t)(slash - in);
	if (n >= sizeof(r.registry))
		return lethe_error(-EINVAL, "reference '%s': registry name too long", s);
	memcpy(r.registry, in, n);
	if (!host_ok(r.registry))
		return lethe_error(-EINVAL, "reference '%s': bad registry '%s'", s, r.registry);
	in = slash + 1;
	at = strchr(in, '@');
	if (at) {
		n = (size_t)(at - in);
		if (oci_digest_parse(at + 1, d) < 0)
			return lethe_error(-EINVAL,
					   "reference '%s': the digest must be sha256: and 64 "
					   "lowercase hex digits",
					   s);
		snprintf(r.digest, sizeof(r.digest), "%s", at + 1);
	} else {
		colon = strrchr(in, ':');
		n = colon ? (size_t)(colon - in) : strlen(in);
		snprintf(r.tag, sizeof(r.tag), "%s", colon ? colon + 1 : "latest");
		if (!tag_ok(r.tag))
			return lethe_error(-EINVAL, "reference '%s': bad tag '%s'", s, r.tag);
	}
	if (n == 0 || n >= sizeof(r.repo))
		return lethe_error(-EINVAL, "reference '%s': no repository, or too long", s);
	memcpy(r.repo, in, n);
	if (!repo_ok(r.repo))
		return lethe_error(-EINVAL,
				   "reference '%s': bad repository '%s' (lowercase letters, "
				   "digits, '.', '_', '-', '/')",
				   s, r.repo);
	*ret = r;
	return 0;
}

bool lethe_oci_host_is_loopback(const char *host)
{
	char h[256];
	const char *p = host;
	struct in6_addr a6;
	struct in_addr a4;
	size_t n;

	if (*p == '[') {
		const char *e = strchr(p, ']');

		if (!e || (size_t)(e - p - 1) >= sizeof(h))
			return false;
		n = (size_t)(e - p - 1);
		memcpy(h, p + 1, n);
		h[n] = '\0';
		return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	n = strcspn(p, ":");
	if (n >= sizeof(h))
		return false;
	memcpy(h, p, n);
	h[n] = '\0';
	if (!strcmp(h, "localhost"))
		return true;
	return inet_pton(AF_INET, h, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}
