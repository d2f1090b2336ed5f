/* Unit tests of lib/util. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/run.h>
#include <lethe/util.h>

static void test_hex_roundtrip(void **state)
{
	const uint8_t in[] = { 0x00, 0x7f, 0xab, 0xff };
	uint8_t out[4];
	char hex[9];

	lethe_hex_encode(in, sizeof(in), hex);
	assert_string_equal(hex, "007fabff");
	assert_int_equal(lethe_hex_decode("007FABff", out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(lethe_hex_decode("007fab", out, sizeof(out)), -EINVAL);
	assert_int_equal(lethe_hex_decode("007fabfg", out, sizeof(out)), -EINVAL);
}

static void test_error_message(void **state)
{
	lethe_error_clear();
	assert_null(lethe_error_message());
	assert_int_equal(lethe_error(-EBADMSG, "'%s' line %d:\nbad", "x.yaml", 3), -EBADMSG);
	assert_string_equal(lethe_error_message(), "'x.yaml' line 3: bad");
	assert_true(lethe_error_is_check(-EBADMSG));
	assert_true(lethe_error_is_check(-EKEYREJECTED));
	assert_false(lethe_error_is_check(-ENOENT));
	/* A message wrapped in a new one, the last message an argument of the next. */
	lethe_error(-ENOENT, "'fc-cache': not found in /usr/bin");
	lethe_error(-ENOENT, "trigger %s: %s", "fc-cache", lethe_error_message_for(-ENOENT));
	assert_string_equal(lethe_error_message(),
			    "trigger fc-cache: 'fc-cache': not found in /usr/bin");
}

/* A message explains the errno it was recorded for and no other (issue 9.5). */
static void test_error_paired_with_errno(void **state)
{
	lethe_error_clear();
	assert_null(lethe_error_message_for(-ENOKEY));
	assert_int_equal(lethe_error(-ENOKEY, "'k' is encrypted"), -ENOKEY);
	assert_string_equal(lethe_error_message_for(-ENOKEY), "'k' is encrypted");
	/* A later bare failure with another errno is not labelled with it. */
	assert_null(lethe_error_message_for(-EIO));
	assert_null(lethe_error_message_for(0));
	/* A "success" recorded through lethe_error() forgets it. */
	assert_int_equal(lethe_error(0, "not an error"), 0);
	assert_null(lethe_error_message_for(-ENOKEY));
	assert_null(lethe_error_message());
	lethe_error(-ENOENT, "gone");
	lethe_error_clear();
	assert_null(lethe_error_message_for(-ENOENT));
}

/* ---- the subprocess runner (issue 9.4) ---- */

/* The child sees the policy's variables and the caller's extras, nothing of ours. */
static void test_run_env_is_clean(void **state)
{
	const char *extra[] = { "APT_CONFIG=/x/apt.conf", NULL };
	char *argv[] = { (char *)"env", NULL };
	struct lethe_buf out = { 0 };

	setenv("LETHE_TEST_LEAK", "host value", 1);
	setenv("LD_PRELOAD", "", 1);
	assert_int_equal(
		lethe_run(argv,
			  &(struct lethe_run_options){
				  .env = extra, .out = &out, .epoch_set = true, .epoch = 42 },
			  NULL),
		0);
	assert_string_equal(out.data, "PATH=" LETHE_RUN_PATH "\nLC_ALL=C\nTZ=UTC\n"
				      "SOURCE_DATE_EPOCH=42\nAPT_CONFIG=/x/apt.conf\n");
	lethe_buf_release(&out);
	/* Without epoch_set there is no SOURCE_DATE_EPOCH, even if ours has one. */
	setenv("SOURCE_DATE_EPOCH", "7", 1);
	assert_int_equal(lethe_run(argv, &(struct lethe_run_options){ .out = &out }, NULL), 0);
	assert_string_equal(out.data, "PATH=" LETHE_RUN_PATH "\nLC_ALL=C\nTZ=UTC\n");
	lethe_buf_release(&out);
	unsetenv("SOURCE_DATE_EPOCH");
	unsetenv("LD_PRELOAD");
	unsetenv("LETHE_TEST_LEAK");
	/* The policy is not the caller's to override. */
	extra[0] = "PATH=/tmp/evil";
	assert_int_equal(lethe_run(argv, &(struct lethe_run_options){ .env = extra }, NULL),
			 -EINVAL);
	assert_non_null(strstr(lethe_error_message_for(-EINVAL), "'PATH' is set by the runner"));
	extra[0] = "no equals sign";
	assert_int_equal(lethe_run(argv, &(struct lethe_run_options){ .env = extra }, NULL),
			 -EINVAL);
}

