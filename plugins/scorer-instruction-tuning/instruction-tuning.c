/*
 * scorer instruction-tuning -- rates {instruction, response, system,
 * context} records: an instruction of substance, a response that answers
 * (not empty, not too short, not a refusal, no error text, not an echo of
 * the instruction), no residual personal data, no exact duplicate.
 */
#include "synth_plugin.h"
#include "synth_quality.h"
#include "synth_session.h"

static const synth_host_api *host;

static const synth_option it_options[] = {SYNTH_Q_OPTIONS,
                                          {NULL, 0, 0, NULL, NULL}};
static const char *const it_formats[] = {"instruction-tuning", NULL};

SYNTH_Q_LIFECYCLE(it, host)

static int it_record(void *instance, synth_ctx *ctx, json_t *record)
{
    synth_q_base *b = instance;
    synth_q q;
    synth_q_init(&q, host, ctx);
    const char *instruction = synth_str(record, "instruction");
    const char *response = synth_str(record, "response");
    synth_q_text(&q, "instruction", instruction, NULL, 3, 0);
    if (synth_q_text(&q, "response", response, instruction,
                     (size_t)b->min_chars, 1))
        host->observe(ctx, "length.response", (double)synth_q_chars(response));
    if (synth_blank(synth_str(record, "system")))
        synth_q_issue(&q, 0.9, "empty_system", "no system prompt");
    synth_q_common(&q, b, record);
    return synth_q_finish(&q);
}

static const synth_plugin it_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_SCORER,
    .name = "score-instruction-tuning",
    .version = "1.0.0",
    .description = "quality of instruction/response pairs",
    .options = it_options,
    .formats = it_formats,
    .create = it_create,
    .destroy = it_destroy,
    .record = it_record,
};

SYNTH_PLUGIN_ENTRY(it_plugin, host)
