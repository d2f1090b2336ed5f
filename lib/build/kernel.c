/* The kernel package is locked and fetched with the others but never extracted into
 * the root: it goes into a scratch directory of its own, for the boot stages. Unpacking
 * it (xz, about 100 MB of modules) is the slowest part of a build, and nothing needs it
 * before the boot stages, so a thread does it while the root is staged and imaged. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lethe/build.h>
#include <lethe/rootfs.h>

#include "build-internal.h"

struct build_kernel_job {
	struct lethe_build_ctx *ctx;
	char *dir;
	pthread_t thread;
	bool running;
	int r;
	char message[1024]; /* the thread's lethe_error_message() on failure */
	char detail[256];
	double seconds;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Only this thread writes the kernel packages' licences; the main thread touches root
 * packages only until build_stage_kernel_wait() joins. */
static void *extract_kernel(void *arg)
{
	struct build_kernel_job *job = arg;
	struct lethe_pkgset *set = job->ctx->set;
	struct lethe_rootfs_options ro = { .epoch = job->ctx->epoch };
	uint64_t total = 0;
	unsigned count = 0;
	double t0 = now();
	char size[32];
	int kfd, r = 0;

	kfd = open(job->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (kfd < 0)
		r = lethe_error(-errno, "cannot open '%s': %m", job->dir);
	for (size_t i = 0; i < set->n && r >= 0; i++) {
		struct lethe_pkg *p = &set->pkgs[i];
		int debfd;

		if (p->role != LETHE_PKG_KERNEL)
			continue;
		debfd = open(p->path, O_RDONLY | O_CLOEXEC);
		if (debfd < 0) {
			r = lethe_error(-errno, "cannot open '%s': %m", p->path);
			break;
		}
		r = lethe_rootfs_extract(kfd, debfd, p->name, p->filename, &ro, &total,
					 &p->licenses);
		close(debfd);
		count++;
	}
	if (kfd >= 0)
		close(kfd);
	job->r = r;
	if (r < 0)
		snprintf(job->message, sizeof(job->message), "%s",
			 lethe_error_message_for(r) ? lethe_error_message_for(r) : strerror(-r));
	build_format_size(total, size);
	snprintf(job->detail, sizeof(job->detail), "%u package%s, %s", count, count == 1 ? "" : "s",
		 size);
	job->seconds = now() - t0;
	return NULL;
}

int build_stage_kernel(struct lethe_build_ctx *ctx)
{
	struct build_kernel_job *job;
	bool any = false;
	int r;

	for (size_t i = 0; i < ctx->set->n; i++)
		any |= ctx->set->pkgs[i].role == LETHE_PKG_KERNEL;
	if (!any) {
		snprintf(ctx->detail, sizeof(ctx->detail), "no kernel package");
		return 0;
	}
	job = calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->ctx = ctx;
	job->dir = lethe_path_join(ctx->work, "kernel");
	if (!job->dir) {
		free(job);
		return -ENOMEM;
	}
	if (mkdir(job->dir, 0755) < 0) {
		r = lethe_error(-errno, "cannot create '%s': %m", job->dir);
		goto fail;
	}
	r = -pthread_create(&job->thread, NULL, extract_kernel, job);
	if (r < 0) {
		r = lethe_error(r, "cannot start a thread: %s", strerror(-r));
		goto fail;
	}
	job->running = true;
	ctx->kernel_job = job;
	snprintf(ctx->detail, sizeof(ctx->detail), "unpacking in the background");
	return 0;
fail:
	free(job->dir);
	free(job);
	return r;
}

/* Join the thread; 0 when there was nothing to join. */
static int join(struct lethe_build_ctx *ctx, struct build_kernel_job **ret)
{
	struct build_kernel_job *job = ctx->kernel_job;

	*ret = job;
	if (!job || !job->running)
		return 0;
	pthread_join(job->thread, NULL);
	job->running = false;
	return 1;
}

int build_stage_kernel_wait(struct lethe_build_ctx *ctx)
{
	struct build_kernel_job *job;

	join(ctx, &job);
	if (!job) {
		snprintf(ctx->detail, sizeof(ctx->detail), "no kernel package");
		return 0;
	}
	if (job->r < 0)
		return lethe_error(job->r, "%s", job->message);
	ctx->kernel_dir = job->dir;
	job->dir = NULL;
	snprintf(ctx->detail, sizeof(ctx->detail), "%.200s, unpacked in %.2f s beside the root",
		 job->detail, job->seconds);
	return 0;
}

void build_kernel_release(struct lethe_build_ctx *ctx)
{
	struct build_kernel_job *job;

	join(ctx, &job);
	if (!job)
		return;
	free(job->dir);
	free(job);
	ctx->kernel_job = NULL;
}
