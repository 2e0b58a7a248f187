/*
 * awscred.c - AWS credentials for signing S3 reads: the environment, the
 * shared credentials and config files, container credentials and the EC2
 * instance's role through IMDSv2, in the AWS CLI's order (awscred.h).
 *
 * Temporary keys (container, instance) carry an Expiration; awscred_get()
 * fetches them again from the same place when they expire in under five
 * minutes.  One thread fetches while the others keep signing with the old
 * keys; if the fetch fails the old keys stay until they really expire.
 * Fetches are FETCH_INTERVAL seconds apart at least while the keys are
 * valid, so that keys handed out for less than five minutes, or an
 * endpoint that fails, are not asked for at every request.
 *
 * HTTP is libcurl's easy interface with short timeouts (an EC2 metadata
 * endpoint that does not answer in a second is not there), no proxy (the
 * endpoints are link-local or loopback), no redirects, and answers of at
 * most 64 KiB.  The credentials JSON is read by a small parser of its own
 * that takes the top-level string members it is asked for and refuses
 * anything malformed.  Keys are checked to be printable ASCII, so that
 * nothing from a file or a server can end a header line.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "source/awscred.h"

#define REFRESH_BEFORE 300      /* seconds before Expiration that keys are fetched again */
#define FETCH_INTERVAL 5        /* seconds at least between fetches while the keys are valid */
#define MAX_BODY 65536          /* the largest answer taken from an endpoint */
#define MAX_LINE 8192           /* longer lines of a config file are skipped */
#define MAX_PATH 4096

const char *awscred_container_host = "http://169.254.170.2";

enum kind { FROM_ENV, FROM_PROFILE, FROM_CONTAINER, FROM_IMDS };

struct awscred {
	enum kind kind;
	char origin[MAX_PATH + 160];
	/* where temporary keys are fetched again */
	char url[2048];                 /* container: the full URL; IMDS: the endpoint */
	const char *url_var;            /* the variable that named the container URL */
	char *auth_token;               /* AWS_CONTAINER_AUTHORIZATION_TOKEN, or NULL */
	char *token_file;               /* AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read at each fetch), or NULL */

	pthread_mutex_t lock;
	pthread_cond_t fetched;
	bool fetching;
	struct aws_keys keys;
	time_t expires;                 /* 0: never */
	time_t next_fetch;              /* no fetch before while the keys are valid */
	bool failed;                    /* the last fetch failed: last_error says why */
	char last_error[ERRMSG_MAX];
};

/* ---- small helpers --------------------------------------------------------- */

/* A variable's value; NULL when unset or empty, as the AWS CLI takes it. */
static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Append to the text in @buf (always terminated). */
static void addf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void addf(char *buf, size_t len, const char *fmt, ...)
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
static bool key_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

static bool put_key(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);
	if (len >= n || !key_ok(src))
		return false;
	memcpy(dst, src, len + 1);
	return true;
}

static void wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

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

/* 1: keys from the profile into @c; 0: none, why in @tried; -1: an error in @err. */
static int from_profile(struct awscred *c, const char *profile, char *tried, size_t triedlen, char *err, size_t errlen)
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
		memcpy(c->keys.access_key, use->access, sizeof(use->access));
		memcpy(c->keys.secret_key, use->secret, sizeof(use->secret));
		memcpy(c->keys.session_token, use->token, sizeof(use->token));
		snprintf(c->origin, sizeof(c->origin), "profile %s (%s)", name, path);
		c->kind = FROM_PROFILE;
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

/* ---- JSON: the top-level string members of one object ---------------------- */

struct jfield {
	const char *name;
	char *out;
	size_t outlen;
	bool found;
};

