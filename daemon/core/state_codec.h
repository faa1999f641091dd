/*
 * state_codec: a small bounded binary writer/reader for checkpoint blobs.
 *
 * A blob is: one version byte, the payload (unsigned LEB128 varints,
 * zigzag varints for signed values, IEEE doubles as 8 little-endian bytes,
 * byte strings as a varint length then the bytes), and a CRC-32 (IEEE,
 * little-endian) of everything before it.  The reader checks version and
 * CRC up front and then never reads past the payload: every get on an
 * exhausted or malformed input sets `failed` and returns 0/NULL, so a
 * decoder may read a whole record and test `failed` once.  The writer
 * refuses to grow past its maximum (also `failed`).  No clock, no I/O.
 */
#ifndef CUSTOS_STATE_CODEC_H
#define CUSTOS_STATE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct codec_writer {
	unsigned char *buf; /* owned until codec_writer_finish() */
	size_t len, cap, max;
	bool failed;
};

struct codec_reader {
	const unsigned char *p; /* borrowed */
	size_t len;		/* payload end (before the CRC) */
	size_t at;
	bool failed;
};

uint32_t codec_crc32(const void *data, size_t len);

/* Starts a blob of at most max_bytes with the version byte. */
void codec_writer_init(struct codec_writer *w, size_t max_bytes,
		       uint8_t version);
void codec_put_u8(struct codec_writer *w, uint8_t v);
void codec_put_u64(struct codec_writer *w, uint64_t v);
void codec_put_i64(struct codec_writer *w, int64_t v);
void codec_put_f64(struct codec_writer *w, double v);
void codec_put_bytes(struct codec_writer *w, const void *p, size_t len);
/* A nullable NUL-terminated string: a presence byte, then the bytes. */
void codec_put_str(struct codec_writer *w, const char *s);
/* Appends the CRC and returns the malloc'd blob (caller frees) with its
 * length, or NULL if anything failed (the buffer is then freed). */
unsigned char *codec_writer_finish(struct codec_writer *w, size_t *len);
/* Frees an unfinished writer's buffer. */
void codec_writer_clear(struct codec_writer *w);

/* Checks length, version byte and CRC.  0, or -1 (r->failed set). */
int codec_reader_init(struct codec_reader *r, const void *data, size_t len,
		      uint8_t version);
uint8_t codec_get_u8(struct codec_reader *r);
uint64_t codec_get_u64(struct codec_reader *r);
int64_t codec_get_i64(struct codec_reader *r);
double codec_get_f64(struct codec_reader *r);
/* Borrowed pointer into the blob (not NUL-terminated) and its length, at
 * most max_len; NULL on failure.  A zero-length string gives a non-NULL
 * pointer. */
const char *codec_get_bytes(struct codec_reader *r, size_t *len,
			    size_t max_len);
/* A string written by codec_put_str(): *present says whether it was
 * non-NULL. */
const char *codec_get_str(struct codec_reader *r, size_t *len, size_t max_len,
			  bool *present);
/* Bytes left in the payload (for bounding counts before allocating). */
size_t codec_remaining(const struct codec_reader *r);
/* True if every get succeeded and the payload is consumed exactly. */
bool codec_reader_done(const struct codec_reader *r);

#endif
