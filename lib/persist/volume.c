/* The LUKS2 volume of the persistent store, through libcryptsetup: format (in place,
 * without device-mapper), status, passphrase test and change, header backup, open and
 * close. libcryptsetup's log goes to liblethe's, and its last error becomes the
 * message of the errno we return. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include <lethe/persist.h>
#include <lethe/run.h>

#define SECTOR 512u

static _Thread_local char crypt_last[256];

static void on_crypt_log(int level, const char *msg, void *usrptr)
{
	(void)usrptr;
	if (level == CRYPT_LOG_ERROR) {
		snprintf(crypt_last, sizeof(crypt_last), "%s", msg);
		crypt_last[strcspn(crypt_last, "\n")] = '\0';
	}
	if (level == CRYPT_LOG_ERROR || level == CRYPT_LOG_NORMAL)
		lethe_log(level == CRYPT_LOG_ERROR ? LETHE_LOG_WARNING : LETHE_LOG_INFO, "%.*s",
			  (int)strcspn(msg, "\n"), msg);
}

/* A message for r about device: libcryptsetup's own if it said one. */
static int fail(int r, const char *device, const char *what)
{
	if (crypt_last[0])
		return lethe_error(r, "%s '%s': %s", what, device, crypt_last);
	return lethe_error(r, "%s '%s': %s", what, device, strerror(-r));
}

static int load(const char *device, struct crypt_device **ret)
{
	struct crypt_device *cd = NULL;
	int r;

	crypt_last[0] = '\0';
	crypt_set_log_callback(NULL, on_crypt_log, NULL);
	r = crypt_init(&cd, device);
	if (r < 0)
		return fail(r, device, "cannot open");
	crypt_set_log_callback(cd, on_crypt_log, NULL);
	r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		crypt_free(cd);
		crypt_last[0] = '\0';
		return lethe_error(r == -EINVAL ? -ENODEV : r, "'%s' holds no LUKS2 header%s%s",
				   device, r == -EINVAL ? "" : ": ",
				   r == -EINVAL ? "" : strerror(-r));
	}
	*ret = cd;
	return 0;
}

bool lethe_persist_cpu_has_aes(void)
{
	char *text = NULL;
	size_t len;
	bool aes = false;

	if (lethe_file_read("/proc/cpuinfo", 16u << 20, &text, &len) < 0)
		return false;
	for (char *line = strstr(text, "\nflags"); line; line = strstr(line + 1, "\nflags")) {
		char *end = strchr(line + 1, '\n');
		char *hit = strstr(line, " aes");

		if (hit && (!end || hit < end) && (hit[4] == ' ' || hit[4] == '\n' || !hit[4])) {
			aes = true;
			break;
		}
	}
	free(text);
	lethe_error_clear();
	return aes;
}

void lethe_persist_params_from_spec(const struct lethe_spec_persistence *sp, bool cpu_aes,
				    struct lethe_persist_params *ret)
{
	bool adiantum = sp->cipher == LETHE_SPEC_CIPHER_ADIANTUM ||
			(sp->cipher == LETHE_SPEC_CIPHER_AUTO && !cpu_aes);

	*ret = (struct lethe_persist_params){
		.cipher = adiantum ? "xchacha12,aes" : "aes",
		.mode = adiantum ? "adiantum-plain64" : "xts-plain64",
		.key_bytes = adiantum ? 32 : 64,
		.kdf_memory_kib = sp->kdf_memory_kib,
		.kdf_iterations = sp->kdf_iterations,
		.kdf_parallel = sp->kdf_parallel,
	};
}

static void pbkdf_of(const struct lethe_persist_params *p, struct crypt_pbkdf_type *ret)
{
	*ret = (struct crypt_pbkdf_type){
		.type = CRYPT_KDF_ARGON2ID,
		.hash = "sha256",
		.iterations = p->kdf_iterations,
		.max_memory_kb = p->kdf_memory_kib,
		.parallel_threads = p->kdf_parallel,
		/* Pinned: the machine that formats is not the one that boots. */
		.flags = CRYPT_PBKDF_NO_BENCHMARK,
	};
}

