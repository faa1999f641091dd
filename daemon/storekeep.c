/*
 * storekeep: suppressions, retained access events, seals and retention
 * for custosd (see storekeep.h).
 */
#include "storekeep.h"

#include "log.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* Access events in the store now (-1 on error).  A full count: run at
 * start and after a purge only. */
static int64_t count_events(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	if (sqlite3_prepare_v2(store_sqlite(s),
			       "SELECT count(*) FROM access_events", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int storekeep_init(struct storekeep *k, struct store *store,
		   const struct config *cfg, char *err, size_t err_size)
{
	memset(k, 0, sizeof(*k));
	k->store = store;
	k->cfg = cfg;
	k->last_seal_seq = -1;
	if (cfg->retention.access_events &&
	    (k->retain = retain_new()) == NULL) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	if ((k->n_events_in_store = count_events(store)) < 0) {
		snprintf(err, err_size, "counting access events: %s",
			 sqlite3_errmsg(store_sqlite(store)));
		return -1;
	}
	return 0;
}

void storekeep_clear(struct storekeep *k)
{
	retain_free(k->retain);
	k->retain = NULL;
}

/* The event's agent as the store indexes it (alerts.agent): the first
 * value of `agent` in the event JSON, text or number.  Malloc'd or NULL. */
static char *alert_agent(const struct alert *a)
{
	json_t *ev = a->event_json ? json_loads(a->event_json, 0, NULL) : NULL;
	json_t *v = json_object_get(ev, "agent");
	char *agent = NULL;

	if (json_is_array(v))
		v = json_array_get(v, 0);
	if (json_is_string(v))
		agent = strdup(json_string_value(v));
	else if (json_is_number(v))
		agent = json_dumps(v, JSON_ENCODE_ANY);
	json_decref(ev);
	return agent;
}

bool storekeep_filter(void *arg, const struct alert *a)
{
	struct storekeep *k = arg;
	const char *rule = alert_rule_id(a);
	char *agent;
	int rc;

	if (rule == NULL || (agent = alert_agent(a)) == NULL)
		return false; /* no scope a suppression could name */
	struct store *st = k->lookup ? k->lookup : k->store;
	rc = store_suppressed(st, rule, agent, a->ts_ms);
	free(agent);
	if (rc < 0) {
		if (k->n_suppress_errors++ == 0)
			log_warnx("suppression lookup: %s; alerts go to the "
				  "sinks",
				  store_errmsg(st));
		return false;
	}
	k->n_suppressed += (uint64_t)rc;
	return rc == 1;
}

void storekeep_on_event(void *arg, const struct event *ev)
{
	struct storekeep *k = arg;

	if (k->retain)
		retain_add(k->retain, ev);
}

/* store_seal and the head's seq, in one transaction.  0 or -1. */
static int seal_txn(struct storekeep *k, int64_t wall_ms, int64_t *seq,
		    char head[CHAIN_HEX_LEN + 1])
{
	char again[CHAIN_HEX_LEN + 1];

	if (store_begin(k->store) < 0)
		return -1;
	if (store_seal(k->store, wall_ms, head) < 0 ||
	    chain_head(store_sqlite(k->store), seq, again) < 0 ||
	    store_commit(k->store) < 0) {
		store_rollback(k->store);
		return -1;
	}
	return 0;
}

int storekeep_seal(struct storekeep *k, int64_t wall_ms, int64_t mono_ms)
{
	char head[CHAIN_HEX_LEN + 1], line[160];
	int64_t seq;

	if (seal_txn(k, wall_ms, &seq, head) < 0) {
		k->n_seal_failures++;
		log_warnx("seal: %s", store_errmsg(k->store));
		return -1;
	}
	k->n_seals++;
	k->last_seal_seq = seq;
	memcpy(k->last_seal_head, head, sizeof(head));
	k->last_seal_mono_ms = mono_ms;
	snprintf(line, sizeof(line), "custos: seal seq=%" PRId64 " head=%s",
		 seq, head);
	log_notice("%s", line);
	if (k->sink)
		sink_syslog_push_line(k->sink, LOG_NOTICE, line);
	return 0;
}

int storekeep_purge(struct storekeep *k, int64_t wall_ms, int64_t mono_ms)
{
	const struct config_retention *r = &k->cfg->retention;
	struct store_purge p = {.now_ms = wall_ms,
				.cutoff_ms = INT64_MIN,
				.max_events = (int64_t)r->max_events,
				.user = "custosd"};
	struct store_purge_counts n;
	struct retain_stats rs = {0};

	if (r->max_age_ms == 0 && r->max_events == 0)
		return 0;
	if (r->max_age_ms)
		p.cutoff_ms = wall_ms - r->max_age_ms;
	if (store_purge(k->store, &p, &n) < 0) {
		k->n_purge_failures++;
		log_warnx("purge: %s", store_errmsg(k->store));
		return -1;
	}
	k->n_purges++;
	k->last_purge_mono_ms = mono_ms;
	k->purged.n_alerts += n.n_alerts;
	k->purged.n_triage += n.n_triage;
	k->purged.n_events += n.n_events;
	k->purged.n_suppressions += n.n_suppressions;
	if (k->retain)
		retain_stats(k->retain, &rs);
	k->n_events_in_store = count_events(k->store);
	k->n_written_at_count = rs.n_written;
	if (n.n_alerts + n.n_triage + n.n_events + n.n_suppressions)
		log_info("purge: %lld alerts, %lld triage rows, %lld access "
			 "events, %lld suppressions removed",
			 (long long)n.n_alerts, (long long)n.n_triage,
			 (long long)n.n_events, (long long)n.n_suppressions);
	return 0;
}

static json_t *events_json(const struct storekeep *k)
{
	struct retain_stats rs = {0};

	if (k->retain)
		retain_stats(k->retain, &rs);
	return json_pack(
	    "{s:b, s:I, s:I, s:I, s:I}", "enabled", k->retain != NULL,
	    "retained",
	    (json_int_t)(k->n_events_in_store + (int64_t)rs.n_written -
			 (int64_t)k->n_written_at_count),
	    "written", (json_int_t)rs.n_written, "waiting",
	    (json_int_t)rs.n_waiting, "dropped", (json_int_t)rs.n_dropped);
}

json_t *storekeep_status(const struct storekeep *k, int64_t mono_ms)
{
	return json_pack(
	    "{s:I, s:I, s:o, s:{s:I, s:I, s:I, s:s?, s:I}, "
	    "s:{s:I, s:I, s:I, s:I, s:I, s:I}}",
	    "suppressed", (json_int_t)k->n_suppressed, "suppress_errors",
	    (json_int_t)k->n_suppress_errors, "access_events", events_json(k),
	    "seal", "seals", (json_int_t)k->n_seals, "failures",
	    (json_int_t)k->n_seal_failures, "last_seq",
	    (json_int_t)k->last_seal_seq, "last_head",
	    k->n_seals ? k->last_seal_head : NULL, "last_age_ms",
	    (json_int_t)(k->n_seals ? mono_ms - k->last_seal_mono_ms : -1),
	    "purge", "runs", (json_int_t)k->n_purges, "failures",
	    (json_int_t)k->n_purge_failures, "alerts",
	    (json_int_t)k->purged.n_alerts, "events",
	    (json_int_t)k->purged.n_events, "suppressions",
	    (json_int_t)k->purged.n_suppressions, "last_age_ms",
	    (json_int_t)(k->n_purges ? mono_ms - k->last_purge_mono_ms : -1));
}
