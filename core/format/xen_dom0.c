/*
 * xen_dom0.c - dom0's pseudo-physical memory inside a Xen host's kdump.
 * A PV dom0's pages lie wherever Xen gave them in machine memory; the
 * kernel publishes where, for Xen and for dump readers, as a three-level
 * tree of machine frames: XEN_ELFNOTE_CRASH_INFO names the top page (the
 * pfn_to_mfn_frame_list_list), whose 512 entries are the frames of middle
 * pages, whose entries are the frames of leaf pages, whose 512 entries are
 * the machine frames of 512 consecutive pfns.  Entries of ~0 are pfns
 * without memory; Linux marks frames of other domains (FOREIGN_FRAME_BIT,
 * bit 63) and pfns mapped 1:1 onto machine frames (IDENTITY_FRAME_BIT,
 * bit 62: the e820 holes and MMIO of dom0's map, not its RAM).  Both are
 * holes here, as libkdumpfile's walk of the same tree has them; a frame
 * that is not machine RAM at all is a damaged entry, whose page reads as
 * an error.  So do the pfns under a middle or leaf page that the dump has
 * but cannot give (cut short, damaged), below the last pfn mapped: what
 * they map is unknown, not absent.
 *
 * The tree is read once at open into a flat pfn -> mfn table; a page of
 * dom0 is then the host format's page at that frame.  Many middle and leaf
 * entries point at the same all-invalid "missing" pages, which are read
 * once.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format/xen.h"

#define ENTRIES 512                     /* u64 per 4 KiB page */
#define INVALID_MFN UINT64_MAX
#define FOREIGN_FRAME (UINT64_C(1) << 63)
#define IDENTITY_FRAME (UINT64_C(1) << 62)
/* dom0's pfns read at most: 64 GiB of dom0, a table of 128 MiB. */
#define MAX_DOM0_PFNS (UINT64_C(1) << 24)
#define MAX_EMPTY 16                    /* all-invalid pages remembered */
/* In the table: a pfn under a p2m page the dump could not give.  No leaf
 * entry is stored as it (its top bit makes it a foreign frame). */
#define LOST_MFN (UINT64_MAX - 1)

static const struct format_ops dom0_ops;

struct dom0 {
	struct format *host;
	uint64_t xen_major, xen_minor;
	uint64_t frame_list_list;
	uint64_t *p2m;                  /* mfn per pfn, INVALID_MFN if none */
	struct m2p m2p;                 /* its inverse, for page-table walks */
	uint64_t npfns;
	uint64_t mapped, identity, foreign, past_limit, lost;
	uint64_t end;                   /* last pfn mapped + 1 */
	struct lost_run { uint64_t start, end; } *lost_runs; /* pfns under pages not given */
	size_t nlost_runs, lost_cap;
	uint64_t *leaves;               /* leaf frames met (leaf_seen()) */
	size_t nleaves, leaf_cap;
	struct page_run *data;          /* pfns that read as data, sorted */
	size_t ndata;
	uint64_t empty[MAX_EMPTY];      /* frames found to hold no valid entry */
	size_t nempty;
};

static bool known_empty(const struct dom0 *d, uint64_t mfn)
{
	for (size_t i = 0; i < d->nempty; i++)
		if (d->empty[i] == mfn)
			return true;
	return false;
}

/* Page @mfn of machine memory as 512 entries: DUMPFS_ERR_NODATA if the
 * dump has no such page, another error if it has one it cannot give. */
static enum dumpfs_status read_frame(struct dom0 *d, uint64_t mfn, uint64_t *e)
{
	struct format *h = d->host;
	enum dumpfs_status st = mfn < h->max_pfn ? h->ops->read_page(h, mfn, e) : DUMPFS_ERR_NODATA;
	if (st != DUMPFS_OK)
		return st;
	for (size_t i = 0; i < ENTRIES; i++)
		e[i] = get64(h->endian, &e[i]);
	return DUMPFS_OK;
}

static void remember_empty(struct dom0 *d, uint64_t mfn)
{
	if (d->nempty < MAX_EMPTY && !known_empty(d, mfn))
		d->empty[d->nempty++] = mfn;
}