/* The size of what device holds, in bytes. */
static int device_size(const char *device, uint64_t *ret)
{
	int fd = open(device, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	off_t end;

	if (fd < 0)
		return lethe_error(-errno, "cannot open '%s': %m", device);
	end = lseek(fd, 0, SEEK_END);
	close(fd);
	if (end < 0)
		return lethe_error(-errno, "cannot size '%s': %m", device);
	*ret = (uint64_t)end;
	return 0;
}

/* The plaintext file system, in the area the encryption will cover. */
static int make_fs(const char *device, uint64_t size)
{
	char offset[64], kib[32];
	char *argv[] = { "mkfs.ext4",	      "-q", "-F",   "-b",	    "4096", "-m", "0", "-L",
			 LETHE_PERSIST_LABEL, "-E", offset, (char *)device, kib,    NULL };

	snprintf(offset, sizeof(offset), "offset=%llu",
		 (unsigned long long)LETHE_PERSIST_DATA_OFFSET);
	snprintf(kib, sizeof(kib), "%lluk",
		 (unsigned long long)((size - LETHE_PERSIST_DATA_OFFSET) / 4096 * 4));
	return lethe_run(argv, NULL, NULL);
}

/* Format the detached header hdr for device and encrypt device's data area in place. */
static int encrypt_detached(const char *hdr, const char *device,
			    const struct lethe_persist_params *p, const char *pass, size_t len)
{
	struct crypt_device *cd = NULL;
	struct crypt_pbkdf_type pbkdf;
	struct crypt_params_luks2 luks2 = { .sector_size = SECTOR, .label = LETHE_PERSIST_LABEL };
	struct crypt_params_reencrypt rp = {
		.mode = CRYPT_REENCRYPT_ENCRYPT,
		.direction = CRYPT_REENCRYPT_FORWARD,
		.resilience = "checksum",
		.hash = "sha256",
		.luks2 = &luks2,
		.flags = CRYPT_REENCRYPT_INITIALIZE_ONLY,
	};
	int r, slot;

	pbkdf_of(p, &pbkdf);
	luks2.pbkdf = &pbkdf;
	r = crypt_init_data_device(&cd, hdr, device);
	if (r < 0)
		return fail(r, device, "cannot open");
	crypt_set_log_callback(cd, on_crypt_log, NULL);
	r = crypt_set_data_offset(cd, LETHE_PERSIST_DATA_OFFSET / SECTOR);
	if (r == 0)
		r = crypt_format(cd, CRYPT_LUKS2, p->cipher, p->mode, NULL, NULL, p->key_bytes,
				 &luks2);
	if (r < 0) {
		r = fail(r, device, "cannot format");
		goto out;
	}
	slot = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, pass, len);
	if (slot < 0) {
		r = fail(slot, device, "cannot add a keyslot to");
		goto out;
	}
	r = crypt_reencrypt_init_by_passphrase(cd, NULL, pass, len, CRYPT_ANY_SLOT, slot, p->cipher,
					       p->mode, &rp);
	if (r >= 0) {
		rp.flags &= ~CRYPT_REENCRYPT_INITIALIZE_ONLY;
		r = crypt_reencrypt_init_by_passphrase(cd, NULL, pass, len, CRYPT_ANY_SLOT, slot,
						       NULL, NULL, &rp);
	}
	if (r >= 0)
		r = crypt_reencrypt_run(cd, NULL, NULL);
	if (r < 0)
		r = fail(r, device, "cannot encrypt");
	else
		r = 0;
out:
	crypt_free(cd);
	return r;
}

int lethe_persist_format(const char *device, const struct lethe_persist_params *p, const char *pass,
			 size_t pass_len, char ret_uuid[37])
{
	char dir[] = "/tmp/lethe-persist.XXXXXX", hdr[64];
	struct crypt_device *cd = NULL;
	uint64_t size = 0;
	int fd, r;

	crypt_last[0] = '\0';
	crypt_set_log_callback(NULL, on_crypt_log, NULL);
	if (pass_len == 0 || pass_len > LETHE_PERSIST_PASSPHRASE_MAX)
		return lethe_error(-EINVAL, "the passphrase must be 1 to %d bytes",
				   LETHE_PERSIST_PASSPHRASE_MAX);
	r = device_size(device, &size);
	if (r < 0)
		return r;
	if (size < LETHE_PERSIST_MIN_SIZE)
		return lethe_error(-ENOSPC, "'%s' holds %llu MiB, a store needs at least %llu MiB",
				   device, (unsigned long long)(size >> 20),
				   (unsigned long long)(LETHE_PERSIST_MIN_SIZE >> 20));
	r = make_fs(device, size);
	if (r < 0)
		return r;
	/* The header is made beside, in a private directory, then put at the device's
	 * head; it holds only what the device's header will (the keyslot is encrypted). */
	if (!mkdtemp(dir))
		return lethe_error(-errno, "cannot make a temporary directory: %m");
	snprintf(hdr, sizeof(hdr), "%s/header", dir);
	fd = open(hdr, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || posix_fallocate(fd, 0, 4096) != 0) {
		r = lethe_error(-EIO, "cannot make a temporary header in '%s'", dir);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	r = encrypt_detached(hdr, device, p, pass, pass_len);
	if (r < 0)
		goto out;
	r = crypt_init(&cd, device);
	if (r == 0) {
		crypt_set_log_callback(cd, on_crypt_log, NULL);
		r = crypt_header_restore(cd, CRYPT_LUKS2, hdr);
	}
	if (r == 0)
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		r = fail(r, device, "cannot write the header of");
		goto out;
	}
	snprintf(ret_uuid, 37, "%s", crypt_get_uuid(cd));
out:
	crypt_free(cd);
	unlink(hdr);
	rmdir(dir);
	return r;
}

