/* network.vpn in lethe-init: the WireGuard tunnel. The link is made over rtnetlink, the
 * peer set with wireguard-tools' `wg` (the key through a pipe, never a file), the
 * addresses and routes again over rtnetlink. The private key is generated here at each
 * boot unless the spec names a private_key_file (the image is public: no key is in
 * it); its public key goes to the console, for the peer's operator. Everything else
 * the firewall does: nothing but the tunnel's own UDP leaves by another interface. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "stage2.h"

#define WG	"/usr/bin/wg"
#define B64_LEN 45 /* sodium_base64_ENCODED_LEN(32, ORIGINAL) */

/* The key in private_key_file: `wg genkey`'s base64 line; root's, not readable by
 * others, not a link. */
static int read_key(const char *path, unsigned char key[32])
{
	char text[128];
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
		r = -EPERM;
	else if ((n = read(fd, text, sizeof(text) - 1)) < 0)
		r = -errno;
	else {
		text[n] = '\0';
		len = strcspn(text, "\r\n");
		if (len != 44 || sodium_base642bin(key, 32, text, len, NULL, NULL, NULL,
						   sodium_base64_VARIANT_ORIGINAL) != 0)
			r = -EINVAL;
	}
	sodium_memzero(text, sizeof(text));
	close(fd);
	return r;
}

/* `wg set IF private-key /proc/self/fd/0 peer ...` with the key on a pipe (devtmpfs has
 * no /dev/stdin link). */
static int wg_set(const struct lethe_spec_vpn *v, const char *private_b64)
{
	char allowed[1024] = "", keepalive[16];
	char *argv[16] = { WG,	   "set",	  v->interface, "private-key", "/proc/self/fd/0",
			   "peer", v->public_key, "endpoint" };
	char endpoint[INET6_ADDRSTRLEN + 10];
	size_t n = 8, used = 0;
	int fds[2], status;
	pid_t pid;

	for (size_t i = 0; i < v->allowed_ips.n; i++) {
		int w = snprintf(allowed + used, sizeof(allowed) - used, "%s%s", i ? "," : "",
				 v->allowed_ips.v[i]);

		if (w < 0 || (size_t)w >= sizeof(allowed) - used)
			return -E2BIG;
		used += (size_t)w;
	}
	snprintf(endpoint, sizeof(endpoint), strchr(v->endpoint, ':') ? "[%s]:%u" : "%s:%u",
		 v->endpoint, v->port);
	argv[n++] = endpoint;
	argv[n++] = "allowed-ips";
	argv[n++] = allowed;
	if (v->keepalive) {
		snprintf(keepalive, sizeof(keepalive), "%u", v->keepalive);
		argv[n++] = "persistent-keepalive";
		argv[n++] = keepalive;
	}
	argv[n] = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		dup2(fds[0], STDIN_FILENO);
		execv(WG, argv);
		_exit(127);
	}
	close(fds[0]);
	if (pid > 0 && write(fds[1], private_b64, strlen(private_b64)) < 0)
		init_msg("warning: vpn: cannot hand the key to wg: %s", strerror(errno));
	close(fds[1]);
	if (pid < 0)
		return -errno;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* A route per allowed prefix; the whole space as two halves, so that they win over a
 * default route without replacing it (wg-quick's trick without policy routing). */
static void add_routes(const struct lethe_spec_vpn *v)
{
	for (size_t i = 0; i < v->allowed_ips.n; i++) {
		const char *a = v->allowed_ips.v[i];
		const char *halves[2] = { a, NULL };
		int r;

		if (!strcmp(a, "0.0.0.0/0"))
			halves[0] = "0.0.0.0/1", halves[1] = "128.0.0.0/1";
		else if (!strcmp(a, "::/0"))
			halves[0] = "::/1", halves[1] = "8000::/1";
		for (int h = 0; h < 2 && halves[h]; h++)
			if ((r = init_net_add_route(v->interface, halves[h], NULL)) < 0)
				init_msg("warning: vpn: %s: cannot route %s: %s", v->interface,
					 halves[h], strerror(-r));
	}
}

void init_vpn_setup(const struct lethe_spec *spec)
{
	const struct lethe_spec_vpn *v = spec->vpn;
	unsigned char sk[32], pk[32];
	char sk_b64[B64_LEN], pk_b64[B64_LEN];
	int r;

	if (!v)
		return;
	if (sodium_init() < 0) {
		init_msg("vpn failed: libsodium: no tunnel, so nothing leaves");
		return;
	}
	if (v->private_key_file) {
		r = read_key(v->private_key_file, sk);
		if (r < 0) {
			init_msg("vpn failed: %s: %s (a 'wg genkey' line, root's, mode 0600): no "
				 "tunnel, so nothing leaves",
				 v->private_key_file, strerror(-r));
			return;
		}
	} else {
		randombytes_buf(sk, sizeof(sk));
	}
	/* Curve25519 clamping, as `wg genkey` does. */
	sk[0] &= 248;
	sk[31] = (unsigned char)((sk[31] & 127) | 64);
	if (crypto_scalarmult_curve25519_base(pk, sk) != 0) {
		sodium_memzero(sk, sizeof(sk));
		init_msg("vpn failed: no public key: no tunnel, so nothing leaves");
		return;
	}
	sodium_bin2base64(sk_b64, sizeof(sk_b64), sk, sizeof(sk), sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(pk_b64, sizeof(pk_b64), pk, sizeof(pk), sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(sk, sizeof(sk));
	if ((r = init_net_add_link(v->interface, "wireguard")) < 0) {
		init_msg("vpn failed: cannot create %s: %s (kernel module wireguard?): no "
			 "tunnel, so nothing leaves",
			 v->interface, strerror(-r));
		goto out;
	}
	if (access(WG, X_OK) < 0 || (r = wg_set(v, sk_b64)) < 0) {
		init_msg("vpn failed: '" WG " set %s' %s: no tunnel, so nothing leaves",
			 v->interface,
			 access(WG, X_OK) < 0 ? "is missing (wireguard-tools)" : "failed");
		goto out;
	}
	for (size_t i = 0; i < v->addresses.n; i++)
		if ((r = init_net_add_address(v->interface, v->addresses.v[i])) < 0)
			init_msg("warning: vpn: %s: cannot add %s: %s", v->interface,
				 v->addresses.v[i], strerror(-r));
	if ((r = init_net_link_up(v->interface)) < 0) {
		init_msg("vpn failed: cannot bring %s up: %s", v->interface, strerror(-r));
		goto out;
	}
	add_routes(v);
	init_msg("vpn: %s: public key %s (%s), peer %s port %u", v->interface, pk_b64,
		 v->private_key_file ? "from private_key_file" : "new this boot", v->endpoint,
		 v->port);
out:
	sodium_memzero(sk_b64, sizeof(sk_b64));
}

void init_vpn_endpoint_route(const struct lethe_spec *spec, const char *ifname, const char *gateway)
{
	char dst[INET6_ADDRSTRLEN + 4];
	int r;

	if (!spec->vpn || !gateway || strchr(spec->vpn->endpoint, ':') || strchr(gateway, ':'))
		return;
	snprintf(dst, sizeof(dst), "%s/32", spec->vpn->endpoint);
	if ((r = init_net_add_route(ifname, dst, gateway)) < 0)
		init_msg("warning: vpn: %s: cannot route the endpoint via %s: %s", ifname, gateway,
			 strerror(-r));
}
