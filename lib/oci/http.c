/* The HTTP client of lib/oci: one libcurl handle per transfer session, TLS with the
 * system's CAs, plain HTTP only to loopback hosts when asked, 401 challenges answered
 * once (Basic with auth.json's credentials, or a bearer token from the challenge's
 * realm), bodies streamed from descriptors and into descriptors through a SHA-256. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "oci-internal.h"

static int curl_global(void)
{
	static int done;

	if (!done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return lethe_error(-EIO, "cannot initialise libcurl");
		done = 1;
	}
	return 0;
}

static int client_setup(struct oci_client *c, const struct lethe_oci_options *opts,
			struct lethe_oci_stats *stats)
{
	int r = curl_global();

	if (r < 0)
		return r;
	c->opts = opts;
	c->stats = stats;
	c->curl = curl_easy_init();
	if (!c->curl)
		return -ENOMEM;
	return 0;
}

int oci_client_init(struct oci_client *c, const char *host, const char *repo, bool push,
		    const struct lethe_oci_options *opts, struct lethe_oci_stats *stats)
{
	bool insecure = opts && opts->insecure;
	int r;

	memset(c, 0, sizeof(*c));
	if (insecure && !lethe_oci_host_is_loopback(host))
		return lethe_error(-EINVAL,
				   "--insecure (plain HTTP) is only for a loopback registry, "
				   "not '%s'",
				   host);
	r = client_setup(c, opts, stats);
	if (r < 0)
		return r;
	snprintf(c->host, sizeof(c->host), "%s", host);
	snprintf(c->base, sizeof(c->base), "%s://%s", insecure ? "http" : "https", host);
	snprintf(c->scope, sizeof(c->scope), "repository:%s:%s", repo, push ? "pull,push" : "pull");
	r = oci_auth_lookup(opts ? opts->auth_file : NULL, host, &c->user, &c->pass);
	if (r < 0 && r != -ENOENT) {
		oci_client_release(c);
		return r;
	}
	lethe_error_clear();
	return 0;
}

int oci_client_init_url(struct oci_client *c, const char *url, const struct lethe_oci_options *opts,
			struct lethe_oci_stats *stats)
{
	const char *p, *end;
	size_t n;
	int r;

	memset(c, 0, sizeof(*c));
	if (!strncmp(url, "https://", 8))
		p = url + 8;
	else if (!strncmp(url, "http://", 7))
		p = url + 7;
	else
		return lethe_error(-EINVAL, "'%s' is not an http:// or https:// URL", url);
	end = p + strcspn(p, "/?#");
	n = (size_t)(end - p);
	if (n == 0 || n >= sizeof(c->host) || memchr(p, '@', n))
		return lethe_error(-EINVAL, "'%s': bad host", url);
	memcpy(c->host, p, n);
	c->host[n] = '\0';
	if (url[4] == ':' && !(opts && opts->insecure))
		return lethe_error(-EINVAL,
				   "'%s' is plain HTTP: use https://, or --insecure for a "
				   "loopback server",
				   url);
	if (url[4] == ':' && !lethe_oci_host_is_loopback(c->host))
		return lethe_error(-EINVAL,
				   "--insecure (plain HTTP) is only for a loopback server, not "
				   "'%s'",
				   c->host);
	r = client_setup(c, opts, stats);
	if (r < 0)
		return r;
	snprintf(c->base, sizeof(c->base), "%.*s", (int)(end - url), url);
	return 0;
}

void oci_client_release(struct oci_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->pass)
		lethe_memzero(c->pass, strlen(c->pass));
	free(c->user);
	free(c->pass);
	if (c->token)
		lethe_memzero(c->token, strlen(c->token));
	free(c->token);
	memset(c, 0, sizeof(*c));
}

void oci_response_release(struct oci_response *r)
{
	free(r->location);
	free(r->www_auth);
	free(r->content_type);
	free(r->digest);
	lethe_buf_release(&r->body);
	memset(r, 0, sizeof(*r));
}

/* ---- callbacks ---- */

struct xfer {
	struct oci_client *c;
	struct oci_response *resp;
	const struct oci_body *body;
	uint64_t body_off;
	struct oci_sink *sink;
};

