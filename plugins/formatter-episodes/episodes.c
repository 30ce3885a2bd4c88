/*
 * episodes -- complete interaction episodes:
 *   {"episodeId", "observation", "thoughts", "actions", "result",
 *    "success", "duration"}
 *
 * An episode is a session (unit = "session", the default; a long session
 * split into parts gives "<id>#<part>") or a single turn (unit = "turn").
 * observation: the first user input; thoughts: every thought in order;
 * actions: every call as {name, arguments, result, timestamp, success};
 * result: the last final answer (null if none); success: every turn was
 * answered and nothing failed; duration: milliseconds from the episode's
 * first to its last event (left out when the log has no timestamps, or
 * they were removed without keep_durations).
 */
#include "synth_options.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdio.h>
#include <stdlib.h>

static const synth_host_api *host;

typedef struct {
    int enabled, reasoning, actions, per_turn;
    const char *unit; /* borrowed option */
} ep_state;

static const synth_option ep_options[] = {
    {"episodes", SYNTH_OPT_BOOL, 0, "true",
     "capture switch: false writes no episodes"},
    {"reasoning", SYNTH_OPT_BOOL, 0, "true",
     "capture switch: false leaves thoughts out"},
    {"actions", SYNTH_OPT_BOOL, 0, "true",
     "capture switch: false leaves actions out"},
    {"unit", SYNTH_OPT_STRING, 0, "session",
     "\"session\": one episode per session; \"turn\": one per turn"},
    {NULL, 0, 0, NULL, NULL}};

static const synth_option_field ep_fields[] = {
    SYNTH_FIELD(ep_state, enabled, "episodes"),
    SYNTH_FIELD(ep_state, reasoning, "reasoning"),
    SYNTH_FIELD(ep_state, actions, "actions"),
    SYNTH_FIELD(ep_state, unit, "unit"),
    SYNTH_FIELD_END};

static int ep_create(synth_ctx *ctx, void **instance)
{
    ep_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    int rc = synth_options_fill(host, ctx, ep_options, ep_fields, st);
    if (rc != SYNTH_OK) {
        free(st);
        return rc;
    }
    const char *unit = st->unit;
    if (strcmp(unit, "session") != 0 && strcmp(unit, "turn") != 0) {
        free(st);
        return host->opt_error(ctx, "unit", -1,
                               "\"%s\" is neither \"session\" nor \"turn\"",
                               unit);
    }
    st->per_turn = strcmp(unit, "turn") == 0;
    *instance = st;
    return SYNTH_OK;
}

static void ep_destroy(void *instance)
{
    free(instance);
}

/* An episode being assembled from one or more turns. */
typedef struct {
    json_t *observation;      /* borrowed: the first input's text */
    json_t *thoughts, *actions, *result; /* owned; result may be NULL */
    int success;
} episode;

static void episode_add_turn(const ep_state *st, episode *e, json_t *turn)
{
    if (e->observation == NULL && synth_turn_input_text(turn) != NULL)
        e->observation = json_object_get(json_object_get(turn, "input"), "text");
    size_t i;
    json_t *el;
    if (st->reasoning)
        json_array_foreach(json_object_get(turn, "thoughts"), i, el) {
            if (!synth_blank(synth_str(el, "text")))
                json_array_append(e->thoughts, json_object_get(el, "text"));
        }
    if (st->actions)
        json_array_foreach(json_object_get(turn, "actions"), i, el) {
            json_array_append_new(e->actions, synth_action_record(el));
        }
    json_t *out = synth_turn_final_output(turn);
    if (out) {
        json_decref(e->result);
        e->result = json_incref(json_object_get(out, "text"));
    }
    if (synth_turn_failed(turn))
        e->success = 0;
}

/* Emit episode e (its arrays are consumed) if it has an observation. */
static int episode_emit(synth_ctx *ctx, episode *e, const char *id,
                        const json_t *span, json_t *lineage)
{
    json_t *duration = synth_duration(span); /* NULL: unknown */
    int rc = SYNTH_OK;
    if (e->observation != NULL)
    {
        json_t *r = json_object();
        synth_set(r, "episodeId", json_string(id));
        synth_set_ref(r, "observation", e->observation);
        synth_set_ref(r, "thoughts", e->thoughts);
        synth_set_ref(r, "actions", e->actions);
        synth_set_ref(r, "result", e->result);
        synth_set(r, "success", json_boolean(e->success && e->result != NULL));
        if (duration)
            synth_set(r, "duration", duration);
        rc = synth_emit_built(host, ctx, r, lineage);
    } else {
        json_decref(duration);
        json_decref(lineage);
    }
    json_decref(e->thoughts);
    json_decref(e->actions);
    json_decref(e->result);
    return rc;
}

static episode episode_new(void)
{
    episode e = {NULL, json_array(), json_array(), NULL, 1};
    return e;
}

static int ep_session(void *instance, synth_ctx *ctx, json_t *session)
{
    const ep_state *st = instance;
    if (!st->enabled)
        return SYNTH_OK;
    const char *sid = synth_str(session, "id");
    json_t *turns = json_object_get(session, "turns");
    char id[512];
    size_t i;
    json_t *turn;
    if (st->per_turn) {
        json_array_foreach(turns, i, turn) {
            episode e = episode_new();
            episode_add_turn(st, &e, turn);
            const char *tid = synth_str(turn, "id");
            if (tid)
                snprintf(id, sizeof id, "%s", tid);
            else
                snprintf(id, sizeof id, "%s/%zu", sid ? sid : "", i);
            int rc = episode_emit(ctx, &e, id, turn,
                                  json_pack("{s:s?, s:O}", "session", sid,
                                            "turn", json_object_get(turn,
                                                                    "id")));
            if (rc != SYNTH_OK)
                return rc;
        }
        return SYNTH_OK;
    }
    episode e = episode_new();
    json_array_foreach(turns, i, turn) episode_add_turn(st, &e, turn);
    json_int_t part = json_integer_value(json_object_get(session, "part"));
    if (part > 0)
        snprintf(id, sizeof id, "%s#%lld", sid ? sid : "", (long long)part);
    else
        snprintf(id, sizeof id, "%s", sid ? sid : "");
    return episode_emit(ctx, &e, id, session,
                        json_pack("{s:s?, s:I}", "session", sid, "turns",
                                  (json_int_t)json_array_size(turns)));
}

static const char *const record_fields[] = {"episodeId", "observation", "thoughts", "actions",
                                          "result", "success", "duration", NULL};

static const synth_plugin ep_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .name = "episodes",
    .version = "1.0.0",
    .description = "complete episodes: observation, thoughts, actions, "
                   "result, success and duration",
    .options = ep_options,
    .create = ep_create,
    .destroy = ep_destroy,
    .session = ep_session,
    .record_fields = record_fields,
};

SYNTH_PLUGIN_ENTRY(ep_plugin, host)
