/* The mtree reader and line writer of lethe fim: BSD mtree(5) in the flat form Lethe
 * writes and the hierarchical form of `mtree -c`, read strictly and within caps. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <lethe/fim.h>

#include "fim-internal.h"

static const char *const attr_names[] = {
	"type", "mode", "uid", "gid", "size", "link", "sha256", "mtime", "xattrs", "nlink",
};

const char *lethe_fim_attr_name(unsigned attr)
{
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(attr_names); i++)
		if (attr == 1u << i)
			return attr_names[i];
	return "?";
}

int lethe_fim_attrs_parse(const char *list, unsigned *ret)
{
	unsigned set = 0;
	const char *p = list;

	if (!*p)
		return -EINVAL;
	while (*p) {
		size_t n = strcspn(p, ",");
		bool found = false;

		if (n == 3 && !strncmp(p, "all", 3)) {
			set |= LETHE_FIM_ALL;
			found = true;
		} else if (n == 7 && !strncmp(p, "default", 7)) {
			set |= LETHE_FIM_DEFAULT;
			found = true;
		}
		for (size_t i = 0; i < LETHE_ARRAY_SIZE(attr_names) && !found; i++)
			if (strlen(attr_names[i]) == n && !strncmp(p, attr_names[i], n)) {
				set |= 1u << i;
				found = true;
			}
		if (!found)
			return -EINVAL;
		p += n;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	*ret = set;
	return 0;
}

static const char *const type_names[] = {
	[LETHE_FIM_T_NONE] = "none", [LETHE_FIM_T_FILE] = "file",     [LETHE_FIM_T_DIR] = "dir",
	[LETHE_FIM_T_LINK] = "link", [LETHE_FIM_T_CHAR] = "char",     [LETHE_FIM_T_BLOCK] = "block",
	[LETHE_FIM_T_FIFO] = "fifo", [LETHE_FIM_T_SOCKET] = "socket",
};

const char *lethe_fim_type_name(enum lethe_fim_type t)
{
	return (unsigned)t < LETHE_ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

enum lethe_fim_type lethe_fim_type_of(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return LETHE_FIM_T_FILE;
	case S_IFDIR:
		return LETHE_FIM_T_DIR;
	case S_IFLNK:
		return LETHE_FIM_T_LINK;
	case S_IFCHR:
		return LETHE_FIM_T_CHAR;
	case S_IFBLK:
		return LETHE_FIM_T_BLOCK;
	case S_IFIFO:
		return LETHE_FIM_T_FIFO;
	case S_IFSOCK:
		return LETHE_FIM_T_SOCKET;
	}
	return LETHE_FIM_T_NONE;
}

/* Byte order, with '/' lowest: a directory's contents sort right after it. */
int lethe_fim_path_cmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;

	while (*p && *p == *q)
		p++, q++;
	if (*p == *q)
		return 0;
	if (!*p)
		return -1;
	if (!*q)
		return 1;
	if (*p == '/')
		return -1;
	if (*q == '/')
		return 1;
	return *p < *q ? -1 : 1;
}

void lethe_fim_entry_release(struct lethe_fim_entry *e)
{
	if (!e)
		return;
	free(e->path);
	free(e->link);
	free(e->xattrs);
	*e = (struct lethe_fim_entry){ 0 };
}

void lethe_fim_manifest_release(struct lethe_fim_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		lethe_fim_entry_release(&m->v[i]);
	free(m->v);
	*m = (struct lethe_fim_manifest){ 0 };
}

const struct lethe_fim_entry *lethe_fim_manifest_find(const struct lethe_fim_manifest *m,
						      const char *path)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = lethe_fim_path_cmp(m->v[mid].path, path);

		if (!c)
			return &m->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- encoding ---- */

