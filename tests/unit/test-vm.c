/* Unit tests of lib/vm: QEMU's command line and the framing of a command's output. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <lethe/vm.h>

static bool has_pair(const struct lethe_strv *v, const char *opt, const char *val)
{
	for (size_t i = 0; i + 1 < v->n; i++)
		if (!strcmp(v->v[i], opt) && !strcmp(v->v[i + 1], val))
			return true;
	return false;
}

static void test_argv(void **state)
{
	struct lethe_vm_config c = { .kernel = "/o/vmlinuz",
				     .initrd = "/o/initramfs.img",
				     .cmdline = "console=ttyS0 lethe.roothash=ab",
				     .boot_disk = "/o/disk.img",
				     .disks = { "/tmp/scratch.img" },
				     .n_disks = 1 };
	struct lethe_strv v = { 0 };

	assert_int_equal(lethe_vm_argv(&c, &v), 0);
	assert_string_equal(v.v[0], "qemu-system-x86_64");
	assert_true(has_pair(&v, "-accel", "tcg"));
	assert_true(has_pair(&v, "-nic", "none"));
	assert_true(has_pair(&v, "-m", "512"));
	assert_true(has_pair(&v, "-kernel", "/o/vmlinuz"));
	assert_true(has_pair(&v, "-append", "console=ttyS0 lethe.roothash=ab"));
	assert_true(has_pair(&v, "-drive", "file=/o/disk.img,format=raw,if=virtio,readonly=on"));
	assert_true(has_pair(&v, "-drive", "file=/tmp/scratch.img,format=raw,if=virtio"));
	assert_true(has_pair(&v, "-serial", "chardev:con"));
	assert_false(lethe_strv_contains(&v, "-mon")); /* a program drives it */
	assert_false(lethe_strv_contains(&v, "-enable-kvm"));
	lethe_strv_release(&v);

	c.interactive = true;
	c.serial_log = "/tmp/log";
	c.accel = "kvm";
	assert_int_equal(lethe_vm_argv(&c, &v), 0);
	assert_true(has_pair(&v, "-accel", "kvm"));
	assert_true(has_pair(&v, "-chardev", "stdio,id=con,signal=off,mux=on,logfile=/tmp/log"));
	assert_true(has_pair(&v, "-mon", "chardev=con,mode=readline"));
	lethe_strv_release(&v);

	c.accel = "hvf";
	assert_int_equal(lethe_vm_argv(&c, &v), -EINVAL);
	lethe_strv_release(&v);
	c.accel = NULL;
	c.boot_disk = "/o/a,b.img"; /* QEMU would read ",b.img" as an option */
	assert_int_equal(lethe_vm_argv(&c, &v), -EINVAL);
	lethe_strv_release(&v);
}

/* Through firmware: q35, OVMF in two pflash units, the disk as the first boot device,
 * and nothing of QEMU's own kernel loader. */
static void test_argv_firmware(void **state)
{
	struct lethe_vm_config c = { .firmware_code = "/fw/CODE.fd",
				     .firmware_vars = "/proc/self/fd/9",
				     .boot_disk = "/proc/self/fd/7",
				     .disks = { "/tmp/s.img" },
				     .n_disks = 1 };
	struct lethe_strv v = { 0 };

	assert_int_equal(lethe_vm_argv(&c, &v), 0);
	assert_true(has_pair(&v, "-machine", "q35"));
	assert_true(
		has_pair(&v, "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=/fw/CODE.fd"));
	assert_true(has_pair(&v, "-drive", "if=pflash,format=raw,unit=1,file=/proc/self/fd/9"));
	assert_true(has_pair(&v, "-drive",
			     "if=none,id=boot,format=raw,readonly=on,file=/proc/self/fd/7"));
	assert_true(has_pair(&v, "-device", "virtio-blk-pci,drive=boot,bootindex=1"));
	assert_true(has_pair(&v, "-drive", "file=/tmp/s.img,format=raw,if=virtio"));
	assert_false(lethe_strv_contains(&v, "-kernel"));
	assert_false(lethe_strv_contains(&v, "-append"));
	lethe_strv_release(&v);
	c.firmware_vars = NULL;
	assert_int_equal(lethe_vm_argv(&c, &v), -EINVAL);
	lethe_strv_release(&v);
}

/* --bus: each bus puts the drive "boot" first in the boot order on its own device;
 * the CD-ROM's drive is a CD medium; the names parse and unknown ones are refused. */
