/*
 * test_syslog_msg: RFC 5424 / RFC 3164 parsing (the RFCs' own examples,
 * NIL values, structured data with escapes, malformed headers) and RFC
 * 6587 framing (octet counting and LF, split at every byte position,
 * oversize frames, garbage and resynchronization).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "syslog_msg.h"

static char err[256];

static int str_eq(struct syslog_str s, const char *want)
{
	if (want == NULL)
		return s.ptr == NULL && s.len == 0;
	return s.ptr != NULL && s.len == strlen(want) &&
	       memcmp(s.ptr, want, s.len) == 0;
}

static int parse(const char *s, struct syslog_msg *m)
{
	err[0] = '\0';
	return syslog_msg_parse(s, strlen(s), m, err, sizeof(err));
}

static void test_5424_examples(void)
{
	struct syslog_msg m;
	const char *ex1 =
	    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com "
	    "su - ID47 - \xef\xbb\xbf'su root' failed for "
	    "lonvick on /dev/pts/8";

	CHECK_INT(parse(ex1, &m), 0);
	CHECK_INT(m.format, SYSLOG_MSG_5424);
	CHECK_INT(m.pri, 34);
	CHECK_INT(m.facility, 4);
	CHECK_INT(m.severity, 2);
	CHECK_INT(m.version, 1);
	CHECK(str_eq(m.timestamp, "2003-10-11T22:14:15.003Z"));
	CHECK(str_eq(m.hostname, "mymachine.example.com"));
	CHECK(str_eq(m.app_name, "su"));
	CHECK(str_eq(m.procid, NULL));
	CHECK(str_eq(m.msgid, "ID47"));
	CHECK(str_eq(m.sd, NULL));
	CHECK(m.bom);
	CHECK(str_eq(m.msg, "'su root' failed for lonvick on /dev/pts/8"));

	CHECK_INT(parse("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 "
			"myproc 8710 - - %% It's time to make the do-nuts.",
			&m),
		  0);
	CHECK(str_eq(m.procid, "8710"));
	CHECK(!m.bom);
	CHECK(str_eq(m.msg, "%% It's time to make the do-nuts."));

	const char *ex3 =
	    "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com"
	    " evntslog - ID47 [exampleSDID@32473 iut=\"3\" "
	    "eventSource=\"Application\" eventID=\"1011\"] "
	    "\xef\xbb\xbf"
	    "An application event log entry...";
	CHECK_INT(parse(ex3, &m), 0);
	CHECK(str_eq(m.sd, "[exampleSDID@32473 iut=\"3\" eventSource="
			   "\"Application\" eventID=\"1011\"]"));
	CHECK(str_eq(m.msg, "An application event log entry..."));

	/* two SD elements, no MSG */
	CHECK_INT(parse("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com "
			"evntslog - ID47 [exampleSDID@32473 iut=\"3\" "
			"eventSource=\"Application\" eventID=\"1011\"]"
			"[examplePriority@32473 class=\"high\"]",
			&m),
		  0);
	CHECK_INT((int)m.msg.len, 0);
	CHECK(m.sd.len > 0 && m.sd.ptr[m.sd.len - 1] == ']');

	/* everything NIL, JSON message (what custos receives) */
	CHECK_INT(parse("<14>1 - - - - - - {\"agent\":\"a1\"}", &m), 0);
	CHECK(str_eq(m.timestamp, NULL));
	CHECK(str_eq(m.hostname, NULL));
	CHECK(str_eq(m.msg, "{\"agent\":\"a1\"}"));
	/* numeric offsets, no fraction */
	CHECK_INT(parse("<0>1 2025-05-01T12:00:00+02:00 h a 1 m - x", &m), 0);
	CHECK_INT(m.pri, 0);
	CHECK_INT(parse("<191>12 2025-05-01T12:00:00Z h a 1 m - x", &m), 0);
	CHECK_INT(m.version, 12);
}

