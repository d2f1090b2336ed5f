/* The artifact names of a release: the one place they are spelled (issue 9), and the
 * layout test that tells a release directory from any other. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/release.h>
#include <lethe/util.h>

/* Do not reorder: indexed by enum lethe_release_artifact. */
const char *const lethe_release_names[LETHE_ARTIFACT_MAX] = {
	[LETHE_ARTIFACT_ROOTFS] = "rootfs.erofs",
	[LETHE_ARTIFACT_VERITY] = "rootfs.verity",
	[LETHE_ARTIFACT_ROOTHASH] = "roothash",
	[LETHE_ARTIFACT_MANIFEST] = "manifest.mtree",
	[LETHE_ARTIFACT_SBOM_SPDX] = "sbom.spdx.json",
	[LETHE_ARTIFACT_SBOM_CDX] = "sbom.cdx.json",
	[LETHE_ARTIFACT_LOCK] = "lethe.lock",
	[LETHE_ARTIFACT_KERNEL] = "vmlinuz",
	[LETHE_ARTIFACT_INITRAMFS] = "initramfs.img",
	[LETHE_ARTIFACT_CMDLINE] = "cmdline",
	[LETHE_ARTIFACT_DISK] = "disk.img",
	[LETHE_ARTIFACT_SUMS] = "SHA256SUMS",
	[LETHE_ARTIFACT_SIG] = "SHA256SUMS.minisig",
	[LETHE_ARTIFACT_UKI] = "lethe.efi",
	[LETHE_ARTIFACT_PCR] = "pcr.json",
	[LETHE_ARTIFACT_PROVENANCE] = "provenance.intoto.json",
	[LETHE_ARTIFACT_ISO] = "lethe.iso",
};

const char *lethe_release_name(enum lethe_release_artifact a)
{
	return (unsigned)a < LETHE_ARTIFACT_MAX ? lethe_release_names[a] : "(no artifact)";
}

int lethe_release_artifact_from_name(const char *name, enum lethe_release_artifact *ret)
{
	for (unsigned i = 0; i < LETHE_ARTIFACT_MAX; i++)
		if (!strcmp(name, lethe_release_names[i])) {
			*ret = (enum lethe_release_artifact)i;
			return 0;
		}
	return -ENOENT;
}

/* The names in dir: each must be a regular file with an artifact name. */
static int probe_entries(const char *dir, int dfd, bool present[LETHE_ARTIFACT_MAX])
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		close(dfd);
		return lethe_error(-errno, "cannot list '%s': %m", dir);
	}
	while (r >= 0 && (errno = 0, de = readdir(d))) {
		enum lethe_release_artifact a;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (lethe_release_artifact_from_name(de->d_name, &a) < 0)
			r = lethe_error(-ENOTEMPTY, "'%s' holds '%s', which no Lethe release has",
					dir, de->d_name);
		else if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = lethe_error(-errno, "cannot stat '%s/%s': %m", dir, de->d_name);
		else if (!S_ISREG(st.st_mode))
			r = lethe_error(-ENOTEMPTY, "'%s/%s' is not a regular file", dir,
					de->d_name);
		else
			present[a] = true;
	}
	if (r >= 0 && errno)
		r = lethe_error(-errno, "cannot list '%s': %m", dir);
	closedir(d);
	return r;
}

int lethe_release_probe(const char *dir)
{
	bool present[LETHE_ARTIFACT_MAX] = { false }, listed[LETHE_ARTIFACT_MAX] = { false };
	struct lethe_sums sums = { 0 };
	char *sums_path = NULL;
	int dfd, r;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return lethe_error(-errno, "cannot open '%s': %m", dir);
	r = probe_entries(dir, dfd, present);
	if (r < 0)
		return r;
	if (!present[LETHE_ARTIFACT_SUMS] || !present[LETHE_ARTIFACT_SIG])
		return lethe_error(-ENOTEMPTY, "'%s' has no %s and %s", dir,
				   lethe_release_names[LETHE_ARTIFACT_SUMS],
				   lethe_release_names[LETHE_ARTIFACT_SIG]);
	sums_path = lethe_path_join(dir, lethe_release_names[LETHE_ARTIFACT_SUMS]);
	if (!sums_path)
		return -ENOMEM;
	r = lethe_sums_load(sums_path, &sums);
	if (r < 0) {
		char *why = lethe_error_message_for(r) ? strdup(lethe_error_message_for(r)) : NULL;

		r = lethe_error(-ENOTEMPTY, "'%s' is not a Lethe release's: %s", sums_path,
				why ? why : strerror(-r));
		free(why);
		goto out;
	}
	for (size_t i = 0; i < sums.n && r >= 0; i++) {
		enum lethe_release_artifact a;

		if (lethe_release_artifact_from_name(sums.v[i].name, &a) < 0 ||
		    a == LETHE_ARTIFACT_SUMS || a == LETHE_ARTIFACT_SIG || !present[a])
			r = lethe_error(-ENOTEMPTY,
					"'%s' line %u lists '%s', which the directory "
					"does not hold as a release would",
					sums_path, sums.v[i].line, sums.v[i].name);
		else
			listed[a] = true;
	}
	for (unsigned a = 0; a < LETHE_ARTIFACT_MAX && r >= 0; a++)
		if (present[a] && !listed[a] && a != LETHE_ARTIFACT_SUMS && a != LETHE_ARTIFACT_SIG)
			r = lethe_error(-ENOTEMPTY,
					"'%s' holds '%s', which its SHA256SUMS does not "
					"list",
					dir, lethe_release_names[a]);
out:
	lethe_sums_release(&sums);
	free(sums_path);
	return r;
}
