/*
 * sigv4.c - AWS Signature Version 4 for S3 GETs (and S3-compatible stores),
 * computed here because curl 7.88's CURLOPT_AWS_SIGV4 does not sign
 * x-amz-content-sha256, which S3 requires.  The request is always a GET of
 * one object with no body; the headers signed are, in their canonical
 * (sorted) order: host, if-match (the ETag of the first response, so that
 * an object replaced under the mount fails), range, x-amz-content-sha256,
 * x-amz-date and, with temporary credentials, x-amz-security-token.
 *
 * SHA-256 and HMAC come from libcrypto (OpenSSL), which Debian's libcurl
 * is built on.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "source/sigv4.h"

#define SHA256_LEN 32
/* SHA-256 of an empty body, as S3 wants it for a GET */
const char sigv4_empty_sha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool hmac(const void *key, size_t keylen, const char *msg, unsigned char out[SHA256_LEN])
{
	unsigned int len = SHA256_LEN;
	return HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &len) &&
	       len == SHA256_LEN;
}

/* The path, URI-encoded as S3 wants it: every byte but A-Z a-z 0-9 - _ . ~
 * and '/' as %XX. */
static bool encode_path(const char *path, char *out, size_t outlen)
{
	size_t j = 0;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		bool keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    *p == '-' || *p == '_' || *p == '.' || *p == '~' || *p == '/';
		if (j + (keep ? 1 : 3) >= outlen)
			return false;
		if (keep)
			out[j++] = (char)*p;
		else
			j += (size_t)snprintf(out + j, outlen - j, "%%%02X", *p);
	}
	out[j] = '\0';
	return true;
}

bool sigv4_authorization(const struct sigv4_request *r, char *out, size_t outlen)
{
	char path[2048], canonical[8192], headers[4096], signed_names[128], to_sign[512];
	char date[9], hash_hex[2 * SHA256_LEN + 1], sig_hex[2 * SHA256_LEN + 1];
	unsigned char hash[SHA256_LEN], k[SHA256_LEN], k2[SHA256_LEN];
	if (strlen(r->amz_date) != 16 || !encode_path(r->path, path, sizeof(path)))
		return false;
	memcpy(date, r->amz_date, 8);
	date[8] = '\0';

	/* the signed headers, in sorted order */
	int n = snprintf(headers, sizeof(headers), "host:%s\n%s%s%s%s%s%sx-amz-content-sha256:%s\nx-amz-date:%s\n%s%s%s",
			 r->host, r->if_match ? "if-match:" : "", r->if_match ? r->if_match : "",
			 r->if_match ? "\n" : "", r->range ? "range:" : "", r->range ? r->range : "",
			 r->range ? "\n" : "", r->payload_sha256, r->amz_date,
			 r->session_token ? "x-amz-security-token:" : "",
			 r->session_token ? r->session_token : "", r->session_token ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof(headers))
		return false;
	snprintf(signed_names, sizeof(signed_names), "host%s%s;x-amz-content-sha256;x-amz-date%s",
		 r->if_match ? ";if-match" : "", r->range ? ";range" : "",
		 r->session_token ? ";x-amz-security-token" : "");
	n = snprintf(canonical, sizeof(canonical), "GET\n%s\n%s\n%s\n%s\n%s", path, r->query ? r->query : "",
		     headers, signed_names, r->payload_sha256);
	if (n < 0 || (size_t)n >= sizeof(canonical))
		return false;
	unsigned int hlen = 0;
	if (!EVP_Digest(canonical, (size_t)n, hash, &hlen, EVP_sha256(), NULL) || hlen != SHA256_LEN)
		return false;
	hex(hash, SHA256_LEN, hash_hex);

	n = snprintf(to_sign, sizeof(to_sign), "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", r->amz_date,
		     date, r->region, r->service, hash_hex);
	if (n < 0 || (size_t)n >= sizeof(to_sign))
		return false;

	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
	char secret[256];
	n = snprintf(secret, sizeof(secret), "AWS4%s", r->secret_key);
	bool ok = n > 0 && (size_t)n < sizeof(secret) && hmac(secret, (size_t)n, date, k) &&
		  hmac(k, SHA256_LEN, r->region, k2) && hmac(k2, SHA256_LEN, r->service, k) &&
		  hmac(k, SHA256_LEN, "aws4_request", k2) && hmac(k2, SHA256_LEN, to_sign, k);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (!ok)
		return false;
	hex(k, SHA256_LEN, sig_hex);
	n = snprintf(out, outlen, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request,SignedHeaders=%s,Signature=%s",
		     r->access_key, date, r->region, r->service, signed_names, sig_hex);
	return n > 0 && (size_t)n < outlen;
}