static char *header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	const char *v, *e;

	if (len <= n || strncasecmp(line, name, n) || line[n] != ':')
		return NULL;
	v = line + n + 1;
	e = line + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
		e--;
	return strndup(v, (size_t)(e - v));
}

static void set_header(char **slot, char *v)
{
	if (!v)
		return;
	free(*slot);
	*slot = v;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	struct oci_response *r = x->resp;
	size_t len = size * nmemb;
	char *v;

	/* A new status line (after a redirect or 100): forget the earlier headers. */
	if (len > 5 && !strncmp(data, "HTTP/", 5)) {
		struct lethe_buf keep = r->body;

		r->body = (struct lethe_buf){ 0 };
		oci_response_release(r);
		r->body = keep;
		return len;
	}
	set_header(&r->location, header_value(data, len, "Location"));
	set_header(&r->www_auth, header_value(data, len, "WWW-Authenticate"));
	set_header(&r->content_type, header_value(data, len, "Content-Type"));
	set_header(&r->digest, header_value(data, len, "Docker-Content-Digest"));
	if ((v = header_value(data, len, "OCI-Subject"))) {
		r->oci_subject = true;
		free(v);
	}
	if ((v = header_value(data, len, "Content-Length"))) {
		r->content_length = strtoull(v, NULL, 10);
		free(v);
	}
	return len;
}

static int sink_restart(struct oci_sink *s)
{
	if (ftruncate(s->fd, 0) < 0)
		return -errno;
	s->offset = 0;
	if (s->h) {
		lethe_sha256_release(s->h);
		return lethe_sha256_init(s->h);
	}
	return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	struct oci_sink *s = x->sink;
	size_t len = size * nmemb;
	long code = 0;

	curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (!s || code < 200 || code > 299) {
		/* An error body, or a body kept in memory: bounded either way. */
		size_t max = s ? OCI_ERROR_BODY_MAX : LETHE_OCI_MANIFEST_MAX;

		if (x->resp->body.len + len > max)
			return 0;
		return lethe_buf_append(&x->resp->body, data, len) < 0 ? 0 : len;
	}
	if (!s->started) {
		s->started = true;
		if (code == 200 && s->range_only) {
			s->error = -EPROTONOSUPPORT; /* the whole file, not the range asked */
			return 0;
		}
		if (code == 200 && s->offset > 0 && (s->error = sink_restart(s)) < 0)
			return 0;
	}
	if (s->offset + len > s->max) {
		s->overflow = true;
		return 0;
	}
	if ((s->error = lethe_pwrite_full(s->fd, data, len, (off_t)s->offset)) < 0)
		return 0;
	if (s->h)
		lethe_sha256_update(s->h, data, len);
	s->offset += len;
	if (x->c->stats)
		x->c->stats->bytes_received += len;
	return len;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	const struct oci_body *b = x->body;
	size_t want = size * nmemb;
	uint64_t total = b->fd >= 0 ? b->size : b->len;
	ssize_t n;

	if (x->body_off >= total)
		return 0;
	if (want > total - x->body_off)
		want = (size_t)(total - x->body_off);
	if (b->fd >= 0) {
		n = lethe_pread_full(b->fd, buf, want, (off_t)x->body_off);
		if (n <= 0)
			return CURL_READFUNC_ABORT;
	} else {
		memcpy(buf, (const char *)b->data + x->body_off, want);
		n = (ssize_t)want;
	}
	x->body_off += (uint64_t)n;
	if (x->c->stats)
		x->c->stats->bytes_sent += (uint64_t)n;
	return (size_t)n;
}

/* ---- auth challenges ---- */

/* The value of key="..." in a challenge, or NULL. */
static char *challenge_param(const char *ch, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = ch; (p = strcasestr(p, key)); p += n) {
		const char *v, *e;

		if ((p != ch && p[-1] != ' ' && p[-1] != ',') || p[n] != '=')
			continue;
		v = p + n + 1;
		if (*v == '"') {
			e = strchr(++v, '"');
			if (!e)
				return NULL;
		} else {
			e = v + strcspn(v, ", ");
		}
		return strndup(v, (size_t)(e - v));
	}
	return NULL;
}

static void reset_handle(struct oci_client *c)
{
	curl_easy_reset(c->curl);
}

