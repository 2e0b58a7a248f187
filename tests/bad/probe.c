/*
 * probe.c - open a (possibly damaged) dump through the public API, read
 * every page of /mem and every byte of every file of the tree, and compare
 * /mem with what the writer put there.
 *
 *   probe [--list] [--ranges LIST] [--dom0 EXPECTED_DOM0_MEM] EXPECTED_MEM DUMP...
 *
 * Prints one line:
 *   "error: MESSAGE", then "peak_kib K"               open failed (exit 3)
 *   "served PAGES eio EIO wrong WRONG files N bytes B unread U peak_kib K"
 *                                                    open worked (exit 0)
 * WRONG counts pages that read without an error but differ from
 * EXPECTED_MEM; the caller decides which of them its damage explains.
 * Pages past EXPECTED_MEM's end must read as zeros.  With --list, two more
 * lines name them: "wrong-pfns: P..." and "eio-pfns: P..." (4 KiB pfns,
 * decimal), for callers that check which pages went wrong.  UNREAD counts
 * pages past EXPECTED_MEM's end left unread (see MAX_PAGES_PAST_END); K is
 * the probe's peak RSS in KiB (VmHWM).  --ranges opens DUMP as a raw image
 * of those ranges (dumpfs_options.raw_ranges).
 *
 * The files of a guest's tree (/dom0/ of a Xen host's kdump) are read too,
 * but for its mem, which only --dom0 reads: page by page against
 * EXPECTED_DOM0_MEM, as /mem is checked.  It prints after the lines above
 * "dom0 served S eio E wrong W unread U" (or "dom0 none" when the dump has
 * no /dom0/), and with --list "dom0-wrong-pfns: P..." and
 * "dom0-eio-pfns: P...".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../map_file.h"

#include "dumpfs.h"

/* A damaged header can also make /vmcore.elf petabytes long; each file is
 * read up to this many bytes (far more than any of our test dumps). */
#define MAX_FILE_BYTES (256ull << 20)

/* Read file @node to its end, stepping over EIO ranges page by page. */
static void read_file(struct dumpfs_dump *d, uint32_t node, uint64_t size, uint64_t *files,
		      uint64_t *bytes)
{
	static uint8_t buf[1 << 16];
	(*files)++;
	for (uint64_t off = 0; off < size && off < MAX_FILE_BYTES;) {
		ssize_t r = dumpfs_node_read(d, node, buf, sizeof(buf), off);
		if (r == 0)
			break;
		if (r < 0)
			off = (off | 4095) + 1;
		else
			off += (uint64_t)r, *bytes += (uint64_t)r;
	}
}

/* Every file under directory @dir, but its "mem" (done page by page). */
static void read_dir(struct dumpfs_dump *d, uint32_t dir, int depth, uint64_t *files, uint64_t *bytes)
{
	int64_t child;
	for (uint32_t k = 0; depth < 16 && (child = dumpfs_node_child(d, dir, k)) >= 0; k++) {
		struct dumpfs_node_info info;
		if (dumpfs_node_stat(d, (uint32_t)child, &info) != DUMPFS_OK)
			continue;
		if (info.type == DUMPFS_NODE_DIR)
			read_dir(d, (uint32_t)child, depth + 1, files, bytes);
		else if (info.type == DUMPFS_NODE_FILE && strcmp(info.name, "mem"))
			read_file(d, (uint32_t)child, info.size, files, bytes);
	}
}

/* Read every file node of the dump's tree and of its guest's (/dom0/). */
static void read_tree(struct dumpfs_dump *d, uint64_t *files, uint64_t *bytes)
{
	uint32_t n = dumpfs_node_count(d);
	for (uint32_t i = 0; i < n; i++) {
		struct dumpfs_node_info info;
		if (dumpfs_node_stat(d, i, &info) != DUMPFS_OK || info.type != DUMPFS_NODE_FILE)
			continue;
		if (!strcmp(info.name, "mem"))
			continue;       /* done page by page */
		read_file(d, i, info.size, files, bytes);
	}
	/* the guest's nodes are numbered apart from the dump's: walk them */
	int64_t guest = dumpfs_node_by_path(d, "/dom0");
	if (guest >= 0 && (uint64_t)guest >= n)
		read_dir(d, (uint32_t)guest, 0, files, bytes);
}

