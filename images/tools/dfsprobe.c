/*
 * dfsprobe - a process for /tasks to be checked against.  make-real-dumps.sh
 * builds it (static, with debug info) into the test guest, whose /init
 * (tools/guest-init.sh) starts it and prints what the guest's /proc says of
 * it before the dump is taken; tests/real/tasks.py compares /tasks with
 * that, and runs gdb on its core.
 *
 * It holds, at the moment of the dump:
 *   - four threads, each waiting its own way: main in pause(), one in
 *     nanosleep(), one on a condition variable (futex), one in read() of
 *     a pipe;
 *   - a heap buffer of a known marker, a global marker (.data);
 *   - an anonymous private mapping (each page its index and a tag), an
 *     anonymous shared one, a private read-only mapping of its own file;
 *   - three anonymous pages whose middle one mprotect() made PROT_NONE
 *     (two VMAs around a hole);
 * and prints one line, then waits:
 *   DFS-PROBE PID heap=ADDR anon=ADDR shared=ADDR file=ADDR hole=ADDR
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define ANON_PAGES 64

/* gdb reads it by name from the core */
char probe_marker[64] = "DFS-PROBE-DATA-MARKER";

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int pipe_fds[2];

static void *thread_sleep(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec ts = { 3600, 0 };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void *thread_cond(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;)
		pthread_cond_wait(&never, &lock);
	return NULL;
}

static void *thread_read(void *arg)
{
	char c;
	(void)arg;
	for (;;)
		if (read(pipe_fds[0], &c, 1) <= 0)
			pause();
	return NULL;
}

static void *map(size_t len, int prot, int flags, int fd)
{
	void *p = mmap(NULL, len, prot, flags, fd, 0);
	if (p == MAP_FAILED) {
		perror("dfsprobe: mmap");
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	(void)argc;
	pthread_t t[3];
	void *(*const fn[3])(void *) = { thread_sleep, thread_cond, thread_read };

	char *heap = malloc(16 * PAGE);
	if (!heap || pipe(pipe_fds))
		return 1;
	for (size_t i = 0; i + 16 <= 16 * PAGE; i += 16)
		memcpy(heap + i, "DFS-HEAP-MARKER.", 16);

	uint8_t *anon = map(ANON_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	for (int i = 0; i < ANON_PAGES; i++) {
		memset(anon + i * PAGE, i, PAGE);
		snprintf((char *)anon + i * PAGE, 32, "DFS-ANON page %d", i);
	}
	uint8_t *shared = map(4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
	memset(shared, 'S', 4 * PAGE);

	int fd = open("/proc/self/exe", O_RDONLY);
	if (fd < 0)
		return 1;
	volatile uint8_t *file = map(8 * PAGE, PROT_READ, MAP_PRIVATE, fd);
	for (int i = 0; i < 8; i++)
		(void)file[i * PAGE];           /* fault the pages in */
	close(fd);

	uint8_t *hole = map(3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	for (int i = 0; i < 3; i++)
		snprintf((char *)hole + i * PAGE, 32, "DFS-HOLE page %d", i);
	if (mprotect(hole + PAGE, PAGE, PROT_NONE))
		return 1;

	for (int i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, fn[i], NULL))
			return 1;
	printf("DFS-PROBE %d heap=%p anon=%p shared=%p file=%p hole=%p argv0=%s\n", (int)getpid(),
	       (void *)heap, (void *)anon, (void *)shared, (void *)file, (void *)hole, argv[0]);
	fflush(stdout);
	for (;;)
		pause();
}
