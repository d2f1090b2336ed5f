/* Unit tests of lib/spec: the YAML layer, the node helpers, the spec and its errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <lethe/contract.h>
#include <lethe/spec.h>

#define DATA	 LETHE_TEST_DATA "/spec"
#define EXAMPLES LETHE_TEST_DATA "/../../../examples"

static struct lethe_node *parse_ok(const char *text)
{
	struct lethe_node *root = NULL;
	int r = lethe_yaml_parse("t.yaml", text, strlen(text), &root);

	if (r < 0)
		fail_msg("parse failed: %s", lethe_error_message());
	return root;
}

static void yaml_fails(const char *text, const char *message)
{
	struct lethe_node *root = NULL;

	lethe_error_clear();
	assert_int_equal(lethe_yaml_parse("t.yaml", text, strlen(text), &root), -EBADMSG);
	assert_null(root);
	assert_string_equal(lethe_error_message(), message);
}

static void test_yaml_tree_and_positions(void **state)
{
	struct lethe_node *root = parse_ok("a: 1\nlist:\n  - x\n  - {k: v}\n\"q\": 'it''s'\n");
	struct lethe_node *list, *item;

	assert_int_equal(root->type, LETHE_NODE_MAPPING);
	assert_int_equal(root->n, 3);
	assert_string_equal(lethe_node_get(root, "a")->value, "1");
	assert_int_equal(lethe_node_get(root, "a")->line, 1);
	assert_int_equal(lethe_node_get(root, "a")->column, 4);
	list = lethe_node_get(root, "list");
	assert_int_equal(list->type, LETHE_NODE_SEQUENCE);
	assert_int_equal(list->n, 2);
	assert_int_equal(list->line, 3);
	assert_int_equal(list->column, 3);
	item = list->items[1];
	assert_int_equal(item->type, LETHE_NODE_MAPPING);
	assert_int_equal(item->line, 4);
	assert_int_equal(item->column, 5);
	assert_string_equal(lethe_node_get(item, "k")->value, "v");
	assert_int_equal(root->pairs[2].key->line, 5);
	assert_string_equal(lethe_node_get(root, "q")->value, "it's");
	assert_null(lethe_node_get(root, "missing"));
	assert_null(lethe_node_get(list, "a"));
	assert_null(lethe_node_free(root));
	assert_null(lethe_node_free(NULL));
}

static void test_yaml_refusals(void **state)
{
	yaml_fails("a: &x 1\nb: 2\n", "'t.yaml' line 1 column 4: anchors are not allowed");
	yaml_fails("a: [1]\nb: *x\n", "'t.yaml' line 2 column 4: aliases are not allowed");
	yaml_fails("a: 1\n---\nb: 2\n",
		   "'t.yaml' line 2 column 1: only one YAML document is allowed");
	yaml_fails("a: !!str 1\n", "'t.yaml' line 1 column 4: explicit tags are not allowed");
	yaml_fails("? [a]\n: b\n", "'t.yaml' line 1 column 3: mapping keys must be scalars");
	yaml_fails("a: 1\nb: 2\na: 3\n",
		   "'t.yaml' line 3 column 1: duplicate key 'a' (first on line 1)");
	yaml_fails("", "'t.yaml' line 1 column 1: empty document");
	yaml_fails("a:\n\tb: 1\n",
		   "'t.yaml' line 2 column 1: found character that cannot start any token");
	yaml_fails("a: \"x\\0y\"\n", "'t.yaml' line 1 column 4: NUL characters are not allowed");
	yaml_fails("a: [1, 2\n", "'t.yaml' line 2 column 1: did not find expected ',' or ']'");
}

/* Encoding errors name the line and column of the offending byte, not 1:1 (issue
 * 10.12). */
static void test_yaml_encoding_positions(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		const char *message;
	} cases[] = {
#define T(s) s, sizeof(s) - 1
		{ T("a: 1\nb:\n  - x\xffy\n"),
		  "'t' line 3 column 6: invalid leading UTF-8 octet (#xFF at offset 13)" },
		{ T("a: 1\nd: x\0y\n"),
		  "'t' line 2 column 5: control characters are not allowed (#x0 at offset 9)" },
		{ T("a: \xc3\xa9\xc3\xa9\n\nb: \"\xc3\"\n"),
		  "'t' line 3 column 6: invalid trailing UTF-8 octet (#x22 at offset 14)" },
		{ T("a: 1\n\xff\xfe"),
		  "'t' line 2 column 1: invalid leading UTF-8 octet (#xFF at offset 5)" },
#undef T
	};
	struct lethe_node *root = NULL;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(lethe_yaml_parse("t", cases[i].text, cases[i].len, &root),
				 -EBADMSG);
		assert_string_equal(lethe_error_message(), cases[i].message);
		assert_null(root);
	}
}

static void test_yaml_duplicate_reports_first_in_document(void **state)
{
	/* Two duplicated keys: the one whose repetition comes first is reported. */
	yaml_fails("z: 1\na: 1\nz: 2\na: 2\n",
		   "'t.yaml' line 3 column 1: duplicate key 'z' (first on line 1)");
	yaml_fails("m:\n  k: 1\n  j: 2\n  k: 3\n",
		   "'t.yaml' line 4 column 3: duplicate key 'k' (first on line 2)");
}

static void test_yaml_limits(void **state)
{
	struct lethe_buf b = { 0 };
	struct lethe_node *root = NULL;
	int r;

	/* LETHE_YAML_MAX_DEPTH levels parse; one more does not. */
	for (int i = 0; i < LETHE_YAML_MAX_DEPTH; i++)
		assert_int_equal(lethe_buf_puts(&b, "["), 0);
	for (int i = 0; i < LETHE_YAML_MAX_DEPTH; i++)
		assert_int_equal(lethe_buf_puts(&b, "]"), 0);
	assert_int_equal(lethe_yaml_parse("t.yaml", b.data, b.len, &root), 0);
	lethe_node_free(root);
	lethe_buf_release(&b);
	for (int i = 0; i <= LETHE_YAML_MAX_DEPTH; i++)
		assert_int_equal(lethe_buf_puts(&b, "["), 0);
	yaml_fails(b.data, "'t.yaml' line 1 column 33: nested deeper than 32 levels");
	lethe_buf_release(&b);

	/* A list of exactly MAX - 1 scalars is MAX nodes; one more is refused. */
	assert_int_equal(lethe_buf_puts(&b, "["), 0);
	for (int i = 0; i < LETHE_YAML_MAX_NODES - 1; i++)
		assert_int_equal(lethe_buf_puts(&b, i ? ",1" : "1"), 0);
	assert_int_equal(lethe_buf_puts(&b, "]"), 0);
	r = lethe_yaml_parse("t.yaml", b.data, b.len, &root);
	assert_int_equal(r, 0);
	assert_int_equal(root->n, LETHE_YAML_MAX_NODES - 1);
	lethe_node_free(root);
	b.data[b.len - 1] = ',';
	assert_int_equal(lethe_buf_puts(&b, "1]"), 0);
	lethe_error_clear();
	assert_int_equal(lethe_yaml_parse("t.yaml", b.data, b.len, &root), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "more than 100000 YAML nodes"));
	lethe_buf_release(&b);
}

static void test_yaml_many_keys(void **state)
{
	struct lethe_buf b = { 0 };
	struct lethe_node *root = NULL;

	/* Duplicate detection must stay fast on a wide mapping (sorting, not n^2). */
	for (int i = 0; i < 40000; i++)
		assert_int_equal(lethe_buf_printf(&b, "k%d: %d\n", i, i), 0);
	assert_int_equal(lethe_yaml_parse("t.yaml", b.data, b.len, &root), 0);
	assert_int_equal(root->n, 40000);
	lethe_node_free(root);
	assert_int_equal(lethe_buf_puts(&b, "k17: again\n"), 0);
	yaml_fails(b.data, "'t.yaml' line 40001 column 1: duplicate key 'k17' (first on line 18)");
	lethe_buf_release(&b);
}

