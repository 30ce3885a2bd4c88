/*
 * openai-dpo -- preference pairs for OpenAI's preference fine-tuning
 * (DPO), one pair a line:
 *   {"input": {"messages": [...], "tools": [...] (when calls are in)},
 *    "preferred_output": [{"role": "assistant", "content": text}],
 *    "non_preferred_output": [{"role": "assistant", "content": text}]}
 * Both outputs must be one assistant message with content, so only the
 * pairs whose two sides are text qualify: an output the framework
 * rejected against the final answer (sdk/synth_chat.h); pairs of calls
 * (retries) are left out here and counted -- the dpo format has them.
 * The input is in OpenAI's shape (arguments as JSON text) and ends with
 * the user's message or a tool result, never an assistant's.
 */
#include "synth_chat.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdlib.h>

static const synth_host_api *host;

static const synth_option od_options[] = {SYNTH_CHAT_OPTIONS,
                                          SYNTH_CHAT_PAIR_OPTIONS,
                                          {NULL, 0, 0, NULL, NULL}};

/* [{"role": "assistant", "content": text of m}] (new reference). */
static json_t *output_of(json_t *m)
{
    return json_pack("[{s:s, s:O}]", "role", "assistant", "content",
                     json_object_get(m, "content"));
}

/* One pair (borrowed) as an OpenAI preference record, when both sides
 * are text. */
static int od_pair(synth_chat_base *b, synth_ctx *ctx, json_t *p)
{
    json_t *chosen = json_object_get(p, "chosen");
    json_t *rejected = json_object_get(p, "rejected");
    if (!json_is_string(json_object_get(chosen, "content")) ||
        !json_is_string(json_object_get(rejected, "content"))) {
        host->count(ctx, "openai-dpo.call_pairs_left_out", 1);
        return SYNTH_OK;
    }
    json_t *messages = synth_chat_messages(json_array(), b->system,
                                           json_object_get(p, "prompt"), 1,
                                           SYNTH_CHAT_NO_WEIGHT);
    json_t *input = synth_set(json_object(), "messages", messages);
    json_t *tools = json_object_get(p, "tools");
    if (json_array_size(tools) > 0)
        synth_set_ref(input, "tools", tools);
    json_t *record = json_pack("{s:o, s:o, s:o}", "input", input,
                               "preferred_output", output_of(chosen),
                               "non_preferred_output", output_of(rejected));
    return synth_chat_emit_pair(host, ctx, p, record);
}

SYNTH_CHAT_PAIR_LIFECYCLE(od, host, "openai-dpo", od_pair)

static const char *const record_fields[] = {"input", "preferred_output",
                                            "non_preferred_output", NULL};

static const synth_plugin od_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .flags = SYNTH_PLUGIN_SERIAL, /* schemas and score groups span sessions */
    .name = "openai-dpo",
    .version = "1.0.0",
    .description = "preference pairs for OpenAI preference fine-tuning "
                   "(input, preferred_output, non_preferred_output)",
    .options = od_options,
    .create = od_create,
    .destroy = od_destroy,
    .session = od_session,
    .flush = od_flush,
    .record_fields = record_fields,
    .save = od_save,
    .restore = od_restore,
};

SYNTH_PLUGIN_ENTRY(od_plugin, host)
