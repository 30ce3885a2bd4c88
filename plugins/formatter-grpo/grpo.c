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
#include "synth_options.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>

static const synth_host_api *host;

typedef struct {
    int enabled, include_rejected;
    long long group_size, min_group_size, max_pending;
    const char *system, *model, *scorer_format; /* borrowed options */
    json_t *pending; /* owned: normalised prompt -> group, oldest first */
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
    json_decref(st->pending);
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
    if (rc != SYNTH_OK) {
        free(st);
        return rc;
    }
    st->pending = json_object();
    *instance = st;
    return SYNTH_OK;
}

/* Lower case, single spaces, no surrounding space or trailing ?!. */
static char *normalise(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1), *o = out;
    if (out == NULL)
        return NULL;
    int space = 0;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            space = o != out;
            continue;
        }
        if (space)
            *o++ = ' ';
        space = 0;
        *o++ = (char)tolower((unsigned char)*s);
    }
    while (o > out && strchr("?!.", o[-1]))
        o--;
    *o = '\0';
    return out;
}

static double round3(double x)
{
    return floor(x * 1000.0 + 0.5) / 1000.0;
}

/* The score of one response (see the header comment). */
static double score_response(const grpo_state *st, synth_ctx *ctx,
                             json_t *prompt, json_t *context, json_t *text,
                             int success)
{
    /* the candidate shares the group's and the session's strings */
    json_t *candidate = json_object();
    synth_set_ref(candidate, "instruction", prompt);
    synth_set_ref(candidate, "response", text);
    synth_set(candidate, "system", json_string(st->system));
    synth_set_ref(candidate, "context", context);
    double s;
    int rc = host->score_as(ctx, st->scorer_format, candidate, &s);
    json_decref(candidate);
    if (rc != SYNTH_OK) {
        size_t chars = 0;
        for (const char *p = json_string_value(text); *p; p++)
            chars += ((unsigned char)*p & 0xC0) != 0x80;
        s = (success ? 0.5 : 0.0) + 0.5 * (chars >= 400 ? 1.0 : chars / 400.0);
    } else if (!success) {
        s *= 0.5;
    }
    return round3(s);
}

static int by_score(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    double sx = json_real_value(json_object_get(x, "score"));
    double sy = json_real_value(json_object_get(y, "score"));
    if (sx != sy)
        return sx < sy ? 1 : -1;
    /* equal scores keep arrival order */
    return (int)(json_integer_value(json_object_get(x, "n")) -
                 json_integer_value(json_object_get(y, "n")));
}

/* Rank, compare and emit a group (borrowed). */
static int emit_group(const grpo_state *st, synth_ctx *ctx, json_t *group)
{
    json_t *list = json_object_get(group, "responses");
    size_t n = json_array_size(list);
    json_t **v = malloc(n * sizeof *v);
    if (v == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(list, i);
    qsort(v, n, sizeof *v, by_score);
    /* the same text twice teaches nothing: keep it once (the best scored,
     * the first of equals), count the rest */
    size_t distinct = 0, merged = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < distinct && !seen; j++)
            seen = json_equal(json_object_get(v[j], "text"),
                              json_object_get(v[i], "text"));
        if (seen)
            merged++;
        else
            v[distinct++] = v[i];
    }
    if ((long long)distinct < st->min_group_size) {
        host->count(ctx, "grpo.groups_too_few_distinct", 1);
        free(v);
        return SYNTH_OK;
    }
    if (merged)
        host->count(ctx, "grpo.responses_merged", (long long)merged);
    n = distinct;
    json_t *responses = json_array(), *comparisons = json_array();
    json_t *outputs = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *r = v[i];
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
                       json_real_value(json_object_get(v[j], "score"));
            if (d > 0)
                json_array_append_new(
                    comparisons,
                    json_pack("{s:I, s:I, s:f}", "preferred", (json_int_t)i,
                              "rejected", (json_int_t)j, "confidence",
                              round3(0.5 + d / 2)));
        }
    }
    free(v);
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