int lethe_fim_encode(struct lethe_buf *b, const char *s, const char *extra)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[5];
		int r;

		/* Space, '#' and '\' end or start something in mtree; glob characters make
		 * a name a pattern; the rest is not printable ASCII. */
		if (*p <= 0x20 || *p >= 0x7f || strchr("#\\*?[", *p) || strchr(extra, *p)) {
			snprintf(esc, sizeof(esc), "\\%03o", *p);
			r = lethe_buf_append(b, esc, 4);
		} else {
			r = lethe_buf_append(b, p, 1);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int lethe_fim_entry_format(const struct lethe_fim_entry *e, unsigned want, struct lethe_buf *b)
{
	unsigned w = want & e->have;
	int r = lethe_fim_encode(b, e->path, "");

	if (r >= 0)
		r = lethe_buf_printf(b, " type=%s", lethe_fim_type_name(e->type));
	if (r >= 0 && (w & LETHE_FIM_MODE))
		r = lethe_buf_printf(b, " mode=%04o", (unsigned)e->mode);
	if (r >= 0 && (w & LETHE_FIM_UID))
		r = lethe_buf_printf(b, " uid=%u", (unsigned)e->uid);
	if (r >= 0 && (w & LETHE_FIM_GID))
		r = lethe_buf_printf(b, " gid=%u", (unsigned)e->gid);
	if (r >= 0 && (w & LETHE_FIM_NLINK))
		r = lethe_buf_printf(b, " nlink=%llu", (unsigned long long)e->nlink);
	if (r >= 0 && (w & LETHE_FIM_SIZE))
		r = lethe_buf_printf(b, " size=%llu", (unsigned long long)e->size);
	if (r >= 0 && (w & LETHE_FIM_MTIME))
		r = lethe_buf_printf(b, " time=%lld.%09u", (long long)e->mtime_sec,
				     (unsigned)e->mtime_nsec);
	if (r >= 0 && (w & LETHE_FIM_LINK) && e->link) {
		r = lethe_buf_puts(b, " link=");
		if (r >= 0)
			r = lethe_fim_encode(b, e->link, "");
	}
	if (r >= 0 && (want & LETHE_FIM_TYPE) &&
	    (e->type == LETHE_FIM_T_CHAR || e->type == LETHE_FIM_T_BLOCK))
		r = lethe_buf_printf(b, " device=native,%u,%u", (unsigned)e->dev_major,
				     (unsigned)e->dev_minor);
	if (r >= 0 && (w & LETHE_FIM_SHA256)) {
		char hex[65];

		lethe_hex_encode(e->sha256, sizeof(e->sha256), hex);
		r = lethe_buf_printf(b, " sha256digest=%s", hex);
	}
	/* mtree-netbsd has no keyword for xattrs; its tags= are free words it keeps. The
	 * word "xattrs" says they were recorded (so that one added later is drift). */
	if (r >= 0 && (w & LETHE_FIM_XATTRS)) {
		const char *x = e->xattrs ? e->xattrs : "";

		r = lethe_buf_puts(b, " tags=xattrs");
		while (r >= 0 && *x) {
			size_t n = strcspn(x, ",");

			r = lethe_buf_puts(b, ",xattr:");
			if (r >= 0)
				r = lethe_buf_append(b, x, n);
			x += n + (x[n] == ',');
		}
	}
	if (r >= 0 && e->ignore)
		r = lethe_buf_puts(b, " ignore");
	if (r >= 0 && e->optional)
		r = lethe_buf_puts(b, " optional");
	if (r >= 0)
		r = lethe_buf_puts(b, "\n");
	return r;
}

/* ---- reading ---- */

struct parser {
	const char *name;
	unsigned line;
	struct lethe_fim_entry defaults; /* what /set gave; path unused */
	struct lethe_buf cwd;		 /* hierarchical form: the current directory */
	size_t depth;
	size_t cwd_len[LETHE_FIM_MAX_DEPTH + 1];
	struct lethe_fim_manifest m;
	size_t cap;
};

static int bad(struct parser *p, const char *fmt, ...) LETHE_PRINTF(2, 3);
static int bad(struct parser *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lethe_error(-EBADMSG, "'%s' line %u: %s", p->name, p->line, msg);
}

static bool is_odigit(char c)
{
	return c >= '0' && c <= '7';
}

/* vis(3) decoding, as strunvis() reads mtree's names: \ooo, C escapes, \s, \M-c, \M^c,
 * \^c, \$ (nothing). NUL bytes and bad escapes are refused. */
static int unvis(struct parser *p, const char *in, struct lethe_buf *out)
{
	out->len = 0;
	if (out->data)
		out->data[0] = '\0';
	while (*in) {
		unsigned char c = (unsigned char)*in++;
		unsigned meta = 0;
		int r;

		if (c == '\\') {
			c = (unsigned char)*in++;
			if (is_odigit((char)c) && is_odigit(in[0]) && is_odigit(in[1])) {
				unsigned v = (c - '0') * 64u + (unsigned)(in[0] - '0') * 8u +
					     (unsigned)(in[1] - '0');

				if (v > 0377)
					return bad(p, "bad escape '\\%c%c%c'", c, in[0], in[1]);
				c = (unsigned char)v;
				in += 2;
			} else if (c == 'M' && (in[0] == '-' || in[0] == '^') && in[1]) {
				meta = 0x80;
				if (in[0] == '-') {
					c = (unsigned char)in[1];
				} else {
					c = in[1] == '?' ? 0x7f : (unsigned char)(in[1] & 0x1f);
				}
				in += 2;
			} else if (c == '^' && in[0]) {
				c = in[0] == '?' ? 0x7f : (unsigned char)(in[0] & 0x1f);
				in++;
			} else if (c == '$') {
				continue;
			} else {
				static const char from[] = "\\stnrabfvE",
						  to[] = "\\ \t\n\r\a\b\f\v\033";
				const char *f = c ? strchr(from, c) : NULL;

				if (f) {
					c = (unsigned char)to[f - from];
				} else if (c == 'x' && isxdigit((unsigned char)in[0])) {
					/* \xH or \xHH */
					unsigned v = 0;

					for (int k = 0; k < 2 && isxdigit((unsigned char)*in);
					     k++, in++)
						v = v * 16u +
						    (unsigned)(isdigit((unsigned char)*in)
								       ? *in - '0'
								       : (*in | 0x20) - 'a' + 10);
					c = (unsigned char)v;
				} else if (c <= 0x20 || c >= 0x7f) {
					/* strunvis(3): any other printable character stands for
					 * itself ("\#" as mtree-netbsd writes it) */
					return bad(p, "bad escape '\\%c'", c ? c : '0');
				}
			}
			c |= (unsigned char)meta;
			if (!c)
				return bad(p, "NUL byte in a name");
		}
		r = lethe_buf_append(out, &c, 1);
		if (r < 0)
			return r;
		if (out->len > LETHE_FIM_MAX_PATH)
			return bad(p, "name longer than %u bytes", LETHE_FIM_MAX_PATH);
	}
	return 0;
}

static int parse_u64(const char *s, int base, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static bool is_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return true;
}

/* One xattr word "NAME=HEX" or "NAME=sha256:HEX": NAME in the canonical encoding. */
static bool xattr_word_ok(const char *w, size_t n)
{
	const char *eq = memchr(w, '=', n);
	size_t i;

	if (!eq || eq == w)
		return false;
	for (i = 0; w + i < eq; i++) {
		unsigned char c = (unsigned char)w[i];

		if (c == '\\') {
			if (w + i + 3 >= eq || w[i + 1] < '0' || w[i + 1] > '3' ||
			    !is_odigit(w[i + 2]) || !is_odigit(w[i + 3]))
				return false;
			i += 3;
		} else if (c <= 0x20 || c >= 0x7f || strchr("#*?[,=", c)) {
			return false;
		}
	}
	i = (size_t)(eq + 1 - w);
	if (n - i > 7 && !strncmp(w + i, "sha256:", 7))
		return n - i - 7 == 64 && strspn(w + i + 7, "0123456789abcdef") >= 64;
	if ((n - i) % 2 || n - i > 2 * LETHE_FIM_MAX_XATTR)
		return false;
	return strspn(w + i, "0123456789abcdef") >= n - i;
}

static int cmp_words(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t nx = strcspn(x, ","), ny = strcspn(y, ",");
	int c = memcmp(x, y, nx < ny ? nx : ny);

	return c ? c : (nx > ny) - (nx < ny);
}

/* tags=: words; "xattrs" says xattrs were recorded, "xattr:NAME=HEX" is one of them;
 * other words are kept by mtree for -T and mean nothing here. */
static int parse_tags(struct parser *p, const char *val, struct lethe_fim_entry *e)
{
	const char *words[LETHE_FIM_MAX_XATTRS];
	struct lethe_buf b = { 0 };
	size_t n = 0;
	bool have = false;
	int r = 0;

	for (const char *w = val; *w;) {
		size_t len = strcspn(w, ",");

		if (len == 6 && !strncmp(w, "xattrs", 6)) {
			have = true;
		} else if (len > 6 && !strncmp(w, "xattr:", 6)) {
			if (!xattr_word_ok(w + 6, len - 6))
				return bad(p, "bad xattr tag '%.*s'", (int)(len > 80 ? 80 : len),
					   w);
			if (n == LETHE_FIM_MAX_XATTRS)
				return bad(p, "more than %u xattrs", LETHE_FIM_MAX_XATTRS);
			words[n++] = w + 6;
		} else if (!len) {
			return bad(p, "empty word in tags");
		}
		w += len + (w[len] == ',');
	}
	if (n && !have)
		return bad(p, "xattr tags without the word 'xattrs'");
	if (!have)
		return 0;
	qsort(words, n, sizeof(*words), cmp_words);
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (i && !cmp_words(&words[i - 1], &words[i]))
			r = bad(p, "xattr listed twice");
		if (r >= 0 && i)
			r = lethe_buf_puts(&b, ",");
		if (r >= 0)
			r = lethe_buf_append(&b, words[i], strcspn(words[i], ","));
	}
	if (r >= 0 && !b.data)
		r = lethe_buf_puts(&b, "");
	if (r < 0) {
		lethe_buf_release(&b);
		return r;
	}
	free(e->xattrs);
	e->xattrs = b.data;
	e->have |= LETHE_FIM_XATTRS;
	return 0;
}