static void test_5424_errors(void)
{
	static const char *const bad[] = {
	    "",
	    "no pri",
	    "<>1 - - - - - -",
	    "<192>1 - - - - - - x",
	    "<1234>1 - - - - - -",
	    "<13",
	    "<13>1 2003-13-11T22:14:15Z h a p m - x",	      /* month 13 */
	    "<13>1 2003-10-11 22:14:15Z h a p m - x",	      /* no T */
	    "<13>1 2003-10-11T22:14:15.1234567Z h a p m - x", /* 7 digits */
	    "<13>1 2003-10-11T22:14:15 h a p m - x",	      /* no offset */
	    "<13>1 - h a p m",				      /* no SD */
	    "<13>1 - h a p m [id",			      /* unterminated */
	    "<13>1 - h a p m [id a=\"x]",	/* unterminated value */
	    "<13>1 - h a p m [id a=x]",		/* unquoted value */
	    "<13>1 - h a p m [ a=\"x\"]",	/* empty SD-ID */
	    "<13>1 - h a p m [id a=\"x\"]junk", /* no SP before MSG */
	    "<13>1 - h a p m x",		/* SD not [ or - */
	    "<13>1 - h "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    " p m - x",		    /* APP-NAME of 49 */
	    "<13>1 - h  a p m - x", /* empty field */
	    "<13>1 -",
	};
	struct syslog_msg m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		int rc = syslog_msg_parse(bad[i], strlen(bad[i]), &m, err,
					  sizeof(err));
		if (rc != -1 || err[0] == '\0')
			fprintf(stderr, "accepted: %s\n", bad[i]);
		CHECK_INT(rc, -1);
		CHECK(err[0] != '\0');
	}
	/* forced 5424 on a 3164 message */
	const char *b = "<13>Oct 11 22:14:15 host tag: x";
	CHECK_INT(syslog_msg_parse_5424(b, strlen(b), &m, err, sizeof(err)),
		  -1);
}

