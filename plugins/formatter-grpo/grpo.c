/*
 * grpo -- Group Relative Policy Optimization data: the responses an agent
 * gave to the same prompt, scored, ranked and compared:
 *   {"prompt", "responses": [{"text", "score", "rank", "success", "model",
 *    "metadata": {"outputId", "timestamp"}}], "system", "context",
 *    "comparisons": [{"preferred", "rejected", "confidence"}]}
 *
 * Grouping: a prompt is a user input, normalised (case, white space,
 * trailing punctuation), so the same question asked in different sessions
 * lands in one group.  A turn contributes its final answer (success when
 * every action of the turn succeeded) and, with include_rejected, the
 * outputs core rejected (success false).  A group is written when it reaches
 * group_size; at the end of the input, or when more than max_pending
 * prompts wait (oldest first), it is written if it has min_group_size
 * responses and dropped otherwise (counted as grpo.groups_too_small).
 *
 * Scores: each response is scored as a `scorer_format` record
 * ({instruction, response, system, context}) by the scorers configured for
 * that format (host->score_as), halved for a failed response; without a
 * scorer, a built-in heuristic (success 0.5 + length up to 0.5).
 * Ranks follow the scores; each pair with different scores gives a
 * comparison with confidence 0.5 + (difference / 2).
 *
 * State spans sessions, so the plugin is SYNTH_PLUGIN_SERIAL.
 */
#include "synth_groups.h"
#include "synth_options.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdlib.h>

static const synth_host_api *host;

typedef struct {
    int enabled, include_rejected;
    long long group_size, min_group_size, max_pending;
    const char *system, *model, *scorer_format; /* borrowed options */
    synth_groups groups; /* owned: the groups waiting for members */
} grpo_state;

static const synth_option grpo_options[] = {
    {"preferences", SYNTH_OPT_BOOL, 0, "true",
     "capture switch: false writes no grpo records"},
    {"group_size", SYNTH_OPT_INT, 0, "4",
     "write a group as soon as it has this many responses"},
    {"min_group_size", SYNTH_OPT_INT, 0, "2",
     "smaller groups are dropped at the end"},
    {"max_pending", SYNTH_OPT_INT, 0, "2000",
     "prompts held at once; the oldest group goes out first"},
    {"include_rejected", SYNTH_OPT_BOOL, 0, "true",
     "rejected outputs join their group as failed responses"},
    {"system", SYNTH_OPT_STRING, 0, "You are a helpful AI assistant agent.",
     "system prompt of every record"},
    {"model", SYNTH_OPT_STRING, 0, "agent",
     "the model name written into responses (logs do not record it)"},
    {"scorer_format", SYNTH_OPT_STRING, 0, "instruction-tuning",
     "score responses with the scorers of this format"},
    {NULL, 0, 0, NULL, NULL}};

static const synth_option_field grpo_fields[] = {
    SYNTH_FIELD(grpo_state, enabled, "preferences"),
    SYNTH_FIELD(grpo_state, group_size, "group_size"),
    SYNTH_FIELD(grpo_state, min_group_size, "min_group_size"),
    SYNTH_FIELD(grpo_state, max_pending, "max_pending"),
    SYNTH_FIELD(grpo_state, include_rejected, "include_rejected"),
    SYNTH_FIELD(grpo_state, system, "system"),
    SYNTH_FIELD(grpo_state, model, "model"),
    SYNTH_FIELD(grpo_state, scorer_format, "scorer_format"),
    SYNTH_FIELD_END};

static void grpo_destroy(void *instance)
{
    grpo_state *st = instance;
    if (st == NULL)
        return;
    synth_groups_free(&st->groups);
    free(st);
}

static int grpo_create(synth_ctx *ctx, void **instance)
{
    grpo_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    int rc = synth_options_fill(host, ctx, grpo_options, grpo_fields, st);
    if (rc == SYNTH_OK && st->min_group_size < 2)
        rc = host->opt_error(ctx, "min_group_size", -1,
                             "must be at least 2 (a group compares)");
    if (rc == SYNTH_OK && st->group_size < st->min_group_size)
        rc = host->opt_error(ctx, "group_size", -1,
                             "must be at least min_group_size (%lld)",
                             st->min_group_size);
    if (rc == SYNTH_OK && st->max_pending < 1)
        rc = host->opt_error(ctx, "max_pending", -1, "must be at least 1");
    if (rc == SYNTH_OK &&
        synth_groups_init(&st->groups, "grpo", st->group_size,
                          st->min_group_size, st->max_pending) != SYNTH_OK)
        rc = host->error(ctx, SYNTH_ENOMEM, "out of memory");
    if (rc != SYNTH_OK) {
        grpo_destroy(st);
        return rc;
    }
    *instance = st;
    return SYNTH_OK;
}

/* A released group (borrowed) with its distinct responses ranked
 * (borrowed, best first): compared and emitted (synth_group_fn). */
