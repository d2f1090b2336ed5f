/* Unit tests of the UEFI files of lib/boot: the PE header parser and its checksum, the
 * UKI built from Debian's systemd-stub, and the ESP image (those two skip when the
 * stub or mtools are not installed). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/uefi.h>

static char tmpdir[] = "/tmp/lethe-test-uefi.XXXXXX";

static int setup(void **state)
{
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	lethe_rm_rf(tmpdir);
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* A minimal PE32+: headers in 0x200 bytes, two sections of 0x200 bytes each. */
#define PE_OFF 0x80
#define TABLE  (PE_OFF + 24 + 240)
static size_t make_pe(uint8_t *d)
{
	memset(d, 0, 0x600);
	d[0] = 'M';
	d[1] = 'Z';
	put32(d + 0x3c, PE_OFF);
	memcpy(d + PE_OFF, "PE\0\0", 4);
	put16(d + PE_OFF + 4, 0x8664);
	put16(d + PE_OFF + 6, 2);
	put32(d + PE_OFF + 8, 0x5f5e1000); /* a time stamp */
	put16(d + PE_OFF + 20, 240);
	put16(d + PE_OFF + 24, 0x20b);
	put32(d + PE_OFF + 24 + 32, 0x1000); /* SectionAlignment */
	put32(d + PE_OFF + 24 + 36, 0x200);  /* FileAlignment */
	put32(d + PE_OFF + 24 + 56, 0x3000); /* SizeOfImage */
	put32(d + PE_OFF + 24 + 60, 0x200);  /* SizeOfHeaders */
	memcpy(d + TABLE, ".text", 5);
	put32(d + TABLE + 8, 0x180);
	put32(d + TABLE + 12, 0x1000);
	put32(d + TABLE + 16, 0x200);
	put32(d + TABLE + 20, 0x200);
	memcpy(d + TABLE + 40, ".cmdline", 8);
	put32(d + TABLE + 40 + 8, 5);
	put32(d + TABLE + 40 + 12, 0x2000);
	put32(d + TABLE + 40 + 16, 0x200);
	put32(d + TABLE + 40 + 20, 0x400);
	memcpy(d + 0x400, "quiet", 5);
	return 0x600;
}

static void test_pe_parse(void **state)
{
	uint8_t d[0x600];
	size_t len = make_pe(d);
	struct lethe_pe pe;
	const struct lethe_pe_section *s;

	assert_int_equal(lethe_pe_parse(d, len, "t", &pe), 0);
	assert_int_equal(pe.n_sections, 2);
	assert_int_equal(pe.machine, 0x8664);
	assert_int_equal(pe.timestamp_offset, PE_OFF + 8);
	assert_int_equal(pe.checksum_offset, PE_OFF + 88);
	assert_int_equal(pe.image_end, 0x2005);
	s = lethe_pe_find(&pe, ".cmdline");
	assert_non_null(s);
	assert_int_equal(lethe_pe_section_len(s), 5);
	assert_memory_equal(d + s->raw_offset, "quiet", 5);
	assert_null(lethe_pe_find(&pe, ".linux"));
}

static void test_pe_bad(void **state)
{
	uint8_t d[0x600];
	struct lethe_pe pe;
	size_t len = make_pe(d);

	/* every truncation is refused, never read past */
	for (size_t n = 0; n < len; n += 7)
		assert_int_equal(lethe_pe_parse(d, n, "t", &pe), -LETHE_E_INVALID);
	make_pe(d);
	put32(d + 0x3c, 0xfffffff0); /* e_lfanew out of the file */
	assert_int_equal(lethe_pe_parse(d, len, "t", &pe), -LETHE_E_INVALID);
	assert_non_null(strstr(lethe_error_message(), "offset 60: e_lfanew"));
	make_pe(d);
	put32(d + TABLE + 40 + 20, 0xfffffe01); /* raw data offset + size wraps */
	assert_int_equal(lethe_pe_parse(d, len, "t", &pe), -LETHE_E_INVALID);
	make_pe(d);
	put32(d + TABLE + 40 + 12, 0x1100); /* overlaps .text in memory */
	assert_int_equal(lethe_pe_parse(d, len, "t", &pe), -LETHE_E_INVALID);
	make_pe(d);
	put16(d + PE_OFF + 6, 200); /* more sections than the format allows */
	assert_int_equal(lethe_pe_parse(d, len, "t", &pe), -LETHE_E_INVALID);
	make_pe(d);
	put16(d + PE_OFF + 24, 0x10b); /* PE32, not PE32+ */
	assert_int_equal(lethe_pe_parse(d, len, "t", &pe), -LETHE_E_INVALID);
	make_pe(d);
	put32(d + TABLE + 40 + 8, 0xfffff000); /* ends beyond 4 GiB */
	assert_int_equal(lethe_pe_parse(d, len, "t", &pe), -LETHE_E_INVALID);
}