static void test_node_helpers(void **state)
{
	struct lethe_node *root =
		parse_ok("b: true\nf: false\nx: yes\nn: 42\nbig: 18446744073709551616\n"
			 "neg: -1\ns: one\nl: [a, b]\nm: {k: v}\nbad: [a, [b]]\n");
	static const char *const keys[] = { "b", "f", "x", "n",	  "big", "neg",
					    "s", "l", "m", "bad", NULL };
	static const char *const fewer[] = { "b", "f", "x", NULL };
	struct lethe_strv strv = { 0 };
	uint64_t u;
	bool v;

	assert_int_equal(lethe_node_bool("t.yaml", lethe_node_get(root, "b"), "b", &v), 0);
	assert_true(v);
	assert_int_equal(lethe_node_bool("t.yaml", lethe_node_get(root, "f"), "f", &v), 0);
	assert_false(v);
	assert_int_equal(lethe_node_bool("t.yaml", lethe_node_get(root, "x"), "x", &v), -EBADMSG);
	assert_string_equal(lethe_error_message(),
			    "spec 't.yaml' line 3 column 4: x must be true or false, not 'yes'");

	assert_int_equal(lethe_node_uint("t.yaml", lethe_node_get(root, "n"), "n", 0, 42, &u), 0);
	assert_int_equal(u, 42);
	assert_int_equal(lethe_node_uint("t.yaml", lethe_node_get(root, "n"), "n", 0, 41, &u),
			 -EBADMSG);
	assert_string_equal(
		lethe_error_message(),
		"spec 't.yaml' line 4 column 4: n must be a number from 0 to 41, not '42'");
	assert_int_equal(
		lethe_node_uint("t.yaml", lethe_node_get(root, "big"), "big", 0, UINT64_MAX, &u),
		-EBADMSG);
	assert_int_equal(lethe_node_uint("t.yaml", lethe_node_get(root, "neg"), "neg", 0, 9, &u),
			 -EBADMSG);
	assert_int_equal(lethe_node_uint("t.yaml", lethe_node_get(root, "l"), "l", 0, 9, &u),
			 -EBADMSG);
	assert_string_equal(lethe_error_message(),
			    "spec 't.yaml' line 8 column 4: l must be a scalar, not a list");

	assert_int_equal(lethe_node_strv("t.yaml", lethe_node_get(root, "s"), "s", &strv), 0);
	assert_int_equal(lethe_node_strv("t.yaml", lethe_node_get(root, "l"), "l", &strv), 0);
	assert_int_equal(strv.n, 3);
	assert_string_equal(strv.v[2], "b");
	assert_int_equal(lethe_node_strv("t.yaml", lethe_node_get(root, "m"), "m", &strv),
			 -EBADMSG);
	assert_int_equal(lethe_node_strv("t.yaml", lethe_node_get(root, "bad"), "bad", &strv),
			 -EBADMSG);
	assert_string_equal(
		lethe_error_message(),
		"spec 't.yaml' line 10 column 10: bad must be a string or a list of strings");
	lethe_strv_release(&strv);

	assert_int_equal(lethe_node_expect("t.yaml", root, LETHE_NODE_MAPPING, "root"), 0);
	assert_int_equal(lethe_node_expect("t.yaml", NULL, LETHE_NODE_MAPPING, "thing"), -EBADMSG);
	assert_string_equal(lethe_error_message(), "spec 't.yaml': thing is missing");

	assert_int_equal(lethe_node_check_keys("t.yaml", root, keys), 0);
	assert_int_equal(lethe_node_check_keys("t.yaml", root, fewer), -EBADMSG);
	assert_string_equal(lethe_error_message(),
			    "spec 't.yaml' line 4 column 1: unknown key 'n'");
	lethe_node_free(root);
}

static void test_spell_suggest(void **state)
{
	static const char *const words[] = { "packages", "profile", "name", "version", NULL };

	assert_string_equal(lethe_spell_suggest("pakages", words), "packages");
	assert_string_equal(lethe_spell_suggest("packges", words), "packages");
	assert_string_equal(lethe_spell_suggest("nmae", words), "name");
	assert_string_equal(lethe_spell_suggest("verison", words), "version");
	assert_string_equal(lethe_spell_suggest("Profile", words), "profile");
	assert_null(lethe_spell_suggest("xyz", words));
	assert_null(lethe_spell_suggest("firewall", words));
	assert_null(lethe_spell_suggest("", words));
}

/* ---- The spec. ---- */

#define HEAD "name: t\nversion: \"1\"\npackages: [busybox-static]\n"

static struct lethe_spec *spec_ok(const char *text)
{
	struct lethe_spec *spec = NULL;

	lethe_error_clear();
	if (lethe_spec_parse("t.yaml", DATA, text, strlen(text), &spec) < 0)
		fail_msg("spec failed: %s", lethe_error_message());
	return spec;
}