static int fetch_token(struct oci_client *c, const char *challenge)
{
	char *realm = challenge_param(challenge, "realm");
	char *service = challenge_param(challenge, "service");
	char *scope = challenge_param(challenge, "scope");
	struct oci_response resp = { 0 };
	struct json_object *doc = NULL, *tok;
	struct lethe_buf url = { 0 };
	struct oci_client tc = { 0 };
	int r = 0;

	if (!realm || (strncmp(realm, "https://", 8) &&
		       !(c->opts && c->opts->insecure && !strncmp(realm, "http://", 7)))) {
		r = lethe_error(-EPROTO,
				"registry '%s' asks for a token from '%s', not an https:// URL",
				c->host, realm ? realm : "(no realm)");
		goto out;
	}
	r = lethe_buf_puts(&url, realm);
	for (int i = 0; r >= 0 && i < 2; i++) {
		const char *k = i ? "scope" : "service",
			   *v = i ? (scope ? scope : c->scope) : service;
		char *e;

		if (!v)
			continue;
		e = curl_easy_escape(c->curl, v, 0);
		r = e ? lethe_buf_printf(&url, "%s%s=%s", strchr(url.data, '?') ? "&" : "?", k, e)
		      : -ENOMEM;
		curl_free(e);
	}
	if (r < 0)
		goto out;
	r = oci_client_init_url(&tc, url.data, c->opts, NULL);
	if (r < 0)
		goto out;
	tc.user = c->user ? strdup(c->user) : NULL;
	tc.pass = c->pass ? strdup(c->pass) : NULL;
	tc.basic = c->user != NULL; /* token servers take the registry's credentials */
	r = oci_request(&tc, "GET", url.data, NULL, NULL, NULL, &resp);
	if (r >= 0 && resp.status != 200)
		r = oci_status_error(&tc, -EACCES, "the token server", &resp);
	if (r >= 0) {
		doc = json_tokener_parse(resp.body.data ? resp.body.data : "");
		if ((!json_object_object_get_ex(doc, "token", &tok) &&
		     !json_object_object_get_ex(doc, "access_token", &tok)) ||
		    !json_object_is_type(tok, json_type_string) ||
		    json_object_get_string_len(tok) == 0 || json_object_get_string_len(tok) > 16384)
			r = lethe_error(-EPROTO, "the token server of '%s' answered no token",
					c->host);
		else {
			free(c->token);
			c->token = strdup(json_object_get_string(tok));
			r = c->token ? 0 : -ENOMEM;
		}
	}
out:
	json_object_put(doc);
	oci_response_release(&resp);
	oci_client_release(&tc);
	lethe_buf_release(&url);
	free(realm);
	free(service);
	free(scope);
	return r;
}

/* A 401: decide how to answer it. 1 to retry, 0 to give the 401 to the caller. */
static int answer_challenge(struct oci_client *c, const struct oci_response *resp)
{
	const char *ch = resp->www_auth;

	if (!ch)
		return 0;
	if (!strncasecmp(ch, "Basic", 5)) {
		if (!c->user || c->basic)
			return 0; /* no credentials, or they were refused */
		c->basic = true;
		return 1;
	}
	if (!strncasecmp(ch, "Bearer", 6)) {
		int r;

		if (c->token && !strcasestr(ch, "error=\"insufficient_scope\"") &&
		    !strcasestr(ch, "error=\"invalid_token\""))
			return 0;
		r = fetch_token(c, ch);
		return r < 0 ? r : 1;
	}
	return 0;
}

/* ---- one request ---- */

static int perform(struct oci_client *c, const char *method, const char *url,
		   const char *const *headers, const struct oci_body *body, struct oci_sink *sink,
		   struct oci_response *resp)
{
	const char *protos = c->opts && c->opts->insecure ? "http,https" : "https";
	struct xfer x = { .c = c, .resp = resp, .body = body, .sink = sink };
	struct curl_slist *hl = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	int r = 0;

