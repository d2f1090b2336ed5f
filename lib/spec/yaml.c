/* YAML text to a lethe_node tree, over libyaml's event parser. Only the plain subset
 * a spec needs: one document, no anchors, aliases or explicit tags, unique scalar keys,
 * and fixed limits on size and depth, so that a hostile file cannot blow up memory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <lethe/spec.h>

struct builder {
	const char *name;
	struct lethe_node *root;
	struct lethe_node *stack[LETHE_YAML_MAX_DEPTH]; /* open collections */
	struct lethe_node *pending_key[LETHE_YAML_MAX_DEPTH];
	size_t depth;
	size_t count;
};

static int yaml_error_at(const struct builder *b, const yaml_mark_t *mark, const char *what)
{
	return lethe_error(-EBADMSG, "'%s' line %zu column %zu: %s", b->name, mark->line + 1,
			   mark->column + 1, what);
}

struct lethe_node *lethe_node_free(struct lethe_node *node)
{
	if (!node)
		return NULL;
	free(node->value);
	for (size_t i = 0; node->items && i < node->n; i++)
		lethe_node_free(node->items[i]);
	free(node->items);
	for (size_t i = 0; node->pairs && i < node->n; i++) {
		lethe_node_free(node->pairs[i].key);
		lethe_node_free(node->pairs[i].value);
	}
	free(node->pairs);
	free(node);
	return NULL;
}

/* Arrays grow by doubling; n grows by one at a time, so the capacity is implicit:
 * reallocate when n is 0 or a power of two from 4 on. */
static int grow(void **array, size_t n, size_t elem)
{
	size_t cap;
	void *p;

	if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
		return 0;
	cap = n == 0 ? 4 : n * 2;
	if (cap > SIZE_MAX / elem)
		return -ENOMEM;
	p = realloc(*array, cap * elem);
	if (!p)
		return -ENOMEM;
	*array = p;
	return 0;
}

static struct lethe_node *node_new(enum lethe_node_type type, const yaml_mark_t *mark)
{
	struct lethe_node *node = calloc(1, sizeof(*node));

	if (!node)
		return NULL;
	node->type = type;
	node->line = (unsigned)(mark->line + 1);
	node->column = (unsigned)(mark->column + 1);
	return node;
}

/* Hang a new node into the open collection (or make it the root). A node that comes
 * where a mapping expects a key becomes the pending key. */
static int attach(struct builder *b, struct lethe_node *node)
{
	struct lethe_node *parent;
	size_t top;
	int r;

	if (b->depth == 0) {
		b->root = node;
		return 0;
	}
	top = b->depth - 1;
	parent = b->stack[top];
	if (parent->type == LETHE_NODE_SEQUENCE) {
		r = grow((void **)&parent->items, parent->n, sizeof(*parent->items));
		if (r < 0)
			return r;
		parent->items[parent->n++] = node;
		return 0;
	}
	if (!b->pending_key[top]) {
		if (node->type != LETHE_NODE_SCALAR)
			return lethe_error(-EBADMSG,
					   "'%s' line %u column %u: mapping keys must be scalars",
					   b->name, node->line, node->column);
		b->pending_key[top] = node;
		return 0;
	}
	r = grow((void **)&parent->pairs, parent->n, sizeof(*parent->pairs));
	if (r < 0)
		return r;
	parent->pairs[parent->n].key = b->pending_key[top];
	parent->pairs[parent->n].value = node;
	parent->n++;
	b->pending_key[top] = NULL;
	return 0;
}

static int compare_pair_index(const void *pa, const void *pb, void *arg)
{
	const struct lethe_node_pair *pairs = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = strcmp(pairs[a].key->value, pairs[b].key->value);

	if (c)
		return c;
	return a < b ? -1 : a > b;
}

/* Sorting an index keeps this O(n log n) even for a mapping with many keys. Reports the
 * duplicate that comes first in the document, naming where its twin stood. */
