/*
 * conversation -- one record per session with at least one answered turn:
 *   {"messages": [{"role": "user"|"assistant", "content"}...], "summary"}
 *
 * Messages strictly alternate user/assistant: each answered turn gives its
 * input and its final output.  A turn without an answer (the model failed,
 * the stream was cut) is left out whole, so no user message is followed
 * by another user message.
 */
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdio.h>
#include <stdlib.h>

static const synth_host_api *host;

static const synth_option conv_options[] = {
    {"conversations", SYNTH_OPT_BOOL, 0, "true",
     "capture switch: false writes no conversation records"},
    {NULL, 0, 0, NULL, NULL}};

static int conv_create(synth_ctx *ctx, void **instance)
{
    int *enabled = malloc(sizeof *enabled);
    if (enabled == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    int rc = host->opt_bool(ctx, "conversations", enabled);
    if (rc != SYNTH_OK) {
        free(enabled);
        return host->error(ctx, rc, "cannot read option conversations");
    }
    *instance = enabled;
    return SYNTH_OK;
}

static void conv_destroy(void *instance)
{
    free(instance);
}

/* {role, content}: the content shared with the session */
static json_t *message(const char *role, json_t *content)
{
    json_t *m = synth_set(json_object(), "role", json_string_nocheck(role));
    return synth_set_ref(m, "content", content);
}

static int conv_session(void *instance, synth_ctx *ctx, json_t *session)
{
    if (!*(const int *)instance)
        return SYNTH_OK;
    json_t *messages = json_array();
    json_t *turn_ids = json_array();
    size_t i, pairs = 0;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        const char *input = synth_turn_input_text(turn);
        json_t *output = synth_turn_final_output(turn);
        if (input == NULL || output == NULL)
            continue;
        json_array_append_new(
            messages,
            message("user", json_object_get(json_object_get(turn, "input"),
                                            "text")));
        json_array_append_new(
            messages, message("assistant", json_object_get(output, "text")));
        json_array_append(turn_ids, json_object_get(turn, "id"));
        pairs++;
    }
    if (pairs == 0) {
        json_decref(messages);
        json_decref(turn_ids);
        return SYNTH_OK;
    }
    char summary[160];
    snprintf(summary, sizeof summary,
             "Conversation with %zu user message%s and %zu assistant "
             "response%s",
             pairs, pairs == 1 ? "" : "s", pairs, pairs == 1 ? "" : "s");
    json_t *record = synth_set(json_object(), "messages", messages);
    synth_set(record, "summary", json_string_nocheck(summary));
    json_t *lineage = synth_set(json_object(), "turns", turn_ids);
    return synth_emit_built(host, ctx, record, lineage);
}

static const char *const record_fields[] = {"messages", "summary", NULL};

static const synth_plugin conv_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .name = "conversation",
    .version = "1.0.0",
    .description = "multi-turn dialogues: the answered turns of a session "
                   "as alternating user/assistant messages",
    .options = conv_options,
    .create = conv_create,
    .destroy = conv_destroy,
    .session = conv_session,
    .record_fields = record_fields,
};

SYNTH_PLUGIN_ENTRY(conv_plugin, host)
