/*
 * xen_save.c - Xen's files that are not dumps, named so that a user who
 * mounts one learns what it is: `xl save` images (xl's 32-byte header,
 * then libxl's stream, "LibxlFmt"), a bare libxl stream, libxenguest's
 * migration stream (an 8-byte marker of ones, then "XENF"), and xend's
 * older "LinuxGuestRecord" images.  They hold a domain's memory in page
 * batches of a live migration, with no index; dumpfs reads the memory of
 * a domain from `xl dump-core` files.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "format/xen.h"

static const char xl_magic[32] = "Xen saved domain, xl format\n \0 \r";

static const char *what(const uint8_t *h, size_t n)
{
	static const uint8_t ones[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	if (n >= sizeof(xl_magic) && !memcmp(h, xl_magic, sizeof(xl_magic)))
		return "an `xl save` image (a saved domain, written as a live migration's stream)";
	if (n >= 8 && !memcmp(h, "LibxlFmt", 8))
		return "a libxl save/migration stream";
	if (n >= 12 && !memcmp(h, ones, 8) && !memcmp(h + 8, "XENF", 4))
		return "a libxenguest save/migration stream";
	if (n >= 16 && !memcmp(h, "LinuxGuestRecord", 16))
		return "a xend (xm save) image";
	return NULL;
}

enum dumpfs_status xen_save_probe(struct format *f, bool *matched)
{
	const struct source *src = &f->files[0];
	uint8_t h[32];
	size_t n = src->size < sizeof(h) ? (size_t)src->size : sizeof(h);
	*matched = false;
	const char *kind = n && source_read(src, h, n, 0) == DUMPFS_OK ? what(h, n) : NULL;
	if (!kind)
		return DUMPFS_OK;
	*matched = true;
	return diag_fail(f->diag, DUMPFS_ERR_UNSUPPORTED, "%s: offset 0: %s, not a dump: dumpfs does not read "
			 "saved domains; restore it (`xl restore -p FILE`) and take `xl dump-core DOMAIN FILE`, "
			 "which it reads", src->path, kind);
}
