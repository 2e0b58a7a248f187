/*
 * aws_profile.c - the shared credentials and config files of the AWS CLI
 * (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, AWS_CONFIG_FILE or
 * ~/.aws/config): the keys of a profile for the chain (aws_internal.h) and
 * its region for aws_region() (awscred.h).  Values we refuse are named by
 * key and line, never shown.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source/aws_internal.h"

#define MAX_LINE 8192           /* longer lines of a config file are skipped */

/* $HOME, else the password database's home of this user. */
static bool home_dir(char *out, size_t outlen)
{
	const char *h = env("HOME");
	if (!h) {
		struct passwd pw, *res = NULL;
		char buf[4096];
		if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) || !res || !res->pw_dir)
			return false;
		h = res->pw_dir;
	}
	int n = snprintf(out, outlen, "%s", h);
	return n > 0 && (size_t)n < outlen;
}

/* The file named by @var ("~/" expanded) or else ~/.aws/@name. */
static bool aws_file(const char *var, const char *name, char *out, size_t outlen)
{
	char home[MAX_PATH];
	const char *v = env(var);
	int n;
	if (v && strncmp(v, "~/", 2) != 0)
		n = snprintf(out, outlen, "%s", v);
	else if (!home_dir(home, sizeof(home)))
		return false;
	else if (v)
		n = snprintf(out, outlen, "%s/%s", home, v + 2);
	else
		n = snprintf(out, outlen, "%s/.aws/%s", home, name);
	return n > 0 && (size_t)n < outlen;
}

/* ---- the shared credentials and config files ------------------------------- */

/* What one file's section of a profile holds. */
struct profile_part {
	bool section;                   /* the file has the profile's section */
	char access[128], secret[128], token[4096], region[64];
	const char *unsupported;        /* a key of a way to get keys we do not do */
	char bad[256];                  /* a value we refuse (names the key and line, never the value) */
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* Whether a section header's inside names @profile: "NAME" in the
 * credentials file; "profile NAME", or "default" for the default, in the
 * config file. */
static bool section_is(char *inside, const char *profile, bool config)
{
	inside = trim(inside);
	if (!config)
		return strcmp(inside, profile) == 0;
	if (strcmp(profile, "default") == 0 && strcmp(inside, "default") == 0)
		return true;
	if (strncmp(inside, "profile", 7) != 0 || (inside[7] != ' ' && inside[7] != '\t'))
		return false;
	return strcmp(trim(inside + 7), profile) == 0;
}

static void keep_value(struct profile_part *p, const char *key, const char *value, const char *path, unsigned line)
{
	static const char *const unsupported[] = {
		"role_arn", "credential_process", "sso_start_url", "sso_session", "web_identity_token_file",
	};
	struct { const char *key; char *dst; size_t len; } keys[] = {
		{ "aws_access_key_id", p->access, sizeof(p->access) },
		{ "aws_secret_access_key", p->secret, sizeof(p->secret) },
		{ "aws_session_token", p->token, sizeof(p->token) },
		{ "region", p->region, sizeof(p->region) },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(key, keys[i].key) != 0)
			continue;
		if (!*value) {
			keys[i].dst[0] = '\0';
		} else if (!put_key(keys[i].dst, keys[i].len, value)) {
			keys[i].dst[0] = '\0';
			if (keys[i].dst != p->region && !p->bad[0])
				snprintf(p->bad, sizeof(p->bad), "%s:%u: %s is too long or not printable ASCII",
					 path, line, key);
		}
		return;
	}
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (strcmp(key, unsupported[i]) == 0 && *value && !p->unsupported)
			p->unsupported = unsupported[i];
}

/*
 * Read @profile's section of the INI file @path into @p: "key = value"
 * lines, "#" and ";" comments (also after a value, following a space),
 * keys case-sensitive; indented lines after a key continue it (the nested
 * "s3 =" settings) and are passed over; lines without '=', unterminated
 * section headers and lines over MAX_LINE are skipped.  A section met
 * twice adds to the first.  Returns 0 when read, else the errno of fopen.
 */
static int read_profile(const char *path, const char *profile, bool config, struct profile_part *p)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return errno ? errno : EIO;
	char *buf = malloc(MAX_LINE);
	if (!buf) {
		fclose(f);
		return ENOMEM;
	}
	bool in = false, had_key = false;
	unsigned line = 0;
	while (fgets(buf, MAX_LINE, f)) {
		line++;
		size_t len = strlen(buf);
		if (len == MAX_LINE - 1 && buf[len - 1] != '\n') {
			/* too long: skip to its end */
			int ch;
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		bool indented = buf[0] == ' ' || buf[0] == '\t';
		char *s = trim(buf);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (indented && had_key)
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end) {
				in = false;     /* a broken header: what follows is no one's */
				continue;
			}
			*end = '\0';
			in = section_is(s + 1, profile, config);
			had_key = false;
			p->section |= in;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq)
			continue;
		*eq = '\0';
		char *key = trim(s), *value = eq + 1;
		for (char *c = value; *c; c++)
			if ((*c == '#' || *c == ';') && (c == value || c[-1] == ' ' || c[-1] == '\t')) {
				*c = '\0';
				break;
			}
		value = trim(value);
		had_key = true;
		if (in)
			keep_value(p, key, value, path, line);
	}
	wipe(buf, MAX_LINE);
	free(buf);
	fclose(f);
	return 0;
}