static int emit_group(void *owner, synth_ctx *ctx, json_t *group,
                      json_t *ranked, size_t merged)
{
    const grpo_state *st = owner;
    size_t n = json_array_size(ranked);
    json_t *responses = json_array(), *comparisons = json_array();
    json_t *outputs = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_array_get(ranked, i);
        json_t *ts = json_object_get(r, "timestamp");
        json_array_append_new(
            responses,
            json_pack("{s:O, s:O, s:I, s:O, s:s, s:{s:O, s:O*}}", "text",
                      json_object_get(r, "text"), "score",
                      json_object_get(r, "score"), "rank", (json_int_t)i + 1,
                      "success", json_object_get(r, "success"), "model",
                      st->model, "metadata", "outputId",
                      json_object_get(r, "outputId"), "timestamp",
                      json_is_null(ts) ? NULL : ts));
        json_array_append(outputs, json_object_get(r, "outputId"));
        for (size_t j = i + 1; j < n; j++) {
            double d = json_real_value(json_object_get(r, "score")) -
                       json_real_value(json_object_get(
                           json_array_get(ranked, j), "score"));
            if (d > 0)
                json_array_append_new(
                    comparisons,
                    json_pack("{s:I, s:I, s:f}", "preferred", (json_int_t)i,
                              "rejected", (json_int_t)j, "confidence",
                              synth_round3(0.5 + d / 2)));
        }
    }
    return synth_emit_built(
        host, ctx,
        json_pack("{s:O, s:o, s:s, s:O, s:o}", "prompt",
                  json_object_get(group, "prompt"), "responses", responses,
                  "system", st->system, "context",
                  json_object_get(group, "context"), "comparisons",
                  comparisons),
        json_pack("{s:o, s:O, s:I}", "outputs", outputs, "sessions",
                  json_object_get(group, "sessions"), "merged",
                  (json_int_t)merged));
}

static int add_response(grpo_state *st, synth_ctx *ctx, json_t *session,
                        const char *prompt, json_t *output, int success)
{
    json_t *text = json_object_get(output, "text");
    if (synth_blank(json_string_value(text)))
        return SYNTH_OK;
    char context[512], *key;
    synth_context_line(session, context, sizeof context);
    json_t *group = synth_groups_find(&st->groups, host, ctx, prompt, context,
                                      &key, emit_group, st);
    if (group == NULL)
        return SYNTH_EPLUGIN; /* said through the host */
    json_t *r = json_object();
    synth_set_ref(r, "text", text);
    /* scored against the group's prompt, in this session's context */
    synth_set(r, "score",
              json_real(synth_groups_score(
                  host, ctx, st->scorer_format, st->system,
                  json_object_get(group, "prompt"), context, text, success)));
    synth_set(r, "success", json_boolean(success));
    synth_set_ref(r, "outputId", json_object_get(output, "id"));
    synth_set_ref(r, "timestamp", json_object_get(output, "timestamp"));
    int rc = synth_groups_add(&st->groups, host, ctx, key, r,
                              json_object_get(session, "id"), emit_group, st);
    free(key);
    return rc;
}

static int grpo_session(void *instance, synth_ctx *ctx, json_t *session)
{
    grpo_state *st = instance;
    if (!st->enabled)
        return SYNTH_OK;
    size_t i;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        const char *prompt = synth_turn_input_text(turn);
        if (prompt == NULL)
            continue;
        json_t *final = synth_turn_final_output(turn);
        int rc = SYNTH_OK;
        if (final)
            rc = add_response(st, ctx, session, prompt, final,
                              synth_turn_actions_ok(turn));
        size_t k;
        json_t *o;
        json_array_foreach(json_object_get(turn, "outputs"), k, o) {
            const char *s = synth_str(o, "status");
            if (rc == SYNTH_OK && st->include_rejected && s &&
                strcmp(s, "rejected") == 0)
                rc = add_response(st, ctx, session, prompt, o, 0);
        }
        if (rc != SYNTH_OK)
            return rc;
    }
    return SYNTH_OK;
}

static int grpo_flush(void *instance, synth_ctx *ctx)
{
    grpo_state *st = instance;
    return synth_groups_flush(&st->groups, host, ctx, emit_group, st);
}

/* The pending groups are the whole state between calls: saved with a live
 * checkpoint, so groups waiting for members survive a crash. */
static json_t *grpo_save(void *instance)
{
    return synth_groups_save(&((grpo_state *)instance)->groups);
}

static int grpo_restore(void *instance, synth_ctx *ctx, json_t *state)
{
    return synth_groups_restore(&((grpo_state *)instance)->groups, host, ctx,
                                state);
}

static const char *const record_fields[] = {"prompt", "responses", "system", "context",
                                          "comparisons", NULL};

static const synth_plugin grpo_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .flags = SYNTH_PLUGIN_SERIAL,
    .name = "grpo",
    .version = "1.0.0",
    .description = "preference groups: responses to the same prompt, "
                   "scored, ranked and compared",
    .options = grpo_options,
    .create = grpo_create,
    .destroy = grpo_destroy,
    .session = grpo_session,
    .flush = grpo_flush,
    .record_fields = record_fields,
    .save = grpo_save,
    .restore = grpo_restore,
};

SYNTH_PLUGIN_ENTRY(grpo_plugin, host)
