/*
 * test_siem_format: RFC 5424 / CEF / LEEF / JSON records of alerts — exact
 * strings for known alerts, pseudonymisation, and the round-trip property
 * decode(encode(alert)) == fields for thousands of hostile alerts (random
 * bytes of every value, fixed seed; decoders in siem_decode.h).
 */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "siem_roundtrip.h"

static struct rt_text T(const char *s) {
	return (struct rt_text){s, s ? strlen(s) : 0};
}

static char *
fmt(const struct rt_in *in, int f, const unsigned char *key)
{
	struct rt_alert x;
	struct siem_opts o;
	char err[128];

	rt_build(&x, in);
	siem_opts_init(&o);
	o.format = f;
	o.hostname = in->hostname;
	o.procid = 42;
	if (key) {
		o.pseudo_key = key;
		o.pseudo_key_len = strlen((const char *)key);
	}
	char *s = siem_format_alert(&x.a, &o, err, sizeof(err));
	rt_free(&x);
	return s;
}

static void test_exact(void)
{
	struct rt_in in = {
	    .rule_id = T("r|1=x"),
	    .title = T("Bulk \"export\" ]\\"),
	    .agent = T("alice"),
	    .customer = T("c=1|\n2"),
	    .action = T("export"),
	    .level = LEVEL_HIGH,
	    .in_group = true,
	    .value = 12,
	    .count = 12,
	    .ts_ms = 1746100800000, /* 2025-05-01T12:00:00Z */
	    .hostname = "host 1",
	};
	struct rt_alert x;
	rt_build(&x, &in);
	char *json = alert_to_json(&x.a);
	char want[4096];

	char *s = fmt(&in, SIEM_RFC5424, NULL);
	snprintf(want, sizeof(want),
		 "<83>1 2025-05-01T12:00:00.000Z host_1 custos 42 r|1=x "
		 "[custos@32473 id=\"%s\" rule=\"r|1=x\" level=\"high\" "
		 "agent=\"alice\" customer=\"c=1|\xef\xbf\xbd"
		 "2\" value=\"12\"] %s",
		 x.a.id, json);
	CHECK_STR(s, want);
	free(s);
	s = fmt(&in, SIEM_CEF, NULL);
	snprintf(want, sizeof(want),
		 "CEF:0|custos|custos|0.1.0|r\\|1=x|Bulk \"export\" ]\\\\|8|"
		 "externalId=%s rt=1746100800000 cs1Label=ruleId cs1=r|1\\=x "
		 "cs2Label=level cs2=high cs3Label=value cs3=12 suser=alice "
		 "duser=c\\=1|\\n2 act=export cnt=12 "
		 "msg=Bulk \"export\" ]\\\\",
		 x.a.id);
	CHECK_STR(s, want);
	free(s);
	s = fmt(&in, SIEM_LEEF, NULL);
	snprintf(want, sizeof(want),
		 "LEEF:2.0|custos|custos|0.1.0|r\xef\xbf\xbd"
		 "1=x|x09|alertId=%s\tdevTime=2025-05-01T12:00:00.000Z\t"
		 "devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX\truleId=r|1=x\t"
		 "ruleTitle=Bulk \"export\" ]\\\tcat=high\tsev=8\t"
		 "usrName=alice\tcustomer=c=1|\xef\xbf\xbd"
		 "2\taction=export\tvalue=12\tevidenceCount=12",
		 x.a.id);
	CHECK_STR(s, want);
	free(s);
	s = fmt(&in, SIEM_JSON, NULL);
	CHECK_STR(s, json);
	free(s);
	free(json);
	rt_free(&x);
}