/* A leaf that maps no page of dom0's own: every entry invalid, 1:1 or
 * foreign.  Linux points every unused slot at one such page (p2m_missing,
 * p2m_identity), 512^2 times for a small dom0: read once. */
static void note_empty(struct dom0 *d, uint64_t mfn, const uint64_t *e)
{
	for (size_t i = 0; i < ENTRIES; i++)
		if (e[i] != INVALID_MFN && !(e[i] & (FOREIGN_FRAME | IDENTITY_FRAME)))
			return;
	remember_empty(d, mfn);
}

/* Whether leaf frame @mfn was met before (@again), remembering it: an
 * open-addressed set, grown at half full (at most 512^2 leaves). */
static enum dumpfs_status leaf_seen(struct dom0 *d, uint64_t mfn, bool *again)
{
	if (d->nleaves * 2 >= d->leaf_cap) {
		size_t cap = d->leaf_cap ? d->leaf_cap * 2 : 1024;
		uint64_t *set = malloc(cap * sizeof(*set));
		if (!set)
			return DUMPFS_ERR_NOMEM;
		for (size_t i = 0; i < cap; i++)
			set[i] = INVALID_MFN;
		for (size_t i = 0; i < d->leaf_cap; i++) {
			if (d->leaves[i] == INVALID_MFN)
				continue;
			size_t h = (size_t)(d->leaves[i] * 0x9e3779b97f4a7c15ull) & (cap - 1);
			while (set[h] != INVALID_MFN)
				h = (h + 1) & (cap - 1);
			set[h] = d->leaves[i];
		}
		free(d->leaves);
		d->leaves = set;
		d->leaf_cap = cap;
	}
	size_t h = (size_t)(mfn * 0x9e3779b97f4a7c15ull) & (d->leaf_cap - 1);
	while (d->leaves[h] != INVALID_MFN && d->leaves[h] != mfn)
		h = (h + 1) & (d->leaf_cap - 1);
	*again = d->leaves[h] == mfn;
	if (!*again) {
		d->leaves[h] = mfn;
		d->nleaves++;
	}
	return DUMPFS_OK;
}

/* A leaf's entries into the table at @base; @limit bounds the table. */
static enum dumpfs_status add_leaf(struct dom0 *d, const uint64_t *leaf, uint64_t base, uint64_t limit)
{
	for (size_t k = 0; k < ENTRIES; k++) {
		uint64_t e = leaf[k], pfn = base + k;
		if (e == INVALID_MFN)
			continue;
		if (e & FOREIGN_FRAME) {
			d->foreign++;
			continue;
		}
		if (e & IDENTITY_FRAME) {
			d->identity++;
			continue;
		}
		if (pfn >= limit) {
			d->past_limit++;
			continue;
		}
		if (pfn >= d->npfns) {
			uint64_t n = d->npfns ? d->npfns : 1 << 18;
			while (n <= pfn)
				n *= 2;
			n = n < limit ? n : limit;
			uint64_t *p = realloc(d->p2m, n * sizeof(*p));
			if (!p)
				return DUMPFS_ERR_NOMEM;
			for (uint64_t i = d->npfns; i < n; i++)
				p[i] = INVALID_MFN;
			d->p2m = p;
			d->npfns = n;
		}
		d->p2m[pfn] = e;
		d->mapped++;
		d->end = pfn + 1 > d->end ? pfn + 1 : d->end;
	}
	return DUMPFS_OK;
}

/* The @count pfns from @base are under a p2m page the dump cannot give
 * (the walk goes up in pfn order: a run may extend the last one). */
static enum dumpfs_status add_lost(struct dom0 *d, uint64_t base, uint64_t count)
{
	struct lost_run *last = d->nlost_runs ? &d->lost_runs[d->nlost_runs - 1] : NULL;
	if (last && last->end == base) {
		last->end += count;
		return DUMPFS_OK;
	}
	if (d->nlost_runs == d->lost_cap) {
		size_t n = d->lost_cap ? 2 * d->lost_cap : 16;
		struct lost_run *r = realloc(d->lost_runs, n * sizeof(*r));
		if (!r)
			return DUMPFS_ERR_NOMEM;
		d->lost_runs = r;
		d->lost_cap = n;
	}
	d->lost_runs[d->nlost_runs++] = (struct lost_run){ base, base + count };
	return DUMPFS_OK;
}