static const char *jspace(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int hexval(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
	       ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* The string at @p (its '"') decoded into @out (NULL: only skipped); NULL
 * if malformed.  *ascii says whether every character was ASCII; *fits
 * whether it fitted into @outlen. */
static const char *jstring(const char *p, const char *end, char *out, size_t outlen, bool *ascii, bool *fits)
{
	size_t n = 0;
	*ascii = *fits = true;
	if (p >= end || *p++ != '"')
		return NULL;
	while (p < end && *p != '"') {
		unsigned char ch = (unsigned char)*p++;
		if (ch < 0x20)
			return NULL;
		if (ch == '\\') {
			if (p >= end)
				return NULL;
			char e = *p++;
			switch (e) {
			case '"': case '\\': case '/': ch = (unsigned char)e; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u': {
				unsigned v = 0;
				for (int i = 0; i < 4; i++) {
					int h = p < end ? hexval(*p++) : -1;
					if (h < 0)
						return NULL;
					v = v << 4 | (unsigned)h;
				}
				if (v >= 0x80 || v == 0)
					*ascii = false;
				ch = (unsigned char)(v < 0x80 ? v : '?');
				break;
			}
			default:
				return NULL;
			}
		} else if (ch >= 0x80) {
			*ascii = false;
		}
		if (out) {
			if (n + 1 < outlen)
				out[n++] = (char)ch;
			else
				*fits = false;
		}
	}
	if (p >= end)
		return NULL;
	if (out && outlen)
		out[n] = '\0';
	return p + 1;
}

/* Past the value at @p; NULL if malformed or nested deeper than 16. */
static const char *jskip(const char *p, const char *end, int depth)
{
	bool ascii, fits;
	p = jspace(p, end);
	if (p >= end || depth > 16)
		return NULL;
	if (*p == '"')
		return jstring(p, end, NULL, 0, &ascii, &fits);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = jspace(p + 1, end);
		if (p < end && *p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = jstring(jspace(p, end), end, NULL, 0, &ascii, &fits);
				if (!p || (p = jspace(p, end)) >= end || *p++ != ':')
					return NULL;
			}
			p = jskip(p, end, depth + 1);
			if (!p || (p = jspace(p, end)) >= end)
				return NULL;
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	static const char *const literals[] = { "true", "false", "null" };
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(literals[i]);
		if ((size_t)(end - p) >= n && memcmp(p, literals[i], n) == 0)
			return p + n;
	}
	/* a number, loosely: its characters */
	const char *start = p;
	while (p < end && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' || *p == 'e' ||
			   *p == 'E'))
		p++;
	return p > start ? p : NULL;
}

/* Fill @f from the object in [p, end): each a string member found once;
 * false if the text is not one object, or a field is repeated, not a
 * string, not ASCII or too long. */
static bool json_fields(const char *p, const char *end, struct jfield *f, size_t nf)
{
	p = jspace(p, end);
	if (p >= end || *p++ != '{')
		return false;
	p = jspace(p, end);
	if (p < end && *p == '}') {
		p++;
	} else {
		for (;;) {
			char name[64];
			bool ascii, fits;
			p = jstring(jspace(p, end), end, name, sizeof(name), &ascii, &fits);
			if (!p || (p = jspace(p, end)) >= end || *p++ != ':')
				return false;
			p = jspace(p, end);
			struct jfield *want = NULL;
			for (size_t i = 0; fits && i < nf; i++)
				if (strcmp(name, f[i].name) == 0)
					want = &f[i];
			if (want) {
				if (want->found || p >= end || *p != '"')
					return false;
				p = jstring(p, end, want->out, want->outlen, &ascii, &fits);
				if (!p || !ascii || !fits)
					return false;
				want->found = true;
			} else if (!(p = jskip(p, end, 0))) {
				return false;
			}
			if ((p = jspace(p, end)) >= end)
				return false;
			if (*p == '}') {
				p++;
				break;
			}
			if (*p++ != ',')
				return false;
		}
	}
	return jspace(p, end) == end;
}

