/*
 * test_awscred.c - the AWS credential chain up to the network: the
 * environment, the shared credentials and config files, the region, and the
 * one-line error when nothing gives keys.  Every test points the files into
 * a temporary directory and sets AWS_EC2_METADATA_DISABLED=true, so none
 * reaches for an endpoint (tests/remote/awscred.py does, against a stub).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "source/awscred.h"

static char dir[] = "/tmp/test_awscred.XXXXXX";
static char cred_path[256], config_path[256];

static const char *const vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION",
	"AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT",
};

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A clean environment: no AWS variables, files in @dir (absent), no IMDS. */
static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	unlink(cred_path);
	unlink(config_path);
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
	setenv("AWS_CONFIG_FILE", config_path, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	return 0;
}

/* Open the chain; the keys and origin, or NULL with the error in @err. */
static struct awscred *open_chain(const char *profile, struct aws_keys *k, char *err, size_t errlen)
{
	struct awscred *c = NULL;
	err[0] = '\0';
	if (awscred_open(&c, profile, err, errlen) != DUMPFS_OK) {
		assert_null(c);
		assert_true(strlen(err) > 0);
		assert_null(strchr(err, '\n'));
		return NULL;
	}
	assert_int_equal(awscred_get(c, k, err, errlen), DUMPFS_OK);
	return c;
}

