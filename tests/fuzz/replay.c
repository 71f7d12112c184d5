/* The fuzz corpus as a regression test: a main for a harness built without libFuzzer. Feeds
 * every file named (every file in a directory named, in name order) to
 * LLVMFuzzerTestOneInput and prints TAP, one point per file. A broken invariant aborts: the
 * points missing from the plan say where it stopped. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util.h"

/* The paths of the files to run, from argv. */
struct files {
	char **path;
	size_t n, cap;
};

static void files_add(struct files *f, const char *path)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->path = xrealloc(f->path, f->cap * sizeof(*f->path));
	}
	f->path[f->n++] = xstrdup(path);
}

static int files_collect(struct files *f, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		files_add(f, path);
		return 0;
	}
	struct dirent **ent;
	int n = scandir(path, &ent, NULL, alphasort);
	if (n < 0) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (ent[i]->d_name[0] != '.') {
			char *p = xmalloc(strlen(path) + strlen(ent[i]->d_name) + 2);
			sprintf(p, "%s/%s", path, ent[i]->d_name);
			files_add(f, p);
			free(p);
		}
		free(ent[i]);
	}
	free(ent);
	return 0;
}

/* The whole file; NULL with errno set on failure. */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	struct buf b = {0};
	char chunk[4096];
	size_t n;
	buf_reserve(&b, 0); /* an empty file is a valid pointer and no bytes */
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	int failed = ferror(fp);
	fclose(fp);
	if (failed) {
		buf_free(&b);
		errno = EIO;
		return NULL;
	}
	*len = b.len;
	return (uint8_t *)b.data;
}

int main(int argc, char **argv)
{
	struct files f = {0};
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (files_collect(&f, argv[i]) < 0)
			return 1;
	printf("1..%zu\n", f.n);
	fflush(stdout);
	for (size_t i = 0; i < f.n; i++) {
		size_t len = 0;
		uint8_t *data = read_file(f.path[i], &len);
		if (!data) {
			printf("not ok %zu - %s: %s\n", i + 1, f.path[i], strerror(errno));
			status = 1;
		} else {
			LLVMFuzzerTestOneInput(data, len);
			printf("ok %zu - %s (%zu bytes)\n", i + 1, f.path[i], len);
		}
		fflush(stdout);
		free(data);
		free(f.path[i]);
	}
	free(f.path);
	return status;
}