static void test_argv_bus(void **state)
{
	static const struct {
		const char *name, *dev1, *dev2;
	} rows[] = {
		{ "virtio", "virtio-blk-pci,drive=boot,bootindex=1", NULL },
		{ "usb", "qemu-xhci,id=xhci",
		  "usb-storage,bus=xhci.0,drive=boot,removable=on,bootindex=1" },
		{ "nvme", "nvme,serial=lethe,drive=boot,bootindex=1", NULL },
		{ "sata", "ahci,id=ahci", "ide-hd,bus=ahci.0,drive=boot,bootindex=1" },
		{ "cdrom", "ahci,id=ahci", "ide-cd,bus=ahci.0,drive=boot,bootindex=1" },
	};
	enum lethe_vm_bus bus;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct lethe_vm_config c = { .firmware_code = "/fw/CODE.fd",
					     .firmware_vars = "/proc/self/fd/9",
					     .boot_disk = "/proc/self/fd/7" };
		struct lethe_strv v = { 0 };

		assert_int_equal(lethe_vm_bus_parse(rows[i].name, &bus), 0);
		assert_string_equal(lethe_vm_bus_name(bus), rows[i].name);
		c.bus = bus;
		for (int direct = 0; direct < 2; direct++) {
			if (direct) {
				c.firmware_code = NULL;
				c.kernel = "/k";
				c.initrd = "/i";
				c.cmdline = "x";
			}
			assert_int_equal(lethe_vm_argv(&c, &v), 0);
			/* (a direct boot keeps its if=virtio drive: test_argv) */
			if (!direct || bus != LETHE_VM_BUS_VIRTIO)
				assert_true(has_pair(&v, "-device", rows[i].dev1));
			if (rows[i].dev2)
				assert_true(has_pair(&v, "-device", rows[i].dev2));
			if (bus == LETHE_VM_BUS_CDROM)
				assert_true(has_pair(
					&v, "-drive",
					"if=none,id=boot,format=raw,readonly=on,file=/proc/"
					"self/fd/7,media=cdrom"));
			if (bus != LETHE_VM_BUS_VIRTIO)
				assert_false(has_pair(&v, "-device",
						      "virtio-blk-pci,drive=boot,bootindex=1"));
			lethe_strv_release(&v);
		}
	}
	assert_int_equal(lethe_vm_bus_parse("scsi", &bus), -EINVAL);
	assert_non_null(strstr(lethe_error_message(), "virtio, usb, nvme, sata or cdrom"));
}

static void test_firmware_missing(void **state)
{
	setenv(LETHE_VM_OVMF_CODE_ENV, "/nonexistent/OVMF_CODE.fd", 1);
	assert_int_equal(lethe_vm_firmware_check(NULL, NULL), -ENOENT);
	assert_non_null(strstr(lethe_error_message(), "'/nonexistent/OVMF_CODE.fd'"));
	assert_non_null(strstr(lethe_error_message(), "install ovmf"));
	unsetenv(LETHE_VM_OVMF_CODE_ENV);
}

static void test_frame(void **state)
{
	const char *n = "0123abcd";
	const char *con = "/ # printf '%s-%s\\n' BEGIN 0123abcd; ( ls ) 2>&1; printf "
			  "'\\n%s-%s:%d\\n' END 0123abcd $?\r\n"
			  "BEGIN-0123abcd\r\nbin\r\netc\r\n\r\nEND-0123abcd:7\r\n/ # ";
	char *out = NULL;
	int status = -1;

	assert_int_equal(lethe_vm_parse_frame(con, strlen(con), n, &out, &status), 1);
	assert_string_equal(out, "bin\netc\n");
	assert_int_equal(status, 7);
	free(out);
	/* not complete yet: no end of line after the status */
	assert_int_equal(lethe_vm_parse_frame(con, strlen(con) - 6, n, &out, &status), 0);
	/* only the echo of the typed line: no frame */
	assert_int_equal(lethe_vm_parse_frame(con, 90, n, &out, &status), 0);
	/* empty output */
	con = "BEGIN-0123abcd\r\n\r\nEND-0123abcd:0\r\n";
	assert_int_equal(lethe_vm_parse_frame(con, strlen(con), n, &out, &status), 1);
	assert_string_equal(out, "");
	assert_int_equal(status, 0);
	free(out);
	con = "BEGIN-0123abcd\r\nx\r\nEND-0123abcd:999\r\n";
	assert_int_equal(lethe_vm_parse_frame(con, strlen(con), n, &out, &status), -EBADMSG);
}

/* issue 10.14: what a guest prints can neither move the host's cursor, retitle its
 * window nor query its terminal; text, newlines and tabs pass. */
static void test_console_escape(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "login: root\n\tok", 15, "login: root\n\tok" },
		{ "a\r\nb", 4, "a\nb" },
		{ "\x1b[2J\x1b[H", 7, "\\x1b[2J\\x1b[H" },	  /* CSI: clear, home */
		{ "\x1b]0;owned\x07", 10, "\\x1b]0;owned\\x07" }, /* OSC: window title */
		{ "\x1b[6n", 4, "\\x1b[6n" },			  /* a query the terminal answers */
		{ "\x9b"
		  "31m",
		  4, "\\x9b31m" },		 /* C1 CSI */
		{ "\xc2\x9b", 2, "\\xc2\\x9b" }, /* U+009B in UTF-8 */
		{ "\0\x7f\x08", 3, "\\x00\\x7f\\x08" },
	};
	char out[LETHE_VM_ESCAPE_MAX(64)];

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(cases); i++) {
		size_t n = lethe_vm_console_escape(cases[i].in, cases[i].len, out);

		assert_int_equal(n, strlen(cases[i].out));
		assert_memory_equal(out, cases[i].out, n);
		assert_null(memchr(out, 0x1b, n));
	}
	/* the worst case fits the bound */
	{
		char all[256];

		for (int c = 0; c < 256; c++)
			all[c] = (char)c;
		char big[LETHE_VM_ESCAPE_MAX(256)];
		size_t n = lethe_vm_console_escape(all, 256, big);

		assert_true(n <= sizeof(big));
		for (size_t i = 0; i < n; i++)
			assert_true((big[i] >= 0x20 && big[i] < 0x7f) || big[i] == '\n' ||
				    big[i] == '\t');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv),	 cmocka_unit_test(test_argv_firmware),
		cmocka_unit_test(test_argv_bus), cmocka_unit_test(test_firmware_missing),
		cmocka_unit_test(test_frame),	 cmocka_unit_test(test_console_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
