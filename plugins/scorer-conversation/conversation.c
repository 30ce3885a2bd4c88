/*
 * scorer conversation -- rates {messages, summary} records: roles strictly
 * alternate user/assistant starting with the user, every message has
 * text, every assistant message answers the user message before it (the
 * answer checks of synth_q_text), more than one exchange is better than
 * one, no residual personal data, no exact duplicate.  Observes
 * "conversation.turns".
 */
#include "synth_plugin.h"
#include "synth_quality.h"
#include "synth_session.h"

static const synth_host_api *host;

static const synth_option conv_options[] = {SYNTH_Q_OPTIONS,
                                            {NULL, 0, 0, NULL, NULL}};
static const char *const conv_formats[] = {"conversation", NULL};

SYNTH_Q_LIFECYCLE(conv, host)

static int conv_record(void *instance, synth_ctx *ctx, json_t *record)
{
    synth_q_base *b = instance;
    synth_q q;
    synth_q_init(&q, host, ctx);
    json_t *messages = json_object_get(record, "messages");
    size_t n = json_array_size(messages), i;
    if (n == 0)
        synth_q_issue(&q, 0.1, "empty_messages", "no messages");
    json_t *m;
    const char *prompt = NULL;
    int alternation_ok = 1;
    json_array_foreach(messages, i, m) {
        const char *role = synth_str(m, "role");
        const char *want = i % 2 ? "assistant" : "user";
        if (role == NULL || strcmp(role, want) != 0)
            alternation_ok = 0;
        const char *text = synth_str(m, "content");
        if (i % 2 == 0) {
            synth_q_text(&q, "user_message", text, NULL, 1, 0);
            prompt = text;
        } else {
            synth_q_text(&q, "assistant_message", text, prompt,
                         (size_t)b->min_chars, 1);
        }
    }
    if (!alternation_ok || n % 2)
        synth_q_issue(&q, 0.5, "bad_alternation",
                      "messages do not alternate user/assistant in pairs");
    if (n == 2)
        synth_q_issue(&q, 0.9, "single_turn", "only one exchange");
    if (synth_blank(synth_str(record, "summary")))
        synth_q_issue(&q, 0.9, "empty_summary", "no summary");
    host->observe(ctx, "conversation.turns", (double)(n / 2));
    synth_q_common(&q, b, record);
    return synth_q_finish(&q);
}

static const synth_plugin conv_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_SCORER,
    .name = "score-conversation",
    .version = "1.0.0",
    .description = "quality of multi-turn conversations",
    .options = conv_options,
    .formats = conv_formats,
    .create = conv_create,
    .destroy = conv_destroy,
    .record = conv_record,
};

SYNTH_PLUGIN_ENTRY(conv_plugin, host)