/* Malformed specs and the exact message each gives. HEAD is lines 1-3. */
static const struct bad_spec {
	const char *text;
	const char *message;
} bad_specs[] = {
	{ HEAD "description: \"a\\x01b\"\n",
	  "spec 't.yaml' line 4 column 14: description contains a control character" },
	{ HEAD "apt: {suite: \"book\\tworm\"}\n",
	  "spec 't.yaml' line 4 column 14: apt suite contains a control character" },
	{ HEAD "files:\n  - {source: \"\", destination: /x}\n",
	  "spec 't.yaml' line 5 column 14: source must not be empty" },
	{ HEAD "pakages: [tor]\n",
	  "spec 't.yaml' line 4 column 1: unknown key 'pakages' (did you mean 'packages'?)" },
	{ HEAD "frobnicate: 1\n", "spec 't.yaml' line 4 column 1: unknown key 'frobnicate'" },
	{ "name: t\nversion: \"1\"\npackages: busybox-static\n",
	  "spec 't.yaml' line 3 column 11: packages must be a list, not a scalar" },
	{ "name: Lethe\nversion: \"1\"\npackages: [tor]\n",
	  "spec 't.yaml' line 1 column 7: name 'Lethe' must match [a-z0-9][a-z0-9-]* (at most 63 "
	  "characters)" },
	{ "name: t\npackages: [tor]\n",
	  "spec 't.yaml' line 1 column 1: missing required key 'version'" },
	{ "name: t\nversion: \"1\"\n",
	  "spec 't.yaml' line 1 column 1: missing required key 'packages'" },
	{ "name: t\nversion: \"\"\npackages: [tor]\n",
	  "spec 't.yaml' line 2 column 10: version must not be empty" },
	{ "name: t\nversion: \"1\"\npackages: [Tor]\n",
	  "spec 't.yaml' line 3 column 12: 'Tor' is not a Debian package name (lowercase letters, "
	  "digits, '+', '-', '.'; at least 2 characters)" },
	{ "name: t\nversion: \"1\"\npackages: [tor, busybox, tor]\n",
	  "spec 't.yaml' line 3 column 26: package 'tor' is listed twice (first on line 3)" },
	{ HEAD "drop: [busybox-static]\n", "spec 't.yaml' line 4 column 8: package "
					   "'busybox-static' is both in packages and in drop" },
	{ HEAD "profile: tiny\n",
	  "spec 't.yaml' line 4 column 10: profile must be 'minimal' or 'full', not 'tiny'" },
	{ HEAD "allow_devices: yes\n",
	  "spec 't.yaml' line 4 column 16: allow_devices must be true or false, not 'yes'" },
	{ HEAD "compression: lz4hc,13\n",
	  "spec 't.yaml' line 4 column 14: compression must be lz4, "
	  "lz4hc, lz4hc,LEVEL (0-12) or none, not 'lz4hc,13'" },
	{ HEAD "exclude: [usr/share/doc]\n",
	  "spec 't.yaml' line 4 column 11: exclude pattern "
	  "'usr/share/doc' must be an absolute path without '..'" },
	{ HEAD "name: u\n",
	  "spec 't.yaml' line 4 column 1: duplicate key 'name' (first on line 1)" },
	{ HEAD "description: &d x\n", "spec 't.yaml' line 4 column 14: anchors are not allowed" },
	{ HEAD "description: *d\n", "spec 't.yaml' line 4 column 14: aliases are not allowed" },
	{ HEAD "accounts:\n\tusers: []\n",
	  "spec 't.yaml' line 5 column 1: found character that cannot start any token" },
	{ HEAD "---\nname: u\n",
	  "spec 't.yaml' line 4 column 1: only one YAML document is allowed" },
	{ "- name: t\n", "spec 't.yaml' line 1 column 1: the spec must be a mapping, not a list" },
	{ HEAD "apt: {architecture: [amd64]}\n",
	  "spec 't.yaml' line 4 column 21: apt architecture must be a scalar, not a list" },
	{ HEAD "apt: {sources: [debx http://x]}\n",
	  "spec 't.yaml' line 4 column 17: apt source 'debx http://x' must be a 'deb [OPTIONS] URI "
	  "SUITE [COMPONENT...]' line or a .sources or .list file" },
	{ HEAD "apt: {sources: [hello.txt]}\n",
	  "spec 't.yaml' line 4 column 17: apt source 'hello.txt' must be a 'deb [OPTIONS] URI "
	  "SUITE [COMPONENT...]' line or a .sources or .list file" },
	/* Sources that would switch apt's checks off (issue 10.1). */
	{ HEAD "apt: {sources: [\"deb [ trusted=yes ] file:///srv/r ./\"]}\n",
	  "spec 't.yaml' line 4 column 17: apt source 'deb [ trusted=yes ] file:///srv/r ./': "
	  "'trusted=yes' makes apt trust the repository without a valid signature; Lethe keeps "
	  "apt's signature and freshness checks on" },
	{ HEAD "apt: {sources: [\"deb [allow-insecure=yes] file:///srv/r ./\"]}\n",
	  "spec 't.yaml' line 4 column 17: apt source 'deb [allow-insecure=yes] file:///srv/r ./': "
	  "'allow-insecure=yes' lets apt use a repository without a signed Release file; Lethe "
	  "keeps apt's signature and freshness checks on" },
	{ HEAD "apt: {sources: [\"deb [check-valid-until=no] http://x bookworm main\"]}\n",
	  "spec 't.yaml' line 4 column 17: apt source 'deb [check-valid-until=no] http://x "
	  "bookworm "
	  "main': 'check-valid-until=no' switches off apt's replay protection (Valid-Until); Lethe "
	  "keeps apt's signature and freshness checks on" },
	{ HEAD "apt: {sources: [trusted.sources]}\n",
	  "spec 't.yaml' line 4 column 17: apt source '" DATA "/trusted.sources' line 5: 'TRUSTED: "
	  "YES' makes apt trust the repository without a valid signature; Lethe keeps apt's "
	  "signature and freshness checks on" },
	{ HEAD "apt: {sources: [missing.sources]}\n",
	  "spec 't.yaml' line 4 column 17: apt source file '" DATA "/missing.sources' cannot be "
	  "read: No such file or directory" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /etc/x, mode: \"0999\"}\n",
	  "spec 't.yaml' line 5 column 52: mode must be 3 or 4 octal digits such as 0644, not "
	  "'0999'" },
	{ HEAD "files:\n  - {source: hello.txt, destination: etc/x}\n",
	  "spec 't.yaml' line 5 column 38: destination 'etc/x' must be an absolute path without "
	  "'.', '..' or empty components" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /etc/../x}\n",
	  "spec 't.yaml' line 5 column 38: destination '/etc/../x' must be an absolute path "
	  "without "
	  "'.', '..' or empty components" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /etc/./x}\n",
	  "spec 't.yaml' line 5 column 38: destination '/etc/./x' must be an absolute path without "
	  "'.', '..' or empty components" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /etc//x}\n",
	  "spec 't.yaml' line 5 column 38: destination '/etc//x' must be an absolute path without "
	  "'.', '..' or empty components" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /etc/x/}\n",
	  "spec 't.yaml' line 5 column 38: destination '/etc/x/' must be an absolute path without "
	  "'.', '..' or empty components" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /./etc/x}\n",
	  "spec 't.yaml' line 5 column 38: destination '/./etc/x' must be an absolute path without "
	  "'.', '..' or empty components" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /etc/.}\n",
	  "spec 't.yaml' line 5 column 38: destination '/etc/.' must be an absolute path without "
	  "'.', '..' or empty components" },
	{ HEAD "files:\n  - {source: hello.txt, destination: //etc/x}\n",
	  "spec 't.yaml' line 5 column 38: destination '//etc/x' must be an absolute path without "
	  "'.', '..' or empty components" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /etc/x/..}\n",
	  "spec 't.yaml' line 5 column 38: destination '/etc/x/..' must be an absolute path "
	  "without "
	  "'.', '..' or empty components" },
	/* An unclean destination can no longer dodge the duplicate check (issue 10.11). */
	{ HEAD "files:\n  - {source: hello.txt, destination: /etc/x}\n"
	       "  - {source: hello.txt, destination: \"/etc//x\"}\n",
	  "spec 't.yaml' line 6 column 38: destination '/etc//x' must be an absolute path without "
	  "'.', '..' or empty components" },
	/* ':' would make another /etc/passwd field (issue 10.11). */
	{ HEAD "accounts: {users: [{name: u, uid: 5, home: \"/home/u:0:0\"}]}\n",
	  "spec 't.yaml' line 4 column 44: home '/home/u:0:0' must not contain ':' (it separates "
	  "the "
	  "fields of /etc/passwd)" },
	{ HEAD "accounts: {users: [{name: u, uid: 5, shell: \"/bin/sh:x\"}]}\n",
	  "spec 't.yaml' line 4 column 45: shell '/bin/sh:x' must not contain ':' (it separates "
	  "the "
	  "fields of /etc/passwd)" },
	{ HEAD "accounts: {users: [{name: u, uid: 5, home: \"/home/u\\n\"}]}\n",
	  "spec 't.yaml' line 4 column 44: home contains a control character" },
	{ HEAD "accounts: {users: [{name: u, uid: 5, home: /home//u}]}\n",
	  "spec 't.yaml' line 4 column 44: home '/home//u' must be an absolute path without '.', "
	  "'..' or empty components" },
	{ HEAD "accounts: {users: [{name: u, uid: 5, shell: /bin/./sh}]}\n",
	  "spec 't.yaml' line 4 column 45: shell '/bin/./sh' must be an absolute path without '.', "
	  "'..' or empty components" },
	/* session: (issue 13.3) */
	{ HEAD "session: {admin_password: ask}\n",
	  "spec 't.yaml' line 4 column 10: session needs a user (session.user)" },
	{ HEAD "session: {user: nobody2}\n",
	  "spec 't.yaml' line 4 column 17: session.user 'nobody2' is not in accounts.users" },
	{ HEAD "session: {user: root}\n",
	  "spec 't.yaml' line 4 column 17: session.user must not be root: the session runs "
	  "unprivileged (set session.admin_password: ask for root)" },
	{ HEAD "accounts: {users: [{name: u, uid: 5}]}\nsession: {user: u}\n",
	  "spec 't.yaml' line 5 column 17: session.user 'u' has no home (set its home in "
	  "accounts.users, line 4)" },
	{ HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u}]}\n"
	       "session: {user: u, admin_password: yes}\n",
	  "spec 't.yaml' line 5 column 36: session.admin_password must be 'ask' or 'none', not "
	  "'yes'" },
	{ HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u}]}\n"
	       "session: {user: u, admin_password: ask}\n",
	  "spec 't.yaml' line 5 column 36: session.admin_password: ask needs a login shell for "
	  "root (its shell is '/usr/sbin/nologin'; set it in accounts.users)" },
	{ HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u}]}\n"
	       "session: {user: u, admin: ask}\n",
	  "spec 't.yaml' line 5 column 20: unknown key 'admin'" },
	/* session.graphical (issue 13.4) */
	{ HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u}]}\n"
	       "session: {user: u, graphical: {}}\n",
	  "spec 't.yaml' line 5 column 31: session.graphical needs a command (the program cage "
	  "runs)" },
	{ HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u}]}\n"
	       "session: {user: u, graphical: {command: [firefox]}}\n",
	  "spec 't.yaml' line 5 column 41: session.graphical.command must start with an "
	  "absolute path" },
	{ HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u}]}\n"
	       "session: {user: u, graphical: {command: /bin/x, compositor: weston}}\n",
	  "spec 't.yaml' line 5 column 49: unknown key 'compositor'" },
	{ HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u}]}\n"
	       "session: {user: u, graphical: [/bin/x]}\n",
	  "spec 't.yaml' line 5 column 31: session.graphical must be a mapping, not a list" },
	{ HEAD "services: [{name: s, command: \"/usr//bin/s\"}]\n",
	  "spec 't.yaml' line 4 column 31: command of service 's' must start with an absolute "
	  "path" },

	{ HEAD "files:\n  - {source: nothere.txt, destination: /etc/x}\n",
	  "spec 't.yaml' line 5 column 14: file source '" DATA "/nothere.txt' does not exist" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /x}\n  - {source: hello.txt, "
	       "destination: /x}\n",
	  "spec 't.yaml' line 6 column 38: destination '/x' is already used on line 5" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /x, owner: \"alice:root\"}\n",
	  "spec 't.yaml' line 5 column 49: owner user 'alice' is not in accounts" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /x, owner: \"root:wheel\"}\n",
	  "spec 't.yaml' line 5 column 49: owner group 'wheel' is not in accounts" },
	{ HEAD "files:\n  - {source: hello.txt, destination: /x, owner: \"0:70000\"}\n",
	  "spec 't.yaml' line 5 column 49: owner must be USER:GROUP, USER or UID:GID (ids "
	  "0-65534), not "
	  "'0:70000'" },
	{ HEAD "accounts:\n  users:\n    - {name: a, uid: 1000}\n    - {name: b, uid: 1000}\n",
	  "spec 't.yaml' line 7 column 22: uid 1000 of user 'b' is already used by user 'a' (line "
	  "6)" },
	{ HEAD "accounts:\n  users:\n    - {name: a, uid: 1000}\n    - {name: a, uid: 1001}\n",
	  "spec 't.yaml' line 7 column 7: user 'a' is declared twice (first on line 6)" },
	{ HEAD "accounts:\n  users:\n    - {name: a, uid: 70000}\n",
	  "spec 't.yaml' line 6 column 22: uid must be a number from 0 to 65534, not '70000'" },
	{ HEAD "accounts:\n  groups:\n    - {name: g, gid: 65535}\n",
	  "spec 't.yaml' line 6 column 22: gid must be a number from 0 to 65534, not '65535'" },
	{ HEAD "accounts:\n  groups:\n    - {name: g, gid: 10}\n    - {name: h, gid: 10}\n",
	  "spec 't.yaml' line 7 column 22: gid 10 of group 'h' is already used by group 'g' (line "
	  "6)" },
	{ HEAD "accounts:\n  users:\n    - {name: a, uid: 5, group: staff}\n",
	  "spec 't.yaml' line 6 column 32: group 'staff' of user 'a' is not in accounts.groups" },
	{ HEAD "accounts:\n  users:\n    - {name: a, uid: 5, groups: [wheel]}\n",
	  "spec 't.yaml' line 6 column 34: group 'wheel' of user 'a' is not in accounts.groups" },
	{ HEAD "accounts:\n  users:\n    - {name: toor, uid: 0}\n",
	  "spec 't.yaml' line 6 column 25: uid 0 is root's and only root's (user 'toor')" },
	{ HEAD "accounts:\n  users:\n    - {name: a}\n",
	  "spec 't.yaml' line 6 column 7: user 'a' needs a fixed uid" },
	{ HEAD "accounts:\n  users:\n    - {name: a, uuid: 5}\n",
	  "spec 't.yaml' line 6 column 17: unknown key 'uuid' (did you mean 'uid'?)" },
	{ HEAD "accounts:\n  groups: [{name: g, gid: 5}]\n  users: [{name: a, uid: 5}]\n",
	  "spec 't.yaml' line 6 column 11: user 'a' has no group, and gid 5 (its uid) is taken by "
	  "group "
	  "'g'; set group or gid" },
	{ HEAD "accounts:\n  users: [{name: Admin, uid: 5}]\n",
	  "spec 't.yaml' line 5 column 18: user name 'Admin' must match [a-z_][a-z0-9_-]* (at most "
	  "32 "
	  "characters)" },
	{ HEAD "kernel:\n  unsafe: [init_on_fre=1]\n",
	  "spec 't.yaml' line 5 column 12: kernel.unsafe 'init_on_fre=1' is not a hardening "
	  "default "
	  "(did you mean 'init_on_free=1'?)" },
	{ HEAD "kernel:\n  unsafe: [nokaslr]\n",
	  "spec 't.yaml' line 5 column 12: kernel.unsafe 'nokaslr' is not a hardening default (see "
	  "docs/spec.md)" },
	{ HEAD "kernel:\n  cmdline: [quiet, init_on_free=0]\n",
	  "spec 't.yaml' line 5 column 12: kernel.cmdline 'init_on_free=0' overrides the hardening "
	  "default 'init_on_free=1'; name it in kernel.unsafe instead" },
	{ HEAD "kernel:\n  cmdline: lethe.roothash=00\n",
	  "spec 't.yaml' line 5 column 12: kernel.cmdline may not set lethe.roothash: the build "
	  "does" },
	{ HEAD "kernel:\n  modules: [Virtio]\n",
	  "spec 't.yaml' line 5 column 13: 'Virtio' is not a kernel module name" },
	{ HEAD "kernel: linux-image-amd64\n",
	  "spec 't.yaml' line 4 column 9: kernel must be a mapping, not a scalar" },
	{ HEAD "services:\n  - {name: s, command: bin/sh}\n",
	  "spec 't.yaml' line 5 column 24: command of service 's' must start with an absolute "
	  "path" },
	{ HEAD "services:\n  - {name: s, command: /bin/s, user: nobody}\n",
	  "spec 't.yaml' line 5 column 38: user 'nobody' of service 's' is not in accounts" },
	{ HEAD "services:\n  - {name: s, command: /bin/s}\n  - {name: s, command: /bin/t}\n",
	  "spec 't.yaml' line 6 column 12: service 's' is declared twice (first on line 5)" },
	{ HEAD "services:\n  - {name: s, command: /bin/s, restart: always}\n",
	  "spec 't.yaml' line 5 column 41: restart must be true or false, not 'always'" },
	{ HEAD "network:\n  interfaces: [{name: eth0, addresses: [192.0.2.1/33]}]\n",
	  "spec 't.yaml' line 5 column 41: address '192.0.2.1/33' must be ADDRESS/PREFIX (IPv4 "
	  "prefix "
	  "0-32, IPv6 0-128)" },
	{ HEAD "network:\n  interfaces: [{name: eth0, addresses: [\"2001:db8::1/129\"]}]\n",
	  "spec 't.yaml' line 5 column 41: address '2001:db8::1/129' must be ADDRESS/PREFIX (IPv4 "
	  "prefix 0-32, IPv6 0-128)" },
	{ HEAD "network:\n  interfaces: [{name: eth0, addresses: [192.0.2.300/24]}]\n",
	  "spec 't.yaml' line 5 column 41: address '192.0.2.300/24' must be ADDRESS/PREFIX (IPv4 "
	  "prefix "
	  "0-32, IPv6 0-128)" },
	{ HEAD "network:\n  interfaces: [{name: eth0, addresses: [192.0.2.1]}]\n",
	  "spec 't.yaml' line 5 column 41: address '192.0.2.1' must be ADDRESS/PREFIX (IPv4 prefix "
	  "0-32, IPv6 0-128)" },
	{ HEAD "network:\n  interfaces: [{name: eth0, gateway4: \"2001:db8::1\"}]\n",
	  "spec 't.yaml' line 5 column 39: gateway4 '2001:db8::1' is not an IPv4 address" },
	{ HEAD "network:\n  interfaces: [{name: averyveryverylongname}]\n",
	  "spec 't.yaml' line 5 column 23: interface name 'averyveryverylongname' must be 1-15 "
	  "characters of [A-Za-z0-9_.-]" },
	{ HEAD "network:\n  hostname: -lethe\n",
	  "spec 't.yaml' line 5 column 13: hostname '-lethe' is not a valid host name" },
	{ HEAD "network:\n  mac: randomise\n", "spec 't.yaml' line 5 column 8: network.mac "
					       "'randomise' is not random, random-keep-vendor "
					       "or permanent" },
	{ HEAD "network:\n  dns: [192.0.2.53, 192.0.2.53:53]\n",
	  "spec 't.yaml' line 5 column 21: network.dns '192.0.2.53:53' is not an IPv4 or IPv6 "
	  "address" },
	{ HEAD "network:\n  dns: [192.0.2.53, \"2001:db8::0:53\", \"2001:db8::53\"]\n",
	  "spec 't.yaml' line 5 column 39: network.dns names '2001:db8::53' twice" },
	{ HEAD "network:\n  dns: [192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4]\n",
	  "spec 't.yaml' line 5 column 42: network.dns lists 4 servers, at most 3" },
	{ HEAD "network:\n  dns: {server: 192.0.2.1}\n",
	  "spec 't.yaml' line 5 column 8: network.dns must be a list, not a mapping" },
	{ HEAD "network:\n  interfaces: [{name: eth0, dhcp: true, gateway4: 192.0.2.1}]\n",
	  "spec 't.yaml' line 5 column 51: interface 'eth0' has dhcp: true and a gateway4: the "
	  "lease gives the route" },
	{ HEAD "network:\n  interfaces: [{name: eth0, dhcp: true, addresses: [\"2001:db8::1/64\", "
	       "192.0.2.1/24]}]\n",
	  "spec 't.yaml' line 5 column 52: interface 'eth0' has dhcp: true and the IPv4 address "
	  "192.0.2.1/24: the lease gives it" },
	{ HEAD "network:\n  interfaces: [{name: eth0, dhcp: yes please}]\n",
	  "spec 't.yaml' line 5 column 35: dhcp must be true or false, not 'yes please'" },
	{ HEAD "network:\n  dns: dhcp\n  interfaces: [{name: eth0, addresses: [192.0.2.1/24]}]\n",
	  "spec 't.yaml' line 5 column 8: network.dns: dhcp needs an interface with dhcp: true" },
	{ HEAD "kernel: {modules: [wireguard]}\nnetwork:\n  vpn: {private_key: aGVsbG8=, "
	       "addresses: [192.0.2.130/25]}\n",
	  "spec 't.yaml' line 6 column 22: network.vpn.private_key: a key in the spec is in the "
	  "image, which is public; leave it out (a new key each boot) or name a "
	  "private_key_file" },
	{ HEAD "kernel: {modules: [wireguard]}\nnetwork:\n  vpn: {addresses: [192.0.2.130/25], "
	       "peer: {public_key: \"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\", "
	       "endpoint: \"vpn.example:51820\", allowed_ips: [0.0.0.0/0]}}\n",
	  "spec 't.yaml' line 6 column 115: network.vpn.peer.endpoint 'vpn.example:51820' must be "
	  "IPV4:PORT or [IPV6]:PORT (an address: a name would need DNS outside the tunnel)" },
	{ HEAD "kernel: {modules: [wireguard]}\nnetwork:\n  vpn: {addresses: [192.0.2.130/25], "
	       "peer: {public_key: abc, "
	       "endpoint: \"192.0.2.1:51820\", allowed_ips: [0.0.0.0/0]}}\n",
	  "spec 't.yaml' line 6 column 57: network.vpn.peer.public_key is not a WireGuard key "
	  "(base64 of 32 bytes, as 'wg pubkey' prints)" },
	{ HEAD "network:\n  vpn: {addresses: [192.0.2.130/25], peer: {public_key: "
	       "\"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\", "
	       "endpoint: \"[2001:db8::1]:51820\", allowed_ips: [\"::/0\"]}}\n",
	  "spec 't.yaml' line 5 column 8: network.vpn needs the kernel module 'wireguard' in "
	  "kernel.modules" },
	{ HEAD "network:\n  hostnme: lethe\n",
	  "spec 't.yaml' line 5 column 3: unknown key 'hostnme' (did you mean 'hostname'?)" },
};

