/*
 * aws_json.c - the credentials JSON of a container or IMDS answer, read by
 * a small parser of its own that takes the top-level string members it is
 * asked for and refuses anything malformed; and the ISO 8601 time of its
 * Expiration.  It knows nothing of keys (aws_internal.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "source/aws_internal.h"

/* ---- JSON: the top-level string members of one object ---------------------- */

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

bool json_string_members(const char *p, const char *end, struct json_member *f, size_t nf)
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
			struct json_member *want = NULL;
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

/* ---- ISO 8601 time ------------------------------------------------------------ */

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

bool iso8601_time(const char *s, time_t *out)
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
