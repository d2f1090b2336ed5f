/* `lethe build`: from a spec to a signed, reproducible release directory (see
 * lethe/release.h for its files). The stages run in the order of one table, in
 * lib/build/build.c; docs/build.md describes each, the outputs and the
 * reproducibility rules.
 *
 * Everything is written into a temporary directory beside the output directory, which
 * is renamed into place only when every stage succeeded; on failure it is removed, so
 * no output directory (or a previous one, untouched) is left. An existing output
 * directory must be empty (it is kept on failure) or hold a release by its layout
 * (lethe_release_probe(); it is replaced whole); anything else is refused (-EEXIST)
 * before any work. */
#ifndef LETHE_BUILD_H
#define LETHE_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/manifest.h>
#include <lethe/pkg.h>
#include <lethe/spec.h>
#include <lethe/util.h>

struct lethe_sign_seckey;

#define LETHE_BUILD_MAX_STAGES 32 /* entries of lethe_build_result.stages */

struct lethe_build_options {
	const char *spec_path;
	const char *outdir;
	/* The signing key. NULL: the development key (lethe_build_dev_key()), created on
	 * first use; the build then logs a warning that the release is not for use. */
	const struct lethe_sign_seckey *key;
	/* Build exactly the packages of a lock (lethe_pkg_check_lock() must pass), read
	 * from lock_path (NULL: lethe.lock in the spec's directory). Without locked, apt
	 * resolves the spec again. Either way the output holds the lethe.lock it built. */
	bool locked;
	const char *lock_path;
	const struct lethe_pkg_options *pkg; /* may be NULL: defaults */
	/* lethe-image (installed as /usr/bin/lethe) and lethe-init (static; installed as
	 * /usr/lib/lethe/lethe-init): NULL means lethe_build_find_tool(). */
	const char *image_tool;
	const char *init;
	/* Secure Boot (docs/secure-boot.md): a key directory of lethe keygen --secure-boot
	 * whose db signs systemd-boot and lethe.efi (checked before any work); with
	 * sb_enroll, the ESP also carries loader/keys/auto/{PK,KEK,db}.auth and
	 * "secure-boot-enroll force". NULL: nothing is signed for Secure Boot. */
	const char *sb_key_dir;
	bool sb_enroll;
};

struct lethe_build_artifact {
	char *name;
	uint64_t size;
	uint8_t sha256[32];
};

struct lethe_build_result {
	char roothash_hex[129];
	int64_t epoch;
	size_t n_packages; /* in the root, the kernel not counted */
	size_t n_kernel_packages;
	struct lethe_strv dropped; /* removed by the spec's drop: */
	struct lethe_manifest_stats manifest;
	struct {
		const char *name;
		double seconds;
	} stages[LETHE_BUILD_MAX_STAGES];
	size_t n_stages;
	double seconds;				/* the whole build */
	struct lethe_build_artifact *artifacts; /* sorted by name, SHA256SUMS* included */
	size_t n_artifacts;
	char *dev_key_path; /* signed with the development key: its secret key file; else NULL */
};

/* Run the whole build. On success *ret (if not NULL) describes it; release it with
 * lethe_build_result_release(). Progress goes to lethe_log(). */
int lethe_build(const struct lethe_build_options *opts, struct lethe_build_result *ret);
void lethe_build_result_release(struct lethe_build_result *r);

/* Stop the running lethe_build() of this process: safe in a signal handler (the CLI
 * calls it on SIGINT, SIGTERM and SIGHUP). Every process the build started, and theirs,
 * is terminated (SIGTERM, then SIGKILL a second later); lethe_build() then removes its
 * temporary directories, leaves the output directory as it was, and returns
 * -ECANCELED. A stage running in this process finishes first. */
void lethe_build_cancel(void);

/* The development key pair: $XDG_CONFIG_HOME/lethe/dev.key and dev.pub (else
 * ~/.config/lethe/), unencrypted, created when absent. Never inside a repository:
 * it signs test builds only. The caller frees *ret_sec_path. */
int lethe_build_dev_key(char **ret_sec_path);

/* Find one of Lethe's programs: $env if set, else beside /proc/self/exe, else in
 * ../init/ of it (the build tree), else in ../lib/lethe/ and ../libexec/lethe/ of it
 * (installed). The caller frees *ret. -ENOENT with a message naming env otherwise. */
int lethe_build_find_tool(const char *name, const char *env, char **ret);

#endif
