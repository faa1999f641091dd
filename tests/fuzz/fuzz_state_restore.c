/*
 * fuzz_state_restore: fuzz target for engine_restore_group() (the
 * checkpoint decoder: engine_state.c, window_codec.c, state_codec.c).
 *
 * A small ruleset (event_count, value_count, value_sum, temporal_ordered,
 * an lt condition at window close, a custos sequence rule: its runs and
 * the per-agent extension state) and, built once, a set of valid blobs
 * saved from a short run.  Input: byte 0 picks the rule key (one of the
 * engine's, "" for the scalars, or a stale one) and the mode; byte 1 the
 * group key length; then the group key and the blob.  Mode raw: the bytes
 * as they are.  Mode fix-crc: the last 4 bytes are replaced by the right
 * CRC, so the fuzzer reaches the decoder proper.  Mode mutate: a valid
 * blob (chosen by byte 1) with the input XORed over it, CRC fixed.  After
 * each restore the engine processes a few events, finishes, and saves
 * everything: restored state must never crash or corrupt the engine.
 *
 * Build (libFuzzer), with CORE = every .c file of daemon/core:
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Idaemon/core tests/fuzz/fuzz_state_restore.c $CORE \
 *     $(pkg-config --cflags --libs yaml-0.1 libpcre2-8 sqlite3 jansson \
 *       libcrypto) -lm
 */
#include "engine.h"
#include "rules.h"
#include "state_codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules[] =
    "title: View\nname: view\ndetection:\n  sel:\n    action: view\n"
    "  condition: sel\n---\n"
    "title: Export\nname: export\ndetection:\n  sel:\n"
    "    action: export\n  condition: sel\n---\n"
    "title: Count\ncorrelation:\n  type: event_count\n  rules: [view]\n"
    "  group-by: [agent]\n  timespan: 10m\n  condition:\n    gte: 4\n---\n"
    "title: Breadth\ncorrelation:\n  type: value_count\n  rules: [view]\n"
    "  group-by: [agent]\n  timespan: 30m\n"
    "  condition:\n    field: customer\n    gte: 3\n---\n"
    "title: Rows\ncorrelation:\n  type: value_sum\n  rules: [export]\n"
    "  group-by: [agent, team]\n  timespan: 1h\n"
    "  condition:\n    field: rows\n    gte: 500\n---\n"
    "title: Ordered\ncorrelation:\n  type: temporal_ordered\n"
    "  rules: [view, export]\n  group-by: [agent]\n  timespan: 5m\n---\n"
    "title: Quiet\ncorrelation:\n  type: event_count\n  rules: [view]\n"
    "  group-by: [customer]\n  timespan: 15m\n  condition:\n    lt: 3\n---\n"
    "title: Seq\ndetection:\n  sel:\n    action: view\n  condition: sel\n"
    "custos:\n  sequence:\n    gap: 2\n    min_run: 3\n";

#define MAX_KEYS 16
#define MAX_BLOBS 64

static struct ruleset *rs;
static struct engine_limits lim;
static char *keys[MAX_KEYS];
static size_t n_keys;
static struct {
	char *rk;
	unsigned char *gk, *blob;
	size_t gl, bl;
} blobs[MAX_BLOBS];
static size_t n_blobs;

struct evspec {
	const char *agent, *action, *customer, *team, *rows;
};

static void feed(struct engine *e, int64_t ts, const struct evspec *s)
{
	struct event_field f[5];
	int32_t slot[64];
	const char *names[5] = {"agent", "action", "customer", "team", "rows"};
	const char *vals[5] = {s->agent, s->action, s->customer, s->team,
			       s->rows};
	struct event ev = {.ts_ms = ts, .fields = f, .slot = slot};
	size_t n = 0;

	ev.n_slots = fieldtab_count(rs->fields);
	if (ev.n_slots > 64)
		ev.n_slots = 64;
	for (size_t i = 0; i < ev.n_slots; i++)
		slot[i] = -1;
	ev.source.input = "fuzz";
	for (int i = 0; i < 5; i++) {
		if (vals[i] == NULL)
			continue;
		f[n] = (struct event_field){
		    names[i],
		    vals[i],
		    (uint32_t)strlen(vals[i]),
		    i == 4 ? VALUE_NUMBER : VALUE_STRING,
		    fieldtab_find(rs->fields, names[i], strlen(names[i])),
		    -1};
		if (f[n].id >= 0 && (size_t)f[n].id < ev.n_slots)
			slot[f[n].id] = (int32_t)n;
		n++;
	}
	ev.n_fields = n;
	engine_process(e, &ev);
}

