/* kernel.profile: cloud (the default), hardware or none (include/lethe/kernel-profile.h).
 * A profile gives kernel.package its default and adds its modules at build time. */
#include <errno.h>
#include <string.h>

#include <lethe/kernel-profile.h>

#include "spec-internal.h"

int spec_parse_kernel_profile(struct spec_ctx *c, const struct lethe_node *kernel)
{
	const struct lethe_node *item = lethe_node_get(kernel, "profile");
	const struct lethe_kernel_profile_info *info;
	const char *names[LETHE_KERNEL_PROFILE_N + 1] = { NULL };
	enum lethe_kernel_profile p;
	const char *hint;
	int r;

	c->spec->kernel.profile = LETHE_KERNEL_PROFILE_CLOUD;
	if (!item)
		return 0;
	r = lethe_node_expect(c->file, item, LETHE_NODE_SCALAR, "kernel.profile");
	if (r < 0)
		return r;
	if (lethe_kernel_profile_find(item->value, &p) < 0) {
		for (size_t i = 0; i < LETHE_KERNEL_PROFILE_N; i++)
			names[i] = lethe_kernel_profile_get((enum lethe_kernel_profile)i)->name;
		hint = lethe_spell_suggest(item->value, names);
		if (hint)
			return lethe_node_error(c->file, item,
						"kernel.profile '%s' is not a profile (did you "
						"mean '%s'?)",
						item->value, hint);
		return lethe_node_error(c->file, item,
					"kernel.profile '%s' is not a profile: cloud, hardware "
					"or none",
					item->value);
	}
	c->spec->kernel.profile = p;
	info = lethe_kernel_profile_get(p);
	/* A named profile with no package boots the profile's kernel. */
	if (!c->spec->kernel.package && info->package) {
		c->spec->kernel.package = strdup(info->package);
		if (!c->spec->kernel.package)
			return -ENOMEM;
	}
	if (!c->spec->kernel.package)
		return lethe_node_error(c->file, item,
					"kernel.profile '%s' names no kernel: give kernel.package",
					item->value);
	return 0;
}
