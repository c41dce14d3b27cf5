/*
 * replay_main.c — a main() for the harnesses without libFuzzer: runs
 * LLVMFuzzerTestOneInput once on every file named (directories: on every
 * file in them).  Built without sanitizers (make -C test/fuzz replay) so
 * that test/check-memory.sh can run the corpora under valgrind.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t		LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* fuzz_program's custom mutator refers to it; never called when replaying */
size_t
LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size)
{
	return size;
}

static long replayed;

static void
replay_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf;
	long		len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0)
	{
		perror(path);
		exit(2);
	}
	rewind(f);
	buf = malloc(len ? (size_t) len : 1);
	if (buf == NULL || fread(buf, 1, (size_t) len, f) != (size_t) len)
	{
		perror(path);
		exit(2);
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t) len);
	free(buf);
	replayed++;
}

static void
replay_path(const char *path)
{
	struct stat st;
	DIR		   *d;
	struct dirent *e;

	if (stat(path, &st) != 0)
	{
		perror(path);
		exit(2);
	}
	if (!S_ISDIR(st.st_mode))
	{
		replay_file(path);
		return;
	}
	d = opendir(path);
	while (d && (e = readdir(d)) != NULL)
	{
		char		sub[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		replay_path(sub);
	}
	if (d)
		closedir(d);
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		replay_path(argv[i]);
	printf("replayed %ld inputs\n", replayed);
	return 0;
}
