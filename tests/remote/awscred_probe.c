/*
 * awscred_probe.c - resolve the AWS credential chain (core/source/awscred.c)
 * as dumpfs would and say what came of it, for tests/remote/awscred.py:
 * the origin, the access key id and whether there is a session token; never
 * the secret.
 *
 *   awscred_probe [--profile NAME] [--container-host URL] [--again SECONDS]...
 *
 * Each --again sleeps that long and asks for the keys again (a refresh when
 * they expire soon).  Exit 1 when the chain gives nothing, 2 when a later
 * awscred_get fails; the error on stderr.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/awscred.h"

static void show(const struct aws_keys *k)
{
	printf("access_key: %s\nsession_token: %s\n", k->access_key, k->session_token[0] ? "yes" : "no");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *profile = NULL;
	int i = 1;
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--profile") == 0)
			profile = argv[i + 1];
		else if (strcmp(argv[i], "--container-host") == 0)
			awscred_container_host = argv[i + 1];
		else if (strcmp(argv[i], "--again") == 0)
			break;
		else
			goto usage;
	}
	struct awscred *c;
	struct aws_keys k;
	char err[1024];
	if (awscred_open(&c, profile, err, sizeof(err)) != DUMPFS_OK) {
		fprintf(stderr, "error: %s\n", err);
		return 1;
	}
	printf("origin: %s\n", awscred_origin(c));
	if (awscred_get(c, &k, err, sizeof(err)) != DUMPFS_OK) {
		fprintf(stderr, "error: %s\n", err);
		awscred_free(c);
		return 2;
	}
	show(&k);
	for (; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--again") != 0) {
			awscred_free(c);
			goto usage;
		}
		usleep((useconds_t)(atof(argv[i + 1]) * 1e6));
		if (awscred_get(c, &k, err, sizeof(err)) != DUMPFS_OK) {
			fprintf(stderr, "error: %s\n", err);
			awscred_free(c);
			return 2;
		}
		show(&k);
	}
	awscred_free(c);
	return 0;
usage:
	fprintf(stderr, "usage: awscred_probe [--profile NAME] [--container-host URL] [--again SECONDS]...\n");
	return 64;
}