static void test_spec_errors(void **state)
{
	unsigned failed = 0;

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(bad_specs); i++) {
		const struct bad_spec *b = &bad_specs[i];
		struct lethe_spec *spec = NULL;
		const char *msg;
		int r;

		lethe_error_clear();
		r = lethe_spec_parse("t.yaml", DATA, b->text, strlen(b->text), &spec);
		msg = lethe_error_message();
		if (r == -EBADMSG && !spec && msg && !strcmp(msg, b->message))
			continue;
		print_error("row %zu: r=%d\n  expected: %s\n  actual:   %s\n", i, r, b->message,
			    msg ? msg : "(none)");
		lethe_spec_free(spec);
		failed++;
	}
	assert_int_equal(failed, 0);
}

/* DHCP beside static IPv6, and the leases' name servers. */
static void test_spec_dhcp(void **state)
{
	struct lethe_spec *spec =
		spec_ok(HEAD "network:\n  dns: dhcp\n  interfaces:\n"
			     "    - {name: eth0, dhcp: true, addresses: [\"2001:db8::5/64\"]}\n"
			     "    - {name: eth1, dhcp: false, addresses: [192.0.2.5/24]}\n");

	assert_true(spec->interfaces[0].dhcp);
	assert_false(spec->interfaces[1].dhcp);
	assert_true(spec->dns_dhcp);
	assert_int_equal(spec->dns.n, 0);
	lethe_spec_free(spec);
}

