/*
 * replay.c - run a fuzz harness over files without libFuzzer, so that the
 * crash reproducers (tests/fuzz/regress/) and the seed corpus run in every
 * `meson test`, with gcc and under build-asan's sanitizers too.
 *
 *   fuzz-replay-FORMAT FILE|DIR...     (a DIR: every file in it)
 *
 * Prints how many inputs ran; a broken promise aborts, as under libFuzzer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static void run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f || fstat(fileno(f), &st) < 0) {
		perror(path);
		exit(2);
	}
	size_t len = (size_t)st.st_size;
	uint8_t *data = malloc(len ? len : 1);
	if (!data || fread(data, 1, len, f) != len) {
		perror(path);
		exit(2);
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, len);
	free(data);
}

/* Returns the number of inputs run. */
static unsigned run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		perror(path);
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return 1;
	}
	unsigned n = 0;
	DIR *dir = opendir(path);
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		n += run_path(sub);
	}
	if (dir)
		closedir(dir);
	return n;
}

int main(int argc, char **argv)
{
	unsigned n = 0;
	for (int i = 1; i < argc; i++)
		n += run_path(argv[i]);
	printf("%u inputs replayed\n", n);
	return n ? 0 : 1;
}
