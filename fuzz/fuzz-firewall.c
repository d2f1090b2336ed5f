/* Fuzz target: YAML text -> node tree -> the firewall section parser -> the renderer,
 * and the rendered text back through the listing comparison (against itself, which must
 * match, and against the input, which must not crash). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/firewall.h>
#include <lethe/spec.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lethe_spec_user users[] = { { .name = "debian-tor", .uid = 101, .gid = 101 } };
static struct lethe_spec_group groups[] = { { .name = "debian-tor", .gid = 101 } };
static const struct lethe_spec accounts = {
	.users = users,
	.n_users = 1,
	.groups = groups,
	.n_groups = 1,
};

static void compare_text(const char *expected, const char *live, int must_match)
{
	struct lethe_firewall_drift d = { 0 };
	int r = lethe_firewall_compare(expected, live, &d);

	if (must_match && (r != 0 || d.n != 0))
		abort();
	lethe_firewall_drift_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_node *root = NULL;
	struct lethe_firewall *fw = NULL;
	char *text = NULL, *input;

	if (size > LETHE_SPEC_MAX_SIZE)
		return 0;
	if (lethe_yaml_parse("fuzz.yaml", (const char *)data, size, &root) == 0) {
		const struct lethe_node *section = lethe_node_get(root, "firewall");

		if (lethe_firewall_parse("fuzz.yaml", section ? section : root, &accounts, &fw) ==
		    0) {
			if (lethe_firewall_render(fw, 0, &text) == 0)
				compare_text(text, text, 1);
			free(text);
			text = NULL;
			if (lethe_firewall_render(fw, LETHE_FIREWALL_NUMERIC_PROTO, &text) == 0)
				compare_text(text, text, 1);
		}
		lethe_firewall_free(fw);
		lethe_node_free(root);
	}
	/* The input as a live listing: the comparison parses what the kernel prints. */
	input = malloc(size + 1);
	if (input) {
		memcpy(input, data, size);
		input[size] = '\0';
		if (text)
			compare_text(text, input, 0);
		free(input);
	}
	free(text);
	return 0;
}
