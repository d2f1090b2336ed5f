/* Replays a fuzz target's corpus as an ordinary test: every file of the directories
 * given goes through LLVMFuzzerTestOneInput once. Fails if there is no input at all. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	char *data;
	size_t len;
	int r = lethe_file_read(path, 64u << 20, &data, &len);

	if (r < 0) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		return r;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned count = 0;

	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);

		if (!d) {
			if (replay_file(argv[i]) < 0)
				return 1;
			count++;
			continue;
		}
		for (struct dirent *e; (e = readdir(d));) {
			if (e->d_name[0] == '.')
				continue;
			char *path = lethe_path_join(argv[i], e->d_name);

			if (!path || replay_file(path) < 0)
				return 1;
			free(path);
			count++;
		}
		closedir(d);
	}
	printf("replayed %u inputs\n", count);
	return count > 0 ? 0 : 1;
}
