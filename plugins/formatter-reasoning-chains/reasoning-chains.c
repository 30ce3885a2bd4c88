/*
 * reasoning-chains -- one record per answered turn that reasoned:
 *   {"problem", "reasoning": [{"step", "thought"} | {"step", "action",
 *    "result"}], "conclusion"}
 *
 * Steps follow the order the agent produced them (the log's order, not its
 * timestamps): each thought, and each action call written as
 * name(<arguments as compact JSON>) with what it returned -- its result,
 * or "Error: <name>: <message>" when it failed.
 */
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdio.h>
#include <stdlib.h>

static const synth_host_api *host;

typedef struct {
    int reasoning, actions;
} rc_state;

static const synth_option rc_options[] = {
    {"reasoning", SYNTH_OPT_BOOL, 0, "true",
     "capture switch: false leaves thoughts out"},
    {"actions", SYNTH_OPT_BOOL, 0, "true",
     "capture switch: false leaves action calls out"},
    {NULL, 0, 0, NULL, NULL}};

static int rc_create(synth_ctx *ctx, void **instance)
{
    rc_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    if (host->opt_bool(ctx, "reasoning", &st->reasoning) != SYNTH_OK ||
        host->opt_bool(ctx, "actions", &st->actions) != SYNTH_OK) {
        free(st);
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read options");
    }
    *instance = st;
    return SYNTH_OK;
}

static void rc_destroy(void *instance)
{
    free(instance);
}

/* "Error: <name>: <message>" for a failed action, else its result as
 * text (the formatted text when the log has one). */
static json_t *result_text(const json_t *action)
{
    json_t *out = synth_action_outcome(action);
    json_t *r = NULL;
    if (synth_action_ok(action)) {
        const char *formatted = synth_str(action, "formatted");
        char *t = formatted ? NULL : synth_json_text(out);
        r = json_string(formatted ? formatted : t ? t : "");
        free(t);
    } else {
        const char *name = synth_str(out, "name");
        const char *msg = synth_str(out, "message");
        char *t = msg ? NULL : synth_json_text(out);
        size_t n = 32 + (name ? strlen(name) : 0) +
                   strlen(msg ? msg : t ? t : "");
        char *s = malloc(n);
        if (s) {
            snprintf(s, n, "Error: %s: %s", name ? name : "Error",
                     msg ? msg : t ? t : "");
            r = json_string_nocheck(s); /* made of valid UTF-8 */
        }
        free(s);
        free(t);
    }
    json_decref(out);
    return r;
}

/* name(<compact JSON arguments>) */
static json_t *call_text(const json_t *action)
{
    const char *name = synth_str(action, "name");
    json_t *args = json_object_get(action, "arguments");
    char *a = synth_json_text(args && !json_is_null(args)
                                  ? args
                                  : json_object_get(action, "content"));
    size_t n = (name ? strlen(name) : 1) + (a ? strlen(a) : 0) + 3;
    char *s = malloc(n);
    json_t *r = NULL;
    if (s) {
        snprintf(s, n, "%s(%s)", name ? name : "?",
                 a && strcmp(a, "null") != 0 ? a : "");
        r = json_string_nocheck(s); /* made of valid UTF-8 */
    }
    free(s);
    free(a);
    return r;
}

static json_int_t seq_of(const json_t *el)
{
    return el ? json_integer_value(json_object_get(el, "seq")) : 0;
}

/* Thoughts and actions merged in the order they appeared. */
static json_t *chain(const rc_state *st, const json_t *turn)
{
    json_t *thoughts = st->reasoning ? json_object_get(turn, "thoughts") : NULL;
    json_t *actions = st->actions ? json_object_get(turn, "actions") : NULL;
    json_t *steps = json_array();
    size_t ti = 0, ai = 0, nt = json_array_size(thoughts),
           na = json_array_size(actions);
    while (ti < nt || ai < na) {
        json_t *t = ti < nt ? json_array_get(thoughts, ti) : NULL;
        json_t *a = ai < na ? json_array_get(actions, ai) : NULL;
        json_int_t n = (json_int_t)json_array_size(steps) + 1;
        if (t && (a == NULL || seq_of(t) < seq_of(a))) {
            ti++;
            if (!synth_blank(synth_str(t, "text"))) {
                json_t *step = synth_set(json_object(), "step", json_integer(n));
                synth_set_ref(step, "thought", json_object_get(t, "text"));
                json_array_append_new(steps, step);
            }
        } else {
            ai++;
            json_t *step = synth_set(json_object(), "step", json_integer(n));
            synth_set(step, "action", call_text(a));
            synth_set(step, "result", result_text(a));
            json_array_append_new(steps, step);
        }
    }
    return steps;
}

static int rc_session(void *instance, synth_ctx *ctx, json_t *session)
{
    const rc_state *st = instance;
    size_t i;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        const char *problem = synth_turn_input_text(turn);
        json_t *output = synth_turn_final_output(turn);
        if (problem == NULL || output == NULL)
            continue;
        json_t *steps = chain(st, turn);
        if (json_array_size(steps) == 0) {
            json_decref(steps);
            continue;
        }
        json_t *record = json_object();
        synth_set_ref(record, "problem",
                      json_object_get(json_object_get(turn, "input"), "text"));
        synth_set(record, "reasoning", steps);
        synth_set_ref(record, "conclusion", json_object_get(output, "text"));
        json_t *lineage = json_object();
        synth_set_ref(lineage, "turn", json_object_get(turn, "id"));
        synth_set_ref(lineage, "output", json_object_get(output, "id"));
        int rc = synth_emit_built(host, ctx, record, lineage);
        if (rc != SYNTH_OK)
            return rc;
    }
    return SYNTH_OK;
}

static const char *const record_fields[] = {"problem", "reasoning", "conclusion", NULL};

static const synth_plugin rc_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .name = "reasoning-chains",
    .version = "1.0.0",
    .description = "step-by-step chains: thoughts and action calls with "
                   "their results, from a user's problem to the answer",
    .options = rc_options,
    .create = rc_create,
    .destroy = rc_destroy,
    .session = rc_session,
    .record_fields = record_fields,
};

SYNTH_PLUGIN_ENTRY(rc_plugin, host)
