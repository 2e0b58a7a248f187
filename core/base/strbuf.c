/*
 * strbuf.c - the growable text buffer the text files are rendered into.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static bool sb_reserve(struct strbuf *sb, size_t extra)
{
	if (sb->failed)
		return false;
	if (sb->len + extra + 1 <= sb->cap)
		return true;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	char *p = realloc(sb->buf, cap);
	if (!p) {
		sb->failed = true;
		return false;
	}
	sb->buf = p;
	sb->cap = cap;
	return true;
}

void sb_append(struct strbuf *sb, const void *data, size_t len)
{
	if (!sb_reserve(sb, len))
		return;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sb_reserve(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sb_json_string(struct strbuf *sb, const char *s, size_t len)
{
	sb_append(sb, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			sb_append(sb, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			sb_printf(sb, "\\u%04x", c);
		} else {
			sb_append(sb, &s[i], 1);
		}
	}
	sb_append(sb, "\"", 1);
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	*sb = (struct strbuf){0};
}