int lethe_persist_status(const char *device, struct lethe_persist_status *ret)
{
	struct lethe_persist_status s = { 0 };
	struct crypt_device *cd;
	int r = load(device, &cd);

	if (r < 0)
		return r;
	snprintf(s.uuid, sizeof(s.uuid), "%s", crypt_get_uuid(cd) ? crypt_get_uuid(cd) : "");
	snprintf(s.label, sizeof(s.label), "%s", crypt_get_label(cd) ? crypt_get_label(cd) : "");
	snprintf(s.cipher, sizeof(s.cipher), "%s-%s", crypt_get_cipher(cd),
		 crypt_get_cipher_mode(cd));
	s.key_bits = (unsigned)crypt_get_volume_key_size(cd) * 8;
	s.data_offset = crypt_get_data_offset(cd) * SECTOR;
	s.sector_size = (uint32_t)crypt_get_sector_size(cd);
	s.reencrypting = crypt_reencrypt_status(cd, NULL) != CRYPT_REENCRYPT_NONE;
	for (int i = 0; i < crypt_keyslot_max(CRYPT_LUKS2) && s.n_slots < LETHE_PERSIST_MAX_SLOTS;
	     i++) {
		crypt_keyslot_info ki = crypt_keyslot_status(cd, i);
		struct crypt_pbkdf_type pb;
		struct lethe_persist_slot *sl;

		if (ki != CRYPT_SLOT_ACTIVE && ki != CRYPT_SLOT_ACTIVE_LAST)
			continue;
		sl = &s.slots[s.n_slots++];
		sl->slot = i;
		if (crypt_keyslot_get_pbkdf(cd, i, &pb) == 0) {
			snprintf(sl->kdf, sizeof(sl->kdf), "%s", pb.type);
			sl->iterations = pb.iterations;
			sl->memory_kib = pb.max_memory_kb;
			sl->parallel = pb.parallel_threads;
		}
	}
	crypt_free(cd);
	*ret = s;
	return 0;
}

int lethe_persist_test_passphrase(const char *device, const char *pass, size_t pass_len)
{
	struct crypt_device *cd;
	int r = load(device, &cd);

	if (r < 0)
		return r;
	r = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, pass, pass_len, 0);
	crypt_free(cd);
	if (r == -EPERM)
		return lethe_error(r, "no keyslot of '%s' opens with this passphrase", device);
	if (r < 0)
		return fail(r, device, "cannot unlock");
	return r;
}