/* Once the tree is walked: the lost pfns below the last one mapped (what
 * lies past it is not known to be dom0's) in the table, as LOST_MFN. */
static void mark_lost(struct dom0 *d)
{
	for (size_t i = 0; i < d->nlost_runs; i++)
		for (uint64_t pfn = d->lost_runs[i].start; pfn < d->lost_runs[i].end && pfn < d->end; pfn++)
			if (d->p2m[pfn] == INVALID_MFN) {
				d->p2m[pfn] = LOST_MFN;
				d->lost++;
			}
	free(d->lost_runs);
	d->lost_runs = NULL;
	d->nlost_runs = d->lost_cap = 0;
}

static enum dumpfs_status walk(struct format *g, struct dom0 *d)
{
	uint64_t *top = malloc(3 * ENTRIES * sizeof(uint64_t)), *mid = top + ENTRIES, *leaf = mid + ENTRIES;
	/* No more pfns than twice the machine's frames (and a floor for small
	 * test dumps), and at most MAX_DOM0_PFNS, whatever a damaged PT_LOAD
	 * claims: a damaged tree costs a bounded table, and a bounded walk
	 * (the p2m pages wholly past it are not read; one naming the same page
	 * everywhere made 512^2 reads of it and 512^3 entries). */
	uint64_t limit = d->host->max_pfn * 2 + (UINT64_C(1) << 20);
	if (limit > MAX_DOM0_PFNS)
		limit = MAX_DOM0_PFNS;
	enum dumpfs_status st = top ? DUMPFS_OK : DUMPFS_ERR_NOMEM;
	if (st == DUMPFS_OK && read_frame(d, d->frame_list_list, top) != DUMPFS_OK)
		st = diag_fail(g->diag, DUMPFS_ERR_NODATA, "%s: dom0's pfn_to_mfn_frame_list_list (machine frame %#"
			       PRIx64 ", from XEN_ELFNOTE_CRASH_INFO) is not in the dump", g->files[0].path,
			       d->frame_list_list);
	/* a page the dump has but cannot give leaves its pfns unknown: lost */
	for (size_t i = 0; st == DUMPFS_OK && i < ENTRIES; i++) {
		uint64_t base = (uint64_t)i * ENTRIES * ENTRIES;
		if (base >= limit)
			break;
		if (top[i] == INVALID_MFN || known_empty(d, top[i]))
			continue;
		enum dumpfs_status r = read_frame(d, top[i], mid);
		if (r != DUMPFS_OK) {
			if (r != DUMPFS_ERR_NODATA)
				st = add_lost(d, base, (uint64_t)ENTRIES * ENTRIES);
			continue;
		}
		uint64_t mapped = d->mapped, lost = d->nlost_runs;
		for (size_t j = 0; st == DUMPFS_OK && j < ENTRIES && base + (uint64_t)j * ENTRIES < limit; j++) {
			if (mid[j] == INVALID_MFN || known_empty(d, mid[j]))
				continue;
			r = read_frame(d, mid[j], leaf);
			if (r == DUMPFS_OK) {
				note_empty(d, mid[j], leaf);
				if (known_empty(d, mid[j]))
					continue;
				/* a leaf that maps dom0's pages belongs to one place:
				 * named again (a damaged tree), its pfns there are
				 * unknown, and the table stays bounded by the leaf
				 * pages the dump holds */
				bool again;
				st = leaf_seen(d, mid[j], &again);
				if (st == DUMPFS_OK && again)
					st = add_lost(d, base + (uint64_t)j * ENTRIES, ENTRIES);
				else if (st == DUMPFS_OK)
					st = add_leaf(d, leaf, base + (uint64_t)j * ENTRIES, limit);
			} else if (r != DUMPFS_ERR_NODATA) {
				st = add_lost(d, base + (uint64_t)j * ENTRIES, ENTRIES);
			}
		}
		/* a middle page whose leaves map nothing (p2m_mid_missing,
		 * p2m_mid_identity) is skipped where it is met again */
		if (d->mapped == mapped && d->nlost_runs == lost)
			remember_empty(d, top[i]);
	}
	free(top);
	mark_lost(d);
	return st;
}