/* Exactly @n digits at @s. */
static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* "2026-12-01T12:34:56Z", fractions of a second and "+HH:MM" allowed. */
static bool parse_time(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec;
	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	s += 19;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	long offset = 0;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int oh, om;
		if (!digits(s + 1, 2, &oh) || s[3] != ':' || !digits(s + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		offset = (oh * 3600L + om * 60L) * (*s == '-' ? -1 : 1);
		s += 6;
	} else {
		return false;
	}
	if (*s)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*out = t - offset;
	return true;
}

/* Keys from the JSON of a container or IMDS answer. */
static bool parse_keys(const char *body, size_t len, struct aws_keys *k, time_t *expires, char *why, size_t whylen)
{
	char expiration[64] = "", code[64] = "";
	struct jfield f[] = {
		{ "AccessKeyId", k->access_key, sizeof(k->access_key), false },
		{ "SecretAccessKey", k->secret_key, sizeof(k->secret_key), false },
		{ "Token", k->session_token, sizeof(k->session_token), false },
		{ "Expiration", expiration, sizeof(expiration), false },
		{ "Code", code, sizeof(code), false },
	};
	memset(k, 0, sizeof(*k));
	if (!json_fields(body, body + len, f, sizeof(f) / sizeof(f[0]))) {
		seterr(why, whylen, "the answer is not the credentials JSON");
		return false;
	}
	if (f[4].found && strcmp(code, "Success") != 0) {
		seterr(why, whylen, "the answer's Code is not Success");
		return false;
	}
	if (!f[0].found || !f[1].found || !key_ok(k->access_key) || !key_ok(k->secret_key) ||
	    (f[2].found && k->session_token[0] && !key_ok(k->session_token))) {
		seterr(why, whylen, "the answer has no valid AccessKeyId and SecretAccessKey");
		return false;
	}
	*expires = 0;
	if (f[3].found && !parse_time(expiration, expires)) {
		seterr(why, whylen, "the answer's Expiration is not an ISO 8601 time");
		return false;
	}
	return true;
}

/* ---- HTTP ------------------------------------------------------------------ */

struct body {
	char *buf;                      /* MAX_BODY + 1 */
	size_t len;
	bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;
	if (len > MAX_BODY - b->len) {
		b->too_big = true;
		return 0;
	}
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return len;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/*
 * @method @url with the header @header (or none) into @b; the HTTP status,
 * or 0 with why it got no answer in @why (*unreachable when nothing
 * answered at all).
 */
static long http(const char *method, const char *url, const char *header, long total_ms, struct body *b,
		 bool *unreachable, char *why, size_t whylen)
{
	*unreachable = false;
	b->len = 0;
	b->buf[0] = '\0';
	b->too_big = false;
	pthread_once(&curl_once, curl_init);
	CURL *h = curl_init_rc == CURLE_OK ? curl_easy_init() : NULL;
	if (!h) {
		seterr(why, whylen, "libcurl did not start");
		return 0;
	}
	struct curl_slist *headers = header ? curl_slist_append(NULL, header) : NULL;
	long status = 0;
	if (header && !headers) {
		seterr(why, whylen, "out of memory");
		curl_easy_cleanup(h);
		return 0;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_BODY);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	} else if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		seterr(why, whylen, "the answer is larger than %d KiB", MAX_BODY / 1024);
	} else {
		*unreachable = rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
			       rc == CURLE_COULDNT_RESOLVE_HOST;
		seterr(why, whylen, "%s", curl_easy_strerror(rc));
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	if (status == 0 && rc == CURLE_OK)
		seterr(why, whylen, "no HTTP status");
	return status;
}

/* ---- container credentials ------------------------------------------------- */

/* Whether http:// may go to @url's host: loopback or the ECS/EKS agent, as
 * the AWS SDKs allow (the token must not travel in clear elsewhere). */
static bool container_url_ok(const char *url)
{
	if (strncasecmp(url, "https://", 8) == 0)
		return true;
	if (strncasecmp(url, "http://", 7) != 0)
		return false;
	const char *h = url + 7, *e;
	char host[256];
	if (*h == '[') {
		e = strchr(h, ']');
		if (!e)
			return false;
		h++;
	} else {
		e = h + strcspn(h, ":/?#");
	}
	if ((size_t)(e - h) >= sizeof(host))
		return false;
	memcpy(host, h, (size_t)(e - h));
	host[e - h] = '\0';
	unsigned char a[16];
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "169.254.170.2") == 0 ||
	    strcmp(host, "169.254.170.23") == 0)
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char loop[16] = { [15] = 1 };
		unsigned char eks[16];
		return memcmp(a, loop, 16) == 0 ||
		       (inet_pton(AF_INET6, "fd00:ec2::23", eks) == 1 && memcmp(a, eks, 16) == 0);
	}
	return false;
}

/* The Authorization header for the container endpoint, or "" for none;
 * false with @why if the token file cannot be read or the token is bad. */
