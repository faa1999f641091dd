/*
 * failalloc: an LD_PRELOAD shim that makes chosen heap allocations fail,
 * to test that custos handles out-of-memory on every path (driven by
 * tests/fault/run_failalloc.sh).  Not part of custos.
 *
 * It interposes malloc, calloc and realloc (glibc routes its own strdup,
 * asprintf, fopen, ... and the libraries' allocations through them) and
 * counts the calls.  Environment:
 *   FAILALLOC_N=n      the n-th call (1-based) returns NULL with errno
 *                      ENOMEM; unset or 0: nothing fails (counting only);
 *   FAILALLOC_EVERY=k  after the n-th, every k-th call fails too
 *                      (0 or unset: only the n-th);
 *   FAILALLOC_COUNT=F  at exit, append "calls failed" to file F;
 *   FAILALLOC_TRACE=1  print a backtrace of each failed call on stderr
 *                      (for finding the caller: `addr2line`, gdb).
 * realloc(p, 0) and free are passed through untouched.  The real
 * functions are glibc's __libc_* entry points (no dlsym, which itself
 * allocates); under valgrind they are valgrind's, so leak checking still
 * sees every block.  Counters are atomic; custos is single-threaded but
 * libraries may not be.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);

static uint64_t n_calls, n_failed, fail_at, fail_every;
static int configured, trace;

static uint64_t env_u64(const char *name)
{
	const char *s = getenv(name);
	return s ? strtoull(s, NULL, 10) : 0;
}

static void configure(void)
{
	/* getenv does not allocate; racing threads read the same values */
	fail_at = env_u64("FAILALLOC_N");
	fail_every = env_u64("FAILALLOC_EVERY");
	trace = env_u64("FAILALLOC_TRACE") != 0;
	__atomic_store_n(&configured, 1, __ATOMIC_RELEASE);
}

/* True when this call must fail. */
static int should_fail(void)
{
	if (!__atomic_load_n(&configured, __ATOMIC_ACQUIRE))
		configure();
	uint64_t i = __atomic_add_fetch(&n_calls, 1, __ATOMIC_RELAXED);
	if (fail_at == 0 || i < fail_at)
		return 0;
	if (i != fail_at && (fail_every == 0 || (i - fail_at) % fail_every))
		return 0;
	__atomic_add_fetch(&n_failed, 1, __ATOMIC_RELAXED);
	if (trace) {
		/* backtrace() may allocate once (it loads libgcc_s): the
		 * calls after this one are not failing unless EVERY says so */
		void *frames[32];
		int n = backtrace(frames, 32);
		backtrace_symbols_fd(frames, n, 2);
	}
	errno = ENOMEM;
	return 1;
}

void *malloc(size_t size)
{
	return should_fail() ? NULL : __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	return should_fail() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	if (p != NULL && size == 0)
		return __libc_realloc(p, size);
	return should_fail() ? NULL : __libc_realloc(p, size);
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("FAILALLOC_COUNT");
	if (path == NULL)
		return;
	fail_at = 0; /* fopen and fprintf allocate: let them */
	FILE *f = fopen(path, "a");
	if (f == NULL)
		return;
	fprintf(f, "%llu %llu\n", (unsigned long long)n_calls,
		(unsigned long long)n_failed);
	fclose(f);
}