static int parse_time(const char *val, struct lethe_fim_entry *e)
{
	const char *dot = strchr(val, '.');
	char sec[24];
	uint64_t s, ns = 0;

	if ((size_t)(dot ? dot - val : (ptrdiff_t)strlen(val)) >= sizeof(sec))
		return -EINVAL;
	snprintf(sec, sizeof(sec), "%.*s", (int)(dot ? dot - val : (ptrdiff_t)strlen(val)), val);
	if (parse_u64(sec, 10, INT64_MAX, &s) < 0)
		return -EINVAL;
	/* mtree writes SEC.NSEC, the nanoseconds as an integer (%09ld by mtree-netbsd). */
	if (dot && (strlen(dot + 1) > 9 || parse_u64(dot + 1, 10, 999999999, &ns) < 0))
		return -EINVAL;
	e->mtime_sec = (int64_t)s;
	e->mtime_nsec = (uint32_t)ns;
	e->have |= LETHE_FIM_MTIME;
	return 0;
}

static int parse_device(const char *val, struct lethe_fim_entry *e)
{
	uint64_t maj, min, v;
	const char *c;
	char num[24];

	if (!strncmp(val, "native,", 7) || !strncmp(val, "linux,", 6)) {
		val = strchr(val, ',') + 1;
		c = strchr(val, ',');
		if (!c || (size_t)(c - val) >= sizeof(num))
			return -EINVAL;
		snprintf(num, sizeof(num), "%.*s", (int)(c - val), val);
		if (parse_u64(num, 0, UINT32_MAX, &maj) < 0 ||
		    parse_u64(c + 1, 0, UINT32_MAX, &min) < 0)
			return -EINVAL;
	} else {
		if (parse_u64(val, 0, UINT64_MAX, &v) < 0)
			return -EINVAL;
		maj = major((dev_t)v);
		min = minor((dev_t)v);
	}
	e->dev_major = (uint32_t)maj;
	e->dev_minor = (uint32_t)min;
	return 0;
}

