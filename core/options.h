/*
 * options.h -- plugin options: a plugin's option table checked when it
 * loads, the config checked against every loaded table, an instance's
 * values bound from the config, and the host's option getters.
 *
 * Keys of a kind's shared section (capture, filters, privacy) go to every
 * plugin of that kind that declares them; plugins.<name> { ... } to one
 * plugin, winning over the shared section.  Every problem is a config
 * error with file and line (config.h).
 */
#ifndef CORE_OPTIONS_H
#define CORE_OPTIONS_H

#include "config.h"
#include "instance.h"
#include "plugin.h"
#include "strbuf.h"
#include "synth_plugin.h"

/* Check a plugin's option table (borrowed): names, types, defaults, no
 * repeats.  Returns SYNTH_OK or SYNTH_EINVAL with the reason in *why. */
int core_options_check_table(const synth_option *opts, core_strbuf *why);
/* Check the kind sections (capture, filters, privacy) and the plugins
 * group against the loaded plugins' option tables: every key must belong
 * to a plugin.  Returns SYNTH_OK or SYNTH_ECONFIG (errors reported). */
int core_registry_check_config(const core_registry *r, core_config *cfg);
/* The plugins.<name> group of cfg (borrowed), or NULL. */
config_setting_t *core_options_group(const core_config *cfg,
                                     const char *name);
/* Bind inst's options from its config into inst->set and inst->values
 * (owned by inst).  Returns SYNTH_OK, or SYNTH_ECONFIG after reporting
 * every problem. */
int core_options_bind(core_instance *inst);

/* The host's option getters and opt_error (see synth_host_api). */
int core_opt_bool(synth_ctx *ctx, const char *name, int *out);
int core_opt_int(synth_ctx *ctx, const char *name, long long *out);
int core_opt_float(synth_ctx *ctx, const char *name, double *out);
int core_opt_string(synth_ctx *ctx, const char *name, const char **out);
int core_opt_json(synth_ctx *ctx, const char *name, json_t **out);
int core_opt_is_set(synth_ctx *ctx, const char *name);
int core_opt_error(synth_ctx *ctx, const char *name, int index,
                   const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