	reset_handle(c);
	for (size_t i = 0; headers && headers[i]; i++)
		hl = curl_slist_append(hl, headers[i]);
	hl = curl_slist_append(hl, "Expect:");
	if (!hl)
		return -ENOMEM;
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, protos);
	curl_easy_setopt(c->curl, CURLOPT_REDIR_PROTOCOLS_STR, protos);
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, !strcmp(method, "GET") ? 1L : 0L);
	curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT,
			 c->opts && c->opts->user_agent ? c->opts->user_agent : "lethe");
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &x);
	if (c->token) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(c->curl, CURLOPT_XOAUTH2_BEARER, c->token);
	} else if (c->basic && c->user) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c->curl, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->pass ? c->pass : "");
	}
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "PUT") || !strcmp(method, "POST") || !strcmp(method, "PATCH")) {
		static const struct oci_body none = { .fd = -1 };
		uint64_t n;

		x.body = body ? body : &none;
		n = x.body->fd >= 0 ? x.body->size : x.body->len;
		curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c->curl, CURLOPT_READDATA, &x);
		curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)n);
		if (strcmp(method, "PUT"))
			curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET")) {
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	}
	cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	if (sink && sink->error < 0)
		r = lethe_error(sink->error, "cannot write what '%s' sent: %s", url,
				strerror(-sink->error));
	else if (sink && sink->overflow)
		r = lethe_error(-LETHE_E_INVALID, "'%s' sent more than the %llu bytes expected",
				url, (unsigned long long)sink->max);
	else if (cc != CURLE_OK && !(cc == CURLE_WRITE_ERROR && resp->status >= 300))
		r = lethe_error(cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO,
				"cannot %s '%s': %s", method, url,
				errbuf[0] ? errbuf : curl_easy_strerror(cc));
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	return r;
}

int oci_request(struct oci_client *c, const char *method, const char *path,
		const char *const *headers, const struct oci_body *body, struct oci_sink *sink,
		struct oci_response *resp)
{
	struct lethe_buf url = { 0 };
	int r;

	memset(resp, 0, sizeof(*resp));
	if (strstr(path, "://"))
		r = lethe_buf_puts(&url, path);
	else
		r = lethe_buf_printf(&url, "%s%s%s", c->base, path[0] == '/' ? "" : "/", path);
	for (int attempt = 0; r >= 0 && attempt < 3; attempt++) {
		uint64_t start = sink ? sink->offset : 0;

		if (sink)
			sink->started = false;
		r = perform(c, method, url.data, headers, body, sink, resp);
		if (r < 0 || resp->status != 401)
			break;
		if (sink && sink->offset != start)
			break; /* never: a 401 body is not written to the sink */
		r = answer_challenge(c, resp);
		if (r <= 0)
			break;
		oci_response_release(resp);
		r = 0;
	}
	lethe_buf_release(&url);
	return r < 0 ? r : 0;
}

int oci_status_error(struct oci_client *c, int err, const char *what,
		     const struct oci_response *resp)
{
	const char *msg = "";
	char detail[200] = "";

	if (resp->status == 401 || resp->status == 403) {
		if (c->user)
			return lethe_error(-EACCES,
					   "%s: '%s' refused the credentials for user '%s' (HTTP "
					   "%ld): check the password in auth.json",
					   what, c->host, c->user, resp->status);
		return lethe_error(-EACCES,
				   "%s: '%s' requires credentials (HTTP %ld) and auth.json has "
				   "none for it",
				   what, c->host, resp->status);
	}
	if (resp->body.data && resp->body.len) {
		/* The registry's own error code, when it gives one (printable only). */
		size_t n = 0;

		for (size_t i = 0; i < resp->body.len && n + 1 < sizeof(detail); i++)
			if (isprint((unsigned char)resp->body.data[i]))
				detail[n++] = resp->body.data[i];
		detail[n] = '\0';
		msg = ": ";
	}
	return lethe_error(err, "%s: '%s' answered HTTP %ld%s%.120s", what, c->host, resp->status,
			   msg, detail);
}

void oci_digest_string(const uint8_t sha256[32], char out[72])
{
	memcpy(out, "sha256:", 7);
	lethe_hex_encode(sha256, 32, out + 7);
}

int oci_digest_parse(const char *s, uint8_t ret[32])
{
	if (strncmp(s, "sha256:", 7) || strlen(s) != 71)
		return -EINVAL;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return -EINVAL;
	return lethe_hex_decode(s + 7, ret, 32);
}
