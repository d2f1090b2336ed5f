/* session.graphical of the spec (issue 13.4, docs/session.md): the one program that the
 * Wayland kiosk compositor (cage) runs as session.user, started by lethe-init. */
#include <errno.h>
#include <string.h>

#include "spec-internal.h"

static const char *const graphical_keys[] = { "command", NULL };

int spec_parse_graphical(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec_session *s = &c->spec->session;
	const struct lethe_node *cmd;
	int r = lethe_node_expect(c->file, node, LETHE_NODE_MAPPING, "session.graphical");

	if (r == 0)
		r = lethe_node_check_keys(c->file, node, graphical_keys);
	if (r < 0)
		return r;
	s->graphical_line = node->line;
	cmd = lethe_node_get(node, "command");
	if (!cmd)
		return lethe_node_error(
			c->file, node, "session.graphical needs a command (the program cage runs)");
	r = lethe_node_strv(c->file, cmd, "session.graphical.command", &s->graphical);
	if (r < 0)
		return r;
	if (s->graphical.n == 0 || !spec_path_is_absolute_clean(s->graphical.v[0]))
		return lethe_node_error(c->file, cmd,
					"session.graphical.command must start with an absolute "
					"path");
	/* lethe-init's argv is cage's options, "--" and this command, in a fixed array. */
	if (s->graphical.n > LETHE_SPEC_GRAPHICAL_ARGS_MAX)
		return lethe_node_error(c->file, cmd,
					"session.graphical.command has %zu words, at most %d",
					s->graphical.n, LETHE_SPEC_GRAPHICAL_ARGS_MAX);
	return 0;
}
