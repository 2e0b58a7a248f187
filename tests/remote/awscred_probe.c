/*
 * awscred_probe.c - resolve the AWS credential chain (core/source/awscred.c)
 * as dumpfs would and say what came of it, for tests/remote/awscred.py:
 * the origin, the access key id and whether there is a session token; never
 * the secret.
 *
 *   awscred_probe [--profile NAME] [--container-host URL] [--threads N]
 *                 [--again SECONDS]...
 *
 * Each --again sleeps that long and asks for the keys again (a refresh when
 * they expire soon); with --threads, N threads ask all through the sleep and
 * check that every answer is one whole set of keys (the stub's numbered
 * key id, secret and token agree), printing "threads: N consistent: yes".
 * Exit 1 when the chain gives nothing, 2 when a later awscred_get fails;
 * the error on stderr.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/awscred.h"

/* Ask for the keys and print them; false (the error on stderr) if that fails. */
static bool show(struct awscred *c)
{
	struct aws_keys k;
	char err[1024];
	if (awscred_get(c, &k, err, sizeof(err)) != DUMPFS_OK) {
		fprintf(stderr, "error: %s\n", err);
		return false;
	}
	printf("access_key: %s\nsession_token: %s\n", k.access_key, k.session_token[0] ? "yes" : "no");
	fflush(stdout);
	return true;
}

static struct awscred *shared;
static atomic_bool stop, torn, failed;

/* The stub's keys end in the same four digits: ASIASTUB0002, STUBSECRET0002/k+y, ... */
static bool whole(const struct aws_keys *k)
{
	const char *id = strstr(k->access_key, "STUB"), *secret = strstr(k->secret_key, "STUBSECRET");
	const char *token = strstr(k->session_token, "STUBSESSIONTOKEN");
	if (!id || !secret || !token)
		return true;    /* not the stub's keys: nothing to compare */
	return strncmp(id + 4, secret + 10, 4) == 0 && strncmp(id + 4, token + 16, 4) == 0;
}

static void *asker(void *arg)
{
	(void)arg;
	while (!stop) {
		struct aws_keys k;
		char err[512];
		if (awscred_get(shared, &k, err, sizeof(err)) != DUMPFS_OK)
			failed = true;
		else if (!whole(&k))
			torn = true;
		usleep(1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *profile = NULL;
	int threads = 0;
	pthread_t tids[64];
	int i = 1;
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--profile") == 0)
			profile = argv[i + 1];
		else if (strcmp(argv[i], "--container-host") == 0)
			awscred_container_host = argv[i + 1];
		else if (strcmp(argv[i], "--threads") == 0 && atoi(argv[i + 1]) > 0 && atoi(argv[i + 1]) <= 64)
			threads = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--again") == 0)
			break;
		else
			goto usage;
	}
	struct awscred *c;
	char err[1024];
	if (awscred_open(&c, profile, err, sizeof(err)) != DUMPFS_OK) {
		fprintf(stderr, "error: %s\n", err);
		return 1;
	}
	printf("origin: %s\n", awscred_origin(c));
	int rc = show(c) ? 0 : 2, started = 0;
	shared = c;
	while (rc == 0 && started < threads && pthread_create(&tids[started], NULL, asker, NULL) == 0)
		started++;
	if (rc == 0 && started < threads)
		rc = 3;
	for (; rc == 0 && i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--again") != 0) {
			rc = 64;
			break;
		}
		usleep((useconds_t)(atof(argv[i + 1]) * 1e6));
		if (!show(c))
			rc = 2;
	}
	stop = true;
	for (int t = 0; t < started; t++)
		pthread_join(tids[t], NULL);
	if (threads && rc == 0)
		printf("threads: %d consistent: %s failed: %s\n", threads, torn ? "no" : "yes", failed ? "yes" : "no");
	awscred_free(c);
	if (rc != 64)
		return rc;
usage:
	fprintf(stderr, "usage: awscred_probe [--profile NAME] [--container-host URL] [--threads N] [--again SECONDS]...\n");
	return 64;
}
