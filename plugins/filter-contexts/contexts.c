/*
 * contexts -- keeps sessions whose context type or context id matches one
 * of the patterns (shell globs: "discord.*", "cli:jane*", "support").
 *
 *   filters = { contexts = ["cli", "discord.*"]; };
 */
#include "synth_plugin.h"
#include "synth_session.h"

#include <fnmatch.h>

static const synth_host_api *host;

static const synth_option ctx_options[] = {
    {"contexts", SYNTH_OPT_LIST, 0, "[]",
     "context types or ids to keep, glob patterns allowed; [] keeps all"},
    {NULL, 0, 0, NULL, NULL}};

static int ctx_create(synth_ctx *ctx, void **instance)
{
    json_t *patterns;
    if (host->opt_json(ctx, "contexts", &patterns) != SYNTH_OK)
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read option");
    size_t i;
    json_t *p;
    json_array_foreach(patterns, i, p) {
        if (json_string_length(p) == 0)
            return host->opt_error(ctx, "contexts", (int)i, "empty pattern");
    }
    *instance = patterns; /* borrowed until destroy */
    return SYNTH_OK;
}

static int matches(json_t *patterns, const char *s)
{
    size_t i;
    json_t *p;
    json_array_foreach(patterns, i, p) {
        if (s && fnmatch(json_string_value(p), s, 0) == 0)
            return 1;
    }
    return 0;
}

static int ctx_session(void *instance, synth_ctx *ctx, json_t *session)
{
    json_t *patterns = instance;
    if (json_array_size(patterns) == 0 ||
        matches(patterns, synth_str(session, "type")) ||
        matches(patterns, synth_str(session, "id")))
        return SYNTH_OK;
    return host->drop(ctx, "context not selected");
}

static const synth_plugin ctx_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FILTER,
    .name = "contexts",
    .version = "1.0.0",
    .description = "keeps sessions of the listed context types or ids",
    .options = ctx_options,
    .create = ctx_create,
    .session = ctx_session,
};

SYNTH_PLUGIN_ENTRY(ctx_plugin, host)
