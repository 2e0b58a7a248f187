/*
 * diag.c - the diagnostics of one open dump: the open error, the warnings
 * /header shows, and read-time problems, reported once each up to a limit
 * so that a badly damaged dump cannot flood the log.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "base/base.h"

#define MAX_LOGGED_PROBLEMS 64

const char *dumpfs_status_name(enum dumpfs_status status)
{
	switch (status) {
	case DUMPFS_OK: return "ok";
	case DUMPFS_ERR_IO: return "I/O error";
	case DUMPFS_ERR_CORRUPT: return "corrupt dump";
	case DUMPFS_ERR_UNSUPPORTED: return "unsupported";
	case DUMPFS_ERR_NOMEM: return "out of memory";
	case DUMPFS_ERR_NODATA: return "not in the dump";
	case DUMPFS_ERR_INVALID: return "invalid";
	}
	return "?";
}

void diag_init(struct diag *g)
{
	g->error[0] = g->warnings[0] = '\0';
	g->logged = 0;
	pthread_mutex_init(&g->lock, NULL);
}

void diag_destroy(struct diag *g)
{
	pthread_mutex_destroy(&g->lock);
}

enum dumpfs_status diag_fail(struct diag *g, enum dumpfs_status status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->error, sizeof(g->error), fmt, ap);
	va_end(ap);
	return status;
}

void diag_warn(struct diag *g, const char *fmt, ...)
{
	size_t len = strlen(g->warnings);
	va_list ap;
	if (len + 2 >= sizeof(g->warnings))
		return;                 /* the first problems are the telling ones */
	va_start(ap, fmt);
	vsnprintf(g->warnings + len, sizeof(g->warnings) - len - 1, fmt, ap);
	va_end(ap);
	len = strlen(g->warnings);
	g->warnings[len] = '\n';
	g->warnings[len + 1] = '\0';
}

enum dumpfs_status diag_log(struct diag *g, enum dumpfs_status status, const char *fmt, ...)
{
	char msg[ERRMSG_MAX];
	va_list ap;

	pthread_mutex_lock(&g->lock);
	unsigned n = g->logged++;
	pthread_mutex_unlock(&g->lock);
	if (n >= MAX_LOGGED_PROBLEMS)
		return status;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "dumpfs: %s%s\n", msg,
		n + 1 == MAX_LOGGED_PROBLEMS ? " (further problems not reported)" : "");
	return status;
}

unsigned diag_problems(struct diag *g)
{
	pthread_mutex_lock(&g->lock);
	unsigned n = g->logged;
	pthread_mutex_unlock(&g->lock);
	return n;
}
