/* pcr.json: the predicted PCR values of a release, in the JSON systemd-measure prints
 * (`calculate --json=short`), so that either side can check the other. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include <lethe/measure.h>
#include <lethe/util.h>

int lethe_measure_json_format(const struct lethe_measure_pcrs *p, char **ret)
{
	struct lethe_buf b = { 0 };
	bool first = true;
	int r = lethe_buf_printf(&b, "{\"sha256\":[");

	for (unsigned i = 0; i < LETHE_MEASURE_PCRS && r >= 0; i++) {
		char hex[65];

		if (!p->has[i])
			continue;
		lethe_hex_encode(p->sha256[i], 32, hex);
		r = lethe_buf_printf(&b, "%s{\"pcr\":%u,\"hash\":\"%s\"}", first ? "" : ",", i,
				     hex);
		first = false;
	}
	if (r >= 0)
		r = lethe_buf_printf(&b, "]}\n");
	if (r < 0) {
		lethe_buf_release(&b);
		return r;
	}
	*ret = b.data;
	return 0;
}

static int bad(const char *what, const char *why)
{
	return lethe_error(-LETHE_E_INVALID, "'%s': %s", what, why);
}

static int parse_entry(struct json_object *e, const char *what, struct lethe_measure_pcrs *p)
{
	struct json_object *pcr = NULL, *hash = NULL;
	const char *hex;
	int64_t n;

	if (!json_object_is_type(e, json_type_object) || json_object_object_length(e) != 2 ||
	    !json_object_object_get_ex(e, "pcr", &pcr) ||
	    !json_object_object_get_ex(e, "hash", &hash) ||
	    !json_object_is_type(pcr, json_type_int) ||
	    !json_object_is_type(hash, json_type_string))
		return bad(what, "each entry must be {\"pcr\": N, \"hash\": \"HEX\"}");
	n = json_object_get_int64(pcr);
	if (n < 0 || n >= LETHE_MEASURE_PCRS)
		return bad(what, "a PCR index is out of range (0-23)");
	if (p->has[n])
		return lethe_error(-LETHE_E_INVALID, "'%s': PCR %d is given twice", what, (int)n);
	hex = json_object_get_string(hash);
	if (strlen(hex) != 64 || lethe_hex_decode(hex, p->sha256[n], 32) < 0)
		return lethe_error(-LETHE_E_INVALID,
				   "'%s': the hash of PCR %d is not 64 hex digits", what, (int)n);
	p->has[n] = true;
	return 0;
}

int lethe_measure_json_parse(const char *data, size_t len, const char *what,
			     struct lethe_measure_pcrs *ret)
{
	struct lethe_measure_pcrs p = { 0 };
	struct json_tokener *tok;
	struct json_object *root, *bank = NULL;
	int r = 0;

	if (len > LETHE_MEASURE_JSON_MAX)
		return bad(what, "larger than 64 KiB");
	if (memchr(data, '\0', len))
		return bad(what, "holds a NUL byte");
	tok = json_tokener_new_ex(8);
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, data, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) < len) {
		/* only white space may follow the object */
		size_t end = json_tokener_get_parse_end(tok);

		while (root && end < len && strchr(" \t\r\n", data[end]))
			end++;
		if (!root || end < len)
			r = bad(what, "not one JSON object");
	}
	json_tokener_free(tok);
	if (r >= 0 &&
	    (!json_object_is_type(root, json_type_object) || json_object_object_length(root) != 1 ||
	     !json_object_object_get_ex(root, "sha256", &bank) ||
	     !json_object_is_type(bank, json_type_array)))
		r = bad(what, "expected {\"sha256\": [...]} and no other bank");
	for (size_t i = 0; r >= 0 && i < json_object_array_length(bank); i++)
		r = parse_entry(json_object_array_get_idx(bank, i), what, &p);
	json_object_put(root);
	if (r >= 0)
		*ret = p;
	return r;
}
