/* The text side of minisign's files: lines with caps, comment prefixes, strict base64,
 * printable comments, and key ids as minisign prints them. */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "sign-internal.h"

int sign_sodium_init(void)
{
	if (sodium_init() < 0)
		return lethe_error(-EIO, "cannot initialise libsodium");
	return 0;
}

int sign_lines_next(struct sign_lines *l, size_t max, const char *what, const char **ret,
		    size_t *ret_len)
{
	const char *nl;
	size_t len, next;

	l->lineno++;
	if (l->left == 0)
		return lethe_error(-EBADMSG, "'%s' line %u: missing %s (the file is truncated)",
				   l->name, l->lineno, what);
	nl = memchr(l->p, '\n', l->left);
	len = nl ? (size_t)(nl - l->p) : l->left;
	next = nl ? len + 1 : len;
	if (len > 0 && l->p[len - 1] == '\r')
		len--;
	if (len > max)
		return lethe_error(-EBADMSG,
				   "'%s' line %u: %s is too long (%zu bytes, at most %zu)", l->name,
				   l->lineno, what, len, max);
	if (memchr(l->p, '\0', len))
		return lethe_error(-EBADMSG, "'%s' line %u: %s holds a NUL byte", l->name,
				   l->lineno, what);
	if (memchr(l->p, '\r', len))
		return lethe_error(-EBADMSG, "'%s' line %u: %s holds a carriage return", l->name,
				   l->lineno, what);
	*ret = l->p;
	*ret_len = len;
	l->p += next;
	l->left -= next;
	return 0;
}

int sign_lines_end(struct sign_lines *l)
{
	if (l->left != 0)
		return lethe_error(-EBADMSG, "'%s' line %u: unexpected text after the last line",
				   l->name, l->lineno + 1);
	return 0;
}

int sign_comment(struct sign_lines *l, const char *line, size_t len, const char *prefix,
		 const char **ret, size_t *ret_len)
{
	size_t plen = strlen(prefix);

	if (len < plen || memcmp(line, prefix, plen) != 0)
		return lethe_error(-EBADMSG, "'%s' line %u: does not start with '%s'", l->name,
				   l->lineno, prefix);
	*ret = line + plen;
	*ret_len = len - plen;
	return 0;
}

int sign_b64_decode(struct sign_lines *l, const char *what, const char *b64, size_t b64_len,
		    void *out, size_t out_len)
{
	size_t bin_len = 0;

	/* The exact encoded length first: libsodium then requires canonical padding and
	 * zero trailing bits, so one text has one meaning. */
	if (b64_len != sodium_base64_encoded_len(out_len, sodium_base64_VARIANT_ORIGINAL) - 1)
		return lethe_error(
			-EBADMSG, "'%s' line %u: %s has %zu base64 characters, expected %zu",
			l->name, l->lineno, what, b64_len,
			sodium_base64_encoded_len(out_len, sodium_base64_VARIANT_ORIGINAL) - 1);
	if (sodium_base642bin(out, out_len, b64, b64_len, NULL, &bin_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != out_len) {
		sodium_memzero(out, out_len);
		return lethe_error(-EBADMSG, "'%s' line %u: %s is not valid base64", l->name,
				   l->lineno, what);
	}
	return 0;
}

int sign_b64_append(struct lethe_buf *b, const void *bin, size_t len)
{
	size_t b64_len = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *tmp = sodium_malloc(b64_len);
	int r;

	if (!tmp)
		return -ENOMEM;
	sodium_bin2base64(tmp, b64_len, bin, len, sodium_base64_VARIANT_ORIGINAL);
	r = lethe_buf_append(b, tmp, b64_len - 1);
	if (r == 0)
		r = lethe_buf_puts(b, "\n");
	sodium_free(tmp);
	return r;
}

/* Length of the UTF-8 sequence at s (at most left bytes) if it is well formed and not
 * a C1 control, else 0. */
static size_t utf8_char(const unsigned char *s, size_t left)
{
	size_t need, i;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3;
	else
		return 0;
	if (left < need + 1)
		return 0;
	cp = s[0] & (need == 1 ? 0x1f : need == 2 ? 0x0f : 0x07);
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
	if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x7f && cp <= 0x9f))
		return 0;
	return need + 1;
}

bool sign_comment_is_printable(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		size_t n;

		if (s[i] == '\t' || (s[i] >= 0x20 && s[i] <= 0x7e)) {
			i++;
			continue;
		}
		n = utf8_char(s + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

uint64_t sign_le64_load(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--)
		x = (x << 8) | p[i];
	return x;
}

void sign_le64_store(uint8_t *p, uint64_t x)
{
	for (int i = 0; i < 8; i++, x >>= 8)
		p[i] = (uint8_t)x;
}

void lethe_sign_keyid_format(const uint8_t keyid[LETHE_SIGN_KEYID_BYTES],
			     char out[LETHE_SIGN_KEYID_STRLEN])
{
	static const char digits[] = "0123456789ABCDEF";

	for (int i = 0; i < LETHE_SIGN_KEYID_BYTES; i++) {
		out[2 * i] = digits[keyid[LETHE_SIGN_KEYID_BYTES - 1 - i] >> 4];
		out[2 * i + 1] = digits[keyid[LETHE_SIGN_KEYID_BYTES - 1 - i] & 0xf];
	}
	out[16] = '\0';
}
