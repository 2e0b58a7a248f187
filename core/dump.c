/*
 * dump.c - the dump object: open a set of files, probe the formats, and
 * read physical memory through the format's read_page.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_CACHE_BYTES (64u << 20)
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

enum dumpfs_status dump_fail(struct dumpfs_dump *d, enum dumpfs_status status,
			     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	return status;
}

void dump_warn(struct dumpfs_dump *d, const char *fmt, ...)
{
	size_t len = strlen(d->warnings);
	va_list ap;
	if (len + 2 >= sizeof(d->warnings))
		return;                 /* the first problems are the telling ones */
	va_start(ap, fmt);
	vsnprintf(d->warnings + len, sizeof(d->warnings) - len - 1, fmt, ap);
	va_end(ap);
	len = strlen(d->warnings);
	d->warnings[len] = '\n';
	d->warnings[len + 1] = '\0';
}

enum dumpfs_status dump_log(struct dumpfs_dump *d, enum dumpfs_status status,
			    const char *fmt, ...)
{
	char msg[ERRMSG_MAX];
	va_list ap;

	pthread_mutex_lock(&d->log_lock);
	unsigned n = d->log_count++;
	pthread_mutex_unlock(&d->log_lock);
	if (n >= MAX_LOGGED_PROBLEMS)
		return status;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "dumpfs: %s%s\n", msg,
		n + 1 == MAX_LOGGED_PROBLEMS ? " (further problems not reported)" : "");
	return status;
}

enum dumpfs_status dump_read_meta(struct dumpfs_dump *d, size_t i, void *buf,
				  size_t len, uint64_t off, const char *what)
{
	enum dumpfs_status st = source_read(&d->files[i], buf, len, off);
	if (st == DUMPFS_ERR_CORRUPT)
		return dump_fail(d, st, "%s: offset %llu: %s (%zu bytes) runs past the end of the file (%llu bytes)",
				 d->files[i].path, (unsigned long long)off, what, len,
				 (unsigned long long)d->files[i].size);
	if (st != DUMPFS_OK)
		return dump_fail(d, st, "%s: offset %llu: cannot read %s: %s", d->files[i].path,
				 (unsigned long long)off, what, strerror(errno));
	return DUMPFS_OK;
}

enum dumpfs_status dump_set_page_size(struct dumpfs_dump *d, uint64_t size,
				      uint64_t at, const char *what)
{
	if (size < MIN_PAGE_SIZE || size > MAX_PAGE_SIZE || (size & (size - 1)))
		return dump_fail(d, DUMPFS_ERR_UNSUPPORTED, "%s: offset %llu: %s %llu is not a supported page size",
				 d->files[0].path, (unsigned long long)at, what, (unsigned long long)size);
	d->page_size = (uint32_t)size;
	d->page_shift = (unsigned)__builtin_ctzll(size);
	return DUMPFS_OK;
}

enum dumpfs_status dump_add_ram(struct dumpfs_dump *d, uint64_t start, uint64_t count)
{
	if (d->nram) {
		struct page_run *last = &d->ram[d->nram - 1];
		if (last->start + last->count == start) {
			last->count += count;
			return DUMPFS_OK;
		}
	}
	if (d->nram == d->ram_cap) {
		size_t cap = d->ram_cap ? d->ram_cap * 2 : 16;
		struct page_run *r = realloc(d->ram, cap * sizeof(*r));
		if (!r)
			return DUMPFS_ERR_NOMEM;
		d->ram = r;
		d->ram_cap = cap;
	}
	d->ram[d->nram++] = (struct page_run){ start, count };
	return DUMPFS_OK;
}

void dump_phys_base_from_vmcoreinfo(struct dumpfs_dump *d)
{
	char v[64];
	if (vmcoreinfo_get(&d->notes, "NUMBER(phys_base)", v, sizeof(v))) {
		char *end;
		errno = 0;
		long long n = strtoll(v, &end, 10);
		if (!errno && end != v) {
			d->has_phys_base = true;
			d->phys_base = (uint64_t)n;
			d->phys_base_origin = "VMCOREINFO NUMBER(phys_base)";
		}
	}
}

