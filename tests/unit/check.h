/*
 * check: the unit tests' assertions.  A failed CHECK prints where and what,
 * counts, and the test goes on; check_done() prints "N passed, N failed" and
 * returns the process exit code.  No test may pass without checking.
 */
#ifndef CUSTOS_CHECK_H
#define CUSTOS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_n_passed, check_n_failed;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (cond) {                                                    \
			check_n_passed++;                                      \
		} else {                                                       \
			check_n_failed++;                                      \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECK_STR(got, want)                                                   \
	do {                                                                   \
		const char *g_ = (got), *w_ = (want);                          \
		if (g_ && w_ && strcmp(g_, w_) == 0) {                         \
			check_n_passed++;                                      \
		} else {                                                       \
			check_n_failed++;                                      \
			fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n",  \
				__FILE__, __LINE__, #got, g_ ? g_ : "(null)",  \
				w_ ? w_ : "(null)");                           \
		}                                                              \
	} while (0)

#define CHECK_INT(got, want)                                                   \
	do {                                                                   \
		long long g_ = (long long)(got), w_ = (long long)(want);       \
		if (g_ == w_) {                                                \
			check_n_passed++;                                      \
		} else {                                                       \
			check_n_failed++;                                      \
			fprintf(stderr, "%s:%d: %s is %lld, want %lld\n",      \
				__FILE__, __LINE__, #got, g_, w_);             \
		}                                                              \
	} while (0)

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_n_passed, check_n_failed);
	return (check_n_failed == 0 && check_n_passed > 0) ? 0 : 1;
}

#endif
