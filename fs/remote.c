/*
 * remote.c - the -o options that say how to reach a dump given as a URL,
 * shared by the mount and by info and cat.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_TIMEOUT 3600
#define MAX_RETRIES 20

/* @path made absolute, without requiring it to exist (a cache directory
 * is made on first use): the daemon leaves the working directory. */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	if (path[0] == '/' || strstr(path, "://"))
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	size_t n = strlen(cwd) + strlen(path) + 2;
	char *abs = malloc(n);
	if (abs)
		snprintf(abs, n, "%s/%s", cwd, path);
	return abs;
}

static bool number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return *s >= '0' && *s <= '9' && !*end && !errno && *out <= max;
}

int remote_option(struct remote_args *r, const char *o)
{
	static const struct { const char *name; size_t field; bool path; } strings[] = {
		{ "s3_endpoint=", offsetof(struct dumpfs_remote, s3_endpoint), false },
		{ "s3_region=", offsetof(struct dumpfs_remote, s3_region), false },
		{ "s3_addressing=", offsetof(struct dumpfs_remote, s3_addressing), false },
		{ "aws_profile=", offsetof(struct dumpfs_remote, aws_profile), false },
		{ "ca_file=", offsetof(struct dumpfs_remote, ca_file), true },
		{ "cache_dir=", offsetof(struct dumpfs_remote, cache_dir), true },
	};
	const char *eq = strchr(o, '=');
	unsigned long n;

	for (size_t i = 0; i < sizeof(strings) / sizeof(*strings); i++) {
		size_t len = strlen(strings[i].name);
		if (strncmp(o, strings[i].name, len))
			continue;
		if (!o[len] || r->nkept == REMOTE_ARGS_MAX) {
			fprintf(stderr, "dumpfs: %s needs a value\n", strings[i].name);
			return -1;
		}
		char *v = strings[i].path ? absolute(o + len) : strdup(o + len);
		if (!v)
			return -1;
		r->kept[r->nkept++] = v;
		*(const char **)((char *)&r->remote + strings[i].field) = v;
		return 1;
	}
	if (!strcmp(o, "s3_no_sign")) {
		r->remote.s3_no_sign = true;
	} else if (!strncmp(o, "remote_cache=", 13)) {
		uint64_t bytes;
		if (parse_size(o + 13, &bytes) < 0 || bytes > SIZE_MAX) {
			fprintf(stderr, "dumpfs: bad remote_cache '%s'\n", o + 13);
			return -1;
		}
		r->remote.cache_bytes = (size_t)bytes;
	} else if (!strncmp(o, "timeout=", 8)) {
		if (!number(eq + 1, MAX_TIMEOUT, &n) || !n) {
			fprintf(stderr, "dumpfs: bad timeout '%s' (1 to %d seconds)\n", eq + 1, MAX_TIMEOUT);
			return -1;
		}
		r->remote.timeout = (unsigned)n;
	} else if (!strncmp(o, "retries=", 8)) {
		if (!number(eq + 1, MAX_RETRIES, &n)) {
			fprintf(stderr, "dumpfs: bad retries '%s' (0 to %d)\n", eq + 1, MAX_RETRIES);
			return -1;
		}
		r->remote.retries = n ? (int)n : -1;
	} else {
		return 0;
	}
	return 1;
}

int remote_options(struct remote_args *r, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	int rc = copy ? 0 : -1;
	for (char *o = copy ? strtok_r(copy, ",", &save) : NULL; o && rc == 0; o = strtok_r(NULL, ",", &save)) {
		int mine = remote_option(r, o);
		if (mine == 0)
			fprintf(stderr, "dumpfs: -o %s: not an option of info or cat (see dumpfs(1))\n", o);
		rc = mine == 1 ? 0 : -1;
	}
	free(copy);
	return rc;
}

void remote_args_free(struct remote_args *r)
{
	for (size_t i = 0; i < r->nkept; i++)
		free(r->kept[i]);
	r->nkept = 0;
}
