/*
 * loop: custosd's event loop, in the spirit of Redis ae.c — one thread,
 * one epoll instance, three kinds of events:
 *
 *   - file descriptors watched for readability (level triggered: a
 *     callback that leaves data unread is called again next turn);
 *   - signals, delivered through a signalfd so that handlers never run
 *     asynchronously: the signals given to loop_add_signals() are blocked
 *     and read as ordinary events;
 *   - periodic timers, kept in a small array; the epoll timeout is the
 *     time to the nearest one, so no timerfd is needed.
 *
 * One turn (loop_run_once): call the before-sleep hook (Redis
 * beforeSleep) — it returns true when it still has work in hand, and the
 * loop then does not sleep —; wait in epoll_wait; dispatch ready fds and
 * signals; fire due timers.  loop_run() turns until loop_stop().
 *
 * Clock: CLOCK_MONOTONIC (loop_now_ms) for timers only.  The loop owns
 * the epoll fd and the signalfd, never the watched descriptors.
 */
#ifndef CUSTOS_LOOP_H
#define CUSTOS_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOOP_MAX_FDS 64
#define LOOP_MAX_TIMERS 16

struct loop;

typedef void (*loop_fd_fn)(struct loop *l, int fd, void *arg);
typedef void (*loop_signal_fn)(struct loop *l, int signo, void *arg);
typedef void (*loop_timer_fn)(struct loop *l, void *arg);
/* Returns true if it has more work and the loop must not sleep. */
typedef bool (*loop_before_sleep_fn)(struct loop *l, void *arg);

/* NULL with errno set on failure. */
struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watches fd for readability.  0, or -1 with errno (EPERM: the fd cannot
 * be polled, e.g. a regular file; ENOSPC: LOOP_MAX_FDS reached). */
int loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *arg);
int loop_del_fd(struct loop *l, int fd);

/* Blocks the n signals and delivers them to fn through a signalfd.  Call
 * once.  0 or -1 with errno. */
int loop_add_signals(struct loop *l, const int *signos, size_t n,
		     loop_signal_fn fn, void *arg);

/* A timer firing every interval_ms (>= 1) from now.  Returns its id (>= 0)
 * or -1 (ENOSPC).  loop_timer_set changes the interval (0 disables). */
int loop_add_timer(struct loop *l, int64_t interval_ms, loop_timer_fn fn,
		   void *arg);
void loop_timer_set(struct loop *l, int id, int64_t interval_ms);

void loop_set_before_sleep(struct loop *l, loop_before_sleep_fn fn, void *arg);

/* One turn, sleeping at most max_wait_ms (-1: until an event or timer).
 * Returns 0, or -1 if epoll_wait failed (errno; EINTR is not a failure). */
int loop_run_once(struct loop *l, int max_wait_ms);

/* Turns until loop_stop() is called (from a callback).  0 or -1. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

/* CLOCK_MONOTONIC in ms. */
int64_t loop_now_ms(void);

#endif