static void test_sd_escapes(void)
{
	struct syslog_msg m;
	struct syslog_sd_param p;
	size_t pos = 0;
	char vb[256];
	const char *s = "<13>1 - - - - - [a@1 q=\"x\\\"y\" b=\"back\\\\slash\" "
			"c=\"br\\]acket\" d=\"keep\\n\" e=\"\"][flag@2][z@3 "
			"k=\"v\"] msg";

	CHECK_INT(parse(s, &m), 0);
	CHECK(str_eq(m.msg, "msg"));
	const char *want[][3] = {
	    {"a@1", "q", "x\"y"},     {"a@1", "b", "back\\slash"},
	    {"a@1", "c", "br]acket"}, {"a@1", "d", "keep\\n"},
	    {"a@1", "e", ""},	      {"flag@2", NULL, ""},
	    {"z@3", "k", "v"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK_INT(syslog_sd_next(m.sd, &pos, &p, vb, sizeof(vb)), 1);
		CHECK(str_eq(p.id, want[i][0]));
		CHECK(str_eq(p.name, want[i][1]));
		CHECK_STR(p.value, want[i][2]);
		CHECK_INT(p.value_len, strlen(want[i][2]));
	}
	CHECK_INT(syslog_sd_next(m.sd, &pos, &p, vb, sizeof(vb)), 0);
	CHECK_INT(syslog_sd_next(m.sd, &pos, &p, vb, 4), -1);
	/* an unescaped ']' inside a quoted value is accepted */
	CHECK_INT(parse("<13>1 - - - - - [a@1 v=\"x]y\"] m", &m), 0);
	pos = 0;
	CHECK_INT(syslog_sd_next(m.sd, &pos, &p, vb, sizeof(vb)), 1);
	CHECK_STR(p.value, "x]y");
	CHECK(str_eq(m.msg, "m"));
}

static void test_3164(void)
{
	struct syslog_msg m;

	CHECK_INT(parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed "
			"for lonvick on /dev/pts/8",
			&m),
		  0);
	CHECK_INT(m.format, SYSLOG_MSG_3164);
	CHECK_INT(m.pri, 34);
	CHECK(str_eq(m.timestamp, "Oct 11 22:14:15"));
	CHECK(str_eq(m.hostname, "mymachine"));
	CHECK(str_eq(m.app_name, "su"));
	CHECK(str_eq(m.procid, NULL));
	CHECK(str_eq(m.msg, "'su root' failed for lonvick on /dev/pts/8"));

	CHECK_INT(parse("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", &m), 0);
	CHECK(str_eq(m.timestamp, "Feb  5 17:32:18"));
	CHECK(str_eq(m.hostname, "10.0.0.99"));
	CHECK(str_eq(m.app_name, NULL));
	CHECK(str_eq(m.msg, "Use the BFG!"));

	/* no valid timestamp: everything after PRI is MSG (RFC 3164 4.3.2) */
	const char *odd = "<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example."
			  "org 10.1.2.3 sched[0]: That's All Folks!";
	CHECK_INT(parse(odd, &m), 0);
	CHECK_INT(m.format, SYSLOG_MSG_3164);
	CHECK(str_eq(m.timestamp, NULL));
	CHECK(str_eq(m.msg, odd + 3));

	/* local form (no hostname), tag with pid */
	CHECK_INT(parse("<13>Oct  1 02:03:04 custos-crm[4242]: {\"a\":1}", &m),
		  0);
	CHECK(str_eq(m.hostname, NULL));
	CHECK(str_eq(m.app_name, "custos-crm"));
	CHECK(str_eq(m.procid, "4242"));
	CHECK(str_eq(m.msg, "{\"a\":1}"));

	/* host + tag[pid] + kv message */
	CHECK_INT(parse("<86>Dec 31 23:59:59 web1 crm[7]: agent=a1 rows=5", &m),
		  0);
	CHECK(str_eq(m.hostname, "web1"));
	CHECK(str_eq(m.app_name, "crm"));
	CHECK(str_eq(m.procid, "7"));
	CHECK(str_eq(m.msg, "agent=a1 rows=5"));

	/* RFC 3339 timestamp as rsyslog forwards it */
	CHECK_INT(
	    parse("<13>2025-05-01T12:00:00.123456+02:00 host app: hi", &m), 0);
	CHECK(str_eq(m.timestamp, "2025-05-01T12:00:00.123456+02:00"));
	CHECK(str_eq(m.hostname, "host"));
	CHECK(str_eq(m.app_name, "app"));
	CHECK(str_eq(m.msg, "hi"));

	/* empty MSG, PRI only */
	CHECK_INT(parse("<13>", &m), 0);
	CHECK_INT((int)m.msg.len, 0);
	CHECK_INT(parse("<13>Oct 11 22:14:15 host", &m), 0);
	CHECK(str_eq(m.msg, "host"));
	/* invalid date fields are not a timestamp */
	CHECK_INT(parse("<13>Oct 32 22:14:15 h t: m", &m), 0);
	CHECK(str_eq(m.timestamp, NULL));
	CHECK_INT(parse("<13>Foo 11 22:14:15 h t: m", &m), 0);
	CHECK(str_eq(m.timestamp, NULL));
	CHECK_INT(parse("13>Oct 11 22:14:15 h t: m", &m), -1);
}

/* ---- framing ---- */

struct frames {
	char *data[64];
	size_t len[64];
	int truncated[64];
	size_t n;
	int n_errors;
};

static void frames_clear(struct frames *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->data[i]);
	memset(fs, 0, sizeof(*fs));
}

static void take(struct frames *fs, const struct syslog_frame *fr)
{
	if (fs->n == 64)
		return;
	fs->data[fs->n] = malloc(fr->len + 1);
	memcpy(fs->data[fs->n], fr->data, fr->len);
	fs->data[fs->n][fr->len] = '\0';
	fs->len[fs->n] = fr->len;
	fs->truncated[fs->n++] = fr->truncated;
}

