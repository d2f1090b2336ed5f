/* lethe verity: format, verify and dump dm-verity hash trees, with veritysetup's option
 * names and output, so that either tool can check what the other made. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <lethe/verity.h>

#include "cli.h"

enum {
	OPT_DATA_BS = 0x100,
	OPT_HASH_BS,
	OPT_HASH,
	OPT_SALT,
	OPT_SALT_FROM,
	OPT_HASH_OFFSET,
	OPT_DATA_BLOCKS,
	OPT_ROOT_HASH_FILE,
	OPT_THREADS,
	OPT_JSON,
	OPT_UUID,
	OPT_NO_SUPERBLOCK,
};

static const struct option options[] = {
	{ "data-block-size", required_argument, NULL, OPT_DATA_BS },
	{ "hash-block-size", required_argument, NULL, OPT_HASH_BS },
	{ "hash", required_argument, NULL, OPT_HASH },
	{ "salt", required_argument, NULL, OPT_SALT },
	{ "salt-from", required_argument, NULL, OPT_SALT_FROM },
	{ "hash-offset", required_argument, NULL, OPT_HASH_OFFSET },
	{ "data-blocks", required_argument, NULL, OPT_DATA_BLOCKS },
	{ "root-hash-file", required_argument, NULL, OPT_ROOT_HASH_FILE },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "uuid", required_argument, NULL, OPT_UUID },
	{ "no-superblock", no_argument, NULL, OPT_NO_SUPERBLOCK },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static const char usage_text[] =
	"usage: lethe verity format DATA HASH [OPTIONS]\n"
	"       lethe verity verify DATA HASH ROOTHASH [OPTIONS]\n"
	"       lethe verity dump HASH [--hash-offset N] [--json]\n"
	"\n"
	"dm-verity hash trees in veritysetup's format: the same data, block sizes and salt\n"
	"give the same root hash and the same hash file as 'veritysetup format'.\n"
	"HASH may name DATA itself: the tree then goes at --hash-offset inside it.\n"
	"\n"
	"options:\n"
	"  --hash sha256|sha512      hash algorithm (default sha256)\n"
	"  --data-block-size N       data block size, a power of two 512..65536 (4096)\n"
	"  --hash-block-size N       hash block size, a power of two 512..65536 (4096)\n"
	"  --salt HEX                salt, up to 256 bytes in hex, or '-' for none (default)\n"
	"  --salt-from SEED          salt = SHA-256(\"lethe-verity-salt-v1\\0\" SEED)\n"
	"  --hash-offset N           byte offset of the superblock in HASH (multiple of 512)\n"
	"  --data-blocks N           blocks to protect (default: DATA's size / block size,\n"
	"                            which must divide it)\n"
	"  --uuid UUID               superblock UUID (default: derived from the root hash)\n"
	"  --no-superblock           no superblock: verify then needs every parameter\n"
	"  --root-hash-file F        format: write the root hash there; verify: read it\n"
	"  --threads N               hashing threads (default: every CPU)\n"
	"  --json                    format, dump: print JSON\n"
	"  -q, --quiet               format: print nothing but errors\n"
	"\n"
	"Exit status: 0 success; 1 verification failed, or a file is corrupt, truncated,\n"
	"empty or of an unusable size; 2 usage error; 3 system error.\n";

struct verity_args {
	struct lethe_verity_params p;
	const char *root_hash_file;
	bool json;
	bool have_salt;
	bool geometry; /* an option that a superblock, when there is one, overrides */
};

static int parse_uuid(const char *s, uint8_t out[16])
{
	char hex[33];
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '-')
			continue;
		if (n == 32)
			return -EINVAL;
		hex[n++] = *s;
	}
	hex[n] = '\0';
	return n == 32 ? lethe_hex_decode(hex, out, 16) : -EINVAL;
}

static int parse_size(const char *verb, const char *name, const char *arg, unsigned long long max,
		      unsigned long long *ret)
{
	if (!cli_parse_u64(arg, 0, max, ret))
		return cli_usage_error(verb, "%s '%s' is not a number from 0 to %llu", name, arg,
				       max);
	return 0;
}

