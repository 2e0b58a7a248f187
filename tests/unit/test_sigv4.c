/*
 * test_sigv4.c - AWS Signature Version 4 against the example AWS documents
 * for S3 ("Example: GET Object": the first 10 bytes of examplebucket's
 * test.txt, 24 May 2013).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "source/sigv4.h"

static struct sigv4_request example(void)
{
	return (struct sigv4_request){
		.host = "examplebucket.s3.amazonaws.com", .path = "/test.txt", .range = "bytes=0-9",
		.amz_date = "20130524T000000Z", .region = "us-east-1", .service = "s3",
		.access_key = "AKIAIOSFODNN7EXAMPLE", .secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		.payload_sha256 = sigv4_empty_sha256,
	};
}

static void get_object(void **state)
{
	(void)state;
	struct sigv4_request r = example();
	char auth[512];
	assert_true(sigv4_authorization(&r, auth, sizeof(auth)));
	assert_string_equal(auth, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
			    "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
			    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

/* Every signed part changes the signature; a bad date or a short buffer
 * is refused. */
static void every_part_counts(void **state)
{
	(void)state;
	struct sigv4_request r = example();
	char base[512], other[512];
	assert_true(sigv4_authorization(&r, base, sizeof(base)));
	const char *sig = strstr(base, "Signature=");
	struct sigv4_request v[] = { example(), example(), example(), example(), example() };
	v[0].range = "bytes=0-10";
	v[1].if_match = "\"etag\"";
	v[2].session_token = "token";
	v[3].path = "/test.txt ";
	v[4].secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ";
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_true(sigv4_authorization(&v[i], other, sizeof(other)));
		assert_string_not_equal(strstr(other, "Signature="), sig);
	}
	assert_non_null(strstr(other, "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"));
	r.amz_date = "20130524";
	assert_false(sigv4_authorization(&r, other, sizeof(other)));
	r = example();
	assert_false(sigv4_authorization(&r, other, 40));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(get_object),
		cmocka_unit_test(every_part_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