/* network.vpn with an IPv6 endpoint in brackets, canonical; the defaults. */
static void test_spec_vpn(void **state)
{
	struct lethe_spec *spec = spec_ok(
		HEAD "kernel: {modules: [wireguard]}\nnetwork:\n  vpn:\n    addresses: "
		     "[192.0.2.130/25]\n"
		     "    peer: {public_key: \"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\", "
		     "endpoint: \"[2001:DB8::1]:51820\",\n"
		     "           allowed_ips: [0.0.0.0/0, \"::/0\"], keepalive: 25}\n");

	assert_non_null(spec->vpn);
	assert_string_equal(spec->vpn->interface, "wg0");
	assert_null(spec->vpn->private_key_file);
	assert_string_equal(spec->vpn->endpoint, "2001:db8::1");
	assert_int_equal(spec->vpn->port, 51820);
	assert_int_equal(spec->vpn->allowed_ips.n, 2);
	assert_int_equal(spec->vpn->keepalive, 25);
	lethe_spec_free(spec);
}

static void test_spec_defaults(void **state)
{
	struct lethe_spec *spec =
		spec_ok(HEAD "accounts:\n  users:\n    - {name: alice, uid: 1000}\n");

	assert_string_equal(spec->name, "t");
	assert_string_equal(spec->version, "1");
	assert_null(spec->description);
	assert_null(spec->suite);
	assert_string_equal(spec->architecture, "amd64");
	assert_int_equal(spec->sources.n, 0);
	assert_int_equal(spec->packages.n, 1);
	assert_true(spec->minimal);
	assert_false(spec->allow_devices);
	assert_string_equal(spec->compression, "lz4hc");
	assert_string_equal(spec->hostname, "t");
	assert_int_equal(spec->mac, LETHE_MAC_RANDOM); /* the default */
	assert_null(spec->firewall);
	assert_null(spec->persistence);
	assert_null(spec->kernel.package);
	/* root first, implicit; alice with a group of her own, gid = uid. */
	assert_int_equal(spec->n_users, 2);
	assert_string_equal(spec->users[0].name, "root");
	assert_int_equal(spec->users[0].uid, 0);
	assert_string_equal(spec->users[0].home, "/root");
	assert_string_equal(spec->users[1].name, "alice");
	assert_int_equal(spec->users[1].gid, 1000);
	assert_string_equal(spec->users[1].home, "/nonexistent");
	assert_string_equal(spec->users[1].shell, "/usr/sbin/nologin");
	assert_int_equal(spec->n_groups, 2);
	assert_string_equal(spec->groups[0].name, "root");
	assert_string_equal(spec->groups[1].name, "alice");
	assert_int_equal(spec->groups[1].gid, 1000);
	lethe_spec_free(spec);
	assert_null(lethe_spec_free(NULL));
}

/* A file whose name starts with "deb" (Debian's own debian.sources, as in docs/spec.md)
 * is a file, not a malformed one-line entry (issue 10.15). */
static void test_spec_deb_named_source(void **state)
{
	struct lethe_spec *spec =
		spec_ok(HEAD "apt:\n  sources:\n    - debian.sources\n"
			     "    - \"deb  http://192.0.2.1/d bookworm main\"\n"
			     "    - \"deb[arch=amd64] http://192.0.2.1/d bookworm\"\n");

	assert_int_equal(spec->sources.n, 3);
	assert_string_equal(spec->sources.v[0], DATA "/debian.sources");
	assert_string_equal(spec->sources.v[1], "deb  http://192.0.2.1/d bookworm main");
	lethe_spec_free(spec);
}