/* This process's peak RSS in KiB (VmHWM: this program's own memory; the
 * rusage a parent gets also counts what the parent had before exec). */
static unsigned long long peak_rss_kib(void)
{
	char line[256];
	unsigned long long kib = 0;
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

/* A growing list of pfns, for --list. */
struct pfn_list { uint64_t *v; size_t n, cap; };

static void pfn_list_add(struct pfn_list *l, uint64_t pfn)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v) {
			perror("realloc");
			exit(2);
		}
	}
	l->v[l->n++] = pfn;
}

static void pfn_list_print(const char *label, struct pfn_list *l)
{
	printf("%s:", label);
	for (size_t i = 0; i < l->n; i++)
		printf(" %llu", (unsigned long long)l->v[i]);
	printf("\n");
	free(l->v);
}

/*
 * A damaged header can make /mem petabytes long (a p_paddr with its top bit
 * flipped).  Pages up to the expected end are all checked; past it, holes
 * are skipped with SEEK_DATA (they read as zeros by contract, and the first
 * page of each is read to check) and at most this many data pages are read;
 * the rest are counted as "unread".
 */
#define MAX_PAGES_PAST_END 65536u
#define PROBE_PAGE 4096u

struct mem_check {
	const uint8_t *expect;
	size_t explen;
	bool list;
	int64_t node;           /* the file read, or -1: /mem through dumpfs_read_phys */
	uint64_t served, eio, wrong, unread, past_end;
	struct pfn_list wrong_pfns, eio_pfns;
};

/* Read the page at @pa and compare it with the expected memory. */
static void check_page(struct dumpfs_dump *d, struct mem_check *mc, uint64_t pa, uint64_t size)
{
	static uint8_t page[PROBE_PAGE], zero[PROBE_PAGE];
	ssize_t r = mc->node < 0 ? dumpfs_read_phys(d, page, PROBE_PAGE, pa)
		    : dumpfs_node_read(d, (uint32_t)mc->node, page, PROBE_PAGE, pa);
	if (r == -EIO) {
		mc->eio++;
		if (mc->list)
			pfn_list_add(&mc->eio_pfns, pa / PROBE_PAGE);
		return;
	}
	if (r != (ssize_t)PROBE_PAGE && !(r > 0 && pa + (uint64_t)r == size)) {
		printf("read at %#llx returned %zd\n", (unsigned long long)pa, r);
		exit(1);
	}
	mc->served++;
	const uint8_t *want = pa + PROBE_PAGE <= mc->explen ? mc->expect + pa : zero;
	if (memcmp(page, want, (size_t)r)) {
		mc->wrong++;
		if (mc->list)
			pfn_list_add(&mc->wrong_pfns, pa / PROBE_PAGE);
	}
}

/* Pages [from, to) of /mem: all of them below the expected end, a bounded
 * number past it (@hole: only the first one). */
static void check_pages(struct dumpfs_dump *d, struct mem_check *mc, uint64_t from,
			uint64_t to, uint64_t size, bool hole)
{
	for (uint64_t pa = from; pa < to; pa += PROBE_PAGE) {
		if (pa >= mc->explen && (hole ? pa > from : mc->past_end >= MAX_PAGES_PAST_END)) {
			mc->unread += (to - pa + PROBE_PAGE - 1) / PROBE_PAGE;
			return;
		}
		if (pa >= mc->explen && !hole)
			mc->past_end++;
		check_page(d, mc, pa, size);
	}
}

