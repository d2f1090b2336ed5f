/* The kernel cmdline of an image: hardening defaults, the console, the verity root hash
 * and the spec's own parameters, less what the spec declares unsafe on purpose. */
#include <errno.h>

#include <lethe/boot.h>
#include <lethe/core.h>
#include <lethe/hardening.h>

#define MAX_WORDS 512

int lethe_boot_cmdline_split(const char *cmdline, struct lethe_strv *ret)
{
	struct lethe_buf w = { 0 };
	size_t words = 0;
	int r = 0;

	if (strlen(cmdline) > LETHE_BOOT_CMDLINE_MAX)
		return lethe_error(-LETHE_E_INVALID, "cmdline longer than %d bytes",
				   LETHE_BOOT_CMDLINE_MAX);
	for (const char *p = cmdline; *p && r >= 0;) {
		bool quoted = false, any = false;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		lethe_buf_release(&w);
		for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
			if ((unsigned char)*p < 0x20 && *p != '\t') {
				r = lethe_error(-LETHE_E_INVALID, "cmdline: control character at offset %zu",
						(size_t)(p - cmdline));
				break;
			}
			any = true;
			if (*p == '"') {
				quoted = !quoted;
				continue;
			}
			r = lethe_buf_append(&w, p, 1);
			if (r < 0)
				break;
		}
		if (r < 0)
			break;
		if (quoted)
			r = lethe_error(-LETHE_E_INVALID, "cmdline: unterminated '\"'");
		else if (++words > MAX_WORDS)
			r = lethe_error(-LETHE_E_INVALID, "cmdline: more than %d words", MAX_WORDS);
		else if (any)
			r = lethe_strv_push(ret, w.data ? w.data : "");
	}
	lethe_buf_release(&w);
	return r;
}

size_t lethe_boot_cmdline_key_len(const char *word)
{
	return strcspn(word, "=");
}

/* Does the unsafe entry u name the parameter word? */
static bool unsafe_matches(const char *u, const char *word)
{
	if (strchr(u, '='))
		return !strcmp(u, word);
	return lethe_boot_cmdline_key_len(word) == strlen(u) &&
	       !strncmp(u, word, strlen(u));
}

static bool is_unsafe(const struct lethe_spec_kernel *k, const char *word)
{
	for (size_t i = 0; k && i < k->unsafe.n; i++)
		if (unsafe_matches(k->unsafe.v[i], word))
			return true;
	return false;
}

/* Write one parameter, quoting a value that holds a space. */
static int put(struct lethe_buf *b, const char *word)
{
	size_t key = lethe_boot_cmdline_key_len(word);
	int r;

	if (strchr(word, '"'))
		return lethe_error(-LETHE_E_INVALID, "kernel parameter '%s': '\"' is not allowed", word);
	for (const char *p = word; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return lethe_error(-LETHE_E_INVALID,
					   "kernel parameter '%s': control character", word);
	if (b->len) {
		r = lethe_buf_puts(b, " ");
		if (r < 0)
			return r;
	}
	if (!strchr(word, ' ') && !strchr(word, '\t'))
		return lethe_buf_puts(b, word);
	if (!word[key])
		return lethe_buf_printf(b, "\"%s\"", word);
	return lethe_buf_printf(b, "%.*s=\"%s\"", (int)key, word, word + key + 1);
}

int lethe_boot_cmdline_make(const struct lethe_spec_kernel *k, const char *roothash_hex,
			    char **ret)
{
	struct lethe_buf b = { 0 }, rh = { 0 };
	size_t hlen = strlen(roothash_hex);
	int r = 0;

	if (hlen < 32 || hlen > 128 || hlen % 2)
		return lethe_error(-LETHE_E_INVALID, "root hash '%s' is not 16 to 64 bytes of hex",
				   roothash_hex);
	for (size_t i = 0; i < hlen; i++)
		if (!strchr("0123456789abcdef", roothash_hex[i]))
			return lethe_error(-LETHE_E_INVALID, "root hash '%s' is not lowercase hex",
					   roothash_hex);
	for (size_t i = 0; r >= 0 && i < LETHE_HARDENING_N_CMDLINE; i++)
		if (!is_unsafe(k, lethe_hardening_cmdline[i]))
			r = put(&b, lethe_hardening_cmdline[i]);
	if (r >= 0 && !is_unsafe(k, "console=ttyS0"))
		r = put(&b, "console=ttyS0");
	if (r >= 0)
		r = lethe_buf_printf(&rh, LETHE_CMDLINE_ROOTHASH "=%s", roothash_hex);
	if (r >= 0)
		r = put(&b, rh.data);
	for (size_t i = 0; r >= 0 && k && i < k->cmdline.n; i++) {
		if (lethe_cmdline_word_is(k->cmdline.v[i], LETHE_CMDLINE_ROOTHASH)) {
			r = lethe_error(-LETHE_E_INVALID,
					"kernel.cmdline: '" LETHE_CMDLINE_ROOTHASH "' is set by the build");
			break;
		}
		if (!is_unsafe(k, k->cmdline.v[i]))
			r = put(&b, k->cmdline.v[i]);
	}
	lethe_buf_release(&rh);
	if (r >= 0 && b.len > LETHE_BOOT_CMDLINE_MAX)
		r = lethe_error(-LETHE_E_INVALID, "kernel cmdline longer than %d bytes",
				LETHE_BOOT_CMDLINE_MAX);
	if (r < 0) {
		lethe_buf_release(&b);
		return r;
	}
	*ret = b.data;
	return 0;
}
