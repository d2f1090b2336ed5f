/* SHA-256 for every module: buffers, descriptors, and incremental hashing. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <lethe/util.h>

int lethe_sha256_init(struct lethe_sha256 *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	*h = (struct lethe_sha256){ 0 };
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return -EIO;
	}
	h->ctx = ctx;
	return 0;
}

void lethe_sha256_update(struct lethe_sha256 *h, const void *data, size_t len)
{
	if (!h->ctx || EVP_DigestUpdate(h->ctx, data, len) != 1)
		h->failed = true;
}

int lethe_sha256_final(struct lethe_sha256 *h, uint8_t out[LETHE_SHA256_BYTES])
{
	unsigned int len = 0;
	int r = 0;

	if (!h->ctx || h->failed || EVP_DigestFinal_ex(h->ctx, out, &len) != 1 ||
	    len != LETHE_SHA256_BYTES)
		r = -EIO;
	lethe_sha256_release(h);
	return r;
}

void lethe_sha256_release(struct lethe_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	*h = (struct lethe_sha256){ 0 };
}

int lethe_sha256(const void *data, size_t len, uint8_t out[LETHE_SHA256_BYTES])
{
	struct lethe_sha256 h;
	int r = lethe_sha256_init(&h);

	if (r < 0)
		return r;
	lethe_sha256_update(&h, data, len);
	return lethe_sha256_final(&h, out);
}

int lethe_sha256_fd(int fd, uint64_t max, uint8_t out[LETHE_SHA256_BYTES], uint64_t *ret_size)
{
	enum { CHUNK = 256 << 10 };
	unsigned char *buf = malloc(CHUNK);
	struct lethe_sha256 h;
	uint64_t total = 0;
	int r = buf ? lethe_sha256_init(&h) : -ENOMEM;

	if (r < 0) {
		free(buf);
		return r;
	}
	for (;;) {
		ssize_t n = read(fd, buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			lethe_sha256_release(&h);
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (max && total > max) {
			lethe_sha256_release(&h);
			free(buf);
			return -EFBIG;
		}
		lethe_sha256_update(&h, buf, (size_t)n);
	}
	free(buf);
	r = lethe_sha256_final(&h, out);
	if (r == 0 && ret_size)
		*ret_size = total;
	return r;
}