/* Feeds s in chunks of the given sizes (cycled), then finishes. */
static void feed(struct syslog_framer *f, const char *s, size_t len,
		 const size_t *chunks, size_t n_chunks, struct frames *fs)
{
	struct syslog_frame fr;
	size_t off = 0, k = 0;

	while (off < len) {
		size_t n = chunks[k++ % n_chunks];
		if (n > len - off)
			n = len - off;
		size_t pos = 0;
		while (pos < n) {
			size_t used;
			int rc =
			    syslog_framer_next(f, s + off + pos, n - pos, &used,
					       &fr, err, sizeof(err));
			CHECK(used <= n - pos);
			pos += used;
			if (rc == 1)
				take(fs, &fr);
			if (rc < 0)
				fs->n_errors++;
			if (rc == 0)
				CHECK(pos == n);
		}
		off += n;
	}
	int rc = syslog_framer_finish(f, &fr, err, sizeof(err));
	if (rc == 1)
		take(fs, &fr);
	if (rc < 0)
		fs->n_errors++;
}

static int frames_equal(const struct frames *fs, const char *const *want,
			size_t n)
{
	if (fs->n != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(fs->data[i], want[i]) != 0)
			return 0;
	return 1;
}

static void test_split_everywhere(const char *stream, const char *const *want,
				  size_t n_want)
{
	size_t len = strlen(stream);
	int all_ok = 1;

	for (size_t cut = 0; cut <= len; cut++) {
		struct syslog_framer f;
		struct frames fs = {0};
		size_t chunks[2] = {cut ? cut : len, len};
		syslog_framer_init(&f, 1024);
		feed(&f, stream, len, chunks, 2, &fs);
		if (!frames_equal(&fs, want, n_want) || fs.n_errors) {
			fprintf(stderr, "split at %zu: %zu frames\n", cut,
				fs.n);
			all_ok = 0;
		}
		frames_clear(&fs);
		syslog_framer_clear(&f);
	}
	CHECK(all_ok);
	/* byte by byte, and in chunks of 3 then 7 */
	size_t ones[1] = {1}, mixed[2] = {3, 7};
	for (int k = 0; k < 2; k++) {
		struct syslog_framer f;
		struct frames fs = {0};
		syslog_framer_init(&f, 1024);
		feed(&f, stream, len, k ? mixed : ones, k ? 2 : 1, &fs);
		CHECK(frames_equal(&fs, want, n_want));
		CHECK_INT(fs.n_errors, 0);
		CHECK_INT(f.n_frames, n_want);
		frames_clear(&fs);
		syslog_framer_clear(&f);
	}
}

static void test_octet_counting(void)
{
	static const char *const want[] = {
	    "<13>1 - - - - - - one",
	    "<13>1 - - - - - - line\nwith LF",
	    "<13>1 - - - - - - {\"k\":\"\xc3\xa9\"}",
	};
	const char *stream = "21 <13>1 - - - - - - one"
			     "30 <13>1 - - - - - - line\nwith LF"
			     "28 <13>1 - - - - - - {\"k\":\"\xc3\xa9\"}";
	test_split_everywhere(stream, want, 3);

	struct syslog_framer f;
	struct frames fs = {0};
	size_t all[1] = {1000};
	syslog_framer_init(&f, 1024);
	feed(&f, stream, strlen(stream), all, 1, &fs);
	CHECK_INT(f.framing, SYSLOG_FRAMING_DETECT); /* reset by finish */
	frames_clear(&fs);
	/* a trailing LF after each frame is tolerated */
	const char *lf = "3 abc\n3 def\r\n";
	static const char *const want_lf[] = {"abc", "def"};
	feed(&f, lf, strlen(lf), all, 1, &fs);
	CHECK(frames_equal(&fs, want_lf, 2));
	CHECK_INT(fs.n_errors, 0);
	frames_clear(&fs);
	/* stream cut inside a frame: an error at finish */
	feed(&f, "10 abc", 6, all, 1, &fs);
	CHECK_INT((int)fs.n, 0);
	CHECK_INT(fs.n_errors, 1);
	frames_clear(&fs);
	syslog_framer_clear(&f);
}

static void test_lf_framing(void)
{
	static const char *const want[] = {
	    "<13>Oct 11 22:14:15 host app: one",
	    "<13>1 - - - - - - two",
	    "three",
	    "last without LF",
	};
	const char *stream = "<13>Oct 11 22:14:15 host app: one\n"
			     "<13>1 - - - - - - two\r\n"
			     "\n\nthree\nlast without LF";
	test_split_everywhere(stream, want, 4);
}

