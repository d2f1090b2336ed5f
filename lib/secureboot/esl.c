/* EFI signature lists (UEFI 2.10, 32.4.1): what db holds, read back for the audit. */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include <lethe/secureboot.h>
#include <lethe/util.h>

#define ESL_HEADER 28 /* SignatureType, ListSize, HeaderSize, SignatureSize */

static const uint8_t cert_x509[16] = { 0xa1, 0x59, 0xc0, 0xa5, 0xe4, 0x94, 0xa7, 0x4a,
				       0x87, 0xb5, 0xab, 0x15, 0x5c, 0x2b, 0xf0, 0x72 };
static const uint8_t cert_sha256[16] = { 0x26, 0x16, 0xc4, 0xc1, 0x4c, 0x50, 0x92, 0x40,
					 0xac, 0xa9, 0x41, 0xf9, 0x36, 0x93, 0x43, 0x28 };

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int subject(const uint8_t *der, size_t len, const char *what, size_t off,
		   struct lethe_strv *out)
{
	const unsigned char *p = der;
	X509 *x = len <= LETHE_SB_ESL_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
	char buf[512];
	int r;

	ERR_clear_error();
	if (!x)
		return lethe_error(-LETHE_E_INVALID, "'%s' offset %zu: not an X.509 certificate",
				   what, off);
	if (!X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof(buf)))
		buf[0] = '\0';
	X509_free(x);
	r = lethe_strv_push(out, buf[0] == '/' ? buf + 1 : buf);
	return r;
}

int lethe_sb_esl_parse(const void *data, size_t len, const char *what,
		       struct lethe_strv *ret_subjects, size_t *ret_n_sha256)
{
	const uint8_t *d = data;
	struct lethe_strv subj = { 0 };
	size_t off = 0, n_sha = 0, n = 0;
	int r = 0;

	if (len > LETHE_SB_ESL_MAX)
		return lethe_error(-LETHE_E_INVALID, "'%s': larger than 1 MiB", what);
	while (off < len && r >= 0) {
		uint32_t list, hdr, sig;

		if (len - off < ESL_HEADER) {
			r = lethe_error(-LETHE_E_INVALID, "'%s' offset %zu: truncated list header",
					what, off);
			break;
		}
		list = le32(d + off + 16);
		hdr = le32(d + off + 20);
		sig = le32(d + off + 24);
		if (list > len - off || (uint64_t)ESL_HEADER + hdr > list || sig < 16 ||
		    (list - ESL_HEADER - hdr) % sig) {
			r = lethe_error(-LETHE_E_INVALID,
					"'%s' offset %zu: inconsistent list sizes", what, off);
			break;
		}
		for (size_t e = off + ESL_HEADER + hdr; e < off + list && r >= 0; e += sig) {
			if (++n > LETHE_SB_ESL_MAX_ENTRIES)
				r = lethe_error(-LETHE_E_INVALID, "'%s': more than %u entries",
						what, LETHE_SB_ESL_MAX_ENTRIES);
			else if (!memcmp(d + off, cert_x509, 16))
				r = subject(d + e + 16, sig - 16, what, e + 16, &subj);
			else if (!memcmp(d + off, cert_sha256, 16))
				n_sha += sig == 48;
		}
		off += list;
	}
	for (size_t i = 0; i < subj.n && r >= 0; i++)
		r = lethe_strv_push(ret_subjects, subj.v[i]);
	lethe_strv_release(&subj);
	if (r >= 0)
		*ret_n_sha256 = n_sha;
	return r;
}
