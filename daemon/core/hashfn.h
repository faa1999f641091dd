/*
 * hashfn: the byte-string hash of the engine's hash tables (ext_map, the
 * correlation windows' values and groups).  Eight bytes a step, the tail
 * as one overlapping load, then MurmurHash3's 64-bit finaliser (fmix64),
 * folded to 32 bits.  Keys are short (ids, group keys, rule key + agent):
 * a few instructions per eight bytes instead of about five per byte for
 * FNV-1a, used before.  Not keyed (no flooding resistance, as FNV-1a):
 * the tables are bounded by their limits.  Values depend on the host's
 * byte order and are never stored; no alert depends on them (the order
 * of ext_map's iteration, so of the records of a checkpoint, does).
 */
#ifndef CUSTOS_HASHFN_H
#define CUSTOS_HASHFN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t hashfn_load64(const char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w));
	return w;
}

static inline uint64_t hashfn_load32(const char *s)
{
	uint32_t w;

	memcpy(&w, s, sizeof(w));
	return w;
}

static inline uint64_t hashfn_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
	return h ^ (h >> 32);
}

/* The hash of len bytes at s. */
static inline uint32_t hashfn_bytes(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ len;
	size_t i = 0;

	if (len >= 8) {
		for (; i + 8 <= len; i += 8)
			h = hashfn_mix(h, hashfn_load64(s + i));
		if (i < len)
			h = hashfn_mix(h, hashfn_load64(s + len - 8));
	} else if (len >= 4) {
		h = hashfn_mix(h, hashfn_load32(s) | hashfn_load32(s + len - 4)
							 << 32);
	} else {
		uint64_t w = 0;
		for (; i < len; i++)
			w = w << 8 | (unsigned char)s[i];
		h = hashfn_mix(h, w);
	}
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return (uint32_t)h;
}

#endif