/* The digests mtree knows that Lethe does not compare: checked, then dropped. */
static const struct {
	const char *kw;
	size_t hexlen;
} other_digests[] = {
	{ "md5", 32 },
	{ "md5digest", 32 },
	{ "sha1", 40 },
	{ "sha1digest", 40 },
	{ "rmd160", 40 },
	{ "rmd160digest", 40 },
	{ "ripemd160digest", 40 },
	{ "sha384", 96 },
	{ "sha384digest", 96 },
	{ "sha512", 128 },
	{ "sha512digest", 128 },
};

static bool is_word(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int apply_keyword(struct parser *p, char *kw, struct lethe_fim_entry *e)
{
	char *val = strchr(kw, '=');
	uint64_t v;
	int r = 0;

	if (val)
		*val++ = '\0';
	if (!strcmp(kw, "ignore") || !strcmp(kw, "optional") || !strcmp(kw, "nochange")) {
		if (val)
			return bad(p, "'%s' takes no value", kw);
		if (kw[0] == 'i')
			e->ignore = true;
		else if (kw[0] == 'o')
			e->optional = true;
		return 0;
	}
	if (!val || !*val)
		return bad(p, "keyword '%.40s' without a value", kw);
	if (!strcmp(kw, "type")) {
		for (size_t i = LETHE_FIM_T_FILE; i < LETHE_ARRAY_SIZE(type_names); i++)
			if (!strcmp(val, type_names[i])) {
				e->type = (enum lethe_fim_type)i;
				e->have |= LETHE_FIM_TYPE;
				return 0;
			}
		return bad(p, "unknown type '%.40s'", val);
	} else if (!strcmp(kw, "mode")) {
		if (strspn(val, "01234567") != strlen(val) || parse_u64(val, 8, 07777, &v) < 0)
			return bad(p, "bad mode '%.40s' (octal, at most 07777)", val);
		e->mode = (uint32_t)v;
		e->have |= LETHE_FIM_MODE;
	} else if (!strcmp(kw, "uid") || !strcmp(kw, "gid")) {
		if (strspn(val, "0123456789") != strlen(val) ||
		    parse_u64(val, 10, UINT32_MAX - 1, &v) < 0)
			return bad(p, "bad %s '%.40s'", kw, val);
		if (kw[0] == 'u')
			e->uid = (uint32_t)v;
		else
			e->gid = (uint32_t)v;
		e->have |= kw[0] == 'u' ? LETHE_FIM_UID : LETHE_FIM_GID;
	} else if (!strcmp(kw, "size") || !strcmp(kw, "nlink")) {
		if (strspn(val, "0123456789") != strlen(val) ||
		    parse_u64(val, 10, INT64_MAX, &v) < 0)
			return bad(p, "bad %s '%.40s'", kw, val);
		if (kw[0] == 's')
			e->size = v;
		else
			e->nlink = v;
		e->have |= kw[0] == 's' ? LETHE_FIM_SIZE : LETHE_FIM_NLINK;
	} else if (!strcmp(kw, "sha256") || !strcmp(kw, "sha256digest")) {
		if (!is_hex(val, 64) || lethe_hex_decode(val, e->sha256, sizeof(e->sha256)) < 0)
			return bad(p, "bad sha256 '%.70s'", val);
		e->have |= LETHE_FIM_SHA256;
	} else if (!strcmp(kw, "link")) {
		struct lethe_buf b = { 0 };

		r = unvis(p, val, &b);
		if (r >= 0 && !b.len)
			r = bad(p, "empty link target");
		if (r < 0) {
			lethe_buf_release(&b);
			return r;
		}
		free(e->link);
		e->link = b.data;
		e->have |= LETHE_FIM_LINK;
	} else if (!strcmp(kw, "time")) {
		if (parse_time(val, e) < 0)
			return bad(p, "bad time '%.40s' (SECONDS.NANOSECONDS)", val);
	} else if (!strcmp(kw, "device")) {
		if (parse_device(val, e) < 0)
			return bad(p, "bad device '%.40s'", val);
	} else if (!strcmp(kw, "tags")) {
		return parse_tags(p, val, e);
	} else if (!strcmp(kw, "cksum")) {
		if (strspn(val, "0123456789") != strlen(val) ||
		    parse_u64(val, 10, UINT32_MAX, &v) < 0)
			return bad(p, "bad cksum '%.40s'", val);
	} else if (!strcmp(kw, "uname") || !strcmp(kw, "gname") || !strcmp(kw, "flags")) {
		if (!is_word(val, 256))
			return bad(p, "bad %s '%.40s'", kw, val);
	} else {
		for (size_t i = 0; i < LETHE_ARRAY_SIZE(other_digests); i++)
			if (!strcmp(kw, other_digests[i].kw)) {
				if (!is_hex(val, other_digests[i].hexlen))
					return bad(p, "bad %s '%.40s'", kw, val);
				return 0;
			}
		return bad(p, "unknown keyword '%.40s'", kw);
	}
	return r;
}

static int unset_keyword(struct parser *p, const char *kw)
{
	struct lethe_fim_entry *d = &p->defaults;
	static const struct {
		const char *kw;
		unsigned bit;
	} bits[] = {
		{ "type", LETHE_FIM_TYPE },	{ "mode", LETHE_FIM_MODE },
		{ "uid", LETHE_FIM_UID },	{ "gid", LETHE_FIM_GID },
		{ "size", LETHE_FIM_SIZE },	{ "nlink", LETHE_FIM_NLINK },
		{ "link", LETHE_FIM_LINK },	{ "time", LETHE_FIM_MTIME },
		{ "sha256", LETHE_FIM_SHA256 }, { "sha256digest", LETHE_FIM_SHA256 },
		{ "tags", LETHE_FIM_XATTRS },
	};

	if (!strcmp(kw, "all")) {
		char *path = d->path;

		d->path = NULL;
		lethe_fim_entry_release(d);
		d->path = path;
		return 0;
	}
	if (!strcmp(kw, "ignore"))
		d->ignore = false;
	else if (!strcmp(kw, "optional"))
		d->optional = false;
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(bits); i++)
		if (!strcmp(kw, bits[i].kw)) {
			d->have &= ~bits[i].bit;
			if (bits[i].bit == LETHE_FIM_TYPE)
				d->type = LETHE_FIM_T_NONE;
			return 0;
		}
	if (!strcmp(kw, "ignore") || !strcmp(kw, "optional") || !strcmp(kw, "nochange") ||
	    !strcmp(kw, "uname") || !strcmp(kw, "gname") || !strcmp(kw, "flags") ||
	    !strcmp(kw, "cksum") || !strcmp(kw, "device"))
		return 0;
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(other_digests); i++)
		if (!strcmp(kw, other_digests[i].kw))
			return 0;
	return bad(p, "unknown keyword '%.40s' in /unset", kw);
}

