/*
 * saved_groups: collects what an engine_save_* / ext_*_save callback
 * writes (rule key, group key, blob) in memory, so that a test can restore
 * it into a fresh engine (restore_saved) or corrupt it.  Test code only; at
 * most SAVED_MAX groups (the callback fails beyond, as a full store would).
 */
#ifndef CUSTOS_SAVED_GROUPS_H
#define CUSTOS_SAVED_GROUPS_H

#include "check.h"
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAVED_MAX 64

struct saved {
	char rk[128];
	char key[128];
	size_t key_len;
	unsigned char *blob;
	size_t len;
};
static struct saved saved[SAVED_MAX];
static size_t n_saved;

static int save_fn(void *arg, const char *rule_key, const void *gk,
		   size_t gk_len, const void *blob, size_t blob_len)
{
	(void)arg;
	if (n_saved >= SAVED_MAX || gk_len >= sizeof(saved[0].key))
		return -1;
	struct saved *s = &saved[n_saved++];
	snprintf(s->rk, sizeof(s->rk), "%s", rule_key);
	memcpy(s->key, gk, gk_len);
	s->key_len = gk_len;
	s->len = blob_len;
	s->blob = blob ? malloc(blob_len) : NULL;
	if (blob)
		memcpy(s->blob, blob, blob_len);
	return 0;
}

/* Restores every saved group into e, checking that each is accepted (1);
 * returns how many have a rule key starting with prefix. */
static int restore_saved(struct engine *e, const char *prefix)
{
	int n = 0;

	for (size_t i = 0; i < n_saved; i++) {
		CHECK_INT(engine_restore_group(e, saved[i].rk, saved[i].key,
					       saved[i].key_len, saved[i].blob,
					       saved[i].len),
			  1);
		n += strncmp(saved[i].rk, prefix, strlen(prefix)) == 0;
	}
	return n;
}

static void free_saved(void)
{
	for (size_t i = 0; i < n_saved; i++)
		free(saved[i].blob);
	n_saved = 0;
}

#endif