static void test_spec_full(void **state)
{
	struct lethe_spec *spec = spec_ok(
		HEAD
		"description: |\n  all of it\n  \ton two lines\n"
		"apt: {suite: bookworm, architecture: arm64,\n"
		"      sources: [\"deb http://deb.example/debian bookworm main\", "
		"debian.sources]}\n"
		"drop: [adduser]\n"
		"exclude: [/usr/share/doc/*]\n"
		"include: [/usr/share/doc/tor/copyright]\n"
		"profile: full\n"
		"allow_devices: true\n"
		"compression: lz4hc,12\n"
		"files:\n"
		"  - {source: hello.txt, destination: /etc/motd, mode: 0600, owner: www:staff}\n"
		"  - {source: hello.txt, destination: /etc/issue, mode: 755, owner: www}\n"
		"  - {source: hello.txt, destination: /etc/n, owner: \"7:8\"}\n"
		"accounts:\n"
		"  groups: [{name: staff, gid: 50}, {name: web, gid: 33}]\n"
		"  users:\n"
		"    - {name: www, uid: 33, group: web, home: /srv, shell: /bin/sh, groups: "
		"[staff]}\n"
		"    - {name: bob, uid: 1001, gid: 50, groups: [web, staff]}\n"
		"kernel:\n"
		"  package: linux-image-cloud-amd64\n"
		"  modules: [virtio_blk, dm-verity]\n"
		"  cmdline: quiet  loglevel=3\n"
		"  unsafe: [init_on_free, vsyscall=none]\n"
		"services:\n"
		"  - {name: httpd, command: /usr/sbin/httpd -f -p 8080, user: www}\n"
		"  - {name: tor, command: [/usr/bin/tor, -f, /etc/tor/torrc], group: staff, "
		"restart: "
		"false}\n"
		"network:\n"
		"  hostname: box.example\n"
		"  mac: random-keep-vendor\n"
		"  dns: [\"2001:DB8:0::53\", 192.0.2.53]\n"
		"  interfaces:\n"
		"    - {name: eth0, addresses: [192.0.2.10/24, 2001:db8::10/64], gateway4: "
		"192.0.2.1,\n"
		"       gateway6: 2001:db8::1}\n"
		"firewall: {in: {default: drop}}\n"
		"persistence: {device: PARTLABEL=store, directories: [/home]}\n");

	assert_string_equal(spec->description, "all of it\n\ton two lines\n");
	assert_string_equal(spec->suite, "bookworm");
	assert_string_equal(spec->architecture, "arm64");
	assert_int_equal(spec->sources.n, 2);
	assert_string_equal(spec->sources.v[0], "deb http://deb.example/debian bookworm main");
	assert_string_equal(spec->sources.v[1], DATA "/debian.sources");
	assert_string_equal(spec->drop.v[0], "adduser");
	assert_string_equal(spec->exclude.v[0], "/usr/share/doc/*");
	assert_string_equal(spec->include.v[0], "/usr/share/doc/tor/copyright");
	assert_false(spec->minimal);
	assert_true(spec->allow_devices);
	assert_string_equal(spec->compression, "lz4hc,12");

	assert_int_equal(spec->n_files, 3);
	assert_string_equal(spec->files[0].source, DATA "/hello.txt");
	assert_string_equal(spec->files[0].destination, "/etc/motd");
	assert_int_equal(spec->files[0].mode, 0600);
	assert_int_equal(spec->files[0].uid, 33);
	assert_int_equal(spec->files[0].gid, 50);
	assert_int_equal(spec->files[0].line, 16);
	assert_int_equal(spec->files[1].mode, 0755);
	assert_int_equal(spec->files[1].gid, 33);
	assert_int_equal(spec->files[2].mode, 0644);
	assert_int_equal(spec->files[2].uid, 7);
	assert_int_equal(spec->files[2].gid, 8);

	assert_int_equal(spec->n_users, 3);
	assert_string_equal(spec->users[0].name, "root");
	assert_string_equal(spec->users[1].name, "www");
	assert_int_equal(spec->users[1].gid, 33);
	assert_string_equal(spec->users[1].shell, "/bin/sh");
	assert_string_equal(spec->users[1].groups.v[0], "staff");
	assert_int_equal(spec->users[2].gid, 50);
	assert_int_equal(spec->users[2].groups.n, 2);
	assert_int_equal(spec->n_groups, 3);

	assert_string_equal(spec->kernel.package, "linux-image-cloud-amd64");
	assert_string_equal(spec->kernel.modules.v[1], "dm-verity");
	assert_int_equal(spec->kernel.cmdline.n, 2);
	assert_string_equal(spec->kernel.cmdline.v[1], "loglevel=3");
	assert_string_equal(spec->kernel.unsafe.v[0], "init_on_free=1");
	assert_string_equal(spec->kernel.unsafe.v[1], "vsyscall=none");

	assert_int_equal(spec->n_services, 2);
	assert_int_equal(spec->services[0].command.n, 4);
	assert_string_equal(spec->services[0].command.v[3], "8080");
	assert_string_equal(spec->services[0].user, "www");
	assert_string_equal(spec->services[0].group, "web");
	assert_true(spec->services[0].restart);
	assert_string_equal(spec->services[1].user, "root");
	assert_string_equal(spec->services[1].group, "staff");
	assert_false(spec->services[1].restart);

	assert_string_equal(spec->hostname, "box.example");
	assert_int_equal(spec->mac, LETHE_MAC_RANDOM_KEEP_VENDOR);
	assert_int_equal(spec->dns.n, 2);
	assert_string_equal(spec->dns.v[0], "2001:db8::53"); /* canonical */
	assert_string_equal(spec->dns.v[1], "192.0.2.53");
	assert_int_equal(spec->n_interfaces, 1);
	assert_string_equal(spec->interfaces[0].addresses.v[1], "2001:db8::10/64");
	assert_string_equal(spec->interfaces[0].gateway4, "192.0.2.1");
	assert_string_equal(spec->interfaces[0].gateway6, "2001:db8::1");
	assert_int_equal(spec->firewall->type, LETHE_NODE_MAPPING);
	assert_int_equal(spec->firewall->line, 39);
	assert_int_equal(spec->firewall->column, 11);
	assert_non_null(spec->persistence);
	lethe_spec_free(spec);
}

static void test_spec_examples(void **state)
{
	static const char *const names[] = { "minimal", "privacy", "appliance", "vpn" };
	struct lethe_spec *spec = NULL;

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(names); i++) {
		char path[512];

		snprintf(path, sizeof(path), EXAMPLES "/%s.yaml", names[i]);
		lethe_error_clear();
		if (lethe_spec_load(path, &spec) < 0)
			fail_msg("%s: %s", path, lethe_error_message());
		assert_non_null(spec->firewall);
		assert_non_null(spec->kernel.package);
		assert_true(spec->minimal);
		if (i == 1) {
			/* tor runs as debian-tor, whose ids are fixed. */
			assert_string_equal(spec->services[0].user, "debian-tor");
			assert_string_equal(spec->services[0].group, "debian-tor");
			assert_true(lethe_strv_contains(&spec->drop, "adduser"));
		}
		if (i == 2) {
			assert_false(lethe_strv_contains(&spec->packages, "busybox-static"));
			assert_string_equal(spec->files[0].destination, "/srv/www/index.html");
		}
		spec = lethe_spec_free(spec);
	}
}

