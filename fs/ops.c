/*
 * ops.c - FUSE low-level handlers: inode N+1 is node N of the dump's tree
 * (so the root, node 0, is FUSE_ROOT_ID).  Everything is read-only and
 * immutable, so attributes and entries are cached for long and the kernel
 * page cache keeps file data across opens.  errno values live here only.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dumpfs.h"
#include "ops.h"

#define CACHE_TIMEOUT 86400.0           /* the dump never changes */
#define MAX_READ_AHEAD (4u << 20)    /* the kernel takes min(this, read_ahead_kb) */

/*
 * Each FUSE thread keeps its read buffer: a 1 MiB malloc() per request is
 * an mmap(), 256 page faults and an munmap() every time, which measured as
 * a large part of the daemon's system time on sequential reads.
 */
static pthread_key_t read_buffer_key;
static pthread_once_t read_buffer_once = PTHREAD_ONCE_INIT;

struct read_buffer {
	size_t size;
	char data[];
};

static void read_buffer_key_create(void)
{
	pthread_key_create(&read_buffer_key, free);
}

static char *read_buffer(size_t size)
{
	pthread_once(&read_buffer_once, read_buffer_key_create);
	struct read_buffer *b = pthread_getspecific(read_buffer_key);
	if (!b || b->size < size) {
		free(b);
		b = malloc(sizeof(*b) + (size ? size : 1));
		if (b)
			b->size = size;
		pthread_setspecific(read_buffer_key, b);
	}
	return b ? b->data : NULL;
}

static struct dumpfs_mount *mount_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static uint32_t node_of(fuse_ino_t ino)
{
	return (uint32_t)(ino - FUSE_ROOT_ID);
}

static int fill_stat(struct dumpfs_mount *m, fuse_ino_t ino, struct stat *st)
{
	struct dumpfs_node_info info;
	if (ino < FUSE_ROOT_ID || dumpfs_node_stat(m->dump, node_of(ino), &info) != DUMPFS_OK)
		return ENOENT;
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = info.type == DUMPFS_NODE_DIR ? S_IFDIR | 0555 : S_IFREG | 0444;
	st->st_nlink = info.type == DUMPFS_NODE_DIR ? 2 : 1;
	st->st_size = (off_t)info.size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((info.stored + 511) / 512);
	st->st_uid = m->uid;
	st->st_gid = m->gid;
	st->st_atim = st->st_mtim = st->st_ctim = m->mtime;
	return 0;
}

static void dumpfs_ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct dumpfs_mount *m = userdata;
	/* Data stored as is (ELF inputs) can go from the dump file to the
	 * reader by splice, without a copy through our memory. */
	if (m->splice && (conn->capable & FUSE_CAP_SPLICE_WRITE))
		conn->want |= FUSE_CAP_SPLICE_WRITE | (conn->capable & FUSE_CAP_SPLICE_MOVE);
	else
		m->splice = false;
	/* Large sequential reads of /mem are the common case. */
	if (conn->max_readahead < MAX_READ_AHEAD)
		conn->max_readahead = MAX_READ_AHEAD;
}

static void dumpfs_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct dumpfs_mount *m = mount_of(req);
	struct fuse_entry_param e = { .attr_timeout = CACHE_TIMEOUT, .entry_timeout = CACHE_TIMEOUT };
	int64_t node = parent < FUSE_ROOT_ID ? -1 : dumpfs_node_lookup(m->dump, node_of(parent), name);

	if (node < 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	e.ino = (fuse_ino_t)node + FUSE_ROOT_ID;
	int err = fill_stat(m, e.ino, &e.attr);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void dumpfs_ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	(void)fi;
	int err = fill_stat(mount_of(req), ino, &st);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, CACHE_TIMEOUT);
}

static void dumpfs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			      struct fuse_file_info *fi)
{
	(void)ino; (void)attr; (void)to_set; (void)fi;
	fuse_reply_err(req, EROFS);
}

