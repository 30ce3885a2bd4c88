/*
 * scorer grpo -- rates preference groups: a prompt, at least two
 * responses (small_group), each an answer (the text checks), scores that
 * differ so there is something to learn (no_preference_signal), not all
 * failed (all_failed), not all the same text (identical_responses); no
 * residual personal data, no exact duplicate.
 */
#include "synth_plugin.h"
#include "synth_quality.h"
#include "synth_session.h"

static const synth_host_api *host;

static const synth_option grpo_options[] = {SYNTH_Q_OPTIONS,
                                            {NULL, 0, 0, NULL, NULL}};
static const char *const grpo_formats[] = {"grpo", NULL};

SYNTH_Q_LIFECYCLE(grpo, host)

static int grpo_record(void *instance, synth_ctx *ctx, json_t *record)
{
    synth_q_base *b = instance;
    synth_q q;
    synth_q_init(&q, host, ctx);
    const char *prompt = synth_str(record, "prompt");
    synth_q_text(&q, "prompt", prompt, NULL, 1, 0);
    json_t *responses = json_object_get(record, "responses");
    size_t n = json_array_size(responses), i, failed = 0, same_text = 1;
    double lo = 2, hi = -1;
    json_t *r;
    const char *first = synth_str(json_array_get(responses, 0), "text");
    json_array_foreach(responses, i, r) {
        const char *text = synth_str(r, "text");
        double s = json_number_value(json_object_get(r, "score"));
        lo = s < lo ? s : lo;
        hi = s > hi ? s : hi;
        failed += !json_is_true(json_object_get(r, "success"));
        if (!text || !first || strcmp(text, first) != 0)
            same_text = 0;
        if (json_is_true(json_object_get(r, "success")))
            synth_q_text(&q, "response", text, prompt, (size_t)b->min_chars, 1);
    }
    if (n < 2)
        synth_q_issue(&q, 0.3, "small_group", "%zu response(s): nothing to "
                                              "compare", n);
    else if (hi - lo < 1e-9 ||
             json_array_size(json_object_get(record, "comparisons")) == 0)
        synth_q_issue(&q, 0.5, "no_preference_signal",
                      "every response scored the same");
    if (n > 0 && failed == n)
        synth_q_issue(&q, 0.5, "all_failed", "no response succeeded");
    if (n > 1 && same_text)
        synth_q_issue(&q, 0.6, "identical_responses",
                      "every response has the same text");
    host->observe(ctx, "grpo.group_size", (double)n);
    synth_q_common(&q, b, record);
    return synth_q_finish(&q);
}

static const synth_plugin grpo_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_SCORER,
    .name = "score-grpo",
    .version = "1.0.0",
    .description = "quality of GRPO preference groups",
    .options = grpo_options,
    .formats = grpo_formats,
    .create = grpo_create,
    .destroy = grpo_destroy,
    .record = grpo_record,
};

SYNTH_PLUGIN_ENTRY(grpo_plugin, host)
