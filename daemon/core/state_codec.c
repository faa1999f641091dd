/*
 * state_codec: bounded binary writer/reader for checkpoint blobs (see
 * state_codec.h).  The CRC-32 is zlib's crc32 (IEEE polynomial); zlib's
 * word-at-a-time implementation is several times faster than a byte table,
 * and checkpoints checksum every changed group.
 */
#include "state_codec.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

uint32_t codec_crc32(const void *data, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	/* zlib takes uInt lengths: feed very large buffers in pieces */
	for (const unsigned char *p = data; len > 0;) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
		c = crc32(c, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)c;
}

/* ---- writer ---- */

static void put_raw(struct codec_writer *w, const void *p, size_t n)
{
	if (w->failed)
		return;
	if (n > w->max || w->len > w->max - n) {
		w->failed = true;
		return;
	}
	if (w->len + n > w->cap) {
		size_t nc = w->cap ? w->cap : 64;
		while (nc < w->len + n)
			nc *= 2;
		unsigned char *b = realloc(w->buf, nc);
		if (b == NULL) {
			w->failed = true;
			return;
		}
		w->buf = b;
		w->cap = nc;
	}
	if (n)
		memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void codec_writer_init(struct codec_writer *w, size_t max_bytes,
		       uint8_t version)
{
	memset(w, 0, sizeof(*w));
	w->max = max_bytes;
	codec_put_u8(w, version);
}

void codec_put_u8(struct codec_writer *w, uint8_t v)
{
	put_raw(w, &v, 1);
}

void codec_put_u64(struct codec_writer *w, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = (unsigned char)(v & 0x7F);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	put_raw(w, b, n);
}

void codec_put_i64(struct codec_writer *w, int64_t v)
{
	uint64_t u = (uint64_t)v;

	codec_put_u64(w, (u << 1) ^ (v < 0 ? UINT64_MAX : 0));
}

void codec_put_f64(struct codec_writer *w, double v)
{
	uint64_t u;
	unsigned char b[8];

	memcpy(&u, &v, sizeof(u));
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	put_raw(w, b, 8);
}

void codec_put_bytes(struct codec_writer *w, const void *p, size_t len)
{
	codec_put_u64(w, len);
	put_raw(w, p, len);
}

void codec_put_str(struct codec_writer *w, const char *s)
{
	codec_put_u8(w, s != NULL);
	if (s != NULL)
		codec_put_bytes(w, s, strlen(s));
}

unsigned char *codec_writer_finish(struct codec_writer *w, size_t *len)
{
	uint32_t crc = codec_crc32(w->buf, w->len);
	unsigned char b[4] = {(unsigned char)crc, (unsigned char)(crc >> 8),
			      (unsigned char)(crc >> 16),
			      (unsigned char)(crc >> 24)};
	unsigned char *out;

	put_raw(w, b, 4);
	if (w->failed) {
		codec_writer_clear(w);
		return NULL;
	}
	out = w->buf;
	*len = w->len;
	w->buf = NULL;
	w->len = w->cap = 0;
	return out;
}

void codec_writer_clear(struct codec_writer *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

/* ---- reader ---- */

int codec_reader_init(struct codec_reader *r, const void *data, size_t len,
		      uint8_t version)
{
	const unsigned char *p = data;

	memset(r, 0, sizeof(*r));
	r->failed = true;
	if (data == NULL || len < 5 || p[0] != version)
		return -1;
	uint32_t want = (uint32_t)p[len - 4] | (uint32_t)p[len - 3] << 8 |
			(uint32_t)p[len - 2] << 16 | (uint32_t)p[len - 1] << 24;
	if (codec_crc32(p, len - 4) != want)
		return -1;
	r->p = p;
	r->len = len - 4;
	r->at = 1;
	r->failed = false;
	return 0;
}

uint8_t codec_get_u8(struct codec_reader *r)
{
	if (r->failed || r->at >= r->len) {
		r->failed = true;
		return 0;
	}
	return r->p[r->at++];
}

uint64_t codec_get_u64(struct codec_reader *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b = codec_get_u8(r);
		if (r->failed)
			return 0;
		/* the 10th byte may only carry the top bit */
		if (shift == 63 && b > 1) {
			r->failed = true;
			return 0;
		}
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->failed = true;
	return 0;
}

int64_t codec_get_i64(struct codec_reader *r)
{
	uint64_t u = codec_get_u64(r);

	return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}

double codec_get_f64(struct codec_reader *r)
{
	uint64_t u = 0;
	double v;

	if (r->failed || r->len - r->at < 8) {
		r->failed = true;
		return 0;
	}
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)r->p[r->at + (size_t)i] << (8 * i);
	r->at += 8;
	memcpy(&v, &u, sizeof(v));
	return v;
}

const char *codec_get_bytes(struct codec_reader *r, size_t *len, size_t max_len)
{
	uint64_t n = codec_get_u64(r);

	*len = 0;
	if (r->failed || n > max_len || n > r->len - r->at) {
		r->failed = true;
		return NULL;
	}
	const char *p = (const char *)r->p + r->at;
	r->at += (size_t)n;
	*len = (size_t)n;
	return p;
}

const char *codec_get_str(struct codec_reader *r, size_t *len, size_t max_len,
			  bool *present)
{
	uint8_t flag = codec_get_u8(r);

	*len = 0;
	*present = false;
	if (r->failed || flag > 1) {
		r->failed = true;
		return NULL;
	}
	if (flag == 0)
		return NULL;
	*present = true;
	return codec_get_bytes(r, len, max_len);
}

size_t codec_remaining(const struct codec_reader *r)
{
	return r->failed ? 0 : r->len - r->at;
}

bool codec_reader_done(const struct codec_reader *r)
{
	return !r->failed && r->at == r->len;
}
