/* ELF64 headers read by hand with every offset and size checked against the file: the
 * interpreter, DT_NEEDED, DT_RUNPATH and DT_RPATH of an x86-64 object. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/elf.h>

#define MAX_PHDRS 4096
#define MAX_DYN	  (1u << 16)
#define MAX_STR	  4096

void lethe_elf_info_release(struct lethe_elf_info *info)
{
	if (!info)
		return;
	free(info->interp);
	lethe_strv_release(&info->needed);
	lethe_strv_release(&info->runpath);
	lethe_strv_release(&info->rpath);
	memset(info, 0, sizeof(*info));
}

static bool range_ok(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

/* File offset of virtual address addr, through the PT_LOAD segments; false when no
 * segment holds it or the offset would not fit in 64 bits. */
static bool vaddr_to_off(const Elf64_Phdr *ph, size_t n, uint64_t addr, uint64_t *off)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t delta;

		if (ph[i].p_type != PT_LOAD)
			continue;
		if (addr >= ph[i].p_vaddr && addr - ph[i].p_vaddr < ph[i].p_filesz) {
			delta = addr - ph[i].p_vaddr;
			if (ph[i].p_offset > UINT64_MAX - delta)
				return false; /* would wrap to some unrelated offset */
			*off = delta + ph[i].p_offset;
			return true;
		}
	}
	return false;
}

static int split_path(struct lethe_strv *out, const char *s)
{
	char buf[MAX_STR];
	const char *p = s;

	while (*p) {
		const char *end = strchrnul(p, ':');
		size_t l = (size_t)(end - p);

		if (l && l < sizeof(buf) && out->n < 64) {
			memcpy(buf, p, l);
			buf[l] = '\0';
			int r = lethe_strv_push(out, buf);

			if (r < 0)
				return r;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

int lethe_elf_parse(const uint8_t *data, size_t len, const char *name, struct lethe_elf_info *ret)
{
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	const Elf64_Phdr *dyn = NULL;
	uint64_t strtab = 0, strsz = 0, stroff;
	bool have_strtab = false, have_strsz = false;
	int r = 0;

#define BAD(fmt, ...)                                                                              \
	do {                                                                                       \
		r = lethe_error(-EBADMSG, "'%s': malformed ELF: " fmt, name, ##__VA_ARGS__);       \
		goto out;                                                                          \
	} while (0)
	memset(ret, 0, sizeof(*ret));
	if (len < sizeof(eh) || memcmp(data, ELFMAG, SELFMAG))
		return 0;
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64 || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		return 0;
	ret->relevant = true;
	if (eh.e_phnum == 0)
		return 0;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > MAX_PHDRS ||
	    !range_ok(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), len))
		BAD("program headers out of the file");
	ph = malloc((size_t)eh.e_phnum * sizeof(*ph));
	if (!ph)
		return -ENOMEM;
	memcpy(ph, data + eh.e_phoff, (size_t)eh.e_phnum * sizeof(*ph)); /* aligned copy */
	for (size_t i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_INTERP) {
			const char *s;

			if (ret->interp || ph[i].p_filesz == 0 || ph[i].p_filesz > MAX_STR ||
			    !range_ok(ph[i].p_offset, ph[i].p_filesz, len))
				BAD("bad PT_INTERP");
			s = (const char *)data + ph[i].p_offset; /* only once it is in range */
			if (!memchr(s, '\0', ph[i].p_filesz))
				BAD("bad PT_INTERP");
			ret->interp = strdup(s);
			if (!ret->interp) {
				r = -ENOMEM;
				goto out;
			}
		} else if (ph[i].p_type == PT_DYNAMIC) {
			if (dyn)
				BAD("two PT_DYNAMIC");
			dyn = &ph[i];
		}
	}
	if (!dyn)
		goto out; /* static */
	if (!range_ok(dyn->p_offset, dyn->p_filesz, len) ||
	    dyn->p_filesz / sizeof(Elf64_Dyn) > MAX_DYN)
		BAD("PT_DYNAMIC out of the file");
	size_t ndyn = dyn->p_filesz / sizeof(Elf64_Dyn);
	/* First pass: the string table. */
	for (size_t i = 0; i < ndyn; i++) {
		Elf64_Dyn d;

		memcpy(&d, data + dyn->p_offset + i * sizeof(d), sizeof(d));
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_STRTAB) {
			strtab = d.d_un.d_ptr;
			have_strtab = true;
		} else if (d.d_tag == DT_STRSZ) {
			strsz = d.d_un.d_val;
			have_strsz = true;
		}
	}
	if (!have_strtab || !have_strsz) {
		/* No strings: nothing can be needed. */
		goto out;
	}
	if (!vaddr_to_off(ph, eh.e_phnum, strtab, &stroff) || !range_ok(stroff, strsz, len) ||
	    strsz == 0)
		BAD("DT_STRTAB out of the file");
	const char *str = (const char *)data + stroff;

	for (size_t i = 0; i < ndyn; i++) {
		Elf64_Dyn d;
		const char *s;

		memcpy(&d, data + dyn->p_offset + i * sizeof(d), sizeof(d));
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag != DT_NEEDED && d.d_tag != DT_RUNPATH && d.d_tag != DT_RPATH)
			continue;
		if (d.d_un.d_val >= strsz ||
		    !memchr(str + d.d_un.d_val, '\0', strsz - d.d_un.d_val))
			BAD("dynamic string out of DT_STRTAB");
		s = str + d.d_un.d_val;
		if (strlen(s) >= MAX_STR || !*s)
			BAD("empty or overlong dynamic string");
		if (d.d_tag == DT_NEEDED) {
			if (ret->needed.n >= LETHE_ELF_MAX_NEEDED)
				BAD("more than %d DT_NEEDED", LETHE_ELF_MAX_NEEDED);
			r = lethe_strv_push(&ret->needed, s);
		} else {
			r = split_path(d.d_tag == DT_RUNPATH ? &ret->runpath : &ret->rpath, s);
		}
		if (r < 0)
			goto out;
	}
#undef BAD
out:
	free(ph);
	return r;
}
