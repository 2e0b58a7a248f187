/*
 * phys.c - the physical memory of a dump as an address space, read through
 * its format's read_page(s): whole pages straight into the caller's buffer
 * (a large read shared with the worker pool), partial pages through a
 * scratch page.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>

#include "space/space.h"

/* Pages per pool task: large enough that each task's descriptors and
 * data are one read each, small enough that a 1 MiB request is several. */
#define PAGES_PER_TASK 32
/* Pages of one read step (a status per page on the stack). */
#define PAGES_PER_STEP 1024

static struct phys_space *phys_of(struct space *s)
{
	return (struct phys_space *)((char *)s - offsetof(struct phys_space, space));
}

struct pages_job {
	struct format *f;
	uint64_t pfn;
	size_t n;
	uint8_t *buf;
	enum dumpfs_status *st;
};

/* Pages not in the dump read as zeros; zeroed here, in the task that read
 * them, so that a sparse read's memset is shared by the workers too. */
static void read_pages_serial(struct format *f, uint64_t pfn, size_t n, uint8_t *buf,
			      enum dumpfs_status *st)
{
	const size_t ps = f->page_size;
	if (f->ops->read_pages)
		f->ops->read_pages(f, pfn, n, buf, st);
	else
		for (size_t i = 0; i < n; i++)
			st[i] = f->ops->read_page(f, pfn + i, buf + i * ps);
	for (size_t i = 0; i < n; i++)
		if (st[i] == DUMPFS_ERR_NODATA)
			memset(buf + i * ps, 0, ps);
}

static void read_pages_task(void *arg, size_t task)
{
	const struct pages_job *j = arg;
	size_t first = task * PAGES_PER_TASK;
	size_t n = j->n - first < PAGES_PER_TASK ? j->n - first : PAGES_PER_TASK;
	read_pages_serial(j->f, j->pfn + first, n, j->buf + first * j->f->page_size, j->st + first);
}

/* The worker pool, started by the first read large enough to share. */
static struct pool *phys_pool(struct phys_space *p)
{
	pthread_mutex_lock(&p->pool_lock);
	if (!p->pool && !p->pool_failed) {
		p->pool = pool_new(p->threads);
		p->pool_failed = !p->pool;
	}
	pthread_mutex_unlock(&p->pool_lock);
	return p->pool;
}

/* Whole pages [pfn, pfn + n) into @buf, n <= PAGES_PER_STEP. */
static void read_pages(struct phys_space *p, uint64_t pfn, size_t n, uint8_t *buf,
		       enum dumpfs_status *st)
{
	struct pages_job j = { p->fmt, pfn, n, buf, st };
	size_t ntasks = (n + PAGES_PER_TASK - 1) / PAGES_PER_TASK;
	if (ntasks > 1 && p->threads)
		pool_run(phys_pool(p), read_pages_task, &j, ntasks);
	else
		read_pages_serial(p->fmt, pfn, n, buf, st);
}

static ssize_t phys_read(struct space *s, void *buf, size_t len, uint64_t paddr)
{
	struct phys_space *p = phys_of(s);
	struct format *f = p->fmt;
	uint8_t *out = buf;
	size_t done = 0, ps = f->page_size;
	enum dumpfs_status st[PAGES_PER_STEP];

	while (done < len) {
		uint64_t addr = paddr + done, pfn = addr >> f->page_shift;
		size_t in = (size_t)(addr & (ps - 1));
		size_t n = (len - done) / ps;           /* whole pages from here */
		if (in == 0 && n > 0) {
			if (n > PAGES_PER_STEP)
				n = PAGES_PER_STEP;
			read_pages(p, pfn, n, out + done, st);
			for (size_t i = 0; i < n; i++, done += ps)
				if (st[i] != DUMPFS_OK && st[i] != DUMPFS_ERR_NODATA)
					return done ? (ssize_t)done : -EIO;
			continue;
		}
		/* A partial page: through a scratch page. */
		size_t part = ps - in < len - done ? ps - in : len - done;
		uint8_t *page = thread_scratch(1);
		if (!page)
			return done ? (ssize_t)done : -ENOMEM;
		enum dumpfs_status s1 = f->ops->read_page(f, pfn, page);
		if (s1 == DUMPFS_ERR_NODATA)
			memset(out + done, 0, part);
		else if (s1 != DUMPFS_OK)
			return done ? (ssize_t)done : -EIO;
		else
			memcpy(out + done, page + in, part);
		done += part;
	}
	return (ssize_t)done;
}

static uint64_t phys_next(struct space *s, uint64_t off, bool data)
{
	struct format *f = phys_of(s)->fmt;
	uint64_t pfn = off >> f->page_shift;
	uint64_t found = f->ops->find_pfn(f, pfn, data);
	if (found >= f->max_pfn)
		return s->size;
	if (found == pfn)
		return off;
	return found << f->page_shift;
}

static bool phys_extent(struct space *s, uint64_t paddr, size_t len, struct dumpfs_extent *e)
{
	struct format *f = phys_of(s)->fmt;
	return f->ops->extent && f->ops->extent(f, paddr, len, e);
}

static const struct space_ops phys_ops = {
	.read = phys_read,
	.next = phys_next,
	.extent = phys_extent,
};

void phys_space_init(struct phys_space *p, struct format *f, size_t threads)
{
	*p = (struct phys_space){
		.space = { &phys_ops, f->max_pfn << f->page_shift,
			   f->dumped_pages << f->page_shift },
		.fmt = f, .threads = threads,
	};
	pthread_mutex_init(&p->pool_lock, NULL);
}

void phys_space_destroy(struct phys_space *p)
{
	pool_free(p->pool);
	pthread_mutex_destroy(&p->pool_lock);
}
