/* The boot menu's titles (issue 11.3): the UKI's own PRETTY_NAME and IMAGE_VERSION,
 * read from the os-release the UKI's .osrel section was made from, so the entries say
 * what the amnesic entry says with "(toram)" or "(persistent storage)" after it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/update.h>

#include "build-internal.h"

int build_menu_titles(struct lethe_build_ctx *ctx, struct build_menu *ret)
{
	char *path = lethe_path_join(ctx->root, "usr/lib/os-release"), *text = NULL;
	size_t len = 0;
	int r = path ? 0 : -ENOMEM;

	if (r >= 0) {
		r = lethe_file_read(path, 64 * 1024, &text, &len);
		if (r < 0)
			r = lethe_error(r, "cannot read '%s': %s", path, strerror(-r));
	}
	if (r >= 0)
		r = lethe_osrel_value(text, len, "PRETTY_NAME", ret->title, sizeof(ret->title));
	if (r >= 0)
		r = lethe_osrel_value(text, len, "IMAGE_VERSION", ret->version,
				      sizeof(ret->version));
	if (r == -ENOENT)
		r = lethe_error(r, "'%s' has no PRETTY_NAME or IMAGE_VERSION for the boot menu",
				path);
	free(text);
	free(path);
	return r;
}
