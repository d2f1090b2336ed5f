/* Registry credentials from the Docker/Podman auth.json conventions:
 * $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, else
 * ~/.docker/config.json; "auths" -> "HOST[:PORT]" (or with https://) -> "auth", the
 * base64 of USER:PASSWORD. Credential helpers are not run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "oci-internal.h"

#define AUTH_FILE_MAX (1u << 20)

static char *candidate(int i)
{
	const char *v;
	char *p = NULL;

	switch (i) {
	case 0:
		v = getenv("REGISTRY_AUTH_FILE");
		return v && *v ? strdup(v) : NULL;
	case 1:
		v = getenv("XDG_RUNTIME_DIR");
		if (v && *v && asprintf(&p, "%s/containers/auth.json", v) < 0)
			p = NULL;
		return p;
	case 2:
		v = getenv("HOME");
		if (v && *v && asprintf(&p, "%s/.docker/config.json", v) < 0)
			p = NULL;
		return p;
	}
	return NULL;
}

static int decode(const char *file, const char *host, const char *b64, char **ret_user,
		  char **ret_pass)
{
	size_t len = strlen(b64), n = 0;
	char *bin = malloc(len + 1), *colon;
	int r = 0;

	if (!bin)
		return -ENOMEM;
	if (sodium_base642bin((unsigned char *)bin, len, b64, len, NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		r = lethe_error(-EINVAL, "'%s': the auth of '%s' is not base64", file, host);
		goto out;
	}
	bin[n] = '\0';
	colon = strchr(bin, ':');
	if (!colon || colon == bin || memchr(bin, '\0', n)) {
		r = lethe_error(-EINVAL, "'%s': the auth of '%s' is not USER:PASSWORD", file, host);
		goto out;
	}
	*colon = '\0';
	*ret_user = strdup(bin);
	*ret_pass = strdup(colon + 1);
	if (!*ret_user || !*ret_pass) {
		free(*ret_user);
		free(*ret_pass);
		r = -ENOMEM;
	}
out:
	lethe_memzero(bin, len + 1);
	free(bin);
	return r;
}

static int lookup_file(const char *file, const char *host, char **ret_user, char **ret_pass)
{
	struct json_object *doc, *auths, *entry, *auth;
	char *text = NULL, keys[3][300];
	size_t len;
	int r;

	r = lethe_file_read(file, AUTH_FILE_MAX, &text, &len);
	if (r < 0)
		return r;
	doc = json_tokener_parse(text);
	lethe_memzero(text, len);
	free(text);
	if (!doc)
		return lethe_error(-EINVAL, "'%s' is not JSON", file);
	snprintf(keys[0], sizeof(keys[0]), "%s", host);
	snprintf(keys[1], sizeof(keys[1]), "https://%s", host);
	snprintf(keys[2], sizeof(keys[2]), "http://%s", host);
	r = -ENOENT;
	if (json_object_object_get_ex(doc, "auths", &auths))
		for (int i = 0; i < 3 && r == -ENOENT; i++)
			if (json_object_object_get_ex(auths, keys[i], &entry) &&
			    json_object_object_get_ex(entry, "auth", &auth) &&
			    json_object_is_type(auth, json_type_string))
				r = decode(file, host, json_object_get_string(auth), ret_user,
					   ret_pass);
	json_object_put(doc);
	return r;
}

int oci_auth_lookup(const char *auth_file, const char *host, char **ret_user, char **ret_pass)
{
	if (sodium_init() < 0)
		return -EIO;
	if (auth_file)
		return lookup_file(auth_file, host, ret_user, ret_pass);
	for (int i = 0; i < 3; i++) {
		char *f = candidate(i);
		int r;

		if (!f)
			continue;
		if (access(f, F_OK) < 0) {
			free(f);
			continue;
		}
		r = lookup_file(f, host, ret_user, ret_pass);
		free(f);
		/* The first file that exists decides, as podman's lookup does. */
		return r;
	}
	return -ENOENT;
}
