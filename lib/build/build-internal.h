/* What the stages of lib/build share, private to lib/build: the build context and the
 * stage functions, each in the file of its topic. The order they run in is the table
 * in build.c. */
#ifndef LETHE_BUILD_INTERNAL_H
#define LETHE_BUILD_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include <lethe/build.h>

struct build_kernel_job;
struct lethe_sb_keys;

/* What the stages share. Stage functions read what earlier stages filled in. */
struct lethe_build_ctx {
	const struct lethe_build_options *opts;
	struct lethe_spec *spec;
	struct lethe_pkgset *set;
	int64_t epoch;		 /* SOURCE_DATE_EPOCH, else the newest package's date */
	char *outdir;		 /* the final output directory */
	char *out;		 /* the temporary output directory (renamed to outdir) */
	char *work;		 /* scratch, beside out, always removed */
	char *root;		 /* work/root: the staged root tree */
	char *kernel_dir;	 /* work/kernel: extracted kernel package(s); NULL if none */
	char *image_tool, *init; /* the Lethe programs installed into the root */
	uint8_t rootfs_sha256[32];
	uint8_t roothash[64];
	size_t roothash_len;
	char roothash_hex[129];
	struct lethe_manifest_stats manifest;
	const struct lethe_sign_seckey *key;
	char detail[256];		     /* a stage may describe its result here for the log */
	struct build_kernel_job *kernel_job; /* kernel.c */
	char *sb_systemd_boot;	       /* secureboot-stage.c: systemd-boot signed for Secure Boot */
	struct lethe_sb_keys *sb_keys; /* --sb-key, checked in prepare() */
};

/* A stage: 0 or a negative errno (with lethe_error() detail). */
struct build_stage {
	const char *name; /* short, for progress and the --json summary: "initramfs" */
	int (*run)(struct lethe_build_ctx *ctx);
};

int build_stage_tools(struct lethe_build_ctx *ctx);	  /* tools.c */
int build_stage_kernel(struct lethe_build_ctx *ctx);	  /* kernel.c: starts a thread */
int build_stage_kernel_wait(struct lethe_build_ctx *ctx); /* joins it */
void build_kernel_release(struct lethe_build_ctx *ctx);	  /* joins, frees */
int build_stage_sbom(struct lethe_build_ctx *ctx);	  /* outputs.c */
int build_stage_sums(struct lethe_build_ctx *ctx);
int build_stage_sign(struct lethe_build_ctx *ctx);
int build_stage_manifest(struct lethe_build_ctx *ctx);
int build_stage_image(struct lethe_build_ctx *ctx);
int build_stage_verity(struct lethe_build_ctx *ctx);
int build_stage_boot(struct lethe_build_ctx *ctx); /* boot-stages.c: lib/boot */
int build_stage_uki(struct lethe_build_ctx *ctx);  /* lethe.efi */
int build_stage_disk(struct lethe_build_ctx *ctx); /* lib/disk, with the ESP */
int build_stage_pcr(struct lethe_build_ctx *ctx);  /* measure-stage.c: pcr.json */
/* provenance-stage.c: provenance.intoto.json, just before the sums */
int build_stage_provenance(struct lethe_build_ctx *ctx);
int build_stage_iso(struct lethe_build_ctx *ctx);     /* lib/boot/iso.c (lib/build/iso.c) */
int build_stage_sb_sign(struct lethe_build_ctx *ctx); /* secureboot-stage.c */
int build_sb_prepare(struct lethe_build_ctx *ctx);    /* before any work */
/* menu.c: the boot menu's title and version, the UKI's PRETTY_NAME and IMAGE_VERSION
 * (issue 11.3) */
struct build_menu {
	char title[256], version[128];
};
int build_menu_titles(struct lethe_build_ctx *ctx, struct build_menu *ret);
/* esp-check.c: a boot.esp_size that cannot hold systemd-boot and the kernel, refused
 * once the kernel package is fetched (issue 11, bad input) */
int build_stage_esp_check(struct lethe_build_ctx *ctx);
void build_sb_release(struct lethe_build_ctx *ctx);

/* airgap.c: refuses network drivers and tools for a spec with network: none. */
int build_stage_airgap(struct lethe_build_ctx *ctx);

/* cancel.c: a thread that, once lethe_build_cancel() was called, stops every process
 * below this one until build_watch_stop(). One build at a time per process. */
struct build_watch {
	int fd;
	pthread_t thread;
	_Atomic bool stop;
};
int build_watch_start(struct build_watch *w);
void build_watch_stop(struct build_watch *w);
bool build_cancelled(void);

extern const char build_version[]; /* build-version.c.in */

/* "12.3 MB" for the log. */
void build_format_size(uint64_t bytes, char out[32]);
uint64_t build_file_size(const char *path); /* 0 when it cannot be read */

#endif