static int copy_entry(const struct lethe_fim_entry *from, struct lethe_fim_entry *to)
{
	*to = *from;
	to->path = NULL;
	to->link = from->link ? strdup(from->link) : NULL;
	to->xattrs = from->xattrs ? strdup(from->xattrs) : NULL;
	if ((from->link && !to->link) || (from->xattrs && !to->xattrs)) {
		lethe_fim_entry_release(to);
		return -ENOMEM;
	}
	return 0;
}

/* The path of name (decoded) in the current directory, checked component by
 * component; "./..." in out. */
static int entry_path(struct parser *p, const char *raw, bool *ret_full, struct lethe_buf *out)
{
	struct lethe_buf dec = { 0 };
	const char *rel;
	int r = unvis(p, raw, &dec);

	if (r < 0)
		goto out;
	if (!dec.len) {
		r = bad(p, "empty name '%.80s'", raw);
		goto out;
	}
	out->len = 0;
	*ret_full = strchr(dec.data, '/') != NULL;
	if (!strcmp(dec.data, ".")) {
		r = lethe_buf_puts(out, ".");
		goto out;
	}
	if (dec.data[0] == '/') {
		r = bad(p, "absolute name '%.80s'", raw);
		goto out;
	}
	rel = !strncmp(dec.data, "./", 2) ? dec.data + 2 : dec.data;
	for (const char *c = rel;;) {
		size_t n = strcspn(c, "/");

		if (!n || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			r = bad(p, "name '%.80s' has an empty, '.' or '..' component", raw);
			goto out;
		}
		if (!c[n])
			break;
		c += n + 1;
	}
	if (*ret_full)
		r = lethe_buf_printf(out, "./%s", rel);
	else if (!p->cwd.len)
		r = bad(p, "'%.80s' before the root '.'", raw);
	else
		r = lethe_buf_printf(out, "%s/%s", p->cwd.data, rel);
	if (r >= 0 && out->len > LETHE_FIM_MAX_PATH)
		r = bad(p, "path longer than %u bytes", LETHE_FIM_MAX_PATH);
out:
	lethe_buf_release(&dec);
	return r;
}

