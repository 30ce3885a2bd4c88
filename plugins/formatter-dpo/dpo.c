/*
 * dpo -- preference pairs for TRL's DPOTrainer, conversational:
 *   {"prompt": [{"role": "system"|"user"|"assistant"|"tool", ...}...],
 *    "chosen": [one assistant message], "rejected": [one assistant
 *    message], "tools": "<definitions as JSON text>" (when calls are in)}
 * Messages are in the Hugging Face chat-template shape (chat-messages).
 * The pairs are where the log shows the agent choosing and which choice
 * was better (sdk/synth_chat.h): a failed call and the later call of the
 * same tool that succeeded (retries), an output the framework rejected
 * and the final answer (rejected_outputs).  Each record is one pair.
 */
#include "synth_chat.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdlib.h>

static const synth_host_api *host;

static const synth_option dpo_options[] = {SYNTH_CHAT_OPTIONS,
                                           SYNTH_CHAT_PAIR_OPTIONS,
                                           {NULL, 0, 0, NULL, NULL}};

/* One pair (borrowed) as a DPO record. */
static int dpo_pair(synth_chat_base *b, synth_ctx *ctx, json_t *p)
{
    json_t *chosen = json_pack("[O]", json_object_get(p, "chosen"));
    json_t *rejected = json_pack("[O]", json_object_get(p, "rejected"));
    json_t *record = json_pack(
        "{s:o, s:o, s:o}", "prompt",
        synth_chat_messages(json_array(), b->system,
                            json_object_get(p, "prompt"), 0, 0),
        "chosen", synth_chat_messages(json_array(), NULL, chosen, 0, 0),
        "rejected", synth_chat_messages(json_array(), NULL, rejected, 0, 0));
    json_decref(chosen);
    json_decref(rejected);
    json_t *tools = json_object_get(p, "tools");
    if (json_array_size(tools) > 0)
        synth_set(record, "tools", synth_chat_text(tools));
    return synth_chat_emit_pair(host, ctx, p, record);
}

SYNTH_CHAT_PAIR_LIFECYCLE(dpo, host, "dpo", dpo_pair)

static const char *const record_fields[] = {"prompt", "chosen", "rejected",
                                            NULL};

static const synth_plugin dpo_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .flags = SYNTH_PLUGIN_SERIAL, /* schemas and score groups span sessions */
    .name = "dpo",
    .version = "1.0.0",
    .description = "preference pairs for TRL's DPOTrainer (conversational, "
                   "with tools): retries and rejected outputs",
    .options = dpo_options,
    .create = dpo_create,
    .destroy = dpo_destroy,
    .session = dpo_session,
    .flush = dpo_flush,
    .record_fields = record_fields,
    .save = dpo_save,
    .restore = dpo_restore,
};

SYNTH_PLUGIN_ENTRY(dpo_plugin, host)
