/*
 * successful-only -- with successful_only = true, drops every session in
 * which something failed: an action that returned an error, hit an error
 * event (unknown action, unparsable arguments) or never returned; an
 * output core rejected; an error event; or a user input that got no final
 * answer (the model call failed, the stream was cut).
 *
 *   filters = { successful_only = true; };
 */
#include "synth_plugin.h"
#include "synth_session.h"

static const synth_host_api *host;

static const synth_option so_options[] = {
    {"successful_only", SYNTH_OPT_BOOL, 0, "false",
     "drop sessions with a failed action, an error or an unanswered input"},
    {NULL, 0, 0, NULL, NULL}};

static int so_on;      /* read-only after create */

static int so_create(synth_ctx *ctx, void **instance)
{
    if (host->opt_bool(ctx, "successful_only", &so_on) != SYNTH_OK)
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read option");
    *instance = &so_on;
    return SYNTH_OK;
}

static int so_session(void *instance, synth_ctx *ctx, json_t *session)
{
    if (!*(const int *)instance)
        return SYNTH_OK;
    size_t i;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        if (synth_turn_failed(turn))
            return host->drop(ctx, "a failed action, an error or an "
                                   "unanswered input");
    }
    return SYNTH_OK;
}

static const synth_plugin so_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FILTER,
    .name = "successful-only",
    .version = "1.0.0",
    .description = "drops sessions in which anything failed",
    .options = so_options,
    .create = so_create,
    .session = so_session,
};

SYNTH_PLUGIN_ENTRY(so_plugin, host)