int lethe_persist_change_passphrase(const char *device, const char *old, size_t old_len,
				    const char *new, size_t new_len,
				    const struct lethe_persist_params *p)
{
	struct crypt_pbkdf_type pbkdf;
	struct crypt_device *cd;
	int r, slot;

	if (new_len == 0 || new_len > LETHE_PERSIST_PASSPHRASE_MAX)
		return lethe_error(-EINVAL, "the passphrase must be 1 to %d bytes",
				   LETHE_PERSIST_PASSPHRASE_MAX);
	r = load(device, &cd);
	if (r < 0)
		return r;
	slot = crypt_activate_by_passphrase(cd, NULL, CRYPT_ANY_SLOT, old, old_len, 0);
	if (slot < 0) {
		r = slot == -EPERM ? lethe_error(slot,
						 "no keyslot of '%s' opens with the old "
						 "passphrase",
						 device)
				   : fail(slot, device, "cannot unlock");
		goto out;
	}
	/* Keep the slot's pinned cost (or take p's): never libcryptsetup's benchmark. */
	if (p) {
		pbkdf_of(p, &pbkdf);
	} else {
		struct lethe_persist_params cur = { 0 };
		struct crypt_pbkdf_type pb;

		r = crypt_keyslot_get_pbkdf(cd, slot, &pb);
		if (r < 0) {
			r = fail(r, device, "cannot read the keyslot of");
			goto out;
		}
		cur.kdf_iterations = pb.iterations;
		cur.kdf_memory_kib = pb.max_memory_kb;
		cur.kdf_parallel = pb.parallel_threads;
		pbkdf_of(&cur, &pbkdf);
		if (strcmp(pb.type, CRYPT_KDF_ARGON2ID) != 0)
			pbkdf.type = CRYPT_KDF_ARGON2ID; /* never weaker than Argon2id */
		if (pbkdf.max_memory_kb == 0) {		 /* a PBKDF2 slot: Lethe's default */
			pbkdf.max_memory_kb = LETHE_SPEC_KDF_MEMORY_DEFAULT_MIB * 1024;
			pbkdf.iterations = LETHE_SPEC_KDF_ITERATIONS_DEFAULT;
			pbkdf.parallel_threads = 1;
		}
	}
	r = crypt_set_pbkdf_type(cd, &pbkdf);
	if (r == 0)
		r = crypt_keyslot_change_by_passphrase(cd, slot, slot, old, old_len, new, new_len);
	if (r < 0)
		r = fail(r, device, "cannot change the passphrase of");
out:
	crypt_free(cd);
	return r;
}

int lethe_persist_backup_header(const char *device, const char *out)
{
	struct crypt_device *cd;
	char *dir = NULL, *tmp = NULL, *slash;
	int r;

	if (access(out, F_OK) == 0)
		return lethe_error(-EEXIST, "'%s' exists; a header backup is never overwritten",
				   out);
	r = load(device, &cd);
	if (r < 0)
		return r;
	/* libcryptsetup writes into a name that must not exist: a private directory
	 * beside out, renamed over once the whole backup is there. */
	slash = strrchr(out, '/');
	if (asprintf(&dir, "%.*s.lethe-header.XXXXXX", slash ? (int)(slash - out + 1) : 0, out) <
	    0) {
		r = -ENOMEM;
		goto out;
	}
	if (!mkdtemp(dir)) {
		r = lethe_error(-errno, "cannot make a directory beside '%s': %m", out);
		goto out;
	}
	if (asprintf(&tmp, "%s/header", dir) < 0) {
		r = -ENOMEM;
		goto out_rmdir;
	}
	r = crypt_header_backup(cd, CRYPT_LUKS2, tmp);
	if (r < 0) {
		r = fail(r, device, "cannot back up the header of");
	} else if (chmod(tmp, 0600) < 0 || link(tmp, out) < 0) {
		/* link(), not rename(): it fails instead of replacing an out made meanwhile. */
		r = lethe_error(-errno, "cannot write '%s': %m", out);
	} else {
		r = 0;
	}
	unlink(tmp);
out_rmdir:
	rmdir(dir);
out:
	free(tmp);
	free(dir);
	crypt_free(cd);
	return r;
}

int lethe_persist_activate(const char *device, const char *name, const char *pass, size_t pass_len)
{
	struct crypt_device *cd;
	int r = load(device, &cd);

	if (r < 0)
		return r;
	r = crypt_activate_by_passphrase(cd, name, CRYPT_ANY_SLOT, pass, pass_len, 0);
	crypt_free(cd);
	if (r == -EPERM)
		return lethe_error(r, "no keyslot of '%s' opens with this passphrase", device);
	if (r == -ENOMEM)
		return lethe_error(r, "not enough memory to unlock '%s' (its Argon2id cost)",
				   device);
	if (r < 0)
		return fail(r, device, "cannot open");
	return r;
}

int lethe_persist_deactivate(const char *name)
{
	struct crypt_device *cd = NULL;
	int r;

	crypt_last[0] = '\0';
	r = crypt_init_by_name(&cd, name);
	if (r == 0)
		r = crypt_deactivate(cd, name);
	crypt_free(cd);
	return r < 0 ? fail(r, name, "cannot close") : 0;
}
