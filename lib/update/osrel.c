/* os-release values (IMAGE_ID, IMAGE_VERSION) from a UKI's .osrel section: untrusted
 * text, read line by line, values with shell-like quotes as os-release(5) allows. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/uefi.h>

#include "update-internal.h"

int lethe_osrel_value(const char *text, size_t len, const char *key, char *ret, size_t size)
{
	size_t klen = strlen(key), pos = 0;

	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + 1;
		if (n <= klen || memcmp(line, key, klen) || line[klen] != '=')
			continue;
		const char *v = line + klen + 1;
		size_t vn = n - klen - 1;

		if (vn >= 2 && (v[0] == '"' || v[0] == '\'')) {
			if (v[vn - 1] != v[0])
				return lethe_error(-EBADMSG, "os-release: %s has an unclosed quote",
						   key);
			v++, vn -= 2;
		}
		if (vn >= size || memchr(v, '\0', vn) || memchr(v, '\\', vn) ||
		    memchr(v, '"', vn) || memchr(v, '\'', vn) || memchr(v, '$', vn))
			return lethe_error(-EBADMSG, "os-release: %s is too long or not plain text",
					   key);
		memcpy(ret, v, vn);
		ret[vn] = '\0';
		return 0;
	}
	return -ENOENT;
}

/* A section's text, NUL-terminated, from the UKI in data; the caller frees *ret. */
static int section_text(const void *data, const struct lethe_pe *pe, const char *path,
			const char *name, char **ret, size_t *ret_len)
{
	const struct lethe_pe_section *sec = lethe_pe_find(pe, name);
	size_t n;

	if (!sec)
		return lethe_error(-LETHE_E_INVALID, "'%s' has no section %s", path, name);
	n = lethe_pe_section_len(sec);
	*ret = malloc(n + 1);
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, (const char *)data + sec->raw_offset, n);
	(*ret)[n] = '\0';
	*ret_len = n;
	return 0;
}

int update_uki_identity(const char *path, char roothash[LETHE_ROOTHASH_HEX + 1], char *image_id,
			size_t id_size, char *version, size_t version_size)
{
	char *data = MAP_FAILED, *cmdline = NULL, *osrel = NULL;
	struct lethe_pe *pe = malloc(sizeof(*pe));
	size_t len = 0, clen = 0, olen = 0;
	int r = pe ? 0 : -ENOMEM;

	/* Mapped, not read: of a UKI of tens of MiB only the headers and the two small
	 * sections are touched (the file is a private copy: nothing changes it meanwhile). */
	if (r >= 0) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		struct stat st;

		if (fd < 0 || fstat(fd, &st) < 0)
			r = -errno;
		else if (!S_ISREG(st.st_mode) || st.st_size == 0)
			r = -EINVAL;
		else if (st.st_size > LETHE_PE_MAX_SIZE)
			r = -EFBIG;
		else {
			len = (size_t)st.st_size;
			data = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
			if (data == MAP_FAILED)
				r = -errno;
		}
		if (fd >= 0)
			close(fd);
		if (r < 0)
			r = lethe_error(r, "cannot read '%s': %s", path, strerror(-r));
	}
	if (r >= 0)
		r = lethe_pe_parse(data, len, path, pe);
	if (r >= 0)
		r = section_text(data, pe, path, ".cmdline", &cmdline, &clen);
	if (r >= 0)
		r = section_text(data, pe, path, ".osrel", &osrel, &olen);
	if (r >= 0 && roothash) {
		r = lethe_cmdline_roothash(cmdline, clen, roothash);
		if (r == -ENOENT)
			r = lethe_error(-LETHE_E_INVALID, "'%s': its .cmdline has no root hash",
					path);
	}
	if (r >= 0 && image_id) {
		r = lethe_osrel_value(osrel, olen, "IMAGE_ID", image_id, id_size);
		if (r == -ENOENT)
			r = lethe_error(-LETHE_E_INVALID, "'%s': its .osrel has no IMAGE_ID", path);
	}
	if (r >= 0 && version) {
		r = lethe_osrel_value(osrel, olen, "IMAGE_VERSION", version, version_size);
		if (r == -ENOENT)
			r = lethe_error(-LETHE_E_INVALID, "'%s': its .osrel has no IMAGE_VERSION",
					path);
	}
	if (data != MAP_FAILED)
		munmap(data, len);
	free(pe);
	free(cmdline);
	free(osrel);
	return r;
}