static void test_run_status_and_capture(void **state)
{
	char *fail[] = { (char *)"sh", (char *)"-c",
			 (char *)"echo out; echo first >&2; printf 'last \\033 line\\n\\n' >&2; "
				 "exit 3",
			 NULL };
	char *sig[] = { (char *)"sh", (char *)"-c", (char *)"echo bye; kill -TERM $$", NULL };
	char *ok[] = { (char *)"/bin/sh", (char *)"-c", (char *)"echo hello; echo note >&2", NULL };
	char *big[] = { (char *)"head", (char *)"-c", (char *)"100000", (char *)"/dev/zero", NULL };
	struct lethe_run_result res;
	struct lethe_buf out = { 0 };

	assert_int_equal(lethe_run(fail, NULL, &res), -EIO);
	assert_int_equal(res.status, 3);
	assert_string_equal(res.last_line, "last ? line");
	assert_non_null(strstr(res.err.data, "first\n"));
	assert_string_equal(lethe_error_message_for(-EIO),
			    "'sh' exited with status 3: last ? line");
	lethe_run_result_release(&res);

	/* No stderr: the last line of stdout explains. */
	assert_int_equal(lethe_run(sig, NULL, &res), -EIO);
	assert_int_equal(res.status, 128 + SIGTERM);
	assert_string_equal(lethe_error_message_for(-EIO),
			    "'sh' was killed by signal 15 (SIGTERM): bye");
	lethe_run_result_release(&res);

	assert_int_equal(lethe_run(ok, &(struct lethe_run_options){ .out = &out }, &res), 0);
	assert_int_equal(res.status, 0);
	assert_string_equal(out.data, "hello\n");
	assert_string_equal(res.err.data, "note\n");
	lethe_run_result_release(&res);
	lethe_buf_release(&out);

	assert_int_equal(
		lethe_run(big, &(struct lethe_run_options){ .out = &out, .out_max = 1000 }, &res),
		-EFBIG);
	assert_true(res.out_truncated);
	assert_true(out.len <= 1000);
	assert_non_null(strstr(lethe_error_message_for(-EFBIG), "wrote more than 1000 bytes"));
	lethe_run_result_release(&res);
	lethe_buf_release(&out);
}

static void test_run_missing_tool(void **state)
{
	char *argv[] = { (char *)"lethe-no-such-tool", (char *)"--help", NULL };
	char *noexec[] = { (char *)"/etc/passwd", NULL };
	char *nodir[] = { (char *)"true", NULL };
	struct lethe_run_result res;

	assert_int_equal(lethe_run(argv, NULL, &res), -ENOENT);
	assert_int_equal(res.status, -1);
	assert_string_equal(lethe_error_message_for(-ENOENT),
			    "cannot run 'lethe-no-such-tool': not found in " LETHE_RUN_PATH);
	lethe_run_result_release(&res);
	assert_int_equal(lethe_run(noexec, NULL, &res), -EACCES);
	assert_int_equal(res.status, -1);
	assert_string_equal(lethe_error_message_for(-EACCES),
			    "cannot run '/etc/passwd': Permission denied");
	assert_int_equal(
		lethe_run(nodir, &(struct lethe_run_options){ .cwd = "/nonexistent" }, NULL),
		-ENOENT);
}

/* The child has a process group of its own, and leaves ours alone. */
static void test_run_process_group(void **state)
{
	char *argv[] = { (char *)"sh", (char *)"-c",
			 (char *)"echo $$ $(cut -d' ' -f5 /proc/$$/stat)", NULL };
	struct lethe_buf out = { 0 };
	long pid = 0, pgrp = 0;

	assert_int_equal(lethe_run(argv, &(struct lethe_run_options){ .out = &out }, NULL), 0);
	assert_int_equal(sscanf(out.data, "%ld %ld", &pid, &pgrp), 2);
	assert_int_equal(pid, pgrp);
	assert_int_not_equal(pgrp, (long)getpgrp());
	lethe_buf_release(&out);
}

static void on_alarm(int sig)
{
	lethe_run_kill_all(SIGTERM); /* what a SIGINT handler of lethe build does */
}

/* lethe_run_kill_all() from a signal handler stops a running child (its whole process
 * group) and every later run. In a child process: it is a one-way switch. */
