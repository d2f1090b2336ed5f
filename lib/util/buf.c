/* A growable, NUL-terminated byte buffer. */
#include <errno.h>
#include <stdio.h>

#include <lethe/util.h>

static int buf_reserve(struct lethe_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (__builtin_add_overflow(b->len, extra, &need) || __builtin_add_overflow(need, 1, &need))
		return -ENOMEM;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		if (__builtin_mul_overflow(cap, 2, &cap))
			return -ENOMEM;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int lethe_buf_append(struct lethe_buf *b, const void *data, size_t len)
{
	int r = buf_reserve(b, len);

	if (r < 0)
		return r;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int lethe_buf_puts(struct lethe_buf *b, const char *s)
{
	return lethe_buf_append(b, s, strlen(s));
}

int lethe_buf_printf(struct lethe_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	r = buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void lethe_buf_release(struct lethe_buf *b)
{
	if (!b)
		return;
	free(b->data);
	*b = (struct lethe_buf){ 0 };
}