/* Whether machine frame @mfn is in one of the host's RAM runs. */
static bool machine_ram(const struct format *h, uint64_t mfn)
{
	size_t lo = 0, hi = h->nram;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->ram[mid].start + h->ram[mid].count <= mfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < h->nram && h->ram[lo].start <= mfn;
}

/*
 * The pfns that read as data, as sorted runs for find_pfn: mapped onto a
 * frame the host's dump holds, or onto one that is not machine RAM at all
 * (a damaged entry: an error, not a hole of zeros), or lost under a p2m
 * page the dump cannot give.  RAM the host's dump left out (a filtered
 * dump) is a hole.
 */
static enum dumpfs_status data_runs(struct format *g, struct dom0 *d)
{
	struct format *h = d->host;
	size_t cap = 0;
	for (uint64_t p = 0; p < g->max_pfn; p++) {
		uint64_t mfn = d->p2m[p];
		if (mfn == INVALID_MFN ||
		    (mfn != LOST_MFN && machine_ram(h, mfn) && h->ops->find_pfn(h, mfn, true) != mfn))
			continue;
		if (d->ndata && d->data[d->ndata - 1].start + d->data[d->ndata - 1].count == p) {
			d->data[d->ndata - 1].count++;
			continue;
		}
		if (d->ndata == cap) {
			cap = cap ? cap * 2 : 64;
			struct page_run *r = realloc(d->data, cap * sizeof(*r));
			if (!r)
				return DUMPFS_ERR_NOMEM;
			d->data = r;
		}
		d->data[d->ndata++] = (struct page_run){ .start = p, .count = 1 };
	}
	return DUMPFS_OK;
}

enum dumpfs_status xen_dom0_open(struct format *g, struct format *host, uint64_t frame_list_list)
{
	struct dom0 *d = calloc(1, sizeof(*d));
	if (!d)
		return DUMPFS_ERR_NOMEM;
	g->priv = d;
	g->ops = &dom0_ops;
	g->name = "Xen dom0";
	g->producer = "dom0 inside a Xen host's kdump, through its p2m";
	g->endian = host->endian;
	g->elf_machine = host->elf_machine;
	g->machine_origin = "the Xen host's ELF e_machine";
	g->memory_only = true;          /* dom0's VMCOREINFO is in its memory */
	d->host = host;
	d->frame_list_list = frame_list_list;
	struct xen_host h;
	if (xen_host_find(host, &h)) {
		d->xen_major = h.major;
		d->xen_minor = h.minor;
	}
	enum dumpfs_status st = host->page_size == 4096 ? format_set_page_size(g, 4096, 0, "page size")
		: diag_fail(g->diag, DUMPFS_ERR_UNSUPPORTED, "%s: a Xen host with %u-byte pages", host->files[0].path,
			    host->page_size);
	if (st == DUMPFS_OK)
		st = walk(g, d);
	if (st == DUMPFS_OK && !d->mapped)
		st = diag_fail(g->diag, DUMPFS_ERR_CORRUPT, "%s: dom0's p2m (frame list list at machine frame %#"
			       PRIx64 ") maps no page", host->files[0].path, frame_list_list);
	if (st == DUMPFS_OK && d->past_limit)
		diag_warn(g->diag, "%s: dom0's p2m maps %" PRIu64 " pfns past %#" PRIx64 ": left out",
			  host->files[0].path, d->past_limit, d->npfns);
	if (st == DUMPFS_OK && d->lost)
		diag_warn(g->diag, "%s: %" PRIu64 " pfns of dom0 are under p2m pages the dump cannot give: "
			  "they read as errors", host->files[0].path, d->lost);
	for (uint64_t p = 0; st == DUMPFS_OK && p < d->npfns; p++) {
		uint64_t q = p;
		while (q < d->npfns && d->p2m[q] != INVALID_MFN)
			q++;
		if (q > p)
			st = format_add_ram(g, p, q - p);
		g->ram_pages += q - p;
		p = q;
	}
	g->max_pfn = d->npfns;
	while (g->max_pfn && d->p2m[g->max_pfn - 1] == INVALID_MFN)
		g->max_pfn--;
	g->dumped_pages = d->mapped;
	for (uint64_t p = 0; st == DUMPFS_OK && p < g->max_pfn; p++)
		if (d->p2m[p] != INVALID_MFN && d->p2m[p] != LOST_MFN)
			st = m2p_add(&d->m2p, d->p2m[p], p);
	if (st == DUMPFS_OK)
		st = m2p_sort(&d->m2p);
	if (st == DUMPFS_OK)
		st = data_runs(g, d);
	return st;
}

