/* lethe audit: prove a system's security posture, control by control. Every check reads
 * /proc and /sys below a root directory ("/" on a live system, a fixture tree in tests),
 * so each one can be shown to fail. docs/audit.md lists the checks and the controls
 * they serve; docs/schemas/audit.schema.json is the JSON report's schema. */
#ifndef LETHE_AUDIT_H
#define LETHE_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include <lethe/core.h>
#include <lethe/util.h>

#define LETHE_AUDIT_SCHEMA_VERSION 1

enum lethe_audit_verdict {
	LETHE_AUDIT_PASS,
	LETHE_AUDIT_FAIL,
	LETHE_AUDIT_NOT_APPLICABLE,
};

struct lethe_audit_result {
	const char *id;	      /* stable, e.g. "root.verity" */
	const char *title;    /* one line */
	const char *controls; /* references, e.g. "NIST CSF PR.DS-01; CIS 3.3" */
	enum lethe_audit_verdict verdict;
	char *evidence; /* one line: what was found */
};

/* One block device, as the storage checks saw it (the `lsblk` view). */
struct lethe_audit_blockdev {
	char *name;    /* sda, sda1, dm-0, loop0 ... */
	char *type;    /* disk, part, dm, loop, rom */
	uint64_t size; /* bytes */
	bool removable, read_only;
	char *fstype; /* of its first mount, or NULL */
	struct lethe_strv mountpoints;
	bool mounted_writable;
};

struct lethe_audit_report {
	struct lethe_audit_result *results;
	size_t n_results;
	struct lethe_audit_blockdev *blockdevs;
	size_t n_blockdevs;
	bool lethe_system; /* booted by Lethe: lethe.roothash on the cmdline */
};

struct lethe_audit_options {
	const char *root;	 /* where /proc and /sys are read; NULL: "/" */
	const char *spec_path;	 /* the image spec; NULL: ROOT/etc/lethe/spec.yaml if any */
	const char *const *only; /* NULL-terminated ids to run, or NULL for all */
	const char *const *skip; /* NULL-terminated ids not to run, or NULL */
	const char *pcr_path;	 /* boot.measured: the release's pcr.json; NULL: n/a */
};

/* The checks, in report order. */
struct lethe_audit_check_info {
	const char *id;
	const char *title;
	const char *controls;
};
size_t lethe_audit_checks(const struct lethe_audit_check_info **ret);

/* Run the checks. Fails only when the audit itself cannot run (-ENOMEM, an unknown id
 * in only/skip: -EINVAL with a message); a failed check is a verdict, not an error.
 * The caller frees *ret with lethe_audit_report_free(). */
int lethe_audit_run(const struct lethe_audit_options *opts, struct lethe_audit_report **ret);
struct lethe_audit_report *lethe_audit_report_free(struct lethe_audit_report *report);

/* True when no applicable check failed. */
bool lethe_audit_passed(const struct lethe_audit_report *report);

/* The report as JSON (docs/schemas/audit.schema.json). The caller puts the object. */
struct json_object *lethe_audit_report_json(const struct lethe_audit_report *report);

const char *lethe_audit_verdict_name(enum lethe_audit_verdict v);

/* ---- Parsers the checks use; public for tests and fuzzing. ---- */

/* struct lethe_mount(s), lethe_mountinfo_parse() and lethe_mount_has_option() are in
 * <lethe/core.h>, the layer lethe-init shares. */

#endif
