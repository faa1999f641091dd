/*
 * fuzz_siem_format: libFuzzer target for siem_format.  The input is cut
 * into the hostile values of one alert (rule id, title, agent, customer,
 * action, event customer, hostname) at 0xfe bytes; the first byte picks
 * the level, whether agent/customer sit in the group or the event, and the
 * value.  The alert is encoded in every format and decoded back by the
 * strict decoders of tests/unit/siem_decode.h (siem_roundtrip.h): any
 * mismatch, extra field or second record aborts.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "siem_roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double values[] = {1, 0, 2.5, -0.1, 1e300, 7, NAN, 3};
	struct rt_text part[7] = {{"", 0}, {"", 0}};
	char buf[4096], host[256], why[512];
	struct rt_in in = {0};

	if (size < 1 || size >= sizeof(buf))
		return 0;
	uint8_t sel = data[0];
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	size_t start = 0, k = 0;
	for (size_t i = 0; i <= size - 1 && k < 7; i++) {
		if (i < size - 1 && (uint8_t)buf[i] != 0xfe)
			continue;
		part[k++] = (struct rt_text){buf + start, i - start};
		start = i + 1;
	}
	in.in_group = sel & 8;
	/* rule id, title and group values are C strings: cut at a NUL */
	for (int j = 0; j < 4; j++)
		if (part[j].s && (j < 2 || in.in_group))
			part[j].len = strnlen(part[j].s, part[j].len);
	in.rule_id = part[0].s ? part[0] : (struct rt_text){"", 0};
	in.title = part[1].s ? part[1] : (struct rt_text){"", 0};
	in.agent = part[2];
	in.customer = part[3];
	in.action = part[4];
	in.decoy = part[5];
	if (part[6].s) {
		size_t n = part[6].len < 255 ? part[6].len : 255;
		memcpy(host, part[6].s, n);
		host[n] = '\0';
		in.hostname = host;
	}
	in.level = sel % 5;
	in.value = values[(sel >> 4) & 7];
	in.count = size;
	in.ts_ms = (sel & 0x80) ? -1 : (int64_t)size * 86400000;
	if (rt_check(&in, why, sizeof(why)) < 0) {
		fprintf(stderr, "round trip: %s\n", why);
		abort();
	}
	return 0;
}
