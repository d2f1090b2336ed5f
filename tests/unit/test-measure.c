/* Unit tests of lib/measure: the PCR extend and PCR 4 formula, pcr.json written and read
 * back (and what the reader refuses), and the Authenticode digest of Debian's
 * systemd-boot, which must not change when a certificate table is appended (as signing
 * does) and must change with any hashed byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/measure.h>
#include <lethe/uefi.h>
#include <lethe/util.h>

static void unhex(const char *h, uint8_t out[32])
{
	assert_int_equal(lethe_hex_decode(h, out, 32), 0);
}

static void test_extend(void **state)
{
	uint8_t pcr[32] = { 0 }, d[32], want[32];

	(void)state;
	/* sha256(32 zero bytes || sha256("")), computed with Python's hashlib */
	assert_int_equal(lethe_sha256("", 0, d), 0);
	lethe_measure_extend(pcr, d);
	unhex("1c9ecec90e28d2461650418635878a5c91e49f47586ecf75f2b0cbb94e897112", want);
	assert_memory_equal(pcr, want, 32);
}

static void test_json_roundtrip(void **state)
{
	struct lethe_measure_pcrs p = { 0 }, q;
	char *json = NULL;

	(void)state;
	p.has[11] = p.has[4] = true;
	memset(p.sha256[11], 0xab, 32);
	memset(p.sha256[4], 0x01, 32);
	assert_int_equal(lethe_measure_json_format(&p, &json), 0);
	assert_non_null(strstr(json, "{\"sha256\":[{\"pcr\":4,\"hash\":\"0101"));
	assert_non_null(strstr(json, "},{\"pcr\":11,\"hash\":\"abab"));
	assert_int_equal(json[strlen(json) - 1], '\n');
	assert_int_equal(lethe_measure_json_parse(json, strlen(json), "t", &q), 0);
	assert_memory_equal(&p, &q, sizeof(p));
	free(json);
}

static void test_json_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"sha1\":[]}",
		"{\"sha256\":[],\"sha1\":[]}",
		"{\"sha256\":[{\"pcr\":24,\"hash\":\""
		"00000000000000000000000000000000"
		"00000000000000000000000000000000\"}]}",
		"{\"sha256\":[{\"pcr\":-1,\"hash\":\"00\"}]}",
		"{\"sha256\":[{\"pcr\":11,\"hash\":\"00\"}]}",
		"{\"sha256\":[{\"pcr\":\"11\",\"hash\":\""
		"00000000000000000000000000000000"
		"00000000000000000000000000000000\"}]}",
		"{\"sha256\":[{\"pcr\":11,\"hash\":\""
		"00000000000000000000000000000000"
		"00000000000000000000000000000000\",\"x\":1}]}",
		"{\"sha256\":[{\"pcr\":11,\"hash\":\""
		"00000000000000000000000000000000"
		"00000000000000000000000000000000\"},{\"pcr\":11,\"hash\":\""
		"00000000000000000000000000000000"
		"00000000000000000000000000000000\"}]}",
		"{\"sha256\":[]} x",
		"{\"sha256\":[{\"pcr\":11,\"hash\":\""
		"0000000000000000000000000000000g"
		"00000000000000000000000000000000\"}]}",
	};
	struct lethe_measure_pcrs q;

	(void)state;
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(bad); i++)
		assert_int_equal(lethe_measure_json_parse(bad[i], strlen(bad[i]), "t", &q),
				 -LETHE_E_INVALID);
	assert_int_equal(lethe_measure_json_parse("{\"sha256\":[]}\n", 14, "t", &q), 0);
}

static void test_pcr4(void **state)
{
	uint8_t apps[2][32], a[32], b[32];

	(void)state;
	memset(apps, 7, sizeof(apps));
	lethe_measure_pcr4((const uint8_t(*)[32])apps, 2, a);
	apps[1][0] ^= 1;
	lethe_measure_pcr4((const uint8_t(*)[32])apps, 2, b);
	assert_memory_not_equal(a, b, 32);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void test_authenticode(void **state)
{
	const char *path = lethe_uefi_tool_path(LETHE_UEFI_FILE_SYSTEMD_BOOT);
	struct lethe_buf b = { 0 };
	struct lethe_pe pe;
	uint8_t d1[32], d2[32], d3[32];
	char *data = NULL;
	size_t len = 0, entry, signed_len;

	(void)state;
	if (access(path, R_OK) < 0)
		skip();
	assert_int_equal(lethe_file_read(path, LETHE_PE_MAX_SIZE, &data, &len), 0);
	assert_int_equal(lethe_buf_append(&b, data, len), 0);
	assert_int_equal(lethe_pe_normalize(&b, path), 0);
	assert_int_equal(lethe_measure_authenticode(b.data, b.len, path, d1), 0);
	/* Signed: a certificate table appended and named by directory entry 4; the
	 * CheckSum changes too. The digest must not. */
	assert_int_equal(lethe_pe_parse(b.data, b.len, path, &pe), 0);
	entry = pe.checksum_offset - 64 + 112 + 4 * 8;
	signed_len = b.len;
	assert_int_equal(lethe_buf_append(&b, "\x10\0\0\0\0\x02\x02\0sigsig!!", 16), 0);
	put32((uint8_t *)b.data + entry, (uint32_t)signed_len);
	put32((uint8_t *)b.data + entry + 4, 16);
	put32((uint8_t *)b.data + pe.checksum_offset, 0x12345678);
	assert_int_equal(lethe_measure_authenticode(b.data, b.len, path, d2), 0);
	assert_memory_equal(d1, d2, 32);
	/* A hashed byte (in .text) changes it. */
	b.data[pe.sections[0].raw_offset] ^= 1;
	assert_int_equal(lethe_measure_authenticode(b.data, b.len, path, d3), 0);
	assert_memory_not_equal(d1, d3, 32);
	/* A certificate table outside the file is refused. */
	put32((uint8_t *)b.data + entry + 4, 17);
	assert_int_equal(lethe_measure_authenticode(b.data, b.len, path, d3), -LETHE_E_INVALID);
	/* PCR 11 needs a UKI: systemd-boot has no .linux. */
	assert_int_equal(lethe_measure_pcr11(data, len, path, d3), -LETHE_E_INVALID);
	free(data);
	lethe_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extend),	     cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_json_bad),     cmocka_unit_test(test_pcr4),
		cmocka_unit_test(test_authenticode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