static void dumpfs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	struct dumpfs_mount *m = mount_of(req);
	struct dumpfs_node_info info;
	char *buf;
	size_t used = 0;
	(void)fi;

	if (dumpfs_node_stat(m->dump, node_of(ino), &info) != DUMPFS_OK) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (info.type != DUMPFS_NODE_DIR) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	int err = dumpfs_node_dir_error(m->dump, node_of(ino));
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Offsets: 0 ".", 1 "..", then child i at 2 + i. */
	for (off_t i = off; ; i++) {
		struct stat st = {0};
		const char *name;
		if (i == 0) {
			name = ".";
			st.st_ino = ino;
			st.st_mode = S_IFDIR;
		} else if (i == 1) {
			name = "..";
			st.st_ino = info.parent + FUSE_ROOT_ID;
			st.st_mode = S_IFDIR;
		} else {
			int64_t child = dumpfs_node_child(m->dump, node_of(ino), (uint32_t)(i - 2));
			struct dumpfs_node_info ci;
			if (child < 0 || dumpfs_node_stat(m->dump, (uint32_t)child, &ci) != DUMPFS_OK)
				break;
			name = ci.name;
			st.st_ino = (fuse_ino_t)child + FUSE_ROOT_ID;
			st.st_mode = ci.type == DUMPFS_NODE_DIR ? S_IFDIR : S_IFREG;
		}
		size_t n = fuse_add_direntry(req, buf + used, size - used, name, &st, i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void dumpfs_ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dumpfs_node_info info;
	if (dumpfs_node_stat(mount_of(req)->dump, node_of(ino), &info) != DUMPFS_OK) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (info.type == DUMPFS_NODE_DIR) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	/* A file that could not be made (a text file whose decoding failed)
	 * is empty to stat; opening it says what reading it would. */
	char probe;
	ssize_t r = info.size ? 0 : dumpfs_node_read(mount_of(req)->dump, node_of(ino), &probe, 1, 0);
	if (r < 0) {
		fuse_reply_err(req, (int)-r);
		return;
	}
	if (info.is_volatile)
		fi->direct_io = 1;
	else
		fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

/* Reply with the dump file's own bytes when the whole request is stored
 * as is in one place; false to take the copying path.  Once
 * fuse_reply_data() is called the request is answered (or freed), whatever
 * it returns, so that is true. */
static bool reply_from_file(fuse_req_t req, struct dumpfs_dump *d, uint32_t node, size_t size,
			    off_t off)
{
	struct dumpfs_node_info info;
	struct dumpfs_extent e;
	if (dumpfs_node_stat(d, node, &info) != DUMPFS_OK || (uint64_t)off >= info.size)
		return false;
	if ((uint64_t)size > info.size - (uint64_t)off)
		size = (size_t)(info.size - (uint64_t)off);
	if (!dumpfs_node_extent(d, node, (uint64_t)off, size, &e) || e.len < size)
		return false;
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = e.fd;
	bv.buf[0].pos = (off_t)e.offset;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
	return true;
}

static void dumpfs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	(void)fi;
	if (mount_of(req)->splice && reply_from_file(req, mount_of(req)->dump, node_of(ino), size, off))
		return;
	char *buf = read_buffer(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	struct dumpfs_dump *d = mount_of(req)->dump;
	struct dumpfs_node_info info;
	ssize_t n = dumpfs_node_read(d, node_of(ino), buf, size, (uint64_t)off);
	/* The kernel takes a short read for the end of the file and shrinks
	 * its idea of the size.  Fail the whole request instead: the page
	 * cache then reads page by page, and only the bad page fails. */
	if (n >= 0 && (size_t)n < size && dumpfs_node_stat(d, node_of(ino), &info) == DUMPFS_OK &&
	    (uint64_t)off + (uint64_t)n < info.size && !info.is_volatile)
		n = -EIO;
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void dumpfs_ll_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
			    struct fuse_file_info *fi)
{
	(void)fi;
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	int64_t r = dumpfs_node_seek(mount_of(req)->dump, node_of(ino), (uint64_t)off, whence);
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_lseek(req, (off_t)r);
}

static void dumpfs_ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = { .f_bsize = 4096, .f_frsize = 4096, .f_namemax = 255,
			      .f_flag = ST_RDONLY };
	(void)ino;
	sv.f_files = dumpfs_node_count(mount_of(req)->dump);
	fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops dumpfs_fuse_ops = {
	.init = dumpfs_ll_init,
	.lookup = dumpfs_ll_lookup,
	.getattr = dumpfs_ll_getattr,
	.setattr = dumpfs_ll_setattr,
	.readdir = dumpfs_ll_readdir,
	.open = dumpfs_ll_open,
	.read = dumpfs_ll_read,
	.lseek = dumpfs_ll_lseek,
	.statfs = dumpfs_ll_statfs,
};
