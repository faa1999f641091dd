/*
 * input: the registry of input types (OpenSMTPD table.c style): one line
 * per implementation.  Add a type by adding its ops to `registry`.
 */
#include "input.h"

#include <string.h>

static const struct input_ops *const registry[] = {
    &input_stdin_ops,
    &input_file_ops,
    &input_syslog_ops,
    &input_pcap_ops,
};

const struct input_ops *input_ops_find(const char *type)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (strcmp(registry[i]->type, type) == 0)
			return registry[i];
	return NULL;
}