static void run_events(struct engine *e, int64_t t0)
{
	static const struct evspec evs[] = {
	    {"a", "view", "C1", "t", NULL},
	    {"a", "view", "C2", NULL, NULL},
	    {"b", "export", NULL, "t", "300"},
	    {"a", "export", NULL, "t", "250"},
	    {"b", "view", "C1", NULL, NULL},
	    {"a", "view", "C3", "t", NULL},
	    {"b", "export", NULL, "t", "400"},
	    {"a", "view", "C1", NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(evs) / sizeof(*evs); i++)
		feed(e, t0 + (int64_t)i * 61000, &evs[i]);
}

static int keep_blob(void *arg, const char *rk, const void *gk, size_t gl,
		     const void *blob, size_t bl)
{
	size_t i;

	(void)arg;
	if (rk[0] != '\0') {
		for (i = 0; i < n_keys && strcmp(keys[i], rk) != 0; i++)
			;
		if (i == n_keys && n_keys < MAX_KEYS)
			keys[n_keys++] = strdup(rk);
	}
	if (blob == NULL || n_blobs == MAX_BLOBS)
		return 0;
	blobs[n_blobs].rk = strdup(rk);
	blobs[n_blobs].gk = malloc(gl + 1);
	blobs[n_blobs].blob = malloc(bl);
	memcpy(blobs[n_blobs].gk, gk, gl);
	memcpy(blobs[n_blobs].blob, blob, bl);
	blobs[n_blobs].gl = gl;
	blobs[n_blobs].bl = bl;
	n_blobs++;
	return 0;
}

static int discard(void *arg, const char *rk, const void *gk, size_t gl,
		   const void *blob, size_t bl)
{
	(void)arg;
	(void)rk;
	(void)gk;
	(void)gl;
	(void)blob;
	(void)bl;
	return 0;
}

static void setup(void)
{
	struct diag d;

	diag_init(&d);
	rs = ruleset_new();
	if (ruleset_load_buffer(rs, "fuzz.yml", rules, strlen(rules), &d) < 0 ||
	    ruleset_finish(rs, &d) < 0)
		abort();
	diag_clear(&d);
	engine_limits_default(&lim);
	lim.max_groups = 8;
	lim.max_window_events = 16;
	lim.max_distinct = 8;
	lim.evidence_sample = 3;
	struct engine *e = engine_new(rs, &lim, NULL, NULL);
	run_events(e, 1746000000000);
	engine_save_all(e, keep_blob, NULL);
	engine_free(e);
}

static void fix_crc(unsigned char *b, size_t n)
{
	if (n < 5)
		return;
	uint32_t c = codec_crc32(b, n - 4);
	for (int i = 0; i < 4; i++)
		b[n - 4 + (size_t)i] = (unsigned char)(c >> (8 * i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (rs == NULL)
		setup();
	if (size < 2)
		return 0;
	unsigned mode = data[0] % 3, pick = data[0] / 3;
	const char *rk = pick % (n_keys + 2) < n_keys
			     ? keys[pick % (n_keys + 2)]
			 : pick % (n_keys + 2) == n_keys ? ""
							 : "stale:00";
	size_t gl = data[1] % 32;
	if (mode == 2 && n_blobs == 0)
		return 0;
	data += 2;
	size -= 2;
	struct engine *e = engine_new(rs, &lim, NULL, NULL);
	unsigned char *buf = NULL;
	const void *gk = data;
	size_t bl = 0;
	if (mode == 2) {
		size_t k = gl % n_blobs;
		rk = blobs[k].rk;
		gk = blobs[k].gk;
		gl = blobs[k].gl;
		bl = blobs[k].bl;
		buf = malloc(bl);
		memcpy(buf, blobs[k].blob, bl);
		for (size_t i = 0; i < size; i++)
			buf[(i * 7 + data[i]) % bl] ^= data[i];
		if (size > 0 && data[0] & 1)
			bl -= data[size - 1] % (bl / 2 + 1); /* truncate */
		fix_crc(buf, bl);
	} else {
		if (gl > size)
			gl = size;
		bl = size - gl;
		buf = malloc(bl ? bl : 1);
		memcpy(buf, data + gl, bl);
		if (mode == 1)
			fix_crc(buf, bl);
	}
	engine_restore_group(e, rk, gk, gl, buf, bl);
	run_events(e, 1746000000000 + 600000);
	engine_finish(e);
	engine_save_all(e, discard, NULL);
	engine_free(e);
	free(buf);
	return 0;
}
