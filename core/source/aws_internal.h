/*
 * aws_internal.h - what the files of the AWS credential chain (awscred.h)
 * share, inside core/source/ only.  They call in one direction, top down:
 *
 *   awscred.c       the chain, the environment, refreshing temporary keys,
 *                   awscred_open/get/origin/free
 *   aws_profile.c   the shared credentials and config files (INI), aws_region()
 *   aws_metadata.c  container credentials and IMDSv2, over a small libcurl
 *                   helper; their answers read with aws_json.c
 *   aws_json.c      the strict JSON member reader, the ISO 8601 time parser
 *
 * Keys are checked to be printable ASCII (key_ok), so that nothing from
 * a file or a server can end a header line.  No secret is ever written into
 * an error message: those name variables, files and endpoints.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_AWS_INTERNAL_H
#define DUMPFS_AWS_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source/awscred.h"

#define MAX_PATH 4096           /* the longest path of a credentials or config file */

/* ---- small helpers every part uses ----------------------------------------- */

/* A variable's value; NULL when unset or empty, as the AWS CLI takes it. */
static inline const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* Set the error text @err (NULL or empty: none wanted). */
static inline void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Append to the text in @buf (always terminated). */
static inline void addf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void addf(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	if (used + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* A key, secret or token: printable ASCII, no spaces, not empty. */
static inline bool key_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

/* Copy the key @src into @dst[@n]; false if it does not fit or is not key_ok. */
static inline bool put_key(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);
	if (len >= n || !key_ok(src))
		return false;
	memcpy(dst, src, len + 1);
	return true;
}

/* Clear memory that held a secret, in a way the compiler keeps. */
static inline void wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

/* ---- aws_profile.c ----------------------------------------------------------- */

/* 1: keys from the profile (@profile, else AWS_PROFILE, else "default") into
 * @k and where they came from into @origin; 0: none, why appended to @tried;
 * -1: an error in @err. */
int aws_profile_keys(const char *profile, struct aws_keys *k, char *origin, size_t originlen,
		     char *tried, size_t triedlen, char *err, size_t errlen);

/* ---- aws_json.c -------------------------------------------------------------- */

/* A top-level string member asked of json_string_members(). */
struct json_member {
	const char *name;
	char *out;
	size_t outlen;
	bool found;
};

/* Fill @f from the object in [p, end): each a string member found once;
 * false if the text is not one object, or a field is repeated, not a
 * string, not ASCII or too long. */
bool json_string_members(const char *p, const char *end, struct json_member *f, size_t nf);

/* "2026-12-01T12:34:56Z", fractions of a second and "+HH:MM" allowed. */
bool iso8601_time(const char *s, time_t *out);

/* ---- aws_metadata.c ---------------------------------------------------------- */

/* Where temporary keys are fetched (again): container or instance metadata. */
struct aws_endpoint {
	char url[2048];                 /* container: the full URL; IMDS: the endpoint */
	const char *url_var;            /* the variable that named the container URL */
	char *auth_token;               /* AWS_CONTAINER_AUTHORIZATION_TOKEN, or NULL */
	char *token_file;               /* AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read at each fetch), or NULL */
};

/* 1: @ep is set up for container credentials; 0: no variable set; -1: bad. */
int aws_container_setup(struct aws_endpoint *ep, char *err, size_t errlen);
/* Keys and their Expiration (0: none) from the container endpoint @ep. */
bool aws_container_fetch(const struct aws_endpoint *ep, struct aws_keys *k, time_t *expires, char *why, size_t whylen);
/* Whether AWS_EC2_METADATA_DISABLED=true. */
bool aws_imds_disabled(void);
/* Set @ep up for the instance metadata endpoint; false if its variable is bad. */
bool aws_imds_setup(struct aws_endpoint *ep);
/* Keys from the instance's role through IMDSv2; *unreachable when the
 * endpoint did not answer the token PUT at all. */
bool aws_imds_fetch(const struct aws_endpoint *ep, struct aws_keys *k, time_t *expires, bool *unreachable,
		    char *why, size_t whylen);

#endif /* DUMPFS_AWS_INTERNAL_H */