static void test_run_kill_all(void **state)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		char *sleeper[] = { (char *)"sh", (char *)"-c", (char *)"sleep 30 & wait", NULL };
		char *t[] = { (char *)"true", NULL };
		struct sigaction sa = { .sa_handler = on_alarm };
		int r;

		sigaction(SIGALRM, &sa, NULL);
		alarm(1);
		r = lethe_run(sleeper, NULL, NULL);
		if (r != -EIO || !strstr(lethe_error_message_for(r), "(SIGTERM)"))
			_exit(1);
		_exit(lethe_run(t, NULL, NULL) == -ECANCELED ? 0 : 2);
	}
	alarm(20);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	alarm(0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_sha256(void **state)
{
	/* FIPS 180-2 test vectors. */
	static const char abc[] =
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	static const char empty[] =
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	char dir[] = "/tmp/lethe-test-util.XXXXXX";
	uint8_t d[LETHE_SHA256_BYTES], d2[LETHE_SHA256_BYTES];
	char hex[2 * LETHE_SHA256_BYTES + 1];
	struct lethe_sha256 h;
	uint64_t size = 1;
	char *path;
	int fd;

	assert_int_equal(lethe_sha256("abc", 3, d), 0);
	lethe_hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, abc);
	assert_int_equal(lethe_sha256_init(&h), 0);
	lethe_sha256_update(&h, "a", 1);
	lethe_sha256_update(&h, "", 0);
	lethe_sha256_update(&h, "bc", 2);
	assert_int_equal(lethe_sha256_final(&h, d2), 0);
	assert_memory_equal(d, d2, sizeof(d));
	lethe_sha256_release(&h); /* safe after final */
	lethe_sha256_release(NULL);

	assert_non_null(mkdtemp(dir));
	path = lethe_path_join(dir, "f");
	assert_int_equal(lethe_file_write_atomic(path, "", 0, 0644), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(lethe_sha256_fd(fd, 0, d, &size), 0);
	close(fd);
	assert_int_equal(size, 0);
	lethe_hex_encode(d, sizeof(d), hex);
	assert_string_equal(hex, empty);
	assert_int_equal(lethe_file_write_atomic(path, "abc", 3, 0644), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(lethe_sha256_fd(fd, 0, d, &size), 0);
	close(fd);
	assert_int_equal(size, 3);
	assert_memory_equal(d, d2, sizeof(d));
	assert_int_equal(lseek(fd = open(path, O_RDONLY | O_CLOEXEC), 0, SEEK_SET), 0);
	assert_int_equal(lethe_sha256_fd(fd, 2, d, &size), -EFBIG);
	close(fd);
	assert_int_equal(lethe_sha256_fd(-1, 0, d, NULL), -EBADF);
	unlink(path);
	rmdir(dir);
	free(path);
}

static void test_safe_relative(void **state)
{
	assert_true(lethe_path_is_safe_relative("usr/bin/busybox"));
	assert_true(lethe_path_is_safe_relative("a/..b/c"));
	assert_false(lethe_path_is_safe_relative("/etc/passwd"));
	assert_false(lethe_path_is_safe_relative("../etc"));
	assert_false(lethe_path_is_safe_relative("usr/../../etc"));
	assert_false(lethe_path_is_safe_relative("usr/.."));
	assert_false(lethe_path_is_safe_relative(""));
	assert_false(lethe_path_is_safe_relative("a\nb"));
}

static void test_path_join(void **state)
{
	char *p = lethe_path_join("/a/", "/b");

	assert_string_equal(p, "/a/b");
	free(p);
	p = lethe_path_join("/", "etc");
	assert_string_equal(p, "/etc");
	free(p);
}

static void test_buf_and_strv(void **state)
{
	struct lethe_buf b = { 0 };
	struct lethe_strv s = { 0 };

	assert_int_equal(lethe_buf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_int_equal(lethe_buf_puts(&b, "yz"), 0);
	assert_string_equal(b.data, "42-xyz");
	assert_int_equal(b.len, 6);
	lethe_buf_release(&b);
	assert_null(b.data);

	assert_int_equal(lethe_strv_push(&s, "b"), 0);
	assert_int_equal(lethe_strv_push(&s, "a"), 0);
	lethe_strv_sort(&s);
	assert_string_equal(s.v[0], "a");
	assert_null(s.v[2]);
	assert_true(lethe_strv_contains(&s, "b"));
	assert_false(lethe_strv_contains(&s, "c"));
	lethe_strv_release(&s);
	lethe_strv_release(NULL);
}

/* A FIFO is refused at once, not waited on (issue 10.8); /proc files still read. */
static void test_read_fifo_refused(void **state)
{
	char dir[] = "/tmp/lethe-test-util.XXXXXX";
	char *fifo, *data = NULL;
	size_t len;
	int fd;

	assert_non_null(mkdtemp(dir));
	fifo = lethe_path_join(dir, "fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(10); /* a hang is a failure, not a stuck test */
	assert_int_equal(lethe_file_read(fifo, 100, &data, &len), -EINVAL);
	assert_non_null(strstr(lethe_error_message_for(-EINVAL), "is a FIFO"));
	assert_non_null(strstr(lethe_error_message_for(-EINVAL), fifo));
	assert_null(data);
	fd = lethe_open_input(AT_FDCWD, fifo, O_RDONLY, true, NULL);
	assert_int_equal(fd, -EINVAL);
	alarm(0);
	assert_int_equal(lethe_open_input(AT_FDCWD, "/dev/null", O_RDONLY, true, NULL), -EINVAL);
	assert_non_null(strstr(lethe_error_message(), "a character device"));
	assert_int_equal(lethe_file_read("/proc/self/status", 1 << 20, &data, &len), 0);
	assert_non_null(strstr(data, "Name:"));
	free(data);
	/* The descriptor it returns blocks again, as a regular file's does. */
	fd = lethe_open_input(AT_FDCWD, "/proc/self/status", O_RDONLY, false, NULL);
	assert_true(fd >= 0);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	unlink(fifo);
	rmdir(dir);
	free(fifo);
}

static void test_atomic_write_and_read(void **state)
{
	char dir[] = "/tmp/lethe-test-util.XXXXXX";
	char *path, *data;
	size_t len;
	struct stat st;
	struct lethe_atomic_file f;

	assert_non_null(mkdtemp(dir));
	path = lethe_path_join(dir, "out");
	assert_int_equal(lethe_file_write_atomic(path, "hello", 5, 0640), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(lethe_file_read(path, 100, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(data, "hello");
	free(data);
	assert_int_equal(lethe_file_read(path, 4, &data, &len), -EFBIG);
	assert_non_null(strstr(lethe_error_message(), "too large"));
	/* Only regular files: a directory is refused, and named. */
	assert_int_equal(lethe_file_read(dir, 100, &data, &len), -EINVAL);
	assert_non_null(strstr(lethe_error_message(), "is not a regular file"));
	assert_non_null(strstr(lethe_error_message(), dir));

	/* An aborted write leaves the old file and no temporary behind. */
	assert_int_equal(lethe_atomic_open(&f, path, 0644), 0);
	assert_int_equal(lethe_write_full(f.fd, "partial", 7), 0);
	lethe_atomic_abort(&f);
	assert_int_equal(lethe_file_read(path, 100, &data, &len), 0);
	assert_string_equal(data, "hello");
	free(data);

	assert_int_equal(lethe_rm_rf(dir), 0);
	assert_int_equal(access(dir, F_OK), -1);
	free(path);
}

static void test_mkdir_p(void **state)
{
	char dir[] = "/tmp/lethe-test-util.XXXXXX";
	char *deep;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	deep = lethe_path_join(dir, "a/b/c");
	assert_int_equal(lethe_mkdir_p(deep, 0755), 0);
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(lethe_mkdir_p(deep, 0755), 0);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(deep);
}

/* A stream of its own: reading it to the end leaves the fd's offset, so a second
 * stream over the same fd sees every entry again. */
static void test_opendir_fd(void **state)
{
	char dir[] = "/tmp/lethe-test-util.XXXXXX";
	char *sub;
	int fd;

	assert_non_null(mkdtemp(dir));
	sub = lethe_path_join(dir, "only");
	assert_int_equal(lethe_mkdir_p(sub, 0755), 0);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	for (int pass = 0; pass < 2; pass++) {
		DIR *d;
		int seen = 0;

		assert_int_equal(lethe_opendir_fd(fd, &d), 0);
		for (struct dirent *e; (e = readdir(d));)
			seen += !strcmp(e->d_name, "only");
		closedir(d);
		assert_int_equal(seen, 1);
	}
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
	close(fd);
	assert_int_equal(lethe_opendir_fd(-1, &(DIR *){ NULL }), -EBADF);
	assert_int_equal(lethe_rm_rf(dir), 0);
	free(sub);
}

static void test_source_date_epoch(void **state)
{
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	assert_int_equal(lethe_source_date_epoch(5), 1700000000);
	setenv("SOURCE_DATE_EPOCH", "17x", 1);
	assert_int_equal(lethe_source_date_epoch(5), 5);
	unsetenv("SOURCE_DATE_EPOCH");
	assert_int_equal(lethe_source_date_epoch(5), 5);
}

static void test_consttime(void **state)
{
	assert_true(lethe_memeq_consttime("abc", "abc", 3));
	assert_false(lethe_memeq_consttime("abc", "abd", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_roundtrip),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_error_paired_with_errno),
		cmocka_unit_test(test_safe_relative),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_buf_and_strv),
		cmocka_unit_test(test_atomic_write_and_read),
		cmocka_unit_test(test_read_fifo_refused),
		cmocka_unit_test(test_run_env_is_clean),
		cmocka_unit_test(test_run_status_and_capture),
		cmocka_unit_test(test_run_missing_tool),
		cmocka_unit_test(test_run_process_group),
		cmocka_unit_test(test_run_kill_all),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_mkdir_p),
		cmocka_unit_test(test_opendir_fd),
		cmocka_unit_test(test_source_date_epoch),
		cmocka_unit_test(test_consttime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