static enum dumpfs_status dom0_read_page(struct format *g, uint64_t pfn, void *buf)
{
	struct dom0 *d = g->priv;
	if (pfn >= d->npfns || d->p2m[pfn] == INVALID_MFN)
		return DUMPFS_ERR_NODATA;
	uint64_t mfn = d->p2m[pfn];
	if (mfn == LOST_MFN)
		return diag_log(g->diag, DUMPFS_ERR_IO, "%s: dom0's pfn %#" PRIx64 ": the p2m page that maps it "
				"could not be read from the dump", d->host->files[0].path, pfn);
	if (!machine_ram(d->host, mfn))
		return diag_log(g->diag, DUMPFS_ERR_CORRUPT, "%s: dom0's pfn %#" PRIx64 ": its p2m names machine "
				"frame %#" PRIx64 ", which is not the machine's RAM", d->host->files[0].path, pfn, mfn);
	return d->host->ops->read_page(d->host, mfn, buf);
}

static uint64_t dom0_find_pfn(struct format *g, uint64_t pfn, bool dumped)
{
	const struct dom0 *d = g->priv;
	size_t lo = 0, hi = d->ndata;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->data[mid].start + d->data[mid].count <= pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* data[lo] is the first run ending after pfn */
	bool in = lo < d->ndata && d->data[lo].start <= pfn;
	if (in == dumped)
		return pfn < g->max_pfn ? pfn : g->max_pfn;
	uint64_t next = dumped ? (lo < d->ndata ? d->data[lo].start : g->max_pfn)
			       : d->data[lo].start + d->data[lo].count;
	return next < g->max_pfn ? next : g->max_pfn;
}

static bool dom0_frame_to_pfn(struct format *g, uint64_t frame, uint64_t *pfn)
{
	const struct dom0 *d = g->priv;
	return m2p_lookup(&d->m2p, frame, pfn);
}

static bool dom0_xen_pv(struct format *g, struct xen_pv_layout *l)
{
	const struct dom0 *d = g->priv;
	*l = (struct xen_pv_layout){ .runs = d->m2p.by_pfn, .nruns = d->m2p.count,
				     .frame_list_list = d->frame_list_list,
				     .xen_major = d->xen_major, .xen_minor = d->xen_minor };
	return d->m2p.count != 0;
}

static void dom0_census(struct format *g, struct census *c)
{
	(void)g;
	c->zero = ZERO_NOT_SHARED;
}

static void dom0_describe(struct format *g, struct strbuf *sb)
{
	const struct dom0 *d = g->priv;
	sb_printf(sb, "xen_dom0_p2m: frame list list at machine frame %#" PRIx64 ": %" PRIu64 " pfns mapped"
		  "; left out: %" PRIu64 " 1:1 onto machine frames (holes and MMIO), %" PRIu64 " foreign frames; "
		  "%" PRIu64 " under p2m pages the dump cannot give (errors)\n", d->frame_list_list,
		  d->mapped, d->identity, d->foreign, d->lost);
	sb_printf(sb, "cpu_registers: none (the host's notes hold the physical CPUs' registers, in /cpus)\n");
}

static void dom0_close(struct format *g)
{
	struct dom0 *d = g->priv;
	if (d) {
		free(d->p2m);
		free(d->data);
		free(d->leaves);
		m2p_free(&d->m2p);
	}
	free(d);
	g->priv = NULL;
}

static const struct format_ops dom0_ops = {
	.name = "xen-dom0",
	.read_page = dom0_read_page,
	.find_pfn = dom0_find_pfn,
	.census = dom0_census,
	.describe = dom0_describe,
	.frame_to_pfn = dom0_frame_to_pfn,
	.xen_pv = dom0_xen_pv,
	.close = dom0_close,
};
