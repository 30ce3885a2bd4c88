/*
 * action-sequences -- one record per turn that called actions:
 *   {"situation", "actions": [{"name", "arguments", "result", "timestamp",
 *    "success"}], "outcome"}
 *
 * Every call is listed, failed ones too: a result carrying an error, an
 * error event (unknown action, arguments that did not parse), or no result
 * at all give "success": false with the error object in "result".
 * The outcome is the turn's final answer; turns without one are skipped
 * unless require_outcome = false (then "outcome" is null).
 */
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdlib.h>

static const synth_host_api *host;

typedef struct {
    int enabled, require_outcome;
} as_state;

static const synth_option as_options[] = {
    {"actions", SYNTH_OPT_BOOL, 0, "true",
     "capture switch: false writes no action-sequences records"},
    {"require_outcome", SYNTH_OPT_BOOL, 0, "true",
     "skip turns that got no final answer"},
    {NULL, 0, 0, NULL, NULL}};

static int as_create(synth_ctx *ctx, void **instance)
{
    as_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    if (host->opt_bool(ctx, "actions", &st->enabled) != SYNTH_OK ||
        host->opt_bool(ctx, "require_outcome", &st->require_outcome) !=
            SYNTH_OK) {
        free(st);
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read options");
    }
    *instance = st;
    return SYNTH_OK;
}

static void as_destroy(void *instance)
{
    free(instance);
}

static int as_session(void *instance, synth_ctx *ctx, json_t *session)
{
    const as_state *st = instance;
    if (!st->enabled)
        return SYNTH_OK;
    size_t i;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        json_t *calls = json_object_get(turn, "actions");
        const char *situation = synth_turn_input_text(turn);
        json_t *output = synth_turn_final_output(turn);
        if (json_array_size(calls) == 0 || situation == NULL ||
            (output == NULL && st->require_outcome))
            continue;
        json_t *actions = json_array();
        json_t *ids = json_array();
        size_t k;
        json_t *a;
        json_array_foreach(calls, k, a) {
            json_array_append_new(actions, synth_action_record(a));
            json_array_append(ids, json_object_get(a, "id"));
        }
        json_t *record = json_object();
        synth_set_ref(record, "situation",
                      json_object_get(json_object_get(turn, "input"), "text"));
        synth_set(record, "actions", actions);
        synth_set_ref(record, "outcome",
                      output ? json_object_get(output, "text") : NULL);
        json_t *lineage = json_object();
        synth_set_ref(lineage, "turn", json_object_get(turn, "id"));
        synth_set(lineage, "actions", ids);
        int rc = synth_emit_built(host, ctx, record, lineage);
        if (rc != SYNTH_OK)
            return rc;
    }
    return SYNTH_OK;
}

static const char *const record_fields[] = {"situation", "actions", "outcome", NULL};

static const synth_plugin as_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .name = "action-sequences",
    .version = "1.0.0",
    .description = "the action calls of a turn with arguments, results and "
                   "success, from the situation to the outcome",
    .options = as_options,
    .create = as_create,
    .destroy = as_destroy,
    .session = as_session,
    .record_fields = record_fields,
};

SYNTH_PLUGIN_ENTRY(as_plugin, host)
