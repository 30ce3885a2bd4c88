/*
 * scorer actions -- rates the records that list action calls: action-
 * sequences {situation, actions, outcome} and episodes {observation,
 * thoughts, actions, result, success, duration}.  Checks the situation and
 * the outcome (an answer: not empty, not a refusal, no error text), each
 * failed call (failed_action), arguments the model wrote that are not JSON
 * (truncated_json), a missing outcome (no_outcome), an episode that failed
 * (episode_failed); no residual personal data, no exact duplicate.
 *
 * Counts action usage for `synthhost analyze`: action.<name>.calls and
 * action.<name>.ok; observes "actions.per_record".
 */
#include "synth_plugin.h"
#include "synth_quality.h"
#include "synth_session.h"

static const synth_host_api *host;

static const synth_option act_options[] = {SYNTH_Q_OPTIONS,
                                           {NULL, 0, 0, NULL, NULL}};
static const char *const act_formats[] = {"action-sequences", "episodes",
                                          NULL};

SYNTH_Q_LIFECYCLE(act, host)

static void count_action(synth_ctx *ctx, const char *name, int ok)
{
    char key[160];
    snprintf(key, sizeof key, "action.%.120s.calls", name ? name : "?");
    host->count(ctx, key, 1);
    snprintf(key, sizeof key, "action.%.120s.ok", name ? name : "?");
    host->count(ctx, key, ok);
}

static int act_record(void *instance, synth_ctx *ctx, json_t *record)
{
    synth_q_base *b = instance;
    synth_q q;
    synth_q_init(&q, host, ctx);
    const char *format = host->record_format(ctx);
    int episode = format && strcmp(format, "episodes") == 0;
    const char *situation =
        synth_str(record, episode ? "observation" : "situation");
    json_t *outcome = json_object_get(record, episode ? "result" : "outcome");
    synth_q_text(&q, episode ? "observation" : "situation", situation, NULL, 3,
                 0);
    if (outcome == NULL || json_is_null(outcome))
        synth_q_issue(&q, 0.6, "no_outcome", "the agent never answered");
    else
        synth_q_text(&q, episode ? "result" : "outcome",
                     json_string_value(outcome), situation,
                     (size_t)b->min_chars, 1);
    json_t *actions = json_object_get(record, "actions");
    size_t i;
    json_t *a;
    if (json_array_size(actions) == 0 && !episode)
        synth_q_issue(&q, 0.5, "no_actions", "no action calls");
    json_array_foreach(actions, i, a) {
        int ok = json_is_true(json_object_get(a, "success"));
        count_action(ctx, synth_str(a, "name"), ok);
        if (!ok)
            synth_q_issue(&q, 0.8, "failed_action", "%s failed",
                          synth_str(a, "name") ? synth_str(a, "name") : "?");
        if (json_is_string(json_object_get(a, "arguments")))
            synth_q_issue(&q, 0.7, "truncated_json",
                          "arguments of %s are not valid JSON",
                          synth_str(a, "name") ? synth_str(a, "name") : "?");
    }
    if (episode && json_is_false(json_object_get(record, "success")))
        synth_q_issue(&q, 0.7, "episode_failed", "the episode failed");
    host->observe(ctx, "actions.per_record", (double)json_array_size(actions));
    synth_q_common(&q, b, record);
    return synth_q_finish(&q);
}

static const synth_plugin act_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_SCORER,
    .name = "score-actions",
    .version = "1.0.0",
    .description = "quality of action sequences and episodes",
    .options = act_options,
    .formats = act_formats,
    .create = act_create,
    .destroy = act_destroy,
    .record = act_record,
};

SYNTH_PLUGIN_ENTRY(act_plugin, host)
