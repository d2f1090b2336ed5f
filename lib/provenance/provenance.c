/* provenance.intoto.json: rendered from the files of a finished output directory and
 * what the build knows of itself; parsed back from untrusted bytes and checked against
 * an open release (issue 18.4). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <lethe/provenance.h>
#include <lethe/release.h>
#include <lethe/sums.h>

/* ---- rendering ---- */

static void put(struct json_object *obj, const char *key, struct json_object *v, int *err)
{
	if (*err || !obj || !v || json_object_object_add(obj, key, v) < 0) {
		if (!*err)
			*err = -ENOMEM;
		json_object_put(v);
	}
}

static void append(struct json_object *arr, struct json_object *v, int *err)
{
	if (*err || !arr || !v || json_object_array_add(arr, v) < 0) {
		if (!*err)
			*err = -ENOMEM;
		json_object_put(v);
	}
}

static struct json_object *descriptor(const char *name, const char *uri, const char *media_type,
				      const uint8_t sha256[32], int *err)
{
	struct json_object *d = json_object_new_object(), *dig = json_object_new_object();
	char hex[65];

	lethe_hex_encode(sha256, 32, hex);
	put(d, "name", json_object_new_string(name), err);
	if (uri)
		put(d, "uri", json_object_new_string(uri), err);
	put(dig, "sha256", json_object_new_string(hex), err);
	put(d, "digest", dig, err);
	if (media_type)
		put(d, "mediaType", json_object_new_string(media_type), err);
	return d;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_subject(const char *name)
{
	enum lethe_release_artifact a;

	if (name[0] == '.')
		return false;
	if (lethe_release_artifact_from_name(name, &a) == 0 &&
	    (a == LETHE_ARTIFACT_SUMS || a == LETHE_ARTIFACT_SIG || a == LETHE_ARTIFACT_PROVENANCE))
		return false;
	return true;
}

/* The subjects: every regular file of dir but those is_subject() leaves out. */
static int subjects(const char *dir, struct json_object *arr, int *err)
{
	struct lethe_strv names = { 0 };
	struct dirent *de;
	DIR *d = opendir(dir);
	int r = 0;

	if (!d)
		return lethe_error(-errno, "cannot list '%s': %m", dir);
	while (r >= 0 && (errno = 0, de = readdir(d))) {
		struct stat st;

		if (!is_subject(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = lethe_error(-errno, "cannot stat '%s/%s': %m", dir, de->d_name);
		else if (!S_ISREG(st.st_mode))
			r = lethe_error(-EINVAL, "'%s/%s' is not a regular file", dir, de->d_name);
		else
			r = lethe_strv_push(&names, de->d_name);
	}
	if (r >= 0 && errno)
		r = lethe_error(-errno, "cannot list '%s': %m", dir);
	if (r >= 0 && names.n > LETHE_PROVENANCE_MAX_SUBJECTS)
		r = lethe_error(-E2BIG, "'%s': more than %u files", dir,
				LETHE_PROVENANCE_MAX_SUBJECTS);
	if (r >= 0 && names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < names.n && r >= 0; i++) {
		uint8_t digest[32];

		r = lethe_sums_sha256_file(dirfd(d), names.v[i], digest);
		if (r >= 0)
			append(arr, descriptor(names.v[i], NULL, NULL, digest, err), err);
	}
	closedir(d);
	lethe_strv_release(&names);
	return r;
}

static int iso8601(int64_t epoch, char out[32])
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (epoch < 0 || (int64_t)t != epoch || !gmtime_r(&t, &tm) ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return lethe_error(-ERANGE, "provenance: time %" PRId64 " cannot be written",
				   epoch);
	return 0;
}

static struct json_object *predicate(const struct lethe_provenance_build *b, int *err)
{
	struct json_object *pred = json_object_new_object(), *def = json_object_new_object();
	struct json_object *ext = json_object_new_object(), *in = json_object_new_object();
	struct json_object *deps = json_object_new_array(), *run = json_object_new_object();
	struct json_object *builder = json_object_new_object(), *ver = json_object_new_object();
	char when[32];

	put(def, "buildType", json_object_new_string(LETHE_PROVENANCE_BUILD_TYPE), err);
	put(ext, "spec", json_object_new_string(b->spec_name ? b->spec_name : ""), err);
	put(def, "externalParameters", ext, err);
	/* The epoch is an input of the build (every timestamp in the image is it), not the
	 * time it ran: the document is a function of the inputs. */
	put(in, "sourceDateEpoch", json_object_new_int64(b->epoch), err);
	if (!*err && iso8601(b->epoch, when) == 0)
		put(in, "sourceDate", json_object_new_string(when), err);
	put(def, "internalParameters", in, err);
	for (size_t i = 0; i < b->n_inputs; i++)
		append(deps,
		       descriptor(b->inputs[i].name, b->inputs[i].uri, b->inputs[i].media_type,
				  b->inputs[i].sha256, err),
		       err);
	put(def, "resolvedDependencies", deps, err);
	put(pred, "buildDefinition", def, err);
	put(builder, "id", json_object_new_string(LETHE_PROVENANCE_BUILDER_ID), err);
	put(ver, "lethe", json_object_new_string(b->builder_version ? b->builder_version : ""),
	    err);
	put(builder, "version", ver, err);
	put(run, "builder", builder, err);
	put(pred, "runDetails", run, err);
	return pred;
}

int lethe_provenance_render(const char *dir, const struct lethe_provenance_build *b, char **ret)
{
	struct json_object *st = json_object_new_object(), *subj = json_object_new_array();
	const char *s;
	char *out = NULL;
	int err = 0, r;

	for (size_t i = 0; i < b->n_inputs; i++)
		if (!b->inputs[i].name || !b->inputs[i].sha256) {
			json_object_put(st);
			json_object_put(subj);
			return lethe_error(-EINVAL, "provenance: input %zu has no name or digest",
					   i);
		}
	if (b->n_inputs > LETHE_PROVENANCE_MAX_INPUTS) {
		json_object_put(st);
		json_object_put(subj);
		return lethe_error(-E2BIG, "provenance: more than %u inputs",
				   LETHE_PROVENANCE_MAX_INPUTS);
	}
	put(st, "_type", json_object_new_string(LETHE_PROVENANCE_STATEMENT_TYPE), &err);
	r = subjects(dir, subj, &err);
	put(st, "subject", subj, &err);
	put(st, "predicateType", json_object_new_string(LETHE_PROVENANCE_PREDICATE_TYPE), &err);
	put(st, "predicate", predicate(b, &err), &err);
	if (r >= 0 && err)
		r = err;
	if (r >= 0) {
		s = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE);
		r = s && asprintf(&out, "%s\n", s) >= 0 ? 0 : -ENOMEM;
	}
	json_object_put(st);
	if (r >= 0)
		*ret = out;
	return r;
}

int lethe_provenance_write(const char *dir, const struct lethe_provenance_build *b)
{
	char *text = NULL,
	     *path = lethe_path_join(dir, lethe_release_name(LETHE_ARTIFACT_PROVENANCE));
	int r = path ? lethe_provenance_render(dir, b, &text) : -ENOMEM;

	if (r >= 0) {
		r = lethe_file_write_atomic(path, text, strlen(text), 0644);
		if (r < 0)
			r = lethe_error(r, "cannot write '%s': %s", path, strerror(-r));
	}
	free(text);
	free(path);
	return r;
}

/* ---- parsing ---- */

struct lethe_provenance *lethe_provenance_free(struct lethe_provenance *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_subjects; i++)
		free(p->subjects[i].name);
	free(p->subjects);
	free(p->builder_id);
	free(p);
	return NULL;
}

static const char *get_string(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *get_type(struct json_object *o, const char *key, enum json_type t)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

static bool is_lower_hex(const char *s, size_t len)
{
	if (strlen(s) != len)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int parse_subjects(struct json_object *arr, const char *name, struct lethe_provenance *p)
{
	size_t n = json_object_array_length(arr);

	if (n == 0 || n > LETHE_PROVENANCE_MAX_SUBJECTS)
		return lethe_error(-LETHE_E_INVALID, "'%s': %zu subjects (1 to %u expected)", name,
				   n, LETHE_PROVENANCE_MAX_SUBJECTS);
	p->subjects = calloc(n, sizeof(*p->subjects));
	if (!p->subjects)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);
		const char *sname = get_string(s, "name");
		const char *hex = get_string(get_type(s, "digest", json_type_object), "sha256");

		if (!sname || !*sname || strlen(sname) > 255 || strchr(sname, '/'))
			return lethe_error(-LETHE_E_INVALID,
					   "'%s': subject %zu has no name or a bad one", name, i);
		if (!hex || !is_lower_hex(hex, 64))
			return lethe_error(-LETHE_E_INVALID,
					   "'%s': subject '%s' has no sha256 digest of 64 "
					   "lowercase hex digits",
					   name, sname);
		for (size_t j = 0; j < p->n_subjects; j++)
			if (!strcmp(p->subjects[j].name, sname))
				return lethe_error(-LETHE_E_INVALID,
						   "'%s': subject '%s' appears twice", name, sname);
		p->subjects[i].name = strdup(sname);
		if (!p->subjects[i].name)
			return -ENOMEM;
		p->n_subjects++;
		if (lethe_hex_decode(hex, p->subjects[i].sha256, 32) < 0)
			return lethe_error(-LETHE_E_INVALID, "'%s': subject '%s': bad digest", name,
					   sname);
	}
	return 0;
}

static int parse_predicate(struct json_object *pred, const char *name, struct lethe_provenance *p)
{
	struct json_object *def = get_type(pred, "buildDefinition", json_type_object);
	struct json_object *run = get_type(pred, "runDetails", json_type_object);
	struct json_object *builder = get_type(run, "builder", json_type_object);
	struct json_object *deps;
	const char *id = get_string(builder, "id");

	if (!def || !get_string(def, "buildType") ||
	    !get_type(def, "externalParameters", json_type_object))
		return lethe_error(-LETHE_E_INVALID,
				   "'%s': predicate.buildDefinition lacks buildType or "
				   "externalParameters",
				   name);
	if (!id || !*id)
		return lethe_error(-LETHE_E_INVALID, "'%s': predicate.runDetails.builder has no id",
				   name);
	deps = get_type(def, "resolvedDependencies", json_type_array);
	p->n_inputs = deps ? json_object_array_length(deps) : 0;
	if (p->n_inputs > LETHE_PROVENANCE_MAX_INPUTS)
		return lethe_error(-LETHE_E_INVALID, "'%s': more than %u resolved dependencies",
				   name, LETHE_PROVENANCE_MAX_INPUTS);
	p->builder_id = strdup(id);
	return p->builder_id ? 0 : -ENOMEM;
}

int lethe_provenance_parse(const char *text, size_t len, const char *name,
			   struct lethe_provenance **ret)
{
	struct json_tokener *tok;
	struct json_object *doc = NULL, *subj;
	struct lethe_provenance *p = NULL;
	const char *type;
	int r;

	if (len > LETHE_PROVENANCE_MAX_SIZE)
		return lethe_error(-LETHE_E_INVALID, "'%s': more than %u bytes", name,
				   LETHE_PROVENANCE_MAX_SIZE);
	if (memchr(text, '\0', len))
		return lethe_error(-LETHE_E_INVALID, "'%s': NUL byte in the document", name);
	tok = json_tokener_new_ex(32);
	if (!tok)
		return -ENOMEM;
	doc = json_tokener_parse_ex(tok, text, (int)len);
	if (!doc || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) < len) {
		size_t off = json_tokener_get_parse_end(tok);

		json_tokener_free(tok);
		json_object_put(doc);
		return lethe_error(-LETHE_E_INVALID, "'%s' offset %zu: not one JSON document", name,
				   off);
	}
	json_tokener_free(tok);
	type = get_string(doc, "_type");
	if (!type || strcmp(type, LETHE_PROVENANCE_STATEMENT_TYPE)) {
		r = lethe_error(-LETHE_E_INVALID, "'%s': _type is not '%s'", name,
				LETHE_PROVENANCE_STATEMENT_TYPE);
		goto out;
	}
	type = get_string(doc, "predicateType");
	if (!type || strcmp(type, LETHE_PROVENANCE_PREDICATE_TYPE)) {
		r = lethe_error(-LETHE_E_INVALID, "'%s': predicateType is not '%s'", name,
				LETHE_PROVENANCE_PREDICATE_TYPE);
		goto out;
	}
	subj = get_type(doc, "subject", json_type_array);
	if (!subj) {
		r = lethe_error(-LETHE_E_INVALID, "'%s': no subject array", name);
		goto out;
	}
	p = calloc(1, sizeof(*p));
	r = p ? parse_subjects(subj, name, p) : -ENOMEM;
	if (r >= 0) {
		struct json_object *pred = get_type(doc, "predicate", json_type_object);

		r = pred ? parse_predicate(pred, name, p)
			 : lethe_error(-LETHE_E_INVALID, "'%s': no predicate object", name);
	}
out:
	json_object_put(doc);
	if (r < 0) {
		lethe_provenance_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

/* ---- the check against an open release ---- */

static int read_verified(const struct lethe_release *rel, char **ret, size_t *ret_len)
{
	const char *pname = lethe_release_name(LETHE_ARTIFACT_PROVENANCE);
	uint8_t want[32], got[32];
	uint64_t size;
	char *text;
	ssize_t n;
	int fd, r;

	r = lethe_release_info(rel, LETHE_ARTIFACT_PROVENANCE, &size, want);
	if (r < 0)
		return r;
	if (size > LETHE_PROVENANCE_MAX_SIZE)
		return lethe_error(-LETHE_E_INVALID, "'%s/%s': more than %u bytes",
				   lethe_release_dir(rel), pname, LETHE_PROVENANCE_MAX_SIZE);
	fd = lethe_release_fd(rel, LETHE_ARTIFACT_PROVENANCE);
	if (fd < 0)
		return fd;
	text = malloc(size + 1);
	if (!text)
		return -ENOMEM;
	n = lethe_pread_full(fd, text, size + 1, 0);
	if (n < 0) {
		free(text);
		return lethe_error((int)n, "cannot read '%s/%s': %s", lethe_release_dir(rel), pname,
				   strerror((int)-n));
	}
	/* The bytes parsed are the bytes signed, even if the file changed since open. */
	r = lethe_sha256(text, (size_t)n, got);
	if (r >= 0 && ((uint64_t)n != size || !lethe_memeq_consttime(want, got, 32)))
		r = lethe_error(-LETHE_E_INVALID, "'%s/%s' changed after it was verified",
				lethe_release_dir(rel), pname);
	if (r < 0) {
		free(text);
		return r;
	}
	text[n] = '\0';
	*ret = text;
	*ret_len = (size_t)n;
	return 0;
}

static int check_subjects(const struct lethe_release *rel, const struct lethe_provenance *p,
			  const char *label)
{
	bool seen[LETHE_ARTIFACT_MAX] = { false };

	for (size_t i = 0; i < p->n_subjects; i++) {
		const struct lethe_provenance_subject *s = &p->subjects[i];
		enum lethe_release_artifact a;
		uint8_t digest[32];
		uint64_t size;

		if (!is_subject(s->name) || lethe_release_artifact_from_name(s->name, &a) < 0 ||
		    !lethe_release_has(rel, a))
			return lethe_error(-LETHE_E_INVALID,
					   "'%s' names '%s', which the release does not list",
					   label, s->name);
		if (lethe_release_info(rel, a, &size, digest) < 0 ||
		    !lethe_memeq_consttime(digest, s->sha256, 32))
			return lethe_error(-LETHE_E_INVALID,
					   "'%s': the SHA-256 of '%s' does not match the release's",
					   label, s->name);
		seen[a] = true;
	}
	for (unsigned a = 0; a < LETHE_ARTIFACT_MAX; a++)
		if (lethe_release_has(rel, a) && !seen[a] && is_subject(lethe_release_name(a)))
			return lethe_error(-LETHE_E_INVALID, "'%s' does not name '%s' as a subject",
					   label, lethe_release_name(a));
	return 0;
}

int lethe_provenance_check(const struct lethe_release *rel, bool *ret_present)
{
	struct lethe_provenance *p = NULL;
	char *text = NULL, *label = NULL;
	size_t len = 0;
	int r;

	if (!lethe_release_has(rel, LETHE_ARTIFACT_PROVENANCE)) {
		if (ret_present)
			*ret_present = false;
		return 0;
	}
	label = lethe_path_join(lethe_release_dir(rel),
				lethe_release_name(LETHE_ARTIFACT_PROVENANCE));
	if (!label)
		return -ENOMEM;
	r = read_verified(rel, &text, &len);
	if (r >= 0)
		r = lethe_provenance_parse(text, len, label, &p);
	if (r >= 0)
		r = check_subjects(rel, p, label);
	if (r >= 0 && ret_present)
		*ret_present = true;
	lethe_provenance_free(p);
	free(text);
	free(label);
	return r;
}