static void environment_first(void **state)
{
	(void)state;
	write_file(cred_path, "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = FILESECRET\n");
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
	setenv("AWS_SESSION_TOKEN", "ENVTOKEN", 1);
	struct aws_keys k;
	char err[512];
	struct awscred *c = open_chain(NULL, &k, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(awscred_origin(c), "environment");
	assert_string_equal(k.access_key, "ENVKEY");
	assert_string_equal(k.secret_key, "ENVSECRET");
	assert_string_equal(k.session_token, "ENVTOKEN");
	awscred_free(c);

	/* an empty variable is no variable */
	setenv("AWS_ACCESS_KEY_ID", "", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "", 1);
	c = open_chain(NULL, &k, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(k.access_key, "FILEKEY");
	assert_string_equal(k.session_token, "");
	awscred_free(c);
}

/* Half the keys in the environment is an error that names the missing
 * variable and never the value. */
static void environment_half(void **state)
{
	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
	struct aws_keys k;
	char err[512];
	assert_null(open_chain(NULL, &k, err, sizeof(err)));
	assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY"));
	assert_null(strstr(err, "ENVKEY"));

	setenv("AWS_SECRET_ACCESS_KEY", "bad\x01secret", 1);
	assert_null(open_chain(NULL, &k, err, sizeof(err)));
	assert_non_null(strstr(err, "not printable ASCII"));
	assert_null(strstr(err, "bad"));
}

static void credentials_file(void **state)
{
	(void)state;
	write_file(cred_path, "# comment\n; another\n\n[other]\naws_access_key_id=OTHERKEY\naws_secret_access_key=X\n"
		   "[default]  \n  aws_access_key_id   =   CREDKEY  \naws_secret_access_key=CRED/SE+CRET # a comment\n"
		   "aws_session_token=TOK;EN ; a comment\r\n");
	struct aws_keys k;
	char err[512], origin[512];
	struct awscred *c = open_chain(NULL, &k, err, sizeof(err));
	assert_non_null(c);
	snprintf(origin, sizeof(origin), "profile default (%s)", cred_path);
	assert_string_equal(awscred_origin(c), origin);
	assert_string_equal(k.access_key, "CREDKEY");
	assert_string_equal(k.secret_key, "CRED/SE+CRET");
	assert_string_equal(k.session_token, "TOK;EN");
	awscred_free(c);
}

/* The credentials file wins over the config file; the config file's
 * profiles are "[profile NAME]" (and "[default]"), its "[NAME]" is not one. */
static void config_file(void **state)
{
	(void)state;
	write_file(config_path, "[default]\naws_access_key_id=CONFDEFKEY\naws_secret_access_key=S\n"
		   "[profile dev]\naws_access_key_id=CONFDEVKEY\naws_secret_access_key=S\n"
		   "[ops]\naws_access_key_id=NOTAPROFILE\naws_secret_access_key=S\n"
		   "[profile  both ]\naws_access_key_id=CONFBOTHKEY\naws_secret_access_key=S\n");
	write_file(cred_path, "[both]\naws_access_key_id=CREDBOTHKEY\naws_secret_access_key=S\n"
		   "[profile dev]\naws_access_key_id=NOTDEV\naws_secret_access_key=S\n");
	struct aws_keys k;
	char err[512], origin[512];
	struct awscred *c = open_chain(NULL, &k, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(k.access_key, "CONFDEFKEY");
	snprintf(origin, sizeof(origin), "profile default (%s)", config_path);
	assert_string_equal(awscred_origin(c), origin);
	awscred_free(c);

	c = open_chain("dev", &k, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(k.access_key, "CONFDEVKEY");
	awscred_free(c);

	c = open_chain("both", &k, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(k.access_key, "CREDBOTHKEY");
	snprintf(origin, sizeof(origin), "profile both (%s)", cred_path);
	assert_string_equal(awscred_origin(c), origin);
	awscred_free(c);

	/* "[ops]" of the config file is no profile: a named profile not found */
	assert_null(open_chain("ops", &k, err, sizeof(err)));
	assert_non_null(strstr(err, "profile ops"));
	assert_non_null(strstr(err, config_path));
}

/* AWS_PROFILE picks the profile; a profile passed in wins over it. */
static void aws_profile(void **state)
{
	(void)state;
	write_file(cred_path, "[default]\naws_access_key_id=DEFKEY\naws_secret_access_key=S\n"
		   "[a]\naws_access_key_id=AKEY\naws_secret_access_key=S\n"
		   "[b]\naws_access_key_id=BKEY\naws_secret_access_key=S\n");
	setenv("AWS_PROFILE", "a", 1);
	struct aws_keys k;
	char err[512];
	struct awscred *c = open_chain(NULL, &k, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(k.access_key, "AKEY");
	awscred_free(c);
	c = open_chain("b", &k, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(k.access_key, "BKEY");
	awscred_free(c);

	/* a named profile that is nowhere is an error, not the next link */
	setenv("AWS_PROFILE", "nosuch", 1);
	assert_null(open_chain(NULL, &k, err, sizeof(err)));
	assert_non_null(strstr(err, "profile nosuch (AWS_PROFILE)"));
	assert_non_null(strstr(err, "not found"));
}

/* Odd files: nothing crashes, the good lines still count. */
static void malformed(void **state)
{
	(void)state;
	char *big = malloc(20000);
	assert_non_null(big);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	FILE *f = fopen(cred_path, "w");
	assert_non_null(f);
	fprintf(f, "garbage line\n=\n[\n[unterminated\naws_access_key_id=ORPHAN\n]\n[default\n");
	fprintf(f, "[default]\nno equals here\n=novalue\naws_access_key_id=%s\n", big);
	fprintf(f, "%s\n", big);
	fputc('\0', f);
	fprintf(f, "\xff\xfe binary = \x80\n");
	fprintf(f, "AWS_ACCESS_KEY_ID=WRONGCASE\n");
	fprintf(f, "aws_access_key_id=GOODKEY\n");
	fprintf(f, "s3 =\n  aws_secret_access_key = NESTED\n  region = nested\n");
	fprintf(f, "aws_secret_access_key=GOODSECRET\n[default]\naws_session_token=TOKEN2\n");
	fprintf(f, "[x]\naws_secret_access_key=");       /* no newline at the end */
	fclose(f);
	free(big);
	struct aws_keys k;
	char err[512];
	struct awscred *c = open_chain(NULL, &k, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(k.access_key, "GOODKEY");
	assert_string_equal(k.secret_key, "GOODSECRET");
	assert_string_equal(k.session_token, "TOKEN2");
	awscred_free(c);

	/* a file of one NUL-filled block and no newline */
	f = fopen(cred_path, "w");
	assert_non_null(f);
	for (int i = 0; i < 30000; i++)
		fputc(i % 7 ? 0 : '[', f);
	fclose(f);
	assert_null(open_chain(NULL, &k, err, sizeof(err)));
	assert_non_null(strstr(err, "AWS_EC2_METADATA_DISABLED"));

	/* a directory where the file should be */
	unlink(cred_path);
	assert_int_equal(mkdir(cred_path, 0700), 0);
	assert_null(open_chain(NULL, &k, err, sizeof(err)));
	assert_int_equal(rmdir(cred_path), 0);
}

/* Half a profile's keys, a key with a control character, a profile that
 * assumes a role: errors that name the file and key, never a value. */
static void profile_errors(void **state)
{
	(void)state;
	struct aws_keys k;
	char err[512];
	write_file(cred_path, "[default]\naws_access_key_id=HALFKEY\n");
	assert_null(open_chain(NULL, &k, err, sizeof(err)));
	assert_non_null(strstr(err, "no aws_secret_access_key"));
	assert_non_null(strstr(err, cred_path));
	assert_null(strstr(err, "HALFKEY"));

	write_file(cred_path, "[default]\naws_access_key_id=KEY\naws_secret_access_key=SEC\x01RET\n");
	assert_null(open_chain(NULL, &k, err, sizeof(err)));
	assert_non_null(strstr(err, ":3: aws_secret_access_key"));
	assert_null(strstr(err, "SEC"));

	write_file(cred_path, "");
	write_file(config_path, "[profile admin]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n");
	assert_null(open_chain("admin", &k, err, sizeof(err)));
	assert_non_null(strstr(err, "role_arn"));
	assert_non_null(strstr(err, "not support"));
}

/* Nothing anywhere: one line that names every link of the chain. */
static void nothing_found(void **state)
{
	(void)state;
	struct aws_keys k;
	char err[1024];
	write_file(config_path, "[default]\nregion = eu-west-1\n");
	assert_null(open_chain(NULL, &k, err, sizeof(err)));
	assert_non_null(strstr(err, "no AWS credentials"));
	assert_non_null(strstr(err, "environment: AWS_ACCESS_KEY_ID not set"));
	assert_non_null(strstr(err, "profile default"));
	assert_non_null(strstr(err, cred_path));
	assert_non_null(strstr(err, "not found"));
	assert_non_null(strstr(err, config_path));
	assert_non_null(strstr(err, "has no keys"));
	assert_non_null(strstr(err, "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
	assert_non_null(strstr(err, "instance metadata: AWS_EC2_METADATA_DISABLED=true"));

	/* a short buffer is cut, still terminated */
	char small[16];
	struct awscred *c = NULL;
	assert_int_not_equal(awscred_open(&c, NULL, small, sizeof(small)), DUMPFS_OK);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* A container URL over http to another host is refused before any request. */
static void container_full_uri_host(void **state)
{
	(void)state;
	struct aws_keys k;
	char err[512];
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "SECRETTOKEN", 1);
	assert_null(open_chain(NULL, &k, err, sizeof(err)));
	assert_non_null(strstr(err, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
	assert_null(strstr(err, "SECRETTOKEN"));
}

static void region(void **state)
{
	(void)state;
	char r[64];
	assert_false(aws_region(NULL, r, sizeof(r)));
	write_file(config_path, "[default]\nregion = eu-west-1\n[profile dev]\nregion=ap-south-1 # mumbai\n"
		   "[profile bad]\nregion=us east\n");
	write_file(cred_path, "[dev]\nregion=cred-file-region\n");
	assert_true(aws_region(NULL, r, sizeof(r)));
	assert_string_equal(r, "eu-west-1");
	assert_true(aws_region("dev", r, sizeof(r)));
	assert_string_equal(r, "ap-south-1");
	setenv("AWS_PROFILE", "dev", 1);
	assert_true(aws_region(NULL, r, sizeof(r)));
	assert_string_equal(r, "ap-south-1");
	assert_false(aws_region("bad", r, sizeof(r)));
	assert_false(aws_region("nosuch", r, sizeof(r)));
	setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
	assert_true(aws_region(NULL, r, sizeof(r)));
	assert_string_equal(r, "us-west-2");
	setenv("AWS_REGION", "us-east-2", 1);
	assert_true(aws_region(NULL, r, sizeof(r)));
	assert_string_equal(r, "us-east-2");
	char tiny[4];
	assert_false(aws_region(NULL, tiny, sizeof(tiny)));
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(cred_path, sizeof(cred_path), "%s/credentials", dir);
	snprintf(config_path, sizeof(config_path), "%s/config", dir);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(environment_first, setup),
		cmocka_unit_test_setup(environment_half, setup),
		cmocka_unit_test_setup(credentials_file, setup),
		cmocka_unit_test_setup(config_file, setup),
		cmocka_unit_test_setup(aws_profile, setup),
		cmocka_unit_test_setup(malformed, setup),
		cmocka_unit_test_setup(profile_errors, setup),
		cmocka_unit_test_setup(nothing_found, setup),
		cmocka_unit_test_setup(container_full_uri_host, setup),
		cmocka_unit_test_setup(region, setup),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(cred_path);
	unlink(config_path);
	rmdir(dir);
	return failed;
}
