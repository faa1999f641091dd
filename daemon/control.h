/*
 * control: custosd's control socket, a UNIX stream socket (mode 0660)
 * that `custos status` talks to.
 *
 * Protocol: the client sends one request line ("status\n"); the daemon
 * answers one JSON object and a newline, then closes.  Unknown requests
 * get {"error": "..."}.  A peer is served only if SO_PEERCRED shows it is
 * root, the daemon's own uid, or a member (primary or supplementary) of
 * the configured control group; others are refused and logged.
 *
 * A request is read with a short timeout (CONTROL_READ_TIMEOUT_MS) right
 * after accept, so a silent client delays the loop at most that long.
 * The control object owns the listening fd and unlinks the path when
 * closed.
 */
#ifndef CUSTOS_CONTROL_H
#define CUSTOS_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONTROL_READ_TIMEOUT_MS 200
#define CONTROL_MAX_REQUEST 256

/* Returns the answer to a "status" request as a malloc'd JSON text. */
typedef char *(*control_status_fn)(void *arg);

struct control;

/* Binds path (a stale socket left by a dead daemon is replaced; a live
 * one is an error).  group_gid: the control group, or (gid_t)-1.  NULL
 * with err filled on failure. */
struct control *control_open(const char *path, gid_t group_gid,
			     control_status_fn fn, void *arg, char *err,
			     size_t err_size);

/* Closes the socket and unlinks its path.  NULL is a no-op. */
void control_close(struct control *c);

int control_fd(const struct control *c);
const char *control_path(const struct control *c);

/* Accepts and serves one pending connection (call when the fd is
 * readable). */
void control_accept(struct control *c);

/* Would a peer with these credentials be served? */
bool control_peer_allowed(uid_t uid, gid_t gid, uid_t self_uid,
			  gid_t group_gid);

struct control_stats {
	uint64_t n_served, n_refused, n_bad;
};
void control_get_stats(const struct control *c, struct control_stats *out);

#endif
