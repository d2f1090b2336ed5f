/* The hash-table seeds of the JSON libraries, early in boot.
 *
 * json-c seeds its hash tables with getrandom(GRND_NONBLOCK) and, when that says the
 * kernel's CRNG is not ready yet, by reading /dev/urandom; jansson (libnftables' JSON
 * listing) reads /dev/urandom. Since Linux 5.18 such a read before the CRNG is ready
 * runs the kernel's jitter-entropy loop until it is: on a machine with no trusted
 * hardware RNG (a QEMU TCG guest without RDRAND) that took 3-4 s of the boot audit,
 * which lethe-init runs before it says "stage 2 ready" — waiting for entropy that
 * only seeds hash tables against collision flooding.
 *
 * So, when (and only when) the CRNG is not ready: json-c uses its unseeded
 * "perl-like" string hash, and jansson gets a seed from getrandom(GRND_INSECURE)
 * (never blocks; the time and PID where the kernel lacks it). Nothing that needs
 * real randomness is changed: keys, nonces and salts still come from libsodium and
 * OpenSSL, which wait for the CRNG as before. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <json-c/linkhash.h>

#include <lethe/util.h>

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

bool lethe_json_seed_early_for(bool crng_ready)
{
	uint32_t seed;
	void (*jansson_seed)(size_t);

	if (crng_ready)
		return false; /* the libraries seed themselves without waiting */
	if (getrandom(&seed, sizeof(seed), GRND_INSECURE) != (ssize_t)sizeof(seed))
		seed = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16);
	(void)json_global_set_string_hash(JSON_C_STR_HASH_PERLLIKE);
	/* jansson is not linked by lethe itself, only loaded with libnftables. */
	*(void **)&jansson_seed = dlsym(RTLD_DEFAULT, "json_object_seed");
	if (jansson_seed)
		jansson_seed(seed | 1); /* 0 would make it read /dev/urandom */
	return true;
}

bool lethe_json_seed_early(void)
{
	uint8_t b;

	return lethe_json_seed_early_for(getrandom(&b, 1, GRND_NONBLOCK) == 1 || errno != EAGAIN);
}