static int parse_option(int c, const char *verb, struct verity_args *a)
{
	unsigned long long v;
	int r;

	if (c == OPT_DATA_BS || c == OPT_HASH_BS || c == OPT_HASH || c == OPT_SALT ||
	    c == OPT_SALT_FROM || c == OPT_DATA_BLOCKS)
		a->geometry = true;
	switch (c) {
	case OPT_DATA_BS:
	case OPT_HASH_BS:
		if ((r = parse_size(verb, "block size", optarg, LETHE_VERITY_MAX_BLOCK_SIZE, &v)))
			return r;
		if (v < LETHE_VERITY_MIN_BLOCK_SIZE || (v & (v - 1)))
			return cli_usage_error(verb,
					       "block size %llu is not a power of two from "
					       "512 to 65536",
					       v);
		*(c == OPT_DATA_BS ? &a->p.data_block_size : &a->p.hash_block_size) = (uint32_t)v;
		return 0;
	case OPT_HASH:
		if (!lethe_verity_digest_size(optarg))
			return cli_usage_error(verb, "unsupported hash '%s' (sha256 or sha512)",
					       optarg);
		a->p.hash_name = optarg;
		return 0;
	case OPT_SALT:
	case OPT_SALT_FROM:
		if (a->have_salt)
			return cli_usage_error(verb, "give one of --salt and --salt-from");
		a->have_salt = true;
		r = c == OPT_SALT ? lethe_verity_salt_from_hex(&a->p, optarg)
				  : lethe_verity_salt_from_seed(&a->p, optarg);
		if (r < 0)
			return cli_usage_error(verb, "%s",
					       lethe_error_message_for(r)
						       ? lethe_error_message_for(r)
						       : strerror(-r));
		return 0;
	case OPT_HASH_OFFSET:
		if ((r = parse_size(verb, "hash offset", optarg, INT64_MAX / 2, &v)))
			return r;
		if (v % 512)
			return cli_usage_error(verb, "hash offset %llu is not a multiple of 512",
					       v);
		a->p.hash_offset = v;
		return 0;
	case OPT_DATA_BLOCKS:
		if ((r = parse_size(verb, "data blocks", optarg, INT64_MAX, &v)))
			return r;
		a->p.data_blocks = v;
		return 0;
	case OPT_THREADS:
		if ((r = parse_size(verb, "threads", optarg, LETHE_VERITY_MAX_THREADS, &v)))
			return r;
		a->p.threads = (unsigned)v;
		return 0;
	case OPT_ROOT_HASH_FILE:
		a->root_hash_file = optarg;
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_UUID:
		if (parse_uuid(optarg, a->p.uuid) < 0)
			return cli_usage_error(verb, "'%s' is not a UUID", optarg);
		return 0;
	case OPT_NO_SUPERBLOCK:
		a->p.no_superblock = true;
		return 0;
	case 'q':
		cli_quiet = true;
		return 0;
	default:
		return EXIT_USAGE;
	}
}

/* Options for every subcommand; returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, const char *verb, struct verity_args *a)
{
	int c, r;

	lethe_verity_params_init(&a->p);
	optind = 1;
	while ((c = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		if (c == '?')
			return cli_usage_error(verb, "unknown option");
		if ((r = parse_option(c, verb, a)))
			return r;
	}
	return -1;
}

static struct json_object *info_json(const struct lethe_verity_params *p,
				     const struct lethe_verity_info *info, const char *root_hex)
{
	struct json_object *o = json_object_new_object();
	char uuid[37], salt[2 * LETHE_VERITY_MAX_SALT_SIZE + 1];

	lethe_uuid_format(p->uuid, uuid);
	lethe_hex_encode(p->salt, p->salt_size, salt);
	if (!p->no_superblock)
		json_object_object_add(o, "uuid", json_object_new_string(uuid));
	json_object_object_add(o, "hash_type", json_object_new_int(1));
	json_object_object_add(o, "data_blocks", json_object_new_uint64(p->data_blocks));
	json_object_object_add(o, "data_block_size", json_object_new_int(p->data_block_size));
	json_object_object_add(o, "hash_blocks", json_object_new_uint64(info->hash_blocks));
	json_object_object_add(o, "hash_block_size", json_object_new_int(p->hash_block_size));
	json_object_object_add(o, "hash_algorithm", json_object_new_string(p->hash_name));
	json_object_object_add(o, "salt", json_object_new_string(salt));
	json_object_object_add(o, "hash_offset", json_object_new_uint64(p->hash_offset));
	json_object_object_add(o, "hash_device_size",
			       json_object_new_uint64(info->hash_device_size));
	if (root_hex)
		json_object_object_add(o, "root_hash", json_object_new_string(root_hex));
	return o;
}

/* veritysetup's layout, so that scripts reading one read the other. */
static void info_print(const char *hash_path, const struct lethe_verity_params *p,
		       const struct lethe_verity_info *info, const char *root_hex)
{
	char uuid[37], salt[2 * LETHE_VERITY_MAX_SALT_SIZE + 1];

	lethe_uuid_format(p->uuid, uuid);
	lethe_hex_encode(p->salt, p->salt_size, salt);
	printf("VERITY header information for %s\n", hash_path);
	if (!p->no_superblock)
		printf("UUID:            \t%s\n", uuid);
	printf("Hash type:       \t1\n");
	printf("Data blocks:     \t%llu\n", (unsigned long long)p->data_blocks);
	printf("Data block size: \t%u\n", p->data_block_size);
	printf("Hash blocks:     \t%llu\n", (unsigned long long)info->hash_blocks);
	printf("Hash block size: \t%u\n", p->hash_block_size);
	printf("Hash algorithm:  \t%s\n", p->hash_name);
	printf("Salt:            \t%s\n", p->salt_size ? salt : "-");
	if (root_hex)
		printf("Root hash:      \t%s\n", root_hex);
	printf("Hash device size: \t%llu [bytes]\n", (unsigned long long)info->hash_device_size);
}

