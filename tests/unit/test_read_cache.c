/*
 * test_read_cache.c - the page cache in the read path, on a real
 * makedumpfile dump (images/sample/sample.kdump, or argv[1]): a page read
 * alone is served from the cache when read again.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dumpfs.h"

static const char *dump_path;

static struct dumpfs_dump *open_sample(void)
{
	struct dumpfs_options opts = { .cache_bytes = 4u << 20, .threads = 1 };
	struct dumpfs_dump *d;
	char err[512];
	const char *paths[] = { dump_path };
	if (dumpfs_open(&d, paths, 1, &opts, err, sizeof(err)) != DUMPFS_OK)
		fail_msg("%s", err);
	return d;
}

/* Pages read one at a time (as crash and gdb read) are kept: a second
 * pass over the same pages finds every compressed one in the cache.  (Raw
 * pages, such as makedumpfile's shared zero page, are read from the file
 * each time and never counted.) */
static void test_pages_read_alone_are_cached(void **state)
{
	(void)state;
	enum { PAGES = 200 };
	static char first[PAGES][4096], again[4096];
	struct dumpfs_dump *d = open_sample();
	struct dumpfs_cache_stats s0, s1, s2;
	uint64_t size = dumpfs_mem_size(d), at = 0, looked_up = 0;
	/* The first of 16 places in memory where most pages are compressed. */
	for (int k = 0; k < 16 && looked_up <= PAGES / 2; k++) {
		at = size / 16 * (uint64_t)k & ~(uint64_t)4095;
		dumpfs_cache_stats(d, &s0);
		for (int i = 0; i < PAGES; i++)
			assert_int_equal(dumpfs_read_phys(d, first[i], 4096, at + i * 4096u), 4096);
		dumpfs_cache_stats(d, &s1);
		looked_up = s1.misses - s0.misses;
	}
	assert_true(looked_up > PAGES / 2);
	for (int i = 0; i < PAGES; i++) {
		assert_int_equal(dumpfs_read_phys(d, again, 4096, at + i * 4096u), 4096);
		assert_memory_equal(first[i], again, 4096);
	}
	dumpfs_cache_stats(d, &s2);
	assert_int_equal(s2.hits - s1.hits, looked_up);
	assert_int_equal(s2.misses, s1.misses);
	dumpfs_close(d);
}

int main(int argc, char **argv)
{
	dump_path = argc > 1 ? argv[1] : SAMPLE_DUMP;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_read_alone_are_cached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
