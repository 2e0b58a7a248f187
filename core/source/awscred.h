/*
 * awscred.h - AWS credentials for signing S3 reads (awscred.c): the chain
 * the AWS CLI and SDKs walk, and the region.
 *
 * The chain, first that gives keys wins:
 *  1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *  2. the profile (@profile, else AWS_PROFILE, else "default"): "[NAME]" of
 *     AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, then "[profile NAME]"
 *     ("[default]" too) of AWS_CONFIG_FILE or ~/.aws/config; a key of the
 *     credentials file wins over the same key of the config file;
 *  3. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
 *     http://169.254.170.2), or AWS_CONTAINER_CREDENTIALS_FULL_URI with the
 *     Authorization header from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN;
 *  4. the EC2 instance's role through IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT,
 *     default http://169.254.169.254), unless AWS_EC2_METADATA_DISABLED=true.
 * Profiles that assume roles, SSO and credential_process are not supported
 * (named in the error).  Presigned URLs need no credentials at all.
 *
 * No secret is ever written into an error message: those name variables,
 * files and endpoints.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_AWSCRED_H
#define DUMPFS_AWSCRED_H

#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"

struct aws_keys {
	char access_key[128];
	char secret_key[128];
	char session_token[4096];       /* "" for long-term keys */
};

/* Resolved credentials; awscred_get() may be called from many threads. */
struct awscred;

/* Walk the chain for @profile (NULL: AWS_PROFILE, else "default").  On
 * failure @err says, on one line, what was tried and why each gave nothing.
 * A profile named by @profile or AWS_PROFILE that no file has is an error,
 * as with the AWS CLI. */
enum dumpfs_status awscred_open(struct awscred **out, const char *profile, char *err, size_t errlen);

/* The current keys into @out.  Temporary ones (container, instance) are
 * fetched again when they expire in under 5 minutes; if that fails the old
 * ones are kept until they really expire. */
enum dumpfs_status awscred_get(struct awscred *c, struct aws_keys *out, char *err, size_t errlen);

/* Where the keys come from, for /header: "environment", "profile NAME (FILE)",
 * "container" or "instance metadata (IMDSv2)". */
const char *awscred_origin(const struct awscred *c);

void awscred_free(struct awscred *c);

/* The region: AWS_REGION, AWS_DEFAULT_REGION, or the profile's "region" in
 * the config file (@profile as for awscred_open); false if none. */
bool aws_region(const char *profile, char *out, size_t outlen);

/* Where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is appended to
 * ("http://169.254.170.2"); tests point it at a stub. */
extern const char *awscred_container_host;

#endif /* DUMPFS_AWSCRED_H */
