/* Unit tests of lib/elf: the parser on real binaries and damaged copies of them, and the
 * closure check on staged trees built from the host's /bin/true, libc and ld.so, and
 * from a program and library compiled here with an $ORIGIN RUNPATH. */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/elf.h>

#include "helpers.h"

#define HOST_TRUE "/bin/true"
#define HOST_LD	  "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
#define HOST_LIBC "/lib/x86_64-linux-gnu/libc.so.6"

extern char **environ;
static char tmp[64];

static char *tpath(const char *rel)
{
	return ut_path(tmp, rel);
}

/* Copy host file src to ROOT/rel (parents made). */
static void put(const char *src, const char *rel)
{
	char *dst = tpath(rel), *slash, *data;
	size_t len;

	slash = strrchr(dst, '/');
	*slash = '\0';
	assert_int_equal(lethe_mkdir_p(dst, 0755), 0);
	*slash = '/';
	assert_int_equal(lethe_file_read(src, 64u << 20, &data, &len), 0);
	assert_int_equal(lethe_file_write_atomic(dst, data, len, 0755), 0);
	free(data);
	free(dst);
}

static void link_in(const char *target, const char *rel)
{
	char *p = tpath(rel), *slash = strrchr(p, '/');

	*slash = '\0';
	assert_int_equal(lethe_mkdir_p(p, 0755), 0);
	*slash = '/';
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static int setup(void **state)
{
	ut_mkdtemp_in(tmp, sizeof(tmp), "elf");
	return 0;
}

static int teardown(void **state)
{
	lethe_rm_rf(tmp);
	return 0;
}

static void read_host(const char *path, char **data, size_t *len)
{
	*data = ut_read(path, len);
}

static void test_parse_true(void **state)
{
	struct lethe_elf_info info;
	char *data;
	size_t len;

	read_host(HOST_TRUE, &data, &len);
	assert_int_equal(lethe_elf_parse((uint8_t *)data, len, "true", &info), 0);
	assert_true(info.relevant);
	assert_string_equal(info.interp, "/lib64/ld-linux-x86-64.so.2");
	assert_true(lethe_strv_contains(&info.needed, "libc.so.6"));
	lethe_elf_info_release(&info);
	free(data);
}

/* Set p_offset of every program header of type in the ELF image at data; there must
 * be at least one. */
static void set_phdr_offsets(char *data, const Elf64_Ehdr *eh, uint32_t type, uint64_t offset)
{
	size_t n = 0;

	for (size_t i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		size_t off = eh->e_phoff + i * sizeof(ph);

		memcpy(&ph, data + off, sizeof(ph));
		if (ph.p_type != type)
			continue;
		ph.p_offset = offset;
		memcpy(data + off, &ph, sizeof(ph));
		n++;
	}
	assert_true(n > 0);
}

static void test_parse_damaged(void **state)
{
	struct lethe_elf_info info;
	Elf64_Ehdr eh;
	char *data;
	size_t len;

	read_host(HOST_TRUE, &data, &len);
	memcpy(&eh, data, sizeof(eh));

	/* Program headers beyond the end of the file. */
	((Elf64_Ehdr *)(void *)data)->e_phoff = len - 8;
	assert_int_equal(lethe_elf_parse((uint8_t *)data, len, "/usr/bin/x", &info), -EBADMSG);
	assert_string_equal(lethe_error_message(),
			    "'/usr/bin/x': malformed ELF: program headers out of the file");
	lethe_elf_info_release(&info);
	memcpy(data, &eh, sizeof(eh));

	/* PT_INTERP pointing outside the file. */
	set_phdr_offsets(data, &eh, PT_INTERP, len - 2);
	assert_int_equal(lethe_elf_parse((uint8_t *)data, len, "x", &info), -EBADMSG);
	assert_string_equal(lethe_error_message(), "'x': malformed ELF: bad PT_INTERP");
	lethe_elf_info_release(&info);
	free(data);
	read_host(HOST_TRUE, &data, &len);

	/* A PT_LOAD offset so large that offset + (DT_STRTAB - p_vaddr) wraps around to a
	 * place inside the file: refused, not read from there. */
	set_phdr_offsets(data, &eh, PT_LOAD, UINT64_MAX);
	assert_int_equal(lethe_elf_parse((uint8_t *)data, len, "x", &info), -EBADMSG);
	assert_string_equal(lethe_error_message(), "'x': malformed ELF: DT_STRTAB out of the file");
	lethe_elf_info_release(&info);
	free(data);
	read_host(HOST_TRUE, &data, &len);

	/* Another machine, or too short to be ELF: not relevant, not an error. */
	((Elf64_Ehdr *)(void *)data)->e_machine = EM_AARCH64;
	assert_int_equal(lethe_elf_parse((uint8_t *)data, len, "x", &info), 0);
	assert_false(info.relevant);
	lethe_elf_info_release(&info);
	assert_int_equal(lethe_elf_parse((uint8_t *)data, 40, "x", &info), 0);
	assert_false(info.relevant);
	free(data);
}

static void test_closure_true(void **state)
{
	struct lethe_elf_report rep;
	char *root = tpath("r1");

	put(HOST_TRUE, "r1/usr/bin/true");
	/* No interpreter yet. */
	assert_int_equal(lethe_elf_check_closure(root, &rep), -EBADMSG);
	assert_string_equal(
		lethe_error_message(),
		"ELF closure: '/usr/bin/true' needs its interpreter "
		"'/lib64/ld-linux-x86-64.so.2', which is not in the image (and 1 more)");
	assert_int_equal(rep.missing, 2);

	/* The interpreter through an absolute symlink inside the root; libc still missing. */
	put(HOST_LD, "r1/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
	link_in("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "r1/lib64/ld-linux-x86-64.so.2");
	assert_int_equal(lethe_elf_check_closure(root, &rep), -EBADMSG);
	assert_string_equal(lethe_error_message(), "ELF closure: '/usr/bin/true' needs "
						   "'libc.so.6', which is not in the image");

	/* Links that reach the host's libc from the root must not count: '..' stops at
	 * the root, absolute targets start at the root. */
	link_in("../../../../../../../lib/x86_64-linux-gnu/libc.so.6",
		"r1/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(lethe_elf_check_closure(root, &rep), -EBADMSG);
	link_in(HOST_LIBC, "r1/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(lethe_elf_check_closure(root, &rep), -EBADMSG);
	assert_int_equal(rep.missing, 1);

	/* A real libc in the root: everything resolves (libc needs ld.so, present). */
	put(HOST_LIBC, "r1/usr/lib/x86_64-linux-gnu/libc.so.6.real");
	link_in("libc.so.6.real", "r1/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(lethe_elf_check_closure(root, &rep), 0);
	assert_int_equal(rep.objects, 3);
	assert_int_equal(rep.missing, 0);

	/* Kernel modules are not looked at. */
	put(HOST_TRUE, "r1/lib/modules/6.1/kernel/x.ko");
	put(HOST_TRUE, "r1/usr/lib/other.ko");
	/* Separate debug info is never loaded either: a broken file there does not count. */
	put(HOST_TRUE, "r1/usr/lib/debug/.build-id/ab/cdef.debug");
	{
		char *dbg = tpath("r1/usr/lib/debug/.build-id/ab/cdef.debug"), *data;
		size_t len;

		assert_int_equal(lethe_file_read(dbg, 64u << 20, &data, &len), 0);
		((Elf64_Ehdr *)(void *)data)->e_phoff = len - 8; /* malformed */
		assert_int_equal(lethe_file_write_atomic(dbg, data, len, 0644), 0);
		free(data);
		free(dbg);
	}
	assert_int_equal(lethe_elf_check_closure(root, &rep), 0);
	assert_int_equal(rep.objects, 3);
	free(root);
}

static int run(char *const argv[])
{
	pid_t pid;
	int status;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A program with RUNPATH $ORIGIN/../lib finds its library there, and only there. */
static void test_closure_origin(void **state)
{
	char *src = tpath("src"), *lib_c = tpath("src/foo.c"), *main_c = tpath("src/main.c");
	char *lib = tpath("src/libfoo.so"), *app = tpath("src/app"), *root = tpath("r2");
	char *Lflag;
	struct lethe_elf_report rep;

	assert_int_equal(mkdir(src, 0755), 0);
	assert_int_equal(lethe_file_write_atomic(lib_c, "int foo(void) { return 42; }\n", 29, 0644),
			 0);
	assert_int_equal(
		lethe_file_write_atomic(
			main_c, "int foo(void);\nint main(void) { return foo(); }\n", 48, 0644),
		0);
	{
		char *argv[] = {
			"cc", "-shared", "-fPIC", "-o", lib, lib_c, "-Wl,-soname,libfoo.so.1", NULL
		};

		if (run(argv) != 0)
			skip(); /* no C compiler on this machine */
	}
	assert_int_equal(asprintf(&Lflag, "-L%s", src), (int)strlen(src) + 2);
	{
		char *argv[] = { "cc",
				 "-o",
				 app,
				 main_c,
				 Lflag,
				 "-lfoo",
				 "-Wl,-rpath,$ORIGIN/../lib",
				 "-Wl,--enable-new-dtags",
				 NULL };

		assert_int_equal(run(argv), 0);
	}
	/* libc and ld.so so that only libfoo can be missing. */
	put(HOST_LIBC, "r2/lib/x86_64-linux-gnu/libc.so.6");
	put(HOST_LD, "r2/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
	link_in("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "r2/lib64/ld-linux-x86-64.so.2");
	put(app, "r2/opt/app/bin/app");
	assert_int_equal(lethe_elf_check_closure(root, &rep), -EBADMSG);
	assert_string_equal(lethe_error_message(), "ELF closure: '/opt/app/bin/app' needs "
						   "'libfoo.so.1', which is not in the image");
	/* In a directory the RUNPATH does not name: still missing. */
	put(lib, "r2/opt/app/libfoo.so.1");
	assert_int_equal(lethe_elf_check_closure(root, &rep), -EBADMSG);
	/* ... unless the root's /etc/ld.so.conf names the directory (the build's ldconfig
	 * caches it for the loader); comments and include lines are skipped. */
	{
		char *conf = tpath("r2/etc/ld.so.conf"), *etc = tpath("r2/etc");
		const char *text = "# Firefox\ninclude /etc/ld.so.conf.d/*.conf\n  /opt/app  # x\n";

		assert_int_equal(lethe_mkdir_p(etc, 0755), 0);
		assert_int_equal(lethe_file_write_atomic(conf, text, strlen(text), 0644), 0);
		assert_int_equal(lethe_elf_check_closure(root, &rep), 0);
		text = "/opt/app/../app\nopt/app\n";
		assert_int_equal(lethe_file_write_atomic(conf, text, strlen(text), 0644), 0);
		assert_int_equal(lethe_elf_check_closure(root, &rep), -EBADMSG);
		assert_int_equal(unlink(conf), 0);
		free(conf);
		free(etc);
	}
	/* A file of that name that is not an x86-64 ELF object: the loader skips it. */
	put(main_c, "r2/usr/lib/libfoo.so.1");
	assert_int_equal(lethe_elf_check_closure(root, &rep), -EBADMSG);
	put(lib, "r2/opt/app/lib/libfoo.so.1");
	assert_int_equal(lethe_elf_check_closure(root, &rep), 0);
	free(Lflag);
	free(src);
	free(lib_c);
	free(main_c);
	free(lib);
	free(app);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_true),
		cmocka_unit_test(test_parse_damaged),
		cmocka_unit_test(test_closure_true),
		cmocka_unit_test(test_closure_origin),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