static int depth_of(const char *path)
{
	int d = 0;

	for (; *path; path++)
		d += *path == '/';
	return d;
}

static int add_entry(struct parser *p, char **words, size_t n)
{
	struct lethe_fim_entry e;
	struct lethe_buf path = { 0 };
	bool full;
	int r;

	if (p->m.n >= LETHE_FIM_MAX_ENTRIES)
		return bad(p, "more than %u entries", LETHE_FIM_MAX_ENTRIES);
	r = entry_path(p, words[0], &full, &path);
	if (r < 0) {
		lethe_buf_release(&path);
		return r;
	}
	if (depth_of(path.data) > (int)LETHE_FIM_MAX_DEPTH) {
		lethe_buf_release(&path);
		return bad(p, "deeper than %u levels", LETHE_FIM_MAX_DEPTH);
	}
	r = copy_entry(&p->defaults, &e);
	if (r < 0) {
		lethe_buf_release(&path);
		return r;
	}
	e.path = path.data;
	for (size_t i = 1; i < n && r >= 0; i++)
		r = apply_keyword(p, words[i], &e);
	if (r >= 0 && e.type == LETHE_FIM_T_NONE)
		r = bad(p, "'%.80s' has no type", words[0]);
	if (r >= 0 && !strcmp(e.path, ".") && e.type != LETHE_FIM_T_DIR)
		r = bad(p, "the root '.' is not a directory");
	if (r >= 0 && p->m.n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		struct lethe_fim_entry *v = reallocarray(p->m.v, cap, sizeof(*v));

		if (!v)
			r = -ENOMEM;
		else
			p->m.v = v, p->cap = cap;
	}
	if (r < 0) {
		lethe_fim_entry_release(&e);
		return r;
	}
	/* A directory becomes the current one: the names after it are inside it. */
	if (e.type == LETHE_FIM_T_DIR) {
		size_t d = !strcmp(e.path, ".") ? 0 : (size_t)depth_of(e.path);

		p->cwd.len = 0;
		r = lethe_buf_puts(&p->cwd, e.path);
		if (r < 0) {
			lethe_fim_entry_release(&e);
			return r;
		}
		p->depth = d;
		(void)full;
	}
	p->m.v[p->m.n++] = e;
	return 0;
}

