/*
 * loop: epoll + signalfd + periodic timers (see loop.h for the model).
 *
 * Registered fds live in a fixed array; epoll's data.u32 is the slot
 * index, so dispatch needs no lookup.  The signalfd is slot-less and
 * recognised by a reserved data value.  Timers keep their next due time
 * and are re-armed by adding the interval (catching up at most once when
 * the process was stalled, instead of firing in a burst).
 */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define SIGNAL_TAG UINT32_MAX

struct loop_fd {
	int fd; /* -1: free slot */
	loop_fd_fn fn;
	void *arg;
};

struct loop_timer {
	int64_t interval_ms; /* 0: disabled */
	int64_t due_ms;
	loop_timer_fn fn;
	void *arg;
};

struct loop {
	int epfd;
	int sigfd;
	loop_signal_fn on_signal;
	void *signal_arg;
	struct loop_fd fds[LOOP_MAX_FDS];
	struct loop_timer timers[LOOP_MAX_TIMERS];
	size_t n_timers;
	loop_before_sleep_fn before_sleep;
	void *before_sleep_arg;
	bool stop;
};

int64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->sigfd = -1;
	for (size_t i = 0; i < LOOP_MAX_FDS; i++)
		l->fds[i].fd = -1;
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	if (l->sigfd >= 0)
		close(l->sigfd);
	close(l->epfd);
	free(l);
}

int loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *arg)
{
	size_t i = 0;

	while (i < LOOP_MAX_FDS && l->fds[i].fd >= 0)
		i++;
	if (i == LOOP_MAX_FDS) {
		errno = ENOSPC;
		return -1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	l->fds[i] = (struct loop_fd){fd, fn, arg};
	return 0;
}

int loop_del_fd(struct loop *l, int fd)
{
	for (size_t i = 0; i < LOOP_MAX_FDS; i++) {
		if (l->fds[i].fd == fd) {
			l->fds[i].fd = -1;
			return epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		}
	}
	errno = ENOENT;
	return -1;
}

int loop_add_signals(struct loop *l, const int *signos, size_t n,
		     loop_signal_fn fn, void *arg)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		sigaddset(&set, signos[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	l->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->sigfd < 0)
		return -1;
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = SIGNAL_TAG};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev) < 0)
		return -1;
	l->on_signal = fn;
	l->signal_arg = arg;
	return 0;
}

int loop_add_timer(struct loop *l, int64_t interval_ms, loop_timer_fn fn,
		   void *arg)
{
	if (l->n_timers == LOOP_MAX_TIMERS) {
		errno = ENOSPC;
		return -1;
	}
	l->timers[l->n_timers] = (struct loop_timer){
	    interval_ms, loop_now_ms() + interval_ms, fn, arg};
	return (int)l->n_timers++;
}

void loop_timer_set(struct loop *l, int id, int64_t interval_ms)
{
	if (id < 0 || (size_t)id >= l->n_timers)
		return;
	l->timers[id].interval_ms = interval_ms;
	l->timers[id].due_ms = loop_now_ms() + interval_ms;
}

void loop_set_before_sleep(struct loop *l, loop_before_sleep_fn fn, void *arg)
{
	l->before_sleep = fn;
	l->before_sleep_arg = arg;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

/* ms until the nearest timer (0 if one is due), or -1 if none. */
static int next_timeout(const struct loop *l, int64_t now)
{
	int64_t best = -1;

	for (size_t i = 0; i < l->n_timers; i++) {
		const struct loop_timer *t = &l->timers[i];
		if (t->interval_ms == 0)
			continue;
		int64_t wait = t->due_ms > now ? t->due_ms - now : 0;
		if (best < 0 || wait < best)
			best = wait;
	}
	return best > 60000 ? 60000 : (int)best;
}

static void fire_timers(struct loop *l)
{
	int64_t now = loop_now_ms();

	for (size_t i = 0; i < l->n_timers && !l->stop; i++) {
		struct loop_timer *t = &l->timers[i];
		if (t->interval_ms == 0 || t->due_ms > now)
			continue;
		t->due_ms += t->interval_ms;
		if (t->due_ms <= now)
			t->due_ms = now + t->interval_ms;
		t->fn(l, t->arg);
	}
}

static void read_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		if (l->on_signal)
			l->on_signal(l, (int)si.ssi_signo, l->signal_arg);
}

int loop_run_once(struct loop *l, int max_wait_ms)
{
	struct epoll_event evs[LOOP_MAX_FDS + 1];
	int timeout = next_timeout(l, loop_now_ms());

	if (max_wait_ms >= 0 && (timeout < 0 || max_wait_ms < timeout))
		timeout = max_wait_ms;
	if (l->before_sleep && l->before_sleep(l, l->before_sleep_arg))
		timeout = 0;
	if (l->stop)
		return 0;
	int n = epoll_wait(l->epfd, evs, LOOP_MAX_FDS + 1, timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n && !l->stop; i++) {
		uint32_t slot = evs[i].data.u32;
		if (slot == SIGNAL_TAG) {
			read_signals(l);
			continue;
		}
		struct loop_fd *f = &l->fds[slot];
		if (f->fd >= 0)
			f->fn(l, f->fd, f->arg);
	}
	fire_timers(l);
	return 0;
}

int loop_run(struct loop *l)
{
	l->stop = false;
	while (!l->stop)
		if (loop_run_once(l, -1) < 0)
			return -1;
	return 0;
}
