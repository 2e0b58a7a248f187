/*
 * xen_m2p.c - machine frame -> pfn for a Xen PV guest, whose page tables
 * hold machine frames: the inverse of its p2m, kept as runs (consecutive
 * pfns on consecutive frames, as Xen mostly allocates them), sorted by
 * frame for a binary search per page-table entry.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "format/xen.h"

enum dumpfs_status m2p_add(struct m2p *m, uint64_t mfn, uint64_t pfn)
{
	if (m->count) {
		struct machine_run *last = &m->runs[m->count - 1];
		if (last->mfn + last->count == mfn && last->pfn + last->count == pfn) {
			last->count++;
			return DUMPFS_OK;
		}
	}
	if (m->count == m->cap) {
		size_t n = m->cap ? m->cap * 2 : 64;
		struct machine_run *r = realloc(m->runs, n * sizeof(*r));
		if (!r)
			return DUMPFS_ERR_NOMEM;
		m->runs = r;
		m->cap = n;
	}
	m->runs[m->count++] = (struct machine_run){ .mfn = mfn, .pfn = pfn, .count = 1 };
	return DUMPFS_OK;
}

static int cmp_run(const void *a, const void *b)
{
	const struct machine_run *x = a, *y = b;
	return x->mfn < y->mfn ? -1 : x->mfn > y->mfn;
}

static int cmp_run_pfn(const void *a, const void *b)
{
	const struct machine_run *x = a, *y = b;
	return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

enum dumpfs_status m2p_sort(struct m2p *m)
{
	if (!m->count)
		return DUMPFS_OK;
	m->by_pfn = malloc(m->count * sizeof(*m->by_pfn));
	if (!m->by_pfn)
		return DUMPFS_ERR_NOMEM;
	memcpy(m->by_pfn, m->runs, m->count * sizeof(*m->runs));
	qsort(m->by_pfn, m->count, sizeof(*m->by_pfn), cmp_run_pfn);
	qsort(m->runs, m->count, sizeof(*m->runs), cmp_run);
	return DUMPFS_OK;
}

/* A frame two runs claim (a damaged p2m) maps to the lower-addressed one's
 * pfn: the run found first by the search. */
bool m2p_lookup(const struct m2p *m, uint64_t mfn, uint64_t *pfn)
{
	size_t lo = 0, hi = m->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->runs[mid].mfn + m->runs[mid].count <= mfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == m->count || m->runs[lo].mfn > mfn)
		return false;
	*pfn = m->runs[lo].pfn + (mfn - m->runs[lo].mfn);
	return true;
}

void m2p_free(struct m2p *m)
{
	free(m->runs);
	free(m->by_pfn);
	*m = (struct m2p){0};
}