static int go_up(struct parser *p)
{
	char *slash;

	if (!p->cwd.len || !p->depth)
		return bad(p, "'..' above the root");
	slash = strrchr(p->cwd.data, '/');
	p->cwd.len = (size_t)(slash - p->cwd.data);
	p->cwd.data[p->cwd.len] = '\0';
	p->depth--;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	char *words[128];
	size_t n = 0;
	int r = 0;

	for (char *s = line;;) {
		s += strspn(s, " \t");
		if (!*s)
			break;
		if (n == LETHE_ARRAY_SIZE(words))
			return bad(p, "more than %zu words", LETHE_ARRAY_SIZE(words));
		words[n++] = s;
		s += strcspn(s, " \t");
		if (*s)
			*s++ = '\0';
	}
	if (!n || words[0][0] == '#')
		return 0;
	if (!strcmp(words[0], "/set")) {
		for (size_t i = 1; i < n && r >= 0; i++)
			r = apply_keyword(p, words[i], &p->defaults);
		return r;
	}
	if (!strcmp(words[0], "/unset")) {
		for (size_t i = 1; i < n && r >= 0; i++)
			r = unset_keyword(p, words[i]);
		return r;
	}
	if (words[0][0] == '/')
		return bad(p, "unknown command '%.40s'", words[0]);
	if (!strcmp(words[0], "..")) {
		if (n > 1)
			return bad(p, "'..' takes no keywords");
		return go_up(p);
	}
	return add_entry(p, words, n);
}

