/* A NULL-terminated vector of owned strings. */
#include <errno.h>

#include <lethe/util.h>

int lethe_strv_push(struct lethe_strv *s, const char *str)
{
	char **v;
	char *copy;

	if (s->n > SIZE_MAX / sizeof(char *) - 2)
		return -ENOMEM;
	copy = strdup(str);
	if (!copy)
		return -ENOMEM;
	v = realloc(s->v, (s->n + 2) * sizeof(char *));
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	v[s->n++] = copy;
	v[s->n] = NULL;
	s->v = v;
	return 0;
}

bool lethe_strv_contains(const struct lethe_strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return true;
	return false;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void lethe_strv_sort(struct lethe_strv *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(char *), compare_strings);
}

void lethe_strv_release(struct lethe_strv *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	*s = (struct lethe_strv){ 0 };
}