/* /mem, or with mc->node set the file of that node (its size @size). */
static void check_mem(struct dumpfs_dump *d, struct mem_check *mc, uint64_t size)
{
	int64_t node = mc->node >= 0 ? mc->node : dumpfs_node_by_path(d, "/mem");
	if (node < 0) {
		printf("no /mem\n");
		exit(1);
	}
	for (uint64_t pa = 0; pa < size;) {
		int64_t data = dumpfs_node_seek(d, (uint32_t)node, pa, SEEK_DATA);
		uint64_t data_at = data < 0 ? size : (uint64_t)data & ~(uint64_t)(PROBE_PAGE - 1);
		if (data_at < pa)
			data_at = pa;
		check_pages(d, mc, pa, data_at, size, true);
		if (data_at >= size)
			break;
		int64_t hole = dumpfs_node_seek(d, (uint32_t)node, data_at, SEEK_HOLE);
		uint64_t hole_at = hole < 0 ? size : ((uint64_t)hole + PROBE_PAGE - 1) & ~(uint64_t)(PROBE_PAGE - 1);
		if (hole_at <= data_at)
			hole_at = data_at + PROBE_PAGE;
		check_pages(d, mc, data_at, hole_at, size, false);
		pa = hole_at;
	}
}

int main(int argc, char **argv)
{
	bool list = argc > 1 && !strcmp(argv[1], "--list");
	if (list)
		argc--, argv++;
	struct dumpfs_options opts = { 0 };
	if (argc > 2 && !strcmp(argv[1], "--ranges")) {
		opts.raw_ranges = argv[2];
		argc -= 2, argv += 2;
	}
	const char *dom0_mem = NULL;
	if (argc > 2 && !strcmp(argv[1], "--dom0")) {
		dom0_mem = argv[2];
		argc -= 2, argv += 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: probe [--list] [--ranges LIST] [--dom0 EXPECTED_DOM0_MEM] "
			"EXPECTED_MEM DUMP...\n");
		return 2;
	}
	size_t explen;
	const uint8_t *expect = map_file(argv[1], &explen);
	struct dumpfs_dump *d;
	char err[512];
	if (dumpfs_open(&d, (const char *const *)argv + 2, (size_t)argc - 2, &opts, err,
			sizeof(err)) != DUMPFS_OK) {
		if (strchr(err, '\n') || !err[0]) {
			printf("bad error message: \"%s\"\n", err);
			return 1;
		}
		printf("error: %s\npeak_kib %llu\n", err, peak_rss_kib());
		return 3;
	}

	uint64_t files = 0, bytes = 0;
	struct mem_check mc = { .expect = expect, .explen = explen, .list = list, .node = -1 };
	check_mem(d, &mc, dumpfs_mem_size(d));
	/* /dom0/mem against its own expected memory */
	struct mem_check g = { .list = list, .node = -1 };
	struct dumpfs_node_info ginfo;
	if (dom0_mem) {
		g.expect = map_file(dom0_mem, &g.explen);
		g.node = dumpfs_node_by_path(d, "/dom0/mem");
		if (g.node >= 0 && dumpfs_node_stat(d, (uint32_t)g.node, &ginfo) == DUMPFS_OK)
			check_mem(d, &g, ginfo.size);
		else
			g.node = -1;
	}
	read_tree(d, &files, &bytes);
	dumpfs_close(d);
	printf("served %llu eio %llu wrong %llu files %llu bytes %llu unread %llu peak_kib %llu\n",
	       (unsigned long long)mc.served, (unsigned long long)mc.eio,
	       (unsigned long long)mc.wrong, (unsigned long long)files,
	       (unsigned long long)bytes, (unsigned long long)mc.unread, peak_rss_kib());
	if (list) {
		pfn_list_print("wrong-pfns", &mc.wrong_pfns);
		pfn_list_print("eio-pfns", &mc.eio_pfns);
	}
	if (dom0_mem && g.node < 0)
		printf("dom0 none\n");
	else if (dom0_mem)
		printf("dom0 served %llu eio %llu wrong %llu unread %llu\n", (unsigned long long)g.served,
		       (unsigned long long)g.eio, (unsigned long long)g.wrong, (unsigned long long)g.unread);
	if (dom0_mem && list) {
		pfn_list_print("dom0-wrong-pfns", &g.wrong_pfns);
		pfn_list_print("dom0-eio-pfns", &g.eio_pfns);
	}
	return 0;
}