static void test_spec_load_errors(void **state)
{
	struct lethe_spec *spec = NULL;
	const char *text = HEAD "files: [{source: gone.txt, destination: /x}]\n";

	lethe_error_clear();
	assert_int_equal(lethe_spec_load(DATA "/does-not-exist.yaml", &spec), -ENOENT);
	assert_string_equal(lethe_error_message(),
			    "cannot read spec '" DATA
			    "/does-not-exist.yaml': No such file or directory");
	assert_null(spec);
	/* Without a directory (e.g. the spec inside a built image), sources are not
	 * looked for; with one, they must exist. */
	assert_int_equal(lethe_spec_parse("t.yaml", NULL, text, strlen(text), &spec), 0);
	assert_string_equal(spec->files[0].source, "gone.txt");
	spec = lethe_spec_free(spec);
	assert_int_equal(lethe_spec_parse("t.yaml", DATA, text, strlen(text), &spec), -EBADMSG);
	{
		char dir[] = "/tmp/lethe-test-spec.XXXXXX", *path;

		assert_non_null(mkdtemp(dir));
		path = lethe_path_join(dir, "s.yaml");
		assert_int_equal(lethe_file_write_atomic(path, text, strlen(text), 0644), 0);
		assert_int_equal(lethe_spec_load(path, &spec), -EBADMSG);
		assert_non_null(strstr(lethe_error_message(), "gone.txt' does not exist"));
		assert_int_equal(lethe_spec_load_flags(path, LETHE_SPEC_LOAD_IN_IMAGE, &spec), 0);
		assert_string_equal(spec->files[0].source, "gone.txt");
		assert_null(spec->dir);
		spec = lethe_spec_free(spec);
		assert_int_equal(lethe_rm_rf(dir), 0);
		free(path);
	}
	assert_int_equal(lethe_spec_parse("t.yaml", DATA, text, LETHE_SPEC_MAX_SIZE + 1, &spec),
			 -EBADMSG);
	assert_string_equal(lethe_error_message(), "spec 't.yaml': larger than 1048576 bytes");
	/* A file that is too large is bad input as well (-EBADMSG: exit 1), not a runtime
	 * error (issue 10.12). */
	{
		char dir[] = "/tmp/lethe-test-spec.XXXXXX", *path, *big;

		assert_non_null(mkdtemp(dir));
		path = lethe_path_join(dir, "big.yaml");
		big = malloc(LETHE_SPEC_MAX_SIZE + 2);
		assert_non_null(big);
		memset(big, '#', LETHE_SPEC_MAX_SIZE + 1);
		assert_int_equal(lethe_file_write_atomic(path, big, LETHE_SPEC_MAX_SIZE + 1, 0644),
				 0);
		assert_int_equal(lethe_spec_load(path, &spec), -EBADMSG);
		assert_non_null(
			strstr(lethe_error_message(), "big.yaml': larger than 1048576 bytes"));
		assert_null(spec);
		assert_int_equal(lethe_rm_rf(dir), 0);
		free(path);
		free(big);
	}
}

static void test_spec_group_rules(void **state)
{
	/* A declared group of the user's own name is used as is; gid and group agree. */
	struct lethe_spec *spec =
		spec_ok(HEAD "accounts:\n"
			     "  groups: [{name: a, gid: 70}, {name: b, gid: 71}]\n"
			     "  users:\n"
			     "    - {name: a, uid: 1000}\n"
			     "    - {name: b, uid: 1001, gid: 71, group: b}\n"
			     "    - {name: c, uid: 1002, gid: 70}\n"
			     "    - {name: root, uid: 0, shell: /bin/sh}\n");

	assert_int_equal(spec->n_users, 4);
	assert_int_equal(spec->users[0].gid, 70);
	assert_int_equal(spec->users[1].gid, 71);
	assert_int_equal(spec->users[2].gid, 70);
	assert_string_equal(spec->users[3].name, "root");
	assert_string_equal(spec->users[3].shell, "/bin/sh");
	assert_int_equal(spec->users[3].gid, 0);
	assert_int_equal(spec->n_groups, 3);
	spec = lethe_spec_free(spec);

	lethe_error_clear();
	const char *text = HEAD "accounts:\n  groups: [{name: a, gid: 70}]\n"
				"  users: [{name: u, uid: 9, gid: 71, group: a}]\n";
	assert_int_equal(lethe_spec_parse("t.yaml", DATA, text, strlen(text), &spec), -EBADMSG);
	assert_string_equal(lethe_error_message(), "spec 't.yaml' line 6 column 34: gid 71 of user "
						   "'u' is not the gid of group 'a' (70)");
}

/* lethe-init supervises at most LETHE_MAX_SERVICES services (issue 9.7): the parser
 * takes that many and refuses one more, naming the line of the first one too many. */
static void test_spec_service_cap(void **state)
{
	size_t size = 64 + 48 * (LETHE_MAX_SERVICES + 1), len;
	struct lethe_spec *spec = NULL;
	char *text = malloc(size);

	assert_non_null(text);
	len = (size_t)snprintf(text, size, "%sservices:\n", HEAD);
	for (int i = 0; i < LETHE_MAX_SERVICES; i++)
		len += (size_t)snprintf(text + len, size - len,
					"  - {name: s%d, command: /bin/s}\n", i);
	spec = spec_ok(text);
	assert_int_equal(spec->n_services, LETHE_MAX_SERVICES);
	spec = lethe_spec_free(spec);

	/* HEAD is lines 1-3, "services:" line 4: service N is on line 5 + N. */
	snprintf(text + len, size - len, "  - {name: one-more, command: /bin/s}\n");
	lethe_error_clear();
	assert_int_equal(lethe_spec_parse("t.yaml", DATA, text, strlen(text), &spec), -EBADMSG);
	assert_null(spec);
	assert_string_equal(lethe_error_message(),
			    "spec 't.yaml' line 69: 65 services, at most 64");
	free(text);
}

/* boot: the boot menu's timeout (issue 11.3): default 0, a number of seconds, nothing
 * else. */
/* kernel.profile: cloud by default, hardware gives linux-image-amd64, none adds nothing;
 * an explicit package wins; a wrong name is refused with a suggestion. */
static void test_spec_kernel_profile(void **state)
{
	static const struct {
		const char *text, *error;
	} bad[] = {
		{ "kernel:\n  profile: hardwar\n", "kernel.profile 'hardwar' is not a profile (did "
						   "you mean 'hardware'?)" },
		{ "kernel:\n  profile: laptop\n",
		  "kernel.profile 'laptop' is not a profile: cloud, "
		  "hardware or none" },
		{ "kernel:\n  profile: none\n", "kernel.profile 'none' names no kernel: give "
						"kernel.package" },
		{ "kernel:\n  profile: [cloud]\n", "kernel.profile" },
	};
	struct lethe_spec *spec;
	char text[512];

	(void)state;
	spec = spec_ok(HEAD "kernel:\n  package: linux-image-cloud-amd64\n");
	assert_int_equal(spec->kernel.profile, LETHE_KERNEL_PROFILE_CLOUD);
	spec = lethe_spec_free(spec);
	spec = spec_ok(HEAD "kernel:\n  profile: hardware\n  modules: [e1000e]\n");
	assert_int_equal(spec->kernel.profile, LETHE_KERNEL_PROFILE_HARDWARE);
	assert_string_equal(spec->kernel.package, "linux-image-amd64");
	assert_int_equal(spec->kernel.modules.n, 1);
	spec = lethe_spec_free(spec);
	spec = spec_ok(HEAD "kernel:\n  profile: hardware\n  package: linux-image-rt-amd64\n");
	assert_string_equal(spec->kernel.package, "linux-image-rt-amd64");
	spec = lethe_spec_free(spec);
	spec = spec_ok(HEAD "kernel:\n  profile: none\n  package: linux-image-amd64\n");
	assert_int_equal(spec->kernel.profile, LETHE_KERNEL_PROFILE_NONE);
	spec = lethe_spec_free(spec);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "%s%s", HEAD, bad[i].text);
		lethe_error_clear();
		if (lethe_spec_parse("t.yaml", DATA, text, strlen(text), &spec) != -EBADMSG)
			fail_msg("row %zu accepted", i);
		if (!strstr(lethe_error_message(), bad[i].error))
			fail_msg("row %zu: '%s'", i, lethe_error_message());
	}
	/* Every profile's modules are module names the spec would accept, and hardware
	 * carries cloud's. */
	for (const char *const *m = lethe_kernel_profile_get(LETHE_KERNEL_PROFILE_CLOUD)->modules;
	     *m; m++) {
		bool in = false;

		for (const char *const *h =
			     lethe_kernel_profile_get(LETHE_KERNEL_PROFILE_HARDWARE)->modules;
		     *h; h++)
			in = in || !strcmp(*h, *m);
		assert_true(in);
	}
}