/* Write (or drop, when too small) the group under key and forget it. */
static int release(grpo_state *st, synth_ctx *ctx, const char *key)
{
    json_t *group = json_incref(json_object_get(st->pending, key));
    json_object_del(st->pending, key);
    int rc = SYNTH_OK;
    if ((long long)json_array_size(json_object_get(group, "responses")) >=
        st->min_group_size)
        rc = emit_group(st, ctx, group);
    else
        host->count(ctx, "grpo.groups_too_small", 1);
    json_decref(group);
    return rc;
}

static int add_response(grpo_state *st, synth_ctx *ctx, json_t *session,
                        const char *prompt, json_t *output, int success)
{
    const char *text = synth_str(output, "text");
    if (synth_blank(text))
        return SYNTH_OK;
    char *key = normalise(prompt);
    if (key == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    json_t *group = json_object_get(st->pending, key);
    char context[512];
    synth_context_line(session, context, sizeof context);
    if (group == NULL) {
        if ((long long)json_object_size(st->pending) >= st->max_pending) {
            void *it = json_object_iter(st->pending); /* the oldest */
            char *oldest = strdup(json_object_iter_key(it));
            int rc = oldest ? release(st, ctx, oldest) : SYNTH_ENOMEM;
            free(oldest);
            if (rc != SYNTH_OK) {
                free(key);
                return rc;
            }
        }
        group = json_pack("{s:s, s:s, s:[], s:[]}", "prompt", prompt,
                          "context", context, "responses", "sessions");
        json_object_set_new(st->pending, key, group);
    }
    json_t *list = json_object_get(group, "responses");
    json_t *text_v = json_object_get(output, "text");
    json_t *here = json_string(context); /* this session's, not the group's */
    json_t *r = json_object();
    synth_set_ref(r, "text", text_v);
    synth_set(r, "score",
              json_real(score_response(st, ctx, json_object_get(group, "prompt"),
                                       here, text_v, success)));
    json_decref(here);
    synth_set(r, "success", json_boolean(success));
    synth_set_ref(r, "outputId", json_object_get(output, "id"));
    synth_set_ref(r, "timestamp", json_object_get(output, "timestamp"));
    synth_set(r, "n", json_integer((json_int_t)json_array_size(list)));
    json_array_append_new(list, r);
    json_array_append(json_object_get(group, "sessions"),
                      json_object_get(session, "id"));
    int rc = SYNTH_OK;
    if ((long long)json_array_size(list) >= st->group_size)
        rc = release(st, ctx, key);
    free(key);
    return rc;
}

/* A final answer succeeded when every action of its turn did (a rejected
 * output that the agent then redid does not count against it). */
static int actions_ok(const json_t *turn)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(turn, "actions"), i, a) {
        if (!synth_action_ok(a))
            return 0;
    }
    return 1;
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
                              actions_ok(turn));
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
    while (json_object_size(st->pending) > 0) {
        char *key = strdup(json_object_iter_key(json_object_iter(st->pending)));
        int rc = key ? release(st, ctx, key)
                     : host->error(ctx, SYNTH_ENOMEM, "out of memory");
        free(key);
        if (rc != SYNTH_OK)
            return rc;
    }
    return SYNTH_OK;
}

/* The pending groups are the whole state between calls: saved with a live
 * checkpoint, so groups waiting for members survive a crash. */
static json_t *grpo_save(void *instance)
{
    grpo_state *st = instance;
    return json_object_size(st->pending) ? json_deep_copy(st->pending) : NULL;
}

static int grpo_restore(void *instance, synth_ctx *ctx, json_t *state)
{
    grpo_state *st = instance;
    const char *key;
    json_t *group;
    if (!json_is_object(state))
        return host->error(ctx, SYNTH_EINVAL, "saved state is not an object");
    json_object_foreach(state, key, group)
        if (!json_is_array(json_object_get(group, "responses")))
            return host->error(ctx, SYNTH_EINVAL,
                               "saved group \"%s\" has no responses", key);
    json_t *copy = json_deep_copy(state); /* key order: oldest first */
    if (copy == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    json_decref(st->pending);
    st->pending = copy;
    return SYNTH_OK;
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
