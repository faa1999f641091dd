/*
 * custosd_config.c: loading the config and the rules (start, --check,
 * reload) and the SIGHUP reload.  A reload parses into a new config and
 * ruleset and swaps only if everything is valid, after a checkpoint; the
 * old ones keep running otherwise.  Inputs, sinks, store, state_dir,
 * control socket, user and group change at restart only (a warning says
 * so).  The daemon owns the configs: cfg_inputs (what the inputs were
 * opened with) and cfg (the current one, freed at the next swap unless
 * it is cfg_inputs).  Runs on the loop thread.
 */
#include "custosd_int.h"

#include "agentdir.h"
#include "input.h"
#include "log.h"

#include <string.h>
#include <systemd/sd-daemon.h>

static const char *const type_names[] = {"file", "stdin", "syslog", "pcap"};
static const char *const format_names[] = {"json", "csv", "kv"};

static void check_supported(const struct config *c, struct diag *d)
{
	for (size_t i = 0; i < c->n_inputs; i++) {
		const struct config_input *in = &c->inputs[i];
		if (input_ops_find(type_names[in->type]) == NULL)
			diag_add(d, c->file, in->line, in->column,
				 "input '%s': type '%s' is not available in "
				 "this build",
				 in->name, type_names[in->type]);
		if (in->type != INPUT_PCAP &&
		    !pipeline_format_supported(format_names[in->format]))
			diag_add(d, c->file, in->line, in->column,
				 "input '%s': format '%s' is not available "
				 "in this build",
				 in->name, format_names[in->format]);
	}
}

/* Config + rules, or every problem in d.  0 or -1. */
int custosd_config_load(const char *path, struct config **cfg,
			struct ruleset **rules, struct diag *d)
{
	*rules = NULL;
	if ((*cfg = config_load(path, d)) == NULL)
		return -1;
	check_supported(*cfg, d);
	if ((*rules = ruleset_new()) == NULL ||
	    ruleset_set_lists(*rules, &(*cfg)->lists) < 0) {
		diag_add(d, path, 0, 0, "out of memory");
		goto fail;
	}
	if ((*cfg)->n_rule_paths == 0)
		diag_add(d, path, 0, 0, "no rules: set 'rules:' in the config");
	for (size_t i = 0; i < (*cfg)->n_rule_paths; i++)
		ruleset_load_path(*rules, (*cfg)->rule_paths[i], d);
	if (diag_count(d) == 0)
		ruleset_finish(*rules, d);
	if (diag_count(d) == 0)
		return 0;
fail:
	ruleset_free(*rules);
	config_free(*cfg);
	*rules = NULL;
	*cfg = NULL;
	return -1;
}

void custosd_config_log_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n_entries; i++) {
		const struct diag_entry *e = &d->entries[i];
		log_warnx("%s:%d:%d: %s", e->file ? e->file : "-", e->line,
			  e->column, e->message);
	}
	if (d->n_dropped)
		log_warnx("%zu more problems not shown", d->n_dropped);
}

static bool same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool same_inputs(const struct config *a, const struct config *b)
{
	if (a->n_inputs != b->n_inputs)
		return false;
	for (size_t i = 0; i < a->n_inputs; i++) {
		const struct config_input *x = &a->inputs[i],
					  *y = &b->inputs[i];
		if (!same_str(x->name, y->name) || x->type != y->type ||
		    !same_str(x->path, y->path) ||
		    !same_str(x->listen, y->listen) ||
		    x->protocol != y->protocol || x->format != y->format ||
		    x->max_message_bytes != y->max_message_bytes ||
		    x->max_connections != y->max_connections ||
		    x->idle_timeout_ms != y->idle_timeout_ms ||
		    (x->pcap == NULL) != (y->pcap == NULL))
			return false;
	}
	return true;
}

static void warn_restart_only(const struct daemon *d, const struct config *c)
{
	const struct config *o = d->cfg_inputs;

	if (!same_inputs(o, c))
		log_warnx("reload: input changes take effect at the next "
			  "restart; inputs are unchanged until then");
	if (memcmp(&o->sink_syslog.priority, &c->sink_syslog.priority,
		   sizeof(c->sink_syslog.priority)) != 0 ||
	    o->sink_syslog.enabled != c->sink_syslog.enabled ||
	    o->sink_syslog.facility != c->sink_syslog.facility ||
	    o->sink_syslog.queue_max != c->sink_syslog.queue_max ||
	    !same_str(o->sink_syslog.ident, c->sink_syslog.ident) ||
	    !same_str(o->sink_syslog.socket_path, c->sink_syslog.socket_path))
		log_warnx("reload: sinks changes take effect at the next "
			  "restart");
	if (!same_str(o->store_path, c->store_path) ||
	    !same_str(o->state_dir, c->state_dir) ||
	    !same_str(o->control_socket, c->control_socket) ||
	    !same_str(o->user, c->user) || !same_str(o->group, c->group))
		log_warnx("reload: store, state_dir, control_socket, user and "
			  "group changes take effect at the next restart");
}

void custosd_config_reload(struct daemon *d)
{
	struct config *cfg;
	struct ruleset *rules;
	struct diag dg;
	char err[256];

	log_info("reloading %s", d->config_path);
	sd_notify(0, "RELOADING=1");
	diag_init(&dg);
	if (custosd_config_load(d->config_path, &cfg, &rules, &dg) < 0) {
		custosd_config_log_diag(&dg);
		log_warnx("reload refused (%zu problems); the running rules "
			  "stay in force",
			  diag_count(&dg));
		d->n_reload_failures++;
		goto out;
	}
	warn_restart_only(d, cfg);
	if (custosd_timers_checkpoint(d) < 0 ||
	    pipeline_reload(d->p, cfg, rules, err, sizeof(err)) < 0) {
		log_warnx("reload refused: %s",
			  d->ck.n_failures ? "checkpoint failed" : err);
		config_free(cfg);
		d->n_reload_failures++;
		goto out;
	}
	if (d->cfg != d->cfg_inputs)
		config_free(d->cfg);
	d->cfg = cfg;
	d->ck.need_full = true;
	d->n_lost_at_start = pipeline_n_lost(d->p); /* a new engine's count */
	loop_timer_set(d->loop, d->ck_timer, cfg->checkpoint.every_ms);
	loop_timer_set(d->loop, d->alerts_timer,
		       cfg->checkpoint.alerts_every_ms);
	loop_timer_set(d->loop, d->status_timer, cfg->status_log_interval_ms);
	d->keep.cfg = cfg;
	loop_timer_set(d->loop, d->seal_timer, cfg->seal_interval_ms);
	loop_timer_set(d->loop, d->purge_timer,
		       cfg->retention.purge_interval_ms);
	d->n_reloads++;
	log_info("reloaded: %zu rules, %zu lists (%zu values), %zu directory "
		 "agents",
		 pipeline_rules(d->p)->n_rules, cfg->lists.n_lists,
		 config_list_values(cfg), agentdir_count(cfg->agents));
out:
	diag_clear(&dg);
	sd_notify(0, "READY=1");
}