/* The start of a file being fetched: its headers parse, its sections may lie beyond. */
static void test_pe_parse_headers(void **state)
{
	uint8_t d[0x600];
	struct lethe_pe pe;

	make_pe(d);
	assert_int_equal(lethe_pe_parse(d, 0x200, "t", &pe), -LETHE_E_INVALID);
	assert_int_equal(lethe_pe_parse_headers(d, 0x200, "t", &pe), 0);
	assert_int_equal(pe.n_sections, 2);
	assert_int_equal(lethe_pe_find(&pe, ".cmdline")->raw_offset, 0x400);
	/* Headers that are not all there, or sections past the 1 GiB bound, still fail. */
	assert_int_equal(lethe_pe_parse_headers(d, 0x1ff, "t", &pe), -LETHE_E_INVALID);
	put32(d + TABLE + 40 + 20, LETHE_PE_MAX_SIZE);
	assert_int_equal(lethe_pe_parse_headers(d, 0x200, "t", &pe), -LETHE_E_INVALID);
	assert_non_null(strstr(lethe_error_message(), "beyond the end of the file"));
}

static void test_pe_normalize(void **state)
{
	uint8_t d[0x600];
	struct lethe_buf b = { 0 };
	struct lethe_pe pe;

	make_pe(d);

	put32(d + TABLE + 40 + 16, 0x1f0); /* the file ends 3 bytes after the section */
	assert_int_equal(lethe_buf_append(&b, d, 0x5f3), 0); /* not a multiple of 8 */
	assert_int_equal(lethe_pe_normalize(&b, "t"), 0);
	assert_int_equal(b.len, 0x5f8);
	assert_memory_equal(b.data + 0x5f3, "\0\0\0\0\0", 5);
	assert_int_equal(lethe_pe_parse(b.data, b.len, "t", &pe), 0);
	assert_memory_equal(b.data + PE_OFF + 8, "\0\0\0\0", 4);
	uint8_t *c = (uint8_t *)b.data + PE_OFF + 88;
	assert_int_equal((uint32_t)(c[0] | c[1] << 8 | c[2] << 16 | (uint32_t)c[3] << 24),
			 lethe_pe_checksum(b.data, b.len, PE_OFF + 88));
	assert_int_not_equal(lethe_pe_checksum(b.data, b.len, PE_OFF + 88), 0);
	lethe_buf_release(&b);
}

/* Our checksum is the one the linker wrote into Debian's stub. */
static void test_pe_checksum_of_stub(void **state)
{
	struct lethe_pe pe;
	char *data = NULL;
	size_t len;

	if (lethe_file_read(LETHE_UEFI_STUB, 1u << 24, &data, &len) < 0)
		skip();
	assert_int_equal(lethe_pe_parse(data, len, LETHE_UEFI_STUB, &pe), 0);
	const uint8_t *c = (const uint8_t *)data + pe.checksum_offset;
	uint32_t stored = c[0] | c[1] << 8 | c[2] << 16 | (uint32_t)c[3] << 24;
	assert_int_equal(lethe_pe_checksum(data, len, pe.checksum_offset), stored);
	assert_non_null(lethe_pe_find(&pe, ".sdmagic"));
	free(data);
}