static bool container_header(const struct awscred *c, char *out, size_t outlen, char *why, size_t whylen)
{
	out[0] = '\0';
	char *token = NULL;
	if (c->token_file) {
		FILE *f = fopen(c->token_file, "r");
		if (!f) {
			seterr(why, whylen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: %s", c->token_file, strerror(errno));
			return false;
		}
		size_t n = fread(out, 1, outlen - 1, f);
		bool more = fgetc(f) != EOF;
		fclose(f);
		out[n] = '\0';
		if (more) {
			seterr(why, whylen, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s is too long", c->token_file);
			return false;
		}
		while (n && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
			out[--n] = '\0';
		token = strdup(out);
		if (!token) {
			seterr(why, whylen, "out of memory");
			return false;
		}
	} else if (c->auth_token) {
		token = strdup(c->auth_token);
		if (!token) {
			seterr(why, whylen, "out of memory");
			return false;
		}
	} else {
		return true;
	}
	bool ok = true;
	for (const char *p = token; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			ok = false;
	int n = snprintf(out, outlen, "Authorization: %s", token);
	if (!ok || !*token || n < 0 || (size_t)n >= outlen) {
		seterr(why, whylen, "%s is empty, too long or not one line",
		       c->token_file ? "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" : "AWS_CONTAINER_AUTHORIZATION_TOKEN");
		out[0] = '\0';
		ok = false;
	}
	wipe(token, strlen(token));
	free(token);
	return ok;
}

static bool fetch_container(const struct awscred *c, struct aws_keys *k, time_t *expires, char *why, size_t whylen)
{
	char *header = malloc(MAX_BODY);
	struct body b = { .buf = malloc(MAX_BODY + 1) };
	bool ok = false, unreachable;
	char reason[256] = "out of memory";
	if (header && b.buf && container_header(c, header, MAX_BODY, reason, sizeof(reason))) {
		long status = http("GET", c->url, header[0] ? header : NULL, 3000, &b, &unreachable, reason,
				   sizeof(reason));
		if (status == 200)
			ok = parse_keys(b.buf, b.len, k, expires, reason, sizeof(reason));
		else if (status)
			snprintf(reason, sizeof(reason), "HTTP %ld", status);
	}
	if (!ok)
		seterr(why, whylen, "container credentials (%s): %s", c->url_var, reason);
	if (header)
		wipe(header, MAX_BODY);
	if (b.buf)
		wipe(b.buf, MAX_BODY + 1);
	free(header);
	free(b.buf);
	return ok;
}

/* 1: @c is set up for container credentials; 0: no variable set; -1: bad. */
static int container_setup(struct awscred *c, char *err, size_t errlen)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	int n;
	if (rel) {
		c->url_var = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
		n = snprintf(c->url, sizeof(c->url), "%s%s%s", awscred_container_host, *rel == '/' ? "" : "/", rel);
	} else if (full) {
		c->url_var = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
		if (!container_url_ok(full)) {
			seterr(err, errlen, "AWS_CONTAINER_CREDENTIALS_FULL_URI: http:// only to a loopback address or "
			       "the ECS/EKS agent; else https://");
			return -1;
		}
		n = snprintf(c->url, sizeof(c->url), "%s", full);
		const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
		const char *token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
		if ((file && !(c->token_file = strdup(file))) || (!file && token && !(c->auth_token = strdup(token)))) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
	} else {
		return 0;
	}
	for (const char *p = c->url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			n = -1;
	if (n < 0 || (size_t)n >= sizeof(c->url)) {
		seterr(err, errlen, "%s is too long or has spaces", c->url_var);
		return -1;
	}
	snprintf(c->origin, sizeof(c->origin), "container");
	c->kind = FROM_CONTAINER;
	return 1;
}

/* ---- EC2 instance metadata, IMDSv2 ----------------------------------------- */

/* An IAM role name: [A-Za-z0-9+=,.@_-], as IAM allows. */
static bool role_ok(const char *s)
{
	if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      strchr("+=,.@_-", *s)))
			return false;
	return true;
}

/* *unreachable when the endpoint did not answer the token PUT at all. */
static bool fetch_imds(const struct awscred *c, struct aws_keys *k, time_t *expires, bool *unreachable,
		       char *why, size_t whylen)
{
	static const char path[] = "/latest/meta-data/iam/security-credentials/";
	char url[sizeof(c->url) + 256], header[256], token[128], role[129];
	struct body b = { .buf = malloc(MAX_BODY + 1) };
	char reason[256] = "out of memory";
	bool ok = false, dummy;
	long status = 0;
	*unreachable = false;
	if (!b.buf)
		goto out;

	snprintf(url, sizeof(url), "%s/latest/api/token", c->url);
	status = http("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: 21600", 2000, &b, unreachable, reason,
		      sizeof(reason));
	if (status != 200) {
		if (status)
			snprintf(reason, sizeof(reason), "token PUT answered HTTP %ld", status);
		goto out;
	}
	if (b.len >= sizeof(token) || b.len != strlen(b.buf) || !put_key(token, sizeof(token), b.buf)) {
		snprintf(reason, sizeof(reason), "the token PUT answered no token");
		goto out;
	}
	snprintf(header, sizeof(header), "X-aws-ec2-metadata-token: %s", token);

	snprintf(url, sizeof(url), "%s%s", c->url, path);
	status = http("GET", url, header, 2000, &b, &dummy, reason, sizeof(reason));
	if (status == 404) {
		snprintf(reason, sizeof(reason), "no IAM role is attached to the instance");
		goto out;
	} else if (status != 200) {
		if (status)
			snprintf(reason, sizeof(reason), "%s answered HTTP %ld", path, status);
		goto out;
	}
	size_t rlen = strcspn(b.buf, "\r\n");
	b.buf[rlen] = '\0';
	if (rlen >= sizeof(role) || !role_ok(b.buf)) {
		snprintf(reason, sizeof(reason), "%s names no valid role", path);
		goto out;
	}
	memcpy(role, b.buf, rlen + 1);

	snprintf(url, sizeof(url), "%s%s%s", c->url, path, role);
	status = http("GET", url, header, 2000, &b, &dummy, reason, sizeof(reason));
	if (status == 200)
		ok = parse_keys(b.buf, b.len, k, expires, reason, sizeof(reason));
	else if (status)
		snprintf(reason, sizeof(reason), "the role's credentials answered HTTP %ld", status);
out:
	if (!ok)
		seterr(why, whylen, "instance metadata (%s): %s", c->url, reason);
	wipe(token, sizeof(token));
	wipe(header, sizeof(header));
	if (b.buf)
		wipe(b.buf, MAX_BODY + 1);
	free(b.buf);
	return ok;
}

static bool imds_disabled(void)
{
	const char *v = env("AWS_EC2_METADATA_DISABLED");
	return v && strcasecmp(v, "true") == 0;
}

static bool imds_setup(struct awscred *c)
{
	const char *e = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	if (!e)
		e = mode && strcasecmp(mode, "IPv6") == 0 ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
	int n = snprintf(c->url, sizeof(c->url), "%s", e);
	if (n < 0 || (size_t)n >= sizeof(c->url) || strchr(c->url, ' ') || strchr(c->url, '\n') ||
	    strchr(c->url, '\r'))
		return false;
	while (n > 0 && c->url[n - 1] == '/')
		c->url[--n] = '\0';
	snprintf(c->origin, sizeof(c->origin), "instance metadata (IMDSv2)");
	c->kind = FROM_IMDS;
	return true;
}

/* ---- the chain ------------------------------------------------------------- */

static bool fetch(const struct awscred *c, struct aws_keys *k, time_t *expires, char *why, size_t whylen)
{
	bool unreachable;
	if (c->kind == FROM_CONTAINER)
		return fetch_container(c, k, expires, why, whylen);
	return fetch_imds(c, k, expires, &unreachable, why, whylen);
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
	if ((r = from_profile(c, profile, tried, sizeof(tried), err, errlen)))
		return r;
	char why[ERRMSG_MAX];
	if ((r = container_setup(c, err, errlen)) < 0)
		return r;
	if (r) {
		if (fetch_container(c, &c->keys, &c->expires, why, sizeof(why)))
			return 1;
		seterr(err, errlen, "no AWS credentials: %s%s", tried, why);
		return -1;
	}
	addf(tried, sizeof(tried), "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set; ");
	if (imds_disabled()) {
		seterr(err, errlen, "no AWS credentials: %sinstance metadata: AWS_EC2_METADATA_DISABLED=true", tried);
		return -1;
	}
	if (!imds_setup(c)) {
		seterr(err, errlen, "no AWS credentials: %sinstance metadata: AWS_EC2_METADATA_SERVICE_ENDPOINT "
		       "is too long or has spaces", tried);
		return -1;
	}
	bool unreachable;
	if (fetch_imds(c, &c->keys, &c->expires, &unreachable, why, sizeof(why)))
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
	if (c->auth_token) {
		wipe(c->auth_token, strlen(c->auth_token));
		free(c->auth_token);
	}
	free(c->token_file);
	wipe(c, sizeof(*c));
	free(c);
}
