/*
 * kto -- unpaired preference data for TRL's KTOTrainer, conversational:
 *   {"prompt": [messages], "completion": [one assistant message],
 *    "label": true|false, "tools": "<definitions as JSON text>"?}
 * Each preference pair (sdk/synth_chat.h: retries and rejected outputs)
 * gives two records: its chosen side labelled true, its rejected side
 * labelled false, on the same prompt -- so the labels come from whether
 * a call succeeded and whether the framework accepted an output.
 */
#include "synth_chat.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdlib.h>

static const synth_host_api *host;

static const synth_option kto_options[] = {SYNTH_CHAT_OPTIONS,
                                           SYNTH_CHAT_PAIR_OPTIONS,
                                           {NULL, 0, 0, NULL, NULL}};

/* One KTO record of pair p (borrowed): its prompt, side as the
 * completion, label. */
static int kto_emit(synth_chat_base *b, synth_ctx *ctx, json_t *p,
                    const char *side, int label)
{
    json_t *prompt = synth_chat_messages(json_array(), b->system,
                                         json_object_get(p, "prompt"), 0, 0);
    json_t *record = json_pack("{s:o, s:[o], s:b}", "prompt", prompt,
                               "completion",
                               synth_chat_hf(json_object_get(p, side)),
                               "label", label);
    json_t *tools = json_object_get(p, "tools");
    if (json_array_size(tools) > 0)
        synth_set(record, "tools", synth_chat_text(tools));
    return synth_chat_emit_pair(host, ctx, p, record);
}

/* A pair (borrowed) as two KTO records: chosen true, rejected false. */
static int kto_pair(synth_chat_base *b, synth_ctx *ctx, json_t *p)
{
    int rc = kto_emit(b, ctx, p, "chosen", 1);
    return rc == SYNTH_OK ? kto_emit(b, ctx, p, "rejected", 0) : rc;
}

SYNTH_CHAT_PAIR_LIFECYCLE(kto, host, "kto", kto_pair)

static const char *const record_fields[] = {"prompt", "completion", "label",
                                            NULL};

static const synth_plugin kto_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .flags = SYNTH_PLUGIN_SERIAL, /* schemas and score groups span sessions */
    .name = "kto",
    .version = "1.0.0",
    .description = "unpaired preference data for TRL's KTOTrainer: each "
                   "side of a pair labelled",
    .options = kto_options,
    .create = kto_create,
    .destroy = kto_destroy,
    .session = kto_session,
    .flush = kto_flush,
    .record_fields = record_fields,
    .save = kto_save,
    .restore = kto_restore,
};

SYNTH_PLUGIN_ENTRY(kto_plugin, host)