static int cmp_entries(const void *a, const void *b)
{
	return lethe_fim_path_cmp(((const struct lethe_fim_entry *)a)->path,
				  ((const struct lethe_fim_entry *)b)->path);
}

/* Sorted, unique, and every entry's parent is a directory of the file. */
static int finish(struct parser *p)
{
	struct lethe_fim_manifest *m = &p->m;

	if (m->n)
		qsort(m->v, m->n, sizeof(*m->v), cmp_entries);
	for (size_t i = 0; i < m->n; i++) {
		const struct lethe_fim_entry *parent;
		char *slash;

		if (i && !lethe_fim_path_cmp(m->v[i - 1].path, m->v[i].path))
			return lethe_error(-EBADMSG, "'%s': '%.200s' is listed twice", p->name,
					   m->v[i].path);
		if (!strcmp(m->v[i].path, "."))
			continue;
		slash = strrchr(m->v[i].path, '/');
		{
			char dir[LETHE_FIM_MAX_PATH + 1];
			size_t n = (size_t)(slash - m->v[i].path);

			memcpy(dir, m->v[i].path, n);
			dir[n] = '\0';
			parent = lethe_fim_manifest_find(m, dir);
		}
		if (!parent || parent->type != LETHE_FIM_T_DIR)
			return lethe_error(-EBADMSG, "'%s': '%.200s' has no parent directory",
					   p->name, m->v[i].path);
	}
	return 0;
}

int lethe_fim_mtree_parse(const char *text, size_t len, const char *name,
			  struct lethe_fim_manifest *ret)
{
	struct parser p = { .name = name };
	struct lethe_buf line = { 0 };
	const char *s = text, *end = text + len;
	int r = 0;

	if (len > LETHE_FIM_MAX_FILE)
		return lethe_error(-EFBIG, "'%s': larger than %zu bytes", name, LETHE_FIM_MAX_FILE);
	if (memchr(text, '\0', len))
		return lethe_error(-EBADMSG, "'%s': NUL byte in the text", name);
	while (s < end && r >= 0) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s), bs = 0;

		p.line++;
		while (bs < n && s[n - 1 - bs] == '\\')
			bs++;
		/* An odd number of backslashes at the end continues the line. */
		if (line.len + n > LETHE_FIM_MAX_LINE) {
			r = bad(&p, "line longer than %u bytes", LETHE_FIM_MAX_LINE);
			break;
		}
		r = lethe_buf_append(&line, s, bs % 2 ? n - 1 : n);
		if (r >= 0 && bs % 2)
			r = lethe_buf_puts(&line, " ");
		s += n + (nl != NULL);
		if (r < 0 || (bs % 2 && s < end))
			continue;
		for (size_t i = 0; i < line.len; i++)
			if ((unsigned char)line.data[i] < 0x20 && line.data[i] != '\t' &&
			    line.data[i] != '\r') {
				r = bad(&p, "control character in the line");
				break;
			}
		if (r >= 0 && line.len && line.data[line.len - 1] == '\r')
			line.data[--line.len] = '\0';
		if (r >= 0 && line.len)
			r = parse_line(&p, line.data);
		line.len = 0;
		if (line.data)
			line.data[0] = '\0';
	}
	if (r >= 0 && !p.m.n)
		r = lethe_error(-EBADMSG, "'%s': no entries", name);
	if (r >= 0)
		r = finish(&p);
	lethe_buf_release(&line);
	lethe_buf_release(&p.cwd);
	lethe_fim_entry_release(&p.defaults);
	if (r < 0) {
		lethe_fim_manifest_release(&p.m);
		return r;
	}
	*ret = p.m;
	return 0;
}
