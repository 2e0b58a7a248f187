/*
 * awscred.c - AWS credentials for signing S3 reads: the environment, the
 * shared credentials and config files (aws_profile.c), container
 * credentials and the EC2 instance's role through IMDSv2 (aws_metadata.c),
 * in the AWS CLI's order (awscred.h).
 *
 * Temporary keys (container, instance) carry an Expiration; awscred_get()
 * fetches them again from the same place when they expire in under five
 * minutes.  One thread fetches while the others keep signing with the old
 * keys; if the fetch fails the old keys stay until they really expire.
 * Fetches are FETCH_INTERVAL seconds apart at least while the keys are
 * valid, so that keys handed out for less than five minutes, or an
 * endpoint that fails, are not asked for at every request.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source/aws_internal.h"

#define REFRESH_BEFORE 300      /* seconds before Expiration that keys are fetched again */
#define FETCH_INTERVAL 5        /* seconds at least between fetches while the keys are valid */

enum kind { FROM_ENV, FROM_PROFILE, FROM_CONTAINER, FROM_IMDS };

struct awscred {
	enum kind kind;
	char origin[MAX_PATH + 160];
	struct aws_endpoint from;       /* where temporary keys are fetched again */

	pthread_mutex_t lock;
	pthread_cond_t fetched;
	bool fetching;
	struct aws_keys keys;
	time_t expires;                 /* 0: never */
	time_t next_fetch;              /* no fetch before while the keys are valid */
	bool failed;                    /* the last fetch failed: last_error says why */
	char last_error[ERRMSG_MAX];
};

/* ---- the chain ------------------------------------------------------------- */

static bool fetch(const struct awscred *c, struct aws_keys *k, time_t *expires, char *why, size_t whylen)
{
	bool unreachable;
	if (c->kind == FROM_CONTAINER)
		return aws_container_fetch(&c->from, k, expires, why, whylen);
	return aws_imds_fetch(&c->from, k, expires, &unreachable, why, whylen);
}

/* 1: keys from the environment; 0: none set; -1: half set. */
static int from_env(struct awscred *c, char *err, size_t errlen)
{
	const char *id = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
	const char *token = env("AWS_SESSION_TOKEN");
	if (!id && !secret)
		return 0;
	if (!id || !secret) {
		seterr(err, errlen, "%s is set but %s is not", id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		       id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
		return -1;
	}
	if (!put_key(c->keys.access_key, sizeof(c->keys.access_key), id) ||
	    !put_key(c->keys.secret_key, sizeof(c->keys.secret_key), secret) ||
	    (token && !put_key(c->keys.session_token, sizeof(c->keys.session_token), token))) {
		seterr(err, errlen, "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN is too long "
		       "or not printable ASCII");
		return -1;
	}
	snprintf(c->origin, sizeof(c->origin), "environment");
	c->kind = FROM_ENV;
	return 1;
}

static int chain(struct awscred *c, const char *profile, char *err, size_t errlen)
{
	char tried[1536] = "";
	int r = from_env(c, err, errlen);
	if (r)
		return r;
	addf(tried, sizeof(tried), "environment: AWS_ACCESS_KEY_ID not set; ");
	if ((r = aws_profile_keys(profile, &c->keys, c->origin, sizeof(c->origin), tried, sizeof(tried), err,
				  errlen))) {
		c->kind = FROM_PROFILE;
		return r;
	}
	char why[ERRMSG_MAX];
	if ((r = aws_container_setup(&c->from, err, errlen)) < 0)
		return r;
	if (r) {
		snprintf(c->origin, sizeof(c->origin), "container");
		c->kind = FROM_CONTAINER;
		if (aws_container_fetch(&c->from, &c->keys, &c->expires, why, sizeof(why)))
			return 1;
		seterr(err, errlen, "no AWS credentials: %s%s", tried, why);
		return -1;
	}
	addf(tried, sizeof(tried), "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set; ");
	if (aws_imds_disabled()) {
		seterr(err, errlen, "no AWS credentials: %sinstance metadata: AWS_EC2_METADATA_DISABLED=true", tried);
		return -1;
	}
	if (!aws_imds_setup(&c->from)) {
		seterr(err, errlen, "no AWS credentials: %sinstance metadata: AWS_EC2_METADATA_SERVICE_ENDPOINT "
		       "is too long or has spaces", tried);
		return -1;
	}
	snprintf(c->origin, sizeof(c->origin), "instance metadata (IMDSv2)");
	c->kind = FROM_IMDS;
	bool unreachable;
	if (aws_imds_fetch(&c->from, &c->keys, &c->expires, &unreachable, why, sizeof(why)))
		return 1;
	seterr(err, errlen, "no AWS credentials: %s%s", tried, why);
	return -1;
}

enum dumpfs_status awscred_open(struct awscred **out, const char *profile, char *err, size_t errlen)
{
	*out = NULL;
	struct awscred *c = calloc(1, sizeof(*c));
	if (!c) {
		seterr(err, errlen, "out of memory");
		return DUMPFS_ERR_NOMEM;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->fetched, NULL);
	if (chain(c, profile, err, errlen) < 0) {
		awscred_free(c);
		return DUMPFS_ERR_INVALID;
	}
	c->next_fetch = time(NULL) + FETCH_INTERVAL;
	*out = c;
	return DUMPFS_OK;
}

enum dumpfs_status awscred_get(struct awscred *c, struct aws_keys *out, char *err, size_t errlen)
{
	pthread_mutex_lock(&c->lock);
	for (;;) {
		time_t now = time(NULL);
		bool valid = !c->expires || now < c->expires;
		if (!c->expires || now + REFRESH_BEFORE < c->expires)
			break;
		if (c->fetching) {
			if (valid)
				break;
			pthread_cond_wait(&c->fetched, &c->lock);
			continue;
		}
		if (now < c->next_fetch && (valid || c->failed)) {
			if (valid)
				break;
			seterr(err, errlen, "AWS credentials from %s expired: %s", c->origin, c->last_error);
			pthread_mutex_unlock(&c->lock);
			return DUMPFS_ERR_IO;
		}
		/* fetch without the lock: the others sign with the old keys meanwhile */
		c->fetching = true;
		pthread_mutex_unlock(&c->lock);
		struct aws_keys *k = malloc(sizeof(*k));
		time_t expires = 0;
		char why[ERRMSG_MAX] = "out of memory";
		bool ok = k && fetch(c, k, &expires, why, sizeof(why));
		pthread_mutex_lock(&c->lock);
		c->fetching = false;
		pthread_cond_broadcast(&c->fetched);
		c->next_fetch = time(NULL) + FETCH_INTERVAL;
		c->failed = !ok;
		if (ok) {
			c->keys = *k;
			c->expires = expires;
		} else {
			snprintf(c->last_error, sizeof(c->last_error), "%s", why);
		}
		if (k)
			wipe(k, sizeof(*k));
		free(k);
		if (!ok && time(NULL) >= c->expires) {
			seterr(err, errlen, "AWS credentials from %s expired: %s", c->origin, why);
			pthread_mutex_unlock(&c->lock);
			return DUMPFS_ERR_IO;
		}
		break;
	}
	*out = c->keys;
	pthread_mutex_unlock(&c->lock);
	return DUMPFS_OK;
}

const char *awscred_origin(const struct awscred *c)
{
	return c->origin;
}

void awscred_free(struct awscred *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->fetched);
	if (c->from.auth_token) {
		wipe(c->from.auth_token, strlen(c->from.auth_token));
		free(c->from.auth_token);
	}
	free(c->from.token_file);
	wipe(c, sizeof(*c));
	free(c);
}
