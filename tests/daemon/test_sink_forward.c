/*
 * test_sink_forward: the forward sink against a local TCP listener —
 * records wait in the outbox while nothing listens, survive closing and
 * reopening the sink, are delivered in order with RFC 6587 octet counting
 * once a listener is there, and a full outbox refuses the newest alert.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "sink_forward.h"

static int listener(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &al);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct sink_forward *open_sink(const char *outbox, int port)
{
	struct sink_forward_config c;
	char addr[64], err[256];

	sink_forward_config_init(&c);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	c.name = "t";
	c.address = addr;
	c.transport = FORWARD_TCP;
	c.siem.format = SIEM_CEF;
	c.outbox_path = outbox;
	c.outbox_max = 3;
	c.backoff_min_ms = 1;
	c.backoff_max_ms = 2;
	struct sink_forward *s = sink_forward_new(&c, err, sizeof(err));
	if (s == NULL)
		fprintf(stderr, "sink_forward_new: %s\n", err);
	return s;
}

int main(void)
{
	char dir[] = "/tmp/custos_fwd.XXXXXX", outbox[128], buf[8192];
	struct sink_forward_stats st;
	struct alert a[4];
	int port, lfd = listener(&port);

	CHECK(mkdtemp(dir) != NULL);
	snprintf(outbox, sizeof(outbox), "%s/o.outbox", dir);
	struct sink_forward *s = open_sink(outbox, port); /* not listening */
	CHECK(s != NULL);
	for (int i = 0; i < 4; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].ts_ms = 1000 * i;
		a[i].value = i;
		a[i].source_input = "in";
		alert_compute_id(&a[i]);
		CHECK_INT(sink_forward_push(s, &a[i]), i < 3 ? 0 : -1);
	}
	for (int t = 0; t < 5; t++) {
		CHECK_INT(sink_forward_flush(s, t * 10, 100), 0);
		usleep(2000);
	}
	sink_forward_stats(s, &st);
	CHECK_INT(st.n_queued, 3);
	CHECK_INT(st.n_dropped, 1);
	CHECK(st.n_errors >= 1);
	sink_forward_free(s);

	s = open_sink(outbox, port); /* a restart: the outbox is still there */
	sink_forward_stats(s, &st);
	CHECK_INT(st.n_queued, 3);
	listen(lfd, 4);
	size_t sent = 0;
	for (int t = 0; t < 200 && sent < 3; t++) {
		sent += sink_forward_flush(s, 1000 + t * 10, 100);
		usleep(5000);
	}
	CHECK_INT(sent, 3);
	int cfd = accept(lfd, NULL, NULL);
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(buf) - 1 &&
	       (n = recv(cfd, buf + got, sizeof(buf) - 1 - got, MSG_DONTWAIT)) >
		   0)
		got += (size_t)n;
	buf[got] = '\0';
	/* three octet-counted frames, in order, each with its alert id */
	char *p = buf;
	for (int i = 0; i < 3; i++) {
		char *end;
		unsigned long len = strtoul(p, &end, 10);
		CHECK(*end == ' ' && len > 0 && end + 1 + len <= buf + got);
		char *rec = strndup(end + 1, len);
		char want[64];
		int w = snprintf(want, sizeof(want), "externalId=%s ", a[i].id);
		CHECK(w > 0 && (size_t)w < sizeof(want));
		CHECK(strstr(rec, want) != NULL);
		CHECK(strstr(rec, " - CEF:0|custos|") != NULL);
		free(rec);
		p = end + 1 + len;
	}
	CHECK(p == buf + got);
	sink_forward_stats(s, &st);
	CHECK_INT(st.n_queued, 0);
	CHECK_INT(st.n_sent, 3);
	CHECK_INT(st.outbox_bytes, 0); /* drained: truncated */
	sink_forward_free(s);
	close(cfd);
	close(lfd);
	for (int i = 0; i < 4; i++)
		a[i].source_input = NULL;
	snprintf(buf, sizeof(buf), "rm -rf %s", dir);
	CHECK_INT(system(buf), 0);
	return check_done();
}