static char *mkfile(const char *name, size_t size, int byte)
{
	char *p = lethe_path_join(tmpdir, name), *buf = malloc(size ? size : 1);

	memset(buf, byte, size);
	assert_int_equal(lethe_file_write_atomic(p, buf, size, 0644), 0);
	free(buf);
	return p;
}

static void make_uki(const char *out, const char *linux_path, const char *initrd)
{
	assert_int_equal(lethe_uki_make(&(struct lethe_uki_options){
				 .linux_path = linux_path,
				 .initrd_path = initrd,
				 .osrel = "ID=lethe\nIMAGE_VERSION=\"1\"\n",
				 .cmdline = "lethe.roothash=00ff quiet",
				 .uname = "6.1.0-test",
				 .workdir = tmpdir,
				 .output = out }),
			 0);
}

static void test_uki(void **state)
{
	char *linux_path, *initrd, *one, *two, *a = NULL, *b = NULL, *sec = NULL;
	size_t la, lb, ls;
	struct lethe_pe pe;

	if (access(LETHE_UEFI_STUB, R_OK) < 0 || lethe_uefi_check_tools() < 0)
		skip();
	/* 17 MiB: a kernel past the 16 MiB that fixed addresses would overlap */
	linux_path = mkfile("vmlinuz", 17u << 20, 0x4c);
	initrd = mkfile("initrd", 12345, 0x49);
	one = lethe_path_join(tmpdir, "one.efi");
	two = lethe_path_join(tmpdir, "two.efi");
	make_uki(one, linux_path, initrd);
	sleep(1); /* objcopy's time stamp would differ */
	make_uki(two, linux_path, initrd);
	assert_int_equal(lethe_file_read(one, 64u << 20, &a, &la), 0);
	assert_int_equal(lethe_file_read(two, 64u << 20, &b, &lb), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la); /* reproducible */
	assert_int_equal(la % 8, 0);
	assert_int_equal(lethe_pe_parse(a, la, one, &pe), 0);
	assert_memory_equal(a + pe.timestamp_offset, "\0\0\0\0", 4);
	/* in order, page-aligned, after the stub's own sections */
	const char *const order[] = { ".osrel", ".cmdline", ".uname", ".initrd", ".linux" };
	uint32_t prev = 0;
	for (size_t i = 0; i < 5; i++) {
		const struct lethe_pe_section *s = lethe_pe_find(&pe, order[i]);

		assert_non_null(s);
		assert_int_equal(s->vaddr % 4096, 0);
		assert_true(s->vaddr > prev);
		prev = s->vaddr;
	}
	assert_int_equal(lethe_pe_section_len(lethe_pe_find(&pe, ".linux")), 17u << 20);
	/* the cmdline exactly, without a newline */
	assert_int_equal(lethe_uki_read_section(one, ".cmdline", &sec, &ls), 0);
	assert_string_equal(sec, "lethe.roothash=00ff quiet");
	assert_int_equal(ls, strlen("lethe.roothash=00ff quiet"));
	free(sec);
	assert_int_equal(lethe_uki_read_section(one, ".pcrsig", &sec, &ls), -ENOENT);
	/* a cmdline of two lines is refused */
	assert_int_equal(lethe_uki_make(&(struct lethe_uki_options){ .linux_path = linux_path,
								     .initrd_path = initrd,
								     .osrel = "",
								     .cmdline = "a\nb",
								     .workdir = tmpdir,
								     .output = one }),
			 -LETHE_E_INVALID);
	/* a UKI is not a stub */
	assert_int_equal(lethe_uki_make(&(struct lethe_uki_options){ .stub = two,
								     .linux_path = linux_path,
								     .initrd_path = initrd,
								     .osrel = "",
								     .cmdline = "x",
								     .workdir = tmpdir,
								     .output = one }),
			 -LETHE_E_INVALID);
	free(a);
	free(b);
	free(linux_path);
	free(initrd);
	free(one);
	free(two);
}

