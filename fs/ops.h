/*
 * ops.h - the FUSE low-level handlers over a dumpfs_dump (fs/ops.c).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef DUMPFS_FS_OPS_H
#define DUMPFS_FS_OPS_H

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include <fuse_lowlevel.h>

/* Userdata for fuse_session_new(): the dump and the stat times. */
struct dumpfs_mount {
	struct dumpfs_dump *dump;
	struct timespec mtime;          /* of the dump file */
	uid_t uid;
	gid_t gid;
	bool splice;                    /* reply with the dump file's own pages */
};

extern const struct fuse_lowlevel_ops dumpfs_fuse_ops;

#endif
