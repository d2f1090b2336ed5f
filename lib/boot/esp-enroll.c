/* The opt-in enrolment variant of the ESP (issue 12.3): PK.auth, KEK.auth and db.auth
 * of an organisation's key directory in loader/keys/auto/, which systemd-boot enrols
 * when loader.conf says "secure-boot-enroll force" and the firmware is in setup mode. */
#include <errno.h>
#include <stdio.h>

#include <lethe/uefi.h>

#include "uefi-internal.h"

int lethe_esp_add_enrolment(const struct lethe_esp_options *o, const char *img)
{
	static const char *const vars[] = { "PK", "KEK", "db" };
	char src[4096], dst[128];
	int r;

	r = uefi_run((char *const[]){ (char *)"mmd", (char *)"-i", (char *)img,
				      (char *)"::/loader/keys", (char *)"::/loader/keys/auto",
				      NULL },
		     o->epoch);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(vars) && r >= 0; i++) {
		snprintf(src, sizeof(src), "%s/%s.auth", o->sb_enroll_dir, vars[i]);
		snprintf(dst, sizeof(dst), "::/loader/keys/auto/%s.auth", vars[i]);
		r = uefi_run((char *const[]){ (char *)"mcopy", (char *)"-i", (char *)img, src, dst,
					      NULL },
			     o->epoch);
	}
	return r;
}
