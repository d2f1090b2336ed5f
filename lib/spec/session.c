/* session: of the spec (issue 13.3): who the console session runs as, and whether root
 * can be reached from it at all (an administration password asked at boot). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "spec-internal.h"

static const char *const session_keys[] = { "user", "admin_password", "graphical", NULL };

static int parse_admin(struct spec_ctx *c, const struct lethe_node *node)
{
	int r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, "session.admin_password");

	if (r < 0)
		return r;
	if (!strcmp(node->value, "ask"))
		c->spec->session.admin_password = true;
	else if (strcmp(node->value, "none"))
		return lethe_node_error(c->file, node,
					"session.admin_password must be 'ask' or 'none', not '%s'",
					node->value);
	return 0;
}

int spec_parse_session(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec_session *s = &c->spec->session;
	const struct lethe_spec_user *u;
	const struct lethe_node *user, *admin;
	int r;

	if (!node)
		return 0;
	s->line = node->line;
	r = lethe_node_expect(c->file, node, LETHE_NODE_MAPPING, "session");
	if (r == 0)
		r = lethe_node_check_keys(c->file, node, session_keys);
	if (r < 0)
		return r;
	user = lethe_node_get(node, "user");
	if (!user)
		return lethe_node_error(c->file, node, "session needs a user (session.user)");
	r = spec_string(c, user, "session.user", &s->user);
	if (r < 0)
		return r;
	u = spec_find_user(c->spec, s->user);
	if (!u)
		return lethe_node_error(c->file, user, "session.user '%s' is not in accounts.users",
					s->user);
	if (u->uid == 0)
		return lethe_node_error(c->file, user,
					"session.user must not be root: the session runs "
					"unprivileged (set session.admin_password: ask for root)");
	if (!strcmp(u->home, "/nonexistent"))
		return lethe_node_error(c->file, user,
					"session.user '%s' has no home (set its home in "
					"accounts.users, line %u)",
					s->user, u->line);
	admin = lethe_node_get(node, "admin_password");
	r = admin ? parse_admin(c, admin) : 0;
	if (r == 0 && lethe_node_get(node, "graphical"))
		r = spec_parse_graphical(c, lethe_node_get(node, "graphical"));
	if (r == 0 && s->admin_password) {
		/* su runs root's shell: a no-login one would make the password useless. */
		u = spec_find_user(c->spec, "root");
		if (u &&
		    (!strcmp(u->shell, "/usr/sbin/nologin") || !strcmp(u->shell, "/bin/false")))
			return lethe_node_error(c->file, admin,
						"session.admin_password: ask needs a login shell "
						"for root (its shell is '%s'; set it in "
						"accounts.users)",
						u->shell);
	}
	return r;
}