static int check_duplicate_keys(const struct builder *b, const struct lethe_node *map)
{
	size_t *idx, dup = SIZE_MAX, first = 0;

	if (map->n < 2)
		return 0;
	idx = calloc(map->n, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	for (size_t i = 0; i < map->n; i++)
		idx[i] = i;
	qsort_r(idx, map->n, sizeof(*idx), compare_pair_index, map->pairs);
	for (size_t i = 1, group = 0; i < map->n; i++) {
		if (strcmp(map->pairs[idx[i]].key->value, map->pairs[idx[group]].key->value)) {
			group = i;
			continue;
		}
		if (idx[i] < dup) {
			dup = idx[i];
			first = idx[group];
		}
	}
	free(idx);
	if (dup == SIZE_MAX)
		return 0;
	return lethe_error(-EBADMSG,
			   "'%s' line %u column %u: duplicate key '%s' (first on line %u)", b->name,
			   map->pairs[dup].key->line, map->pairs[dup].key->column,
			   map->pairs[dup].key->value, map->pairs[first].key->line);
}

static int refuse_anchor_tag(struct builder *b, const yaml_event_t *ev, const yaml_char_t *anchor,
			     const yaml_char_t *tag, int implicit)
{
	if (anchor)
		return yaml_error_at(b, &ev->start_mark, "anchors are not allowed");
	if (tag && !implicit)
		return yaml_error_at(b, &ev->start_mark, "explicit tags are not allowed");
	return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	const yaml_char_t *value = ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct lethe_node *node;
	int r;

	r = refuse_anchor_tag(b, ev, ev->data.scalar.anchor, ev->data.scalar.tag,
			      ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit);
	if (r < 0)
		return r;
	if (memchr(value, '\0', len))
		return yaml_error_at(b, &ev->start_mark, "NUL characters are not allowed");
	node = node_new(LETHE_NODE_SCALAR, &ev->start_mark);
	if (!node)
		return -ENOMEM;
	node->value = strndup((const char *)value, len);
	if (!node->value) {
		free(node);
		return -ENOMEM;
	}
	r = attach(b, node);
	if (r < 0)
		lethe_node_free(node);
	return r;
}

static int on_collection_start(struct builder *b, const yaml_event_t *ev, enum lethe_node_type type)
{
	struct lethe_node *node;
	int r;

	if (type == LETHE_NODE_SEQUENCE)
		r = refuse_anchor_tag(b, ev, ev->data.sequence_start.anchor,
				      ev->data.sequence_start.tag,
				      ev->data.sequence_start.implicit);
	else
		r = refuse_anchor_tag(b, ev, ev->data.mapping_start.anchor,
				      ev->data.mapping_start.tag, ev->data.mapping_start.implicit);
	if (r < 0)
		return r;
	if (b->depth >= LETHE_YAML_MAX_DEPTH)
		return lethe_error(
			-EBADMSG, "'%s' line %zu column %zu: nested deeper than %d levels", b->name,
			ev->start_mark.line + 1, ev->start_mark.column + 1, LETHE_YAML_MAX_DEPTH);
	node = node_new(type, &ev->start_mark);
	if (!node)
		return -ENOMEM;
	r = attach(b, node);
	if (r < 0) {
		lethe_node_free(node);
		return r;
	}
	b->stack[b->depth] = node;
	b->pending_key[b->depth] = NULL;
	b->depth++;
	return 0;
}

static int on_collection_end(struct builder *b)
{
	struct lethe_node *node;

	if (b->depth == 0)
		return -EBADMSG; /* libyaml guarantees balance; be safe anyway */
	node = b->stack[--b->depth];
	if (node->type == LETHE_NODE_MAPPING)
		return check_duplicate_keys(b, node);
	return 0;
}

static int on_event(struct builder *b, const yaml_event_t *ev, unsigned *documents)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*documents > 1)
			return yaml_error_at(b, &ev->start_mark,
					     "only one YAML document is allowed");
		return 0;
	case YAML_ALIAS_EVENT:
		return yaml_error_at(b, &ev->start_mark, "aliases are not allowed");
	case YAML_SCALAR_EVENT:
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++b->count > LETHE_YAML_MAX_NODES)
			return lethe_error(-EBADMSG,
					   "'%s' line %zu column %zu: more than %d YAML nodes",
					   b->name, ev->start_mark.line + 1,
					   ev->start_mark.column + 1, LETHE_YAML_MAX_NODES);
		if (ev->type == YAML_SCALAR_EVENT)
			return on_scalar(b, ev);
		return on_collection_start(b, ev,
					   ev->type == YAML_SEQUENCE_START_EVENT
						   ? LETHE_NODE_SEQUENCE
						   : LETHE_NODE_MAPPING);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_collection_end(b);
	default:
		return 0;
	}
}

static void builder_release(struct builder *b)
{
	for (size_t i = 0; i < LETHE_YAML_MAX_DEPTH; i++)
		lethe_node_free(b->pending_key[i]);
	lethe_node_free(b->root);
}

/* libyaml's reader (encoding: invalid UTF-8, a control character such as NUL, a bad
 * BOM) reports a byte offset and leaves problem_mark at 0: count the lines and
 * characters up to the offset, so that the message says where as the others do. */
static int parse_error(const char *name, const char *text, size_t len, const yaml_parser_t *parser)
{
	const char *what = parser->problem ? parser->problem : "invalid YAML";
	size_t line = parser->problem_mark.line + 1, column = parser->problem_mark.column + 1;

	if (parser->error != YAML_READER_ERROR)
		return lethe_error(-EBADMSG, "'%s' line %zu column %zu: %s", name, line, column,
				   what);
	line = column = 1;
	for (size_t i = 0; i < parser->problem_offset && i < len; i++) {
		if (text[i] == '\n') {
			line++;
			column = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			column++; /* a character starts here, not a UTF-8 continuation byte */
		}
	}
	if (parser->problem_value >= 0)
		return lethe_error(-EBADMSG, "'%s' line %zu column %zu: %s (#x%X at offset %zu)",
				   name, line, column, what, (unsigned)parser->problem_value,
				   parser->problem_offset);
	return lethe_error(-EBADMSG, "'%s' line %zu column %zu: %s (at offset %zu)", name, line,
			   column, what, parser->problem_offset);
}

int lethe_yaml_parse(const char *name, const char *text, size_t len, struct lethe_node **ret)
{
	struct builder b = { .name = name };
	yaml_parser_t parser;
	yaml_event_t ev;
	unsigned documents = 0;
	bool done = false;
	int r = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_MEMORY_ERROR)
				r = -ENOMEM;
			else
				r = parse_error(name, text, len, &parser);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		r = on_event(&b, &ev, &documents);
		yaml_event_delete(&ev);
		if (r < 0)
			break;
	}
	yaml_parser_delete(&parser);
	if (r == 0 && !b.root)
		r = lethe_error(-EBADMSG, "'%s' line 1 column 1: empty document", name);
	if (r < 0) {
		builder_release(&b);
		return r;
	}
	*ret = b.root;
	return 0;
}
