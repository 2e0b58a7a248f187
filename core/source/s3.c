/*
 * s3.c - S3 requests signed with Signature Version 4 in our own code
 * (sigv4.c): curl 7.88's CURLOPT_AWS_SIGV4 leaves out
 * x-amz-content-sha256, which S3 requires.  Each attempt is signed anew
 * (the date is part of the signature, and temporary keys are renewed by
 * awscred.c), and Range and If-Match are signed with it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "source/awscred.h"
#include "source/s3.h"
#include "source/sigv4.h"

#define DEFAULT_REGION "us-east-1"

struct s3_signer {
	struct awscred *cred;
	char *host, *path;
	char region[64];
};

void s3_region(const struct dumpfs_remote *opts, char *out, size_t outlen)
{
	if (opts && opts->s3_region)
		snprintf(out, outlen, "%s", opts->s3_region);
	else if (!aws_region(opts ? opts->aws_profile : NULL, out, outlen))
		snprintf(out, outlen, "%s", DEFAULT_REGION);
}

enum dumpfs_status s3_signer_new(struct s3_signer **out, const struct remote_url *u,
				 const struct dumpfs_remote *opts, char *err, size_t errlen)
{
	struct s3_signer *s = calloc(1, sizeof(*s));
	char why[ERRMSG_MAX];
	*out = s;
	if (!s || !(s->host = strdup(u->host)) || !(s->path = strdup(u->path)))
		return DUMPFS_ERR_NOMEM;
	snprintf(s->region, sizeof(s->region), "%s", u->region);
	enum dumpfs_status st = awscred_open(&s->cred, opts->aws_profile, why, sizeof(why));
	if (st != DUMPFS_OK)
		snprintf(err, errlen, "%s: no AWS credentials (%s); -o s3_no_sign reads a public bucket",
			 u->name, why);
	return st;
}

static bool append(struct curl_slist **headers, const char *name, const char *value)
{
	char h[4200];
	if (snprintf(h, sizeof(h), "%s: %s", name, value) >= (int)sizeof(h))
		return false;
	struct curl_slist *l = curl_slist_append(*headers, h);
	if (l)
		*headers = l;
	return l != NULL;
}

bool s3_sign(struct s3_signer *s, const char *range, const char *if_match,
	     struct curl_slist **headers, char *err, size_t errlen)
{
	struct aws_keys keys;
	char date[20], auth[1024], why[ERRMSG_MAX];
	time_t now = time(NULL);
	struct tm tm;

	if (awscred_get(s->cred, &keys, why, sizeof(why)) != DUMPFS_OK) {
		snprintf(err, errlen, "AWS credentials: %s", why);
		return false;
	}
	strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &tm));
	struct sigv4_request r = {
		.host = s->host, .path = s->path, .range = range, .if_match = if_match,
		.amz_date = date, .region = s->region, .service = "s3",
		.access_key = keys.access_key, .secret_key = keys.secret_key,
		.session_token = keys.session_token[0] ? keys.session_token : NULL,
		.payload_sha256 = sigv4_empty_sha256,
	};
	bool ok = sigv4_authorization(&r, auth, sizeof(auth)) && append(headers, "x-amz-date", date) &&
		  append(headers, "x-amz-content-sha256", sigv4_empty_sha256) &&
		  (!r.session_token || append(headers, "x-amz-security-token", r.session_token)) &&
		  append(headers, "Authorization", auth);
	explicit_bzero(&keys, sizeof(keys));
	if (!ok)
		snprintf(err, errlen, "cannot sign the request (a part too long, or libcrypto failed)");
	return ok;
}

const char *s3_signer_origin(const struct s3_signer *s)
{
	return awscred_origin(s->cred);
}

void s3_signer_free(struct s3_signer *s)
{
	if (!s)
		return;
	awscred_free(s->cred);
	free(s->host);
	free(s->path);
	free(s);
}