/* printf c-17 | openssl dgst -sha256 -hmac k3y = e3d58f961d3184e1... */
#define PSEUDO_C17 "cust_e3d58f961d3184e1"
static void test_pseudonymize(void)
{
	char out[SIEM_PSEUDO_LEN + 1];
	const unsigned char key[] = "k3y";

	CHECK_INT(siem_pseudonymize(key, 3, "c-17", 4, out), 0);
	CHECK_STR(out, PSEUDO_C17);
	struct rt_in in = {.rule_id = T("r"),
			   .title = T("t"),
			   .agent = T("bob"),
			   .customer = T("c-17"),
			   .decoy = T("c-17"),
			   .action = T("view"),
			   .level = LEVEL_LOW,
			   .in_group = true,
			   .value = 1,
			   .ts_ms = 0};
	for (int f = 0; f < 4; f++) {
		char *s = fmt(&in, f, key);
		CHECK(s != NULL && strstr(s, "c-17") == NULL);
		CHECK(s != NULL && strstr(s, PSEUDO_C17) != NULL);
		free(s);
	}
	char *s = fmt(&in, SIEM_JSON, key);
	json_t *j = json_loads(s, 0, NULL);
	CHECK_STR(json_string_value(
		      json_object_get(json_object_get(j, "group"), "customer")),
		  PSEUDO_C17);
	CHECK_STR(json_string_value(
		      json_object_get(json_object_get(j, "event"), "customer")),
		  PSEUDO_C17);
	json_decref(j);
	free(s);
	s = fmt(&in, SIEM_CEF, key);
	struct siem_dec d = {0};
	CHECK_INT(siem_dec_cef(s, &d), 0);
	CHECK_STR(siem_dec_get(&d, "duser"), PSEUDO_C17);
	siem_dec_clear(&d);
	free(s);
}

/* Customer ids outside the `customer` fields: a raw field kept next to the
 * mapped one (as a field map leaves it), a URL, a note, the rule title and
 * id, an array, an integer, other customers of the evidence sample.  With
 * a key none may reach the record, in any format; ids shorter than
 * SIEM_PSEUDO_MIN_SUBSTR are replaced only as whole values; the alert id
 * and the timestamps stay intact. */
static void test_pseudonymize_everywhere(void)
{
	static const char *const real[] = {"CUST-4711", "CUST-0815",
					   "CUST-47110", "777001"};
	const unsigned char key[] = "0123456789abcdef";
	struct rule r = {.id = (char *)"rule-CUST-4711",
			 .title = (char *)"Access to CUST-4711 | 777001",
			 .level = LEVEL_HIGH};
	struct alert a = {.rule = &r, .ts_ms = 1746100800000, .value = 3};
	char *ev[] = {
	    strdup("{\"ts\":\"2025-05-01T12:00:00.000Z\",\"customer\":"
		   "\"CUST-0815\",\"action\":\"view\"}"),
	    strdup("{\"ts\":\"2025-05-01T12:00:01.000Z\",\"customer\":"
		   "[\"CUST-47110\",\"C9\"],\"tag\":\"C9x\"}"),
	    strdup("{\"ts\":\"2025-05-01T12:00:01.500Z\",\"customer\":777001}"),
	};
	char pseudo[SIEM_PSEUDO_LEN + 1], err[128];

	a.group = calloc(1, sizeof(*a.group));
	a.group[a.n_group++] =
	    (struct alert_kv){strdup("customer"), strdup("CUST-4711")};
	a.event_json = strdup(
	    "{\"ts\":\"2025-05-01T12:00:02.000Z\",\"agent\":\"alice\","
	    "\"customer\":\"CUST-4711\",\"target.customer_id\":\"CUST-4711\","
	    "\"url\":\"/crm/customers/CUST-4711/profile?ref=CUST-0815\","
	    "\"note\":\"see CUST-47110, C9\",\"acct\":777001}");
	a.evidence_json = malloc(sizeof(ev));
	memcpy(a.evidence_json, ev, sizeof(ev));
	a.n_evidence = 3;
	a.n_evidence_total = 3;
	a.source_input = strdup("crm");
	alert_compute_id(&a);
	for (int f = 0; f < 4; f++) {
		struct siem_opts o;
		siem_opts_init(&o);
		o.format = f;
		o.pseudo_key = key;
		o.pseudo_key_len = 16;
		char *s = siem_format_alert(&a, &o, err, sizeof(err));
		CHECK(s != NULL);
		if (s == NULL)
			continue;
		for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++)
			if (strstr(s, real[i]) != NULL) {
				fprintf(stderr, "%s leaks %s: %s\n",
					siem_format_name(f), real[i], s);
				CHECK(0);
			}
		CHECK(strstr(s, a.id) != NULL); /* the alert id is intact */
		siem_pseudonymize(key, 16, "CUST-4711", 9, pseudo);
		CHECK(strstr(s, pseudo) != NULL);
		siem_pseudonymize(key, 16, "777001", 6, pseudo);
		CHECK(strstr(s, pseudo) != NULL); /* in the title */
		if (f != SIEM_JSON && f != SIEM_RFC5424) {
			free(s);
			continue;
		}
		/* C9: whole values only ("C9x" and "see ..., C9" keep it) */
		CHECK(strstr(s, "\"C9x\"") != NULL);
		CHECK(strstr(s, "\"C9\"") == NULL);
		CHECK(strstr(s, ", C9\"") != NULL);
		CHECK(strstr(s, "\"ts\":\"2025-05-01T12:00:02.000Z\"") != NULL);
		siem_pseudonymize(key, 16, "CUST-47110", 10, pseudo);
		CHECK(strstr(s, pseudo) != NULL);
		/* the integer customer and the integer raw field */
		siem_pseudonymize(key, 16, "777001", 6, pseudo);
		snprintf(err, sizeof(err), "\"acct\":\"%s\"", pseudo);
		CHECK(strstr(s, err) != NULL);
		free(s);
	}
	a.rule = NULL;
	alert_clear(&a);
}

