/*
 * instruction-tuning -- one record per answered turn:
 *   {"instruction", "response", "system", "context"}
 *
 * The instruction is the turn's user input and the response the final
 * output of the same turn, however many thoughts, action calls and steps
 * came in between.  (The reference package pairs an input only with an
 * output that immediately follows it, which real agent logs never do.)
 */
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdio.h>
#include <stdlib.h>

static const synth_host_api *host;

typedef struct {
    const char *system; /* borrowed from the host's option store */
    int enabled;
} it_state;

static const synth_option it_options[] = {
    {"system", SYNTH_OPT_STRING, 0, "You are a helpful AI assistant agent.",
     "system prompt written into every record"},
    {"conversations", SYNTH_OPT_BOOL, 0, "true",
     "capture switch: false writes no instruction-tuning records"},
    {NULL, 0, 0, NULL, NULL}};

static int it_create(synth_ctx *ctx, void **instance)
{
    it_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    int rc = host->opt_string(ctx, "system", &st->system);
    if (rc == SYNTH_OK)
        rc = host->opt_bool(ctx, "conversations", &st->enabled);
    if (rc != SYNTH_OK) {
        free(st);
        return host->error(ctx, rc, "cannot read options");
    }
    *instance = st;
    return SYNTH_OK;
}

static void it_destroy(void *instance)
{
    free(instance);
}

static int it_session(void *instance, synth_ctx *ctx, json_t *session)
{
    const it_state *st = instance;
    if (!st->enabled)
        return SYNTH_OK;
    char context[512];
    synth_context_line(session, context, sizeof context);
    size_t i;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        const char *instruction = synth_turn_input_text(turn);
        json_t *output = synth_turn_final_output(turn);
        if (instruction == NULL || output == NULL)
            continue;
        json_t *input = json_object_get(turn, "input");
        json_t *record = json_object();
        synth_set_ref(record, "instruction", json_object_get(input, "text"));
        synth_set_ref(record, "response", json_object_get(output, "text"));
        synth_set(record, "system", json_string(st->system));
        synth_set(record, "context", json_string(context));
        json_t *lineage = json_object();
        synth_set_ref(lineage, "turn", json_object_get(turn, "id"));
        synth_set_ref(lineage, "input", json_object_get(input, "id"));
        synth_set_ref(lineage, "output", json_object_get(output, "id"));
        int rc = synth_emit_built(host, ctx, record, lineage);
        if (rc != SYNTH_OK)
            return rc;
    }
    return SYNTH_OK;
}

static const char *const record_fields[] = {"instruction", "response", "system", "context", NULL};

static const synth_plugin it_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .name = "instruction-tuning",
    .version = "1.0.0",
    .description = "instruction/response pairs: each user input with the "
                   "final answer of its turn",
    .options = it_options,
    .create = it_create,
    .destroy = it_destroy,
    .session = it_session,
    .record_fields = record_fields,
};

SYNTH_PLUGIN_ENTRY(it_plugin, host)