static enum dumpfs_status probe(struct dumpfs_dump *d)
{
	static enum dumpfs_status (*const probes[])(struct dumpfs_dump *, bool *) = {
		kdump_probe, elf_probe,
	};
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		bool matched;
		enum dumpfs_status st = probes[i](d, &matched);
		if (matched || st != DUMPFS_OK)
			return st;
	}
	const struct source *src = &d->files[0];
	if (src->flat)
		return dump_fail(d, DUMPFS_ERR_UNSUPPORTED,
				 "%s: offset 0: flattened file holds neither a kdump nor an ELF dump",
				 src->path);
	return dump_fail(d, DUMPFS_ERR_UNSUPPORTED,
			 "%s: offset 0: not a crash dump (no KDUMP, DISKDUMP, makedumpfile or ELF signature)",
			 src->path);
}

enum dumpfs_status dumpfs_open(struct dumpfs_dump **out, const char *const *paths,
			       size_t nfiles, const struct dumpfs_options *opts,
			       char *err, size_t errlen)
{
	struct dumpfs_dump *d;
	enum dumpfs_status st;

	*out = NULL;
	if (nfiles == 0) {
		snprintf(err, errlen, "no dump file given");
		return DUMPFS_ERR_INVALID;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->files = calloc(nfiles, sizeof(*d->files)))) {
		free(d);
		snprintf(err, errlen, "out of memory");
		return DUMPFS_ERR_NOMEM;
	}
	pthread_mutex_init(&d->log_lock, NULL);
	pthread_mutex_init(&d->pool_lock, NULL);
	d->pool_threads = opts && opts->threads ? opts->threads - 1 : pool_default_threads();
	for (size_t i = 0; i < nfiles; i++)
		d->files[i].fd = -1;
	d->nfiles = nfiles;
	for (size_t i = 0; i < nfiles; i++) {
		st = source_open(&d->files[i], paths[i], d->err, sizeof(d->err));
		if (st != DUMPFS_OK)
			goto fail;
		if (d->files[i].flat_warning)
			dump_warn(d, "%s", d->files[i].flat_warning);
	}
	st = probe(d);
	if (st != DUMPFS_OK)
		goto fail;
	dump_phys_base_from_vmcoreinfo(d);
	size_t cache_bytes = opts && opts->cache_bytes ? opts->cache_bytes : DEFAULT_CACHE_BYTES;
	d->cache = cache_new(cache_bytes, d->page_size);
	if (!d->cache) {
		st = DUMPFS_ERR_NOMEM;
		goto fail;
	}
	dump_phys_base_from_qemu_cr3(d);       /* reads memory: needs the cache */
	st = elf_view_build(d);
	if (st == DUMPFS_OK)
		st = tree_build(d);
	if (st != DUMPFS_OK)
		goto fail;
	*out = d;
	return DUMPFS_OK;
fail:
	if (!d->err[0])
		snprintf(d->err, sizeof(d->err), "%s: %s", paths[0], dumpfs_status_name(st));
	snprintf(err, errlen, "%s", d->err);
	dumpfs_close(d);
	return st;
}

void dumpfs_close(struct dumpfs_dump *d)
{
	if (!d)
		return;
	pool_free(d->pool);
	pthread_mutex_destroy(&d->pool_lock);
	if (d->ops)
		d->ops->close(d);
	tree_free(d->tree);
	elf_view_free(d->elf);
	cache_free(d->cache);
	notes_free(&d->notes);
	free(d->ram);
	for (size_t i = 0; i < d->nfiles; i++)
		source_close(&d->files[i]);
	free(d->files);
	pthread_mutex_destroy(&d->log_lock);
	free(d);
}

bool dump_mem_extent(struct dumpfs_dump *d, uint64_t paddr, size_t len, struct dumpfs_extent *e)
{
	uint64_t size = dumpfs_mem_size(d);
	if (!d->ops->extent || paddr >= size)
		return false;
	return d->ops->extent(d, paddr, len < size - paddr ? len : (size_t)(size - paddr), e);
}