static void test_oversize(void)
{
	struct syslog_framer f;
	struct frames fs = {0};
	size_t ones[1] = {1}, all[1] = {1000};

	/* octet counting: cut to max, exact resync on LEN */
	const char *s = "20 abcdefghijklmnopqrst5 hello10 0123456789";
	for (int k = 0; k < 2; k++) {
		syslog_framer_init(&f, 10);
		feed(&f, s, strlen(s), k ? ones : all, 1, &fs);
		CHECK_INT((int)fs.n, 3);
		CHECK_STR(fs.data[0], "abcdefghij");
		CHECK(fs.truncated[0]);
		CHECK_STR(fs.data[1], "hello");
		CHECK(!fs.truncated[1]);
		CHECK_STR(fs.data[2], "0123456789"); /* exactly max: whole */
		CHECK(!fs.truncated[2]);
		CHECK_INT(f.n_truncated, 1);
		CHECK_INT(fs.n_errors, 0);
		frames_clear(&fs);
		syslog_framer_clear(&f);
	}
	/* LF: cut to max, rest skipped to the LF; exactly max + CRLF fits */
	const char *l = "abcdefghijklmnop\nshort\n0123456789\r\nxyz\n";
	for (int k = 0; k < 2; k++) {
		syslog_framer_init(&f, 10);
		feed(&f, l, strlen(l), k ? ones : all, 1, &fs);
		CHECK_INT((int)fs.n, 4);
		CHECK_STR(fs.data[0], "abcdefghij");
		CHECK(fs.truncated[0]);
		CHECK_STR(fs.data[1], "short");
		CHECK_STR(fs.data[2], "0123456789");
		CHECK(!fs.truncated[2]);
		CHECK_STR(fs.data[3], "xyz");
		frames_clear(&fs);
		syslog_framer_clear(&f);
	}
	/* a huge MSG-LEN is refused (more than 9 digits) */
	syslog_framer_init(&f, 10);
	feed(&f, "12345678901 x\n5 hello", 21, all, 1, &fs);
	CHECK(fs.n_errors >= 1);
	CHECK_INT((int)fs.n, 1);
	CHECK(fs.n == 1 && strcmp(fs.data[0], "hello") == 0);
	frames_clear(&fs);
	syslog_framer_clear(&f);
}

static void test_garbage(void)
{
	struct syslog_framer f;
	struct frames fs = {0};
	size_t all[1] = {1000}, ones[1] = {1};

	for (int k = 0; k < 2; k++) {
		/* octet counting, then garbage: error, skip to LF, detect */
		const char *s = "3 abc7x junk\nplain line\n";
		syslog_framer_init(&f, 64);
		feed(&f, s, strlen(s), k ? ones : all, 1, &fs);
		CHECK_INT(fs.n_errors, 1);
		CHECK_INT((int)fs.n, 2);
		CHECK(fs.n == 2 && strcmp(fs.data[0], "abc") == 0 &&
		      strcmp(fs.data[1], "plain line") == 0);
		CHECK_INT(f.n_errors, 1);
		frames_clear(&fs);
		syslog_framer_clear(&f);
	}
	/* a leading zero in MSG-LEN, and the bad byte being the LF */
	syslog_framer_init(&f, 64);
	feed(&f, "05 hello\n2\n2 ok", 15, all, 1, &fs);
	CHECK_INT(fs.n_errors, 2);
	CHECK(fs.n == 1 && strcmp(fs.data[0], "ok") == 0);
	frames_clear(&fs);
	/* binary garbage never crashes and never yields a frame > max */
	char junk[4096];
	unsigned x = 12345;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245 + 12345;
		junk[i] = (char)(x >> 16);
	}
	feed(&f, junk, sizeof(junk), ones, 1, &fs);
	for (size_t i = 0; i < fs.n; i++)
		CHECK(fs.len[i] <= 64);
	frames_clear(&fs);
	syslog_framer_clear(&f);
}

int main(void)
{
	test_5424_examples();
	test_5424_errors();
	test_sd_escapes();
	test_3164();
	test_octet_counting();
	test_lf_framing();
	test_oversize();
	test_garbage();
	return check_done();
}
