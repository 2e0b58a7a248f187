/*
 * sigv4.h - AWS Signature Version 4 of an S3 GET (sigv4.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_SIGV4_H
#define DUMPFS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

struct sigv4_request {
	const char *host;               /* "bucket.s3.amazonaws.com" (virtual-hosted) or the endpoint */
	const char *path;               /* "/key" or "/bucket/key" (path-style), not yet encoded */
	const char *query;              /* canonical query string, or NULL */
	const char *range;              /* "bytes=0-9", or NULL */
	const char *if_match;           /* the object's ETag, or NULL */
	const char *amz_date;           /* "20130524T000000Z" */
	const char *region, *service;   /* "us-east-1", "s3" */
	const char *access_key, *secret_key;
	const char *session_token;      /* temporary credentials' token, or NULL */
	const char *payload_sha256;     /* sigv4_empty_sha256 for a GET */
};

extern const char sigv4_empty_sha256[];

/* The Authorization header's value for @r into @out; false if a part is
 * too long or libcrypto fails. */
bool sigv4_authorization(const struct sigv4_request *r, char *out, size_t outlen);

#endif /* DUMPFS_SIGV4_H */
