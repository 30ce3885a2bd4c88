/*
 * alpaca -- LLaMA-Factory's Alpaca form: one record per answered turn,
 *   {"instruction": the user's input, "input": "", "output": the answer,
 *    "system", "history": [[user, assistant], ...]}
 * where history holds the earlier answered turns of the same session, in
 * order, so a multi-turn conversation trains with its context.  Register
 * it in dataset_info.json with "formatting": "alpaca" and columns
 * {"prompt": "instruction", "query": "input", "response": "output",
 * "system": "system", "history": "history"} (docs/formats.md).  Tool
 * calls are not part of this form: use sharegpt for them.
 */
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdlib.h>

static const synth_host_api *host;

static const synth_option al_options[] = {
    {"conversations", SYNTH_OPT_BOOL, 0, "true",
     "capture switch: false writes no alpaca records"},
    {"system", SYNTH_OPT_STRING, 0, "You are a helpful AI assistant agent.",
     "system prompt of every record"},
    {NULL, 0, 0, NULL, NULL}};

typedef struct {
    int enabled;
    const char *system; /* borrowed option */
} al_state;

static int al_create(synth_ctx *ctx, void **instance)
{
    al_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    if (host->opt_bool(ctx, "conversations", &st->enabled) != SYNTH_OK ||
        host->opt_string(ctx, "system", &st->system) != SYNTH_OK) {
        free(st);
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read options");
    }
    *instance = st;
    return SYNTH_OK;
}

static void al_destroy(void *instance)
{
    free(instance);
}

static int al_session(void *instance, synth_ctx *ctx, json_t *session)
{
    const al_state *st = instance;
    if (!st->enabled)
        return SYNTH_OK;
    json_t *history = json_array();
    size_t i;
    json_t *turn;
    int rc = SYNTH_OK;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        const char *input = synth_turn_input_text(turn);
        json_t *output = synth_turn_final_output(turn);
        if (input == NULL || output == NULL)
            continue; /* no exchange: not in the history either */
        json_t *in_text = json_object_get(json_object_get(turn, "input"),
                                          "text");
        json_t *record = json_pack("{s:O, s:s, s:O, s:s, s:o}", "instruction",
                                   in_text, "input", "", "output",
                                   json_object_get(output, "text"), "system",
                                   st->system, "history",
                                   json_deep_copy(history));
        json_t *lineage = json_pack("{s:O, s:O}", "turn",
                                    json_object_get(turn, "id"), "output",
                                    json_object_get(output, "id"));
        rc = synth_emit_built(host, ctx, record, lineage);
        if (rc != SYNTH_OK)
            break;
        json_array_append_new(history,
                              json_pack("[O, O]", in_text,
                                        json_object_get(output, "text")));
    }
    json_decref(history);
    return rc;
}

static const char *const record_fields[] = {"instruction", "input", "output",
                                            "system", "history", NULL};

static const synth_plugin al_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .name = "alpaca",
    .version = "1.0.0",
    .description = "LLaMA-Factory Alpaca: instruction, input, output, system "
                   "and the session's earlier turns as history",
    .options = al_options,
    .create = al_create,
    .destroy = al_destroy,
    .session = al_session,
    .record_fields = record_fields,
    .dataset_info =
        "{\"formatting\": \"alpaca\", \"columns\": {\"prompt\": "
        "\"instruction\", \"query\": \"input\", \"response\": \"output\", "
        "\"system\": \"system\", \"history\": \"history\"}}",
};

SYNTH_PLUGIN_ENTRY(al_plugin, host)