bool dump_file_extent(struct dumpfs_dump *d, uint64_t off, size_t len, struct dumpfs_extent *e)
{
	const struct source *src = &d->files[0];
	if (src->flat || off >= src->size)
		return false;
	*e = (struct dumpfs_extent){ src->fd, off, len < src->size - off ? len : (size_t)(src->size - off) };
	return true;
}

uint64_t dumpfs_mem_size(const struct dumpfs_dump *d)
{
	return d->max_pfn << d->page_shift;
}

/* Pages per pool task: large enough that each task's descriptors and
 * data are one read each, small enough that a 1 MiB request is several. */
#define PAGES_PER_TASK 32
/* Pages of one dumpfs_read_phys() step (a status per page on the stack). */
#define PAGES_PER_STEP 1024

struct pages_job {
	struct dumpfs_dump *d;
	uint64_t pfn;
	size_t n;
	uint8_t *buf;
	enum dumpfs_status *st;
};

/* Pages not in the dump read as zeros; zeroed here, in the task that read
 * them, so that a sparse read's memset is shared by the workers too. */
static void read_pages_serial(struct dumpfs_dump *d, uint64_t pfn, size_t n, uint8_t *buf,
			      enum dumpfs_status *st)
{
	const size_t ps = d->page_size;
	if (d->ops->read_pages)
		d->ops->read_pages(d, pfn, n, buf, st);
	else
		for (size_t i = 0; i < n; i++)
			st[i] = d->ops->read_page(d, pfn + i, buf + i * ps);
	for (size_t i = 0; i < n; i++)
		if (st[i] == DUMPFS_ERR_NODATA)
			memset(buf + i * ps, 0, ps);
}

static void read_pages_task(void *arg, size_t task)
{
	const struct pages_job *j = arg;
	size_t first = task * PAGES_PER_TASK;
	size_t n = j->n - first < PAGES_PER_TASK ? j->n - first : PAGES_PER_TASK;
	read_pages_serial(j->d, j->pfn + first, n, j->buf + first * j->d->page_size, j->st + first);
}

/* The worker pool, started by the first read large enough to share. */
static struct pool *dump_pool(struct dumpfs_dump *d)
{
	pthread_mutex_lock(&d->pool_lock);
	if (!d->pool && !d->pool_failed) {
		d->pool = pool_new(d->pool_threads);
		d->pool_failed = !d->pool;
	}
	pthread_mutex_unlock(&d->pool_lock);
	return d->pool;
}

/* Whole pages [pfn, pfn + n) into @buf, n <= PAGES_PER_STEP. */
static void read_pages(struct dumpfs_dump *d, uint64_t pfn, size_t n, uint8_t *buf,
		       enum dumpfs_status *st)
{
	struct pages_job j = { d, pfn, n, buf, st };
	size_t ntasks = (n + PAGES_PER_TASK - 1) / PAGES_PER_TASK;
	if (ntasks > 1 && d->pool_threads)
		pool_run(dump_pool(d), read_pages_task, &j, ntasks);
	else
		read_pages_serial(d, pfn, n, buf, st);
}

ssize_t dumpfs_read_phys(struct dumpfs_dump *d, void *buf, size_t len, uint64_t paddr)
{
	uint64_t size = dumpfs_mem_size(d);
	uint8_t *out = buf;
	size_t done = 0, ps = d->page_size;
	enum dumpfs_status st[PAGES_PER_STEP];

	if (paddr >= size)
		return 0;
	if (len > size - paddr)
		len = (size_t)(size - paddr);
	while (done < len) {
		uint64_t addr = paddr + done, pfn = addr >> d->page_shift;
		size_t in = (size_t)(addr & (ps - 1));
		size_t n = (len - done) / ps;           /* whole pages from here */
		if (in == 0 && n > 0) {
			if (n > PAGES_PER_STEP)
				n = PAGES_PER_STEP;
			read_pages(d, pfn, n, out + done, st);
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
		enum dumpfs_status s1 = d->ops->read_page(d, pfn, page);
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

void dumpfs_cache_stats(const struct dumpfs_dump *d, struct dumpfs_cache_stats *st)
{
	cache_stats(d->cache, st);
}