static uint64_t rng = 0x5eed5eedULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Random hostile bytes: any byte value, biased to the characters that
 * matter to some format, and whole forged records. */
static size_t hostile(char *buf, size_t max, bool nul)
{
	static const char *const frag[] = {
	    "|",
	    "=",
	    "\\",
	    "]",
	    "\"",
	    "\n",
	    "\r",
	    "\t",
	    " ",
	    "x09",
	    "\xc2\x85",
	    "\xe2\x80\xa8",
	    "\xff",
	    "\xc3",
	    "\n<13>1 - h custos - x [custos@32473 id=\"f\"] forged",
	    " externalId=forged",
	    "\talertId=forged",
	    "CEF:0|a|b|c|d|e|1|"};
	size_t n = rnd() % 40, len = 0;
	for (size_t i = 0; i < n && len + 64 < max; i++) {
		if (rnd() % 3 == 0) {
			const char *f =
			    frag[rnd() % (sizeof(frag) / sizeof(frag[0]))];
			memcpy(buf + len, f, strlen(f));
			len += strlen(f);
		} else {
			char c = (char)(rnd() % 256);
			buf[len++] = c == 0 && !nul ? 'z' : c;
		}
	}
	buf[len] = '\0';
	return len;
}

static void test_roundtrip(void)
{
	static const double values[] = {1, 0, 2.5, -0.1, 1e300, 7, NAN};
	char b[7][512], why[512];
	int failed = 0;

	for (int i = 0; i < 5000; i++) {
		struct rt_in in = {0};
		struct rt_text *t[] = {&in.rule_id,  &in.title,	 &in.agent,
				       &in.customer, &in.action, &in.decoy};
		in.in_group = rnd() % 2;
		for (int k = 0; k < 6; k++) {
			/* NUL only in event values: rule and group strings
			 * are C strings */
			bool nul = k >= 4 || (k >= 2 && !in.in_group);
			size_t n = hostile(b[k], sizeof(b[k]), nul);
			*t[k] = (struct rt_text){b[k], n};
			if (k >= 2 && rnd() % 8 == 0)
				*t[k] = (struct rt_text){NULL, 0};
		}
		hostile(b[6], sizeof(b[6]), false);
		in.hostname = rnd() % 4 ? b[6] : NULL;
		in.level = (int)(rnd() % 5);
		in.value = values[rnd() % 7];
		in.count = rnd();
		in.ts_ms = (int64_t)rnd() * 1000 - (rnd() % 16 == 0) * 5000;
		if (rt_check(&in, why, sizeof(why)) < 0 && failed++ < 5)
			fprintf(stderr, "case %d: %s\n", i, why);
	}
	CHECK_INT(failed, 0);
}

int main(void)
{
	test_exact();
	test_pseudonymize();
	test_pseudonymize_everywhere();
	test_roundtrip();
	return check_done();
}