/* Do a and b name one file (as lethe_verity_format() decides it)? */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return true;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static int do_format(int argc, char **argv)
{
	struct verity_args a = { 0 };
	struct lethe_verity_info info = { 0 };
	uint8_t root[LETHE_VERITY_MAX_DIGEST_SIZE];
	char root_hex[2 * LETHE_VERITY_MAX_DIGEST_SIZE + 1];
	size_t ds;
	int r = parse_args(argc, argv, "verity format", &a);

	if (r >= 0)
		return r;
	if (argc - optind != 2)
		return cli_usage_error("verity format", "expected DATA and HASH");
	/* The tree inside DATA needs to know where the data ends: a missing option is a
	 * usage error, not a failed check. */
	if (same_file(argv[optind], argv[optind + 1]) && !a.p.data_blocks && !a.p.hash_offset)
		return cli_usage_error("verity format",
				       "HASH is DATA: give --hash-offset (or --data-blocks)");
	r = lethe_verity_format(argv[optind], argv[optind + 1], &a.p, root, sizeof(root));
	if (r < 0)
		return cli_fail(r, "format");
	ds = lethe_verity_digest_size(a.p.hash_name);
	lethe_hex_encode(root, ds, root_hex);
	if (a.root_hash_file &&
	    (r = lethe_file_write_atomic(a.root_hash_file, root_hex, 2 * ds, 0644)) < 0)
		return cli_fail(r, a.root_hash_file);
	if ((r = lethe_verity_layout(&a.p, &info)) < 0)
		return cli_fail(r, "layout");
	if (a.json)
		cli_json_print(info_json(&a.p, &info, root_hex));
	else if (!cli_quiet)
		info_print(argv[optind + 1], &a.p, &info, root_hex);
	return EXIT_OK;
}

static int read_root_hash(const struct verity_args *a, const char *arg, uint8_t *root,
			  size_t *ret_len)
{
	char *data = NULL;
	size_t len;
	int r;

	if (a->root_hash_file) {
		r = lethe_file_read(a->root_hash_file, 4096, &data, &len);
		if (r < 0)
			return cli_fail(r, a->root_hash_file);
		while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
			data[--len] = '\0';
		arg = data;
	}
	len = strlen(arg);
	r = (len != 64 && len != 128) || lethe_hex_decode(arg, root, len / 2) < 0;
	free(data);
	if (r)
		return cli_usage_error("verity verify", "root hash is not 64 or 128 hex digits");
	*ret_len = len / 2;
	return 0;
}

static int do_verify(int argc, char **argv)
{
	struct verity_args a = { 0 };
	uint8_t root[LETHE_VERITY_MAX_DIGEST_SIZE];
	size_t root_len = 0;
	int r = parse_args(argc, argv, "verity verify", &a);

	if (r >= 0)
		return r;
	if (argc - optind != 3 - (a.root_hash_file != NULL))
		return cli_usage_error("verity verify", "expected DATA, HASH and ROOTHASH");
	if ((r = read_root_hash(&a, argv[optind + 2], root, &root_len)))
		return r;
	if (a.geometry && !a.p.no_superblock)
		cli_warning("hash, block sizes, salt and data blocks come from the superblock; "
			    "the options given for them are ignored (they count only with "
			    "--no-superblock)");
	r = lethe_verity_verify(argv[optind], argv[optind + 1], root, root_len, &a.p);
	if (r < 0)
		return cli_fail(r, "verify");
	if (!cli_quiet)
		fprintf(stderr, "'%s' verified: every data block matches the root hash\n",
			argv[optind]);
	return EXIT_OK;
}

static int do_dump(int argc, char **argv)
{
	struct verity_args a = { 0 };
	struct lethe_verity_info info;
	struct lethe_verity_params p;
	int r = parse_args(argc, argv, "verity dump", &a);

	if (r >= 0)
		return r;
	if (argc - optind != 1)
		return cli_usage_error("verity dump", "expected HASH");
	r = lethe_verity_dump(argv[optind], a.p.hash_offset, &info);
	if (r < 0)
		return cli_fail(r, "dump");
	lethe_verity_params_init(&p);
	lethe_verity_params_from_superblock(&p, &info.sb);
	p.hash_offset = a.p.hash_offset;
	if (a.json)
		cli_json_print(info_json(&p, &info, NULL));
	else
		info_print(argv[optind], &p, &info, NULL);
	return EXIT_OK;
}

int cmd_verity(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "format"))
		return do_format(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return do_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "dump"))
		return do_dump(argc - 1, argv + 1);
	return cli_usage_error("verity", "unknown subcommand '%s' (format, verify or dump)",
			       argv[1]);
}