/* The name to use: @profile, AWS_PROFILE or "default"; *explicit when named. */
static const char *profile_name(const char *profile, bool *explicit)
{
	if (!profile || !*profile)
		profile = env("AWS_PROFILE");
	*explicit = profile != NULL;
	return profile ? profile : "default";
}

static void file_state(char *buf, size_t len, const char *path, int e, const struct profile_part *p, const char *name)
{
	if (e == ENOENT)
		addf(buf, len, "%s not found", path);
	else if (e)
		addf(buf, len, "%s: %s", path, strerror(e));
	else if (!p->section)
		addf(buf, len, "%s has no profile %s", path, name);
	else
		addf(buf, len, "%s has no keys for it", path);
}

int aws_profile_keys(const char *profile, struct aws_keys *k, char *origin, size_t originlen,
		     char *tried, size_t triedlen, char *err, size_t errlen)
{
	bool explicit;
	const char *name = profile_name(profile, &explicit);
	char cred_path[MAX_PATH], config_path[MAX_PATH];
	if (!aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials", cred_path, sizeof(cred_path)) ||
	    !aws_file("AWS_CONFIG_FILE", "config", config_path, sizeof(config_path))) {
		addf(tried, triedlen, "profile %s: no home directory for ~/.aws; ", name);
		return 0;
	}
	struct profile_part *parts = calloc(2, sizeof(*parts));
	if (!parts) {
		seterr(err, errlen, "out of memory reading AWS profiles");
		return -1;
	}
	struct profile_part *cred = &parts[0], *conf = &parts[1];
	int cred_e = read_profile(cred_path, name, false, cred);
	int conf_e = read_profile(config_path, name, true, conf);
	int ret = 0;

	/* the credentials file wins: its keys, else the config file's */
	struct profile_part *use = cred->access[0] || cred->secret[0] ? cred : conf;
	const char *path = use == cred ? cred_path : config_path;
	const char *bad = cred->bad[0] ? cred->bad : conf->bad[0] ? conf->bad : NULL;
	const char *unsupported = cred->unsupported ? cred->unsupported : conf->unsupported;
	if (bad && !(use->access[0] && use->secret[0] && !use->bad[0])) {
		seterr(err, errlen, "AWS profile %s: %s", name, bad);
		ret = -1;
	} else if (use->access[0] && use->secret[0]) {
		memcpy(k->access_key, use->access, sizeof(use->access));
		memcpy(k->secret_key, use->secret, sizeof(use->secret));
		memcpy(k->session_token, use->token, sizeof(use->token));
		snprintf(origin, originlen, "profile %s (%s)", name, path);
		ret = 1;
	} else if (use->access[0] || use->secret[0]) {
		seterr(err, errlen, "AWS profile %s in %s has %s but no %s", name, path,
		       use->access[0] ? "aws_access_key_id" : "aws_secret_access_key",
		       use->access[0] ? "aws_secret_access_key" : "aws_access_key_id");
		ret = -1;
	} else if (unsupported) {
		seterr(err, errlen, "AWS profile %s gets its keys by %s, which dumpfs does not support "
		       "(use keys, a container or an instance role, or a presigned URL)", name, unsupported);
		ret = -1;
	} else if (explicit && !cred->section && !conf->section) {
		seterr(err, errlen, "AWS profile %s%s: ", name, profile && *profile ? "" : " (AWS_PROFILE)");
		file_state(err, errlen, cred_path, cred_e, cred, name);
		addf(err, errlen, ", ");
		file_state(err, errlen, config_path, conf_e, conf, name);
		ret = -1;
	} else {
		addf(tried, triedlen, "profile %s: ", name);
		file_state(tried, triedlen, cred_path, cred_e, cred, name);
		addf(tried, triedlen, ", ");
		file_state(tried, triedlen, config_path, conf_e, conf, name);
		addf(tried, triedlen, "; ");
	}
	wipe(parts, 2 * sizeof(*parts));
	free(parts);
	return ret;
}

bool aws_region(const char *profile, char *out, size_t outlen)
{
	const char *r = env("AWS_REGION");
	if (!r)
		r = env("AWS_DEFAULT_REGION");
	if (r)
		return put_key(out, outlen, r);
	bool explicit;
	const char *name = profile_name(profile, &explicit);
	char path[MAX_PATH];
	struct profile_part *p = calloc(1, sizeof(*p));
	bool ok = p && aws_file("AWS_CONFIG_FILE", "config", path, sizeof(path)) &&
		  read_profile(path, name, true, p) == 0 && p->region[0] && put_key(out, outlen, p->region);
	if (p)
		wipe(p, sizeof(*p));
	free(p);
	return ok;
}