static void test_spec_boot(void **state)
{
	static const char *const bad[] = {
		"boot:\n  timeout: 601\n",
		"boot:\n  timeout: -1\n",
		"boot:\n  timeout: 2s\n",
		"boot:\n  timout: 2\n",
		"boot: 3\n",
		"boot:\n  esp_size: 1\n",
		"boot:\n  esp_size: 64M\n",
	};
	struct lethe_spec *spec = spec_ok(HEAD);
	char text[512];

	(void)state;
	assert_int_equal(spec->boot_timeout, 0);
	spec = lethe_spec_free(spec);
	spec = spec_ok(HEAD "boot:\n  timeout: 5\n  esp_size: 64\n");
	assert_int_equal(spec->boot_timeout, 5);
	assert_int_equal(spec->boot_esp_mib, 64);
	spec = lethe_spec_free(spec);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "%s%s", HEAD, bad[i]);
		lethe_error_clear();
		if (lethe_spec_parse("t.yaml", DATA, text, strlen(text), &spec) != -EBADMSG)
			fail_msg("row %zu accepted", i);
		assert_non_null(strstr(lethe_error_message(), "spec 't.yaml' line "));
	}
	snprintf(text, sizeof(text), "%s%s", HEAD, bad[0]);
	assert_int_equal(lethe_spec_parse("t.yaml", DATA, text, strlen(text), &spec), -EBADMSG);
	assert_non_null(
		strstr(lethe_error_message(), "boot.timeout must be a number from 0 to 600"));
}

/* tmpfs: every RAM file system lethe-init mounts has a bound (issue 10.5): the
 * contract's defaults, or the spec's, checked. */
static void test_spec_session(void **state)
{
	struct lethe_spec *spec;

	spec = spec_ok(HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u}]}\n");
	assert_null(spec->session.user);
	assert_false(spec->session.admin_password);
	lethe_spec_free(spec);
	spec = spec_ok(HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u}]}\n"
			    "session: {user: u}\n");
	assert_string_equal(spec->session.user, "u");
	assert_false(spec->session.admin_password);
	assert_int_equal(spec->session.line, 5);
	lethe_spec_free(spec);
	spec = spec_ok(HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u},\n"
			    "  {name: root, uid: 0, shell: /bin/sh}]}\n"
			    "session: {user: u, admin_password: ask}\n");
	assert_true(spec->session.admin_password);
	lethe_spec_free(spec);
	spec = spec_ok(HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u}]}\n"
			    "session: {user: u, admin_password: none}\n");
	assert_false(spec->session.admin_password);
	assert_int_equal(spec->session.graphical.n, 0);
	lethe_spec_free(spec);
	spec = spec_ok(HEAD "accounts: {users: [{name: u, uid: 5, home: /home/u}]}\n"
			    "session:\n  user: u\n  graphical:\n"
			    "    command: [/usr/bin/firefox-esr, --private-window]\n");
	assert_int_equal(spec->session.graphical.n, 2);
	assert_string_equal(spec->session.graphical.v[0], "/usr/bin/firefox-esr");
	assert_string_equal(spec->session.graphical.v[1], "--private-window");
	assert_int_equal(spec->session.graphical_line, 8);
	lethe_spec_free(spec);
}

static void test_spec_tmpfs(void **state)
{
	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "tmpfs:\n  tmp: {size: 50%}\n  root: {size: 40%}\n",
		  "spec 't.yaml' line 5 column 3: the tmpfs sizes add up to 105% of RAM, at most "
		  "90% "
		  "(the rest is for the kernel and PID 1)" },
		{ "tmpfs:\n  tmp: {size: 95%}\n", "spec 't.yaml' line 5 column 15: tmpfs.tmp.size "
						  "must be 1%-90% of RAM or at least 1m "
						  "(bytes with k, m or g), not '95%'" },
		{ "tmpfs:\n  shm: {size: 512k}\n", "spec 't.yaml' line 5 column 15: tmpfs.shm.size "
						   "must be 1%-90% of RAM or at least 1m "
						   "(bytes with k, m or g), not '512k'" },
		{ "tmpfs:\n  shm: {size: 0%}\n", "spec 't.yaml' line 5 column 15: tmpfs.shm.size "
						 "must be 1%-90% of RAM or at least 1m "
						 "(bytes with k, m or g), not '0%'" },
		{ "tmpfs:\n  run: {size: 10mb}\n", "spec 't.yaml' line 5 column 15: tmpfs.run.size "
						   "must be 1%-90% of RAM or at least 1m "
						   "(bytes with k, m or g), not '10mb'" },
		{ "tmpfs:\n  tmp: {inodes: 10}\n", NULL },
		{ "tmpfs:\n  tmp: {inodes: 100000000}\n", NULL },
		{ "tmpfs:\n  temp: {size: 1%}\n",
		  "spec 't.yaml' line 5 column 3: unknown key 'temp' (did you mean 'tmp'?)" },
		{ "tmpfs:\n  tmp: {sise: 1%}\n", NULL },
		{ "tmpfs: 20%\n", NULL },
	};
	struct lethe_spec *spec = spec_ok(HEAD);
	char text[512];

	(void)state;
	assert_string_equal(spec->tmpfs[LETHE_SPEC_TMPFS_ROOT].size, LETHE_TMPFS_ROOT_SIZE);
	assert_string_equal(spec->tmpfs[LETHE_SPEC_TMPFS_ROOT].inodes, LETHE_TMPFS_ROOT_INODES);
	assert_string_equal(spec->tmpfs[LETHE_SPEC_TMPFS_TMP].size, LETHE_TMPFS_TMP_SIZE);
	assert_string_equal(spec->tmpfs[LETHE_SPEC_TMPFS_SHM].size, LETHE_TMPFS_SHM_SIZE);
	assert_string_equal(spec->tmpfs[LETHE_SPEC_TMPFS_RUN].inodes, LETHE_TMPFS_RUN_INODES);
	spec = lethe_spec_free(spec);

	spec = spec_ok(HEAD "tmpfs:\n  tmp: {size: 64m, inodes: 1000}\n  shm: {size: 1%}\n"
			    "  root: {inodes: 200000}\n");
	assert_string_equal(spec->tmpfs[LETHE_SPEC_TMPFS_TMP].size, "64m");
	assert_string_equal(spec->tmpfs[LETHE_SPEC_TMPFS_TMP].inodes, "1000");
	assert_string_equal(spec->tmpfs[LETHE_SPEC_TMPFS_SHM].size, "1%");
	assert_string_equal(spec->tmpfs[LETHE_SPEC_TMPFS_SHM].inodes, LETHE_TMPFS_SHM_INODES);
	assert_string_equal(spec->tmpfs[LETHE_SPEC_TMPFS_ROOT].size, LETHE_TMPFS_ROOT_SIZE);
	assert_string_equal(spec->tmpfs[LETHE_SPEC_TMPFS_ROOT].inodes, "200000");
	spec = lethe_spec_free(spec);

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(bad); i++) {
		snprintf(text, sizeof(text), "%s%s", HEAD, bad[i].text);
		lethe_error_clear();
		if (lethe_spec_parse("t.yaml", DATA, text, strlen(text), &spec) != -EBADMSG)
			fail_msg("row %zu accepted", i);
		assert_null(spec);
		if (bad[i].message)
			assert_string_equal(lethe_error_message(), bad[i].message);
		else
			assert_non_null(strstr(lethe_error_message(), "spec 't.yaml' line "));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_yaml_tree_and_positions),
		cmocka_unit_test(test_yaml_refusals),
		cmocka_unit_test(test_yaml_encoding_positions),
		cmocka_unit_test(test_yaml_duplicate_reports_first_in_document),
		cmocka_unit_test(test_yaml_limits),
		cmocka_unit_test(test_yaml_many_keys),
		cmocka_unit_test(test_node_helpers),
		cmocka_unit_test(test_spell_suggest),
		cmocka_unit_test(test_spec_defaults),
		cmocka_unit_test(test_spec_dhcp),
		cmocka_unit_test(test_spec_vpn),
		cmocka_unit_test(test_spec_deb_named_source),
		cmocka_unit_test(test_spec_full),
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_spec_examples),
		cmocka_unit_test(test_spec_load_errors),
		cmocka_unit_test(test_spec_group_rules),
		cmocka_unit_test(test_spec_service_cap),
		cmocka_unit_test(test_spec_tmpfs),
		cmocka_unit_test(test_spec_boot),
		cmocka_unit_test(test_spec_kernel_profile),
		cmocka_unit_test(test_spec_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