static void test_esp(void **state)
{
	char *uki, *one, *two, *a = NULL, *b = NULL, *conf = NULL;
	size_t la, lb;

	if (lethe_uefi_check_tools() < 0)
		skip();
	uki = mkfile("fake.efi", 3u << 20, 0x55);
	one = lethe_path_join(tmpdir, "esp1.img");
	two = lethe_path_join(tmpdir, "esp2.img");
	struct lethe_esp_options o = { .output = one,
				       .uki = uki,
				       .uki_name = "x.efi",
				       .volume_id = "0badcafe",
				       .workdir = tmpdir,
				       .epoch = 1700000000 };
	assert_int_equal(lethe_esp_make(&o), 0);
	sleep(1);
	setenv("TZ", "Pacific/Chatham", 1); /* ours: the tools' is fixed */
	o.output = two;
	assert_int_equal(lethe_esp_make(&o), 0);
	unsetenv("TZ");
	assert_int_equal(lethe_file_read(one, 64u << 20, &a, &la), 0);
	assert_int_equal(lethe_file_read(two, 64u << 20, &b, &lb), 0);
	assert_int_equal(la, lb);
	assert_int_equal(la % (1u << 20), 0);
	assert_memory_equal(a, b, la);
	assert_memory_equal(a + 0x27, "\xfe\xca\xad\x0b", 4); /* FAT16 volume serial */
	/* another epoch, other bytes */
	o.epoch = 1600000000;
	assert_int_equal(lethe_esp_make(&o), 0);
	free(b);
	assert_int_equal(lethe_file_read(two, 64u << 20, &b, &lb), 0);
	assert_true(la != lb || memcmp(a, b, la));
	assert_int_equal(lethe_esp_loader_conf(3, NULL, &conf), 0);
	assert_string_equal(conf, "timeout 3\neditor no\n");
	/* boot.esp_size: a fixed size of that many MiB, refused with the size needed when
	 * the files do not fit (nothing written then). */
	o.size_mib = 40;
	assert_int_equal(lethe_esp_make(&o), 0);
	free(b);
	assert_int_equal(lethe_file_read(two, 64u << 20, &b, &lb), 0);
	assert_int_equal(lb, 40u << 20);
	unlink(two);
	o.size_mib = 2; /* the UKI alone is 3 MiB */
	lethe_error_clear();
	assert_int_equal(lethe_esp_make(&o), -ENOSPC);
	assert_non_null(strstr(lethe_error_message(), "boot.esp_size 2 MiB is too small"));
	assert_int_equal(access(two, F_OK), -1);
	o.size_mib = 0;
	o.volume_id = "XYZ";
	assert_int_equal(lethe_esp_make(&o), -EINVAL);
	free(conf);
	free(a);
	free(b);
	free(uki);
	free(one);
	free(two);
}

static void test_missing_stub(void **state)
{
	setenv(LETHE_UEFI_STUB_ENV, "/nonexistent/linuxx64.efi.stub", 1);
	assert_string_equal(lethe_uefi_tool_path(LETHE_UEFI_FILE_STUB),
			    "/nonexistent/linuxx64.efi.stub");
	assert_int_equal(lethe_uefi_check_tools(), -ENOENT);
	assert_non_null(strstr(lethe_error_message(), "'/nonexistent/linuxx64.efi.stub'"));
	assert_non_null(strstr(lethe_error_message(), "install systemd-boot-efi"));
	unsetenv(LETHE_UEFI_STUB_ENV);
	assert_string_equal(lethe_uefi_tool_path(LETHE_UEFI_FILE_STUB), LETHE_UEFI_STUB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pe_parse),
		cmocka_unit_test(test_pe_bad),
		cmocka_unit_test(test_pe_parse_headers),
		cmocka_unit_test(test_pe_normalize),
		cmocka_unit_test(test_pe_checksum_of_stub),
		cmocka_unit_test(test_uki),
		cmocka_unit_test(test_esp),
		cmocka_unit_test(test_missing_stub),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
