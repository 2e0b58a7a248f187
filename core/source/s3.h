/*
 * s3.h - signing a remote source's requests to S3 (s3.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_S3_H
#define DUMPFS_S3_H

#include "source/remote.h"

struct curl_slist;
struct s3_signer;

/* The region an s3:// name is read in: -o s3_region=, else AWS_REGION,
 * AWS_DEFAULT_REGION or the profile's, else us-east-1. */
void s3_region(const struct dumpfs_remote *opts, char *out, size_t outlen);
/* A signer for @u with the credentials of AWS's chain; fails, saying what
 * was tried, if the chain gives none. */
enum dumpfs_status s3_signer_new(struct s3_signer **out, const struct remote_url *u,
				 const struct dumpfs_remote *opts, char *err, size_t errlen);
/* Append x-amz-date, x-amz-content-sha256, the session token and
 * Authorization for a GET of @range (and @if_match, if not NULL) now. */
bool s3_sign(struct s3_signer *s, const char *range, const char *if_match,
	     struct curl_slist **headers, char *err, size_t errlen);
const char *s3_signer_origin(const struct s3_signer *s);
void s3_signer_free(struct s3_signer *s);

#endif /* DUMPFS_S3_H */
