/*
 * custos status [--socket PATH] [--json]
 *
 * Asks a running custosd for its figures over the control socket (a UNIX
 * stream socket; one "status" request line, one JSON line back) and prints
 * them: uptime, per-input records/bytes/errors/lag, per-rule hits, engine
 * state sizes and limits hit, sink queue depth and drops, checkpoints,
 * and the store's side: suppressed alerts, access events retained, the
 * last chain seal, purges.
 * --json prints the daemon's JSON as is.  Exit 1 when the daemon cannot be
 * reached or answers garbage.
 */
#include "custos.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/custos/control.sock"
#define MAX_ANSWER (16u * 1024 * 1024)

/* Sends "status\n" and reads the answer; malloc'd, NULL on failure. */
static char *ask(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(fd, "status\n", 7) != 7)
		goto fail;
	for (;;) {
		if (len + 4096 > cap) {
			char *n = cap + 65536 > MAX_ANSWER
				      ? NULL
				      : realloc(buf, cap += 65536);
			if (n == NULL)
				goto fail;
			buf = n;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (buf)
		buf[len] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static long long num(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static void print_inputs(json_t *inputs)
{
	size_t i;
	json_t *in;

	printf("inputs:\n  %-16s %-7s %12s %14s %9s %9s %12s\n", "name", "type",
	       "records", "bytes", "malformed", "errors", "lag_bytes");
	json_array_foreach(inputs, i, in)
	{
		printf("  %-16s %-7s %12lld %14lld %9lld %9lld %12lld%s\n",
		       json_string_value(json_object_get(in, "name")),
		       json_string_value(json_object_get(in, "type")),
		       num(in, "records"), num(in, "bytes"),
		       num(in, "malformed"), num(in, "errors"),
		       num(in, "lag_bytes"),
		       json_is_true(json_object_get(in, "failed")) ? " FAILED"
								   : "");
	}
}

static void print_rules(json_t *rules)
{
	size_t i;
	json_t *r;

	printf("rules:\n");
	json_array_foreach(rules, i, r)
	{
		const char *t = json_string_value(json_object_get(r, "title"));
		printf("  %10lld  %s\n", num(r, "hits"), t ? t : "?");
	}
}

/* Suppressions, retained access events, seals, purges (custosd's
 * "store" object; absent from older daemons). */
static void print_store(json_t *st)
{
	json_t *ev = json_object_get(st, "access_events");
	json_t *seal = json_object_get(st, "seal");
	json_t *pu = json_object_get(st, "purge");
	const char *head =
	    json_string_value(json_object_get(seal, "last_head"));

	if (st == NULL)
		return;
	printf("suppressed: %lld alerts kept from the sinks (%lld stored "
	       "resolved), %lld lookup errors\n",
	       num(st, "suppressed"), num(st, "suppressed_stored"),
	       num(st, "suppress_errors"));
	if (json_is_true(json_object_get(ev, "enabled")))
		printf("access events: %lld retained, %lld written, %lld "
		       "waiting, %lld dropped\n",
		       num(ev, "retained"), num(ev, "written"),
		       num(ev, "waiting"), num(ev, "dropped"));
	else
		printf("access events: not retained\n");
	if (head != NULL)
		printf("last seal: seq %lld head %s, %lld ms ago (%lld "
		       "seals, %lld failed)\n",
		       num(seal, "last_seq"), head, num(seal, "last_age_ms"),
		       num(seal, "seals"), num(seal, "failures"));
	else
		printf("last seal: none yet\n");
	printf("purges: %lld (%lld failed), removed %lld alerts, %lld access "
	       "events\n",
	       num(pu, "runs"), num(pu, "failures"), num(pu, "alerts"),
	       num(pu, "events"));
}

static void print_human(json_t *o)
{
	json_t *e = json_object_get(o, "engine");
	json_t *s = json_object_get(o, "sinks");
	json_t *c = json_object_get(o, "checkpoint");

	printf("custosd %s, pid %lld, up %llds, config %s\n",
	       json_string_value(json_object_get(o, "version")), num(o, "pid"),
	       num(o, "uptime_s"),
	       json_string_value(json_object_get(o, "config")));
	print_inputs(json_object_get(o, "inputs"));
	print_rules(json_object_get(o, "rules"));
	printf("engine: %lld events, %lld alerts, %lld groups, %lld late; "
	       "limits hit: %lld groups evicted, %lld window overflows, "
	       "%lld distinct overflows, %lld regex limits\n",
	       num(e, "events"), num(e, "alerts"), num(e, "groups"),
	       num(e, "late_events"), num(e, "groups_evicted"),
	       num(e, "window_overflow"), num(e, "distinct_overflow"),
	       num(e, "regex_limit"));
	printf("sinks: queue %lld/%lld, %lld dropped, %lld delivered, %lld "
	       "failed\n",
	       num(s, "queue_depth"), num(s, "queue_max"), num(s, "dropped"),
	       num(s, "delivered"), num(s, "failed"));
	printf("checkpoints: %lld (%lld failed), %lld alerts stored, last "
	       "%lld ms ago\n",
	       num(c, "commits"), num(c, "failures"), num(c, "alerts_stored"),
	       num(c, "last_age_ms"));
	print_store(json_object_get(o, "store"));
	json_t *lk = json_object_get(o, "lookups");
	if (lk != NULL)
		printf("lookups: %lld lists (%lld values), %lld directory "
		       "agents\n",
		       num(lk, "lists"), num(lk, "list_values"),
		       num(lk, "agents"));
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, 0, 's'},
	    {"json", no_argument, 0, 'j'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0}};
	const char *path = DEFAULT_SOCKET;
	int as_json = 0, c;

	while ((c = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
		if (c == 's') {
			path = optarg;
		} else if (c == 'j') {
			as_json = 1;
		} else {
			fprintf(c == 'h' ? stdout : stderr,
				"usage: custos status [--socket PATH] "
				"[--json]\n  default socket: %s\n",
				DEFAULT_SOCKET);
			return c == 'h' ? 0 : EXIT_USAGE;
		}
	}
	char *answer = ask(path);
	if (answer == NULL) {
		fprintf(stderr, "custos: %s: %s\n", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	json_error_t jerr;
	json_t *o = json_loads(answer, 0, &jerr);
	if (o == NULL || !json_is_object(o) || json_object_get(o, "error")) {
		fprintf(stderr, "custos: %s: bad answer: %.200s\n", path,
			answer);
		free(answer);
		json_decref(o);
		return EXIT_RUNTIME;
	}
	if (as_json)
		fputs(answer, stdout);
	else
		print_human(o);
	free(answer);
	json_decref(o);
	return 0;
}
