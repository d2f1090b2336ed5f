/* The stages of lib/build, each in the file of its topic. */
#ifndef LETHE_BUILD_INTERNAL_H
#define LETHE_BUILD_INTERNAL_H

#include <lethe/build.h>

int build_stage_tools(struct lethe_build_ctx *ctx);   /* tools.c */
int build_stage_kernel(struct lethe_build_ctx *ctx);  /* kernel.c: starts a thread */
int build_stage_kernel_wait(struct lethe_build_ctx *ctx); /* joins it */
void build_kernel_release(struct lethe_build_ctx *ctx); /* joins, frees */
int build_stage_sbom(struct lethe_build_ctx *ctx);    /* outputs.c */
int build_stage_sums(struct lethe_build_ctx *ctx);
int build_stage_sign(struct lethe_build_ctx *ctx);
int build_stage_manifest(struct lethe_build_ctx *ctx);
int build_stage_image(struct lethe_build_ctx *ctx);
int build_stage_verity(struct lethe_build_ctx *ctx);

extern const char build_version[]; /* build-version.c.in */

/* "12.3 MB" for the log. */
void build_format_size(uint64_t bytes, char out[32]);

#endif
