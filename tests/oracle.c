/* oracle.c -- the example log's facts from its raw lines (see oracle.h). */
#include "oracle.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/* The text of a final output's data (string, or {content|text}). */
static const char *output_text(json_t *log)
{
    json_t *d = json_object_get(log, "data");
    if (json_is_string(d))
        return json_string_value(d);
    json_t *c = json_object_get(d, "content");
    if (!json_is_string(c))
        c = json_object_get(d, "text");
    return json_string_value(c);
}

static const char *input_text(json_t *log)
{
    json_t *c = json_object_get(log, "content");
    if (json_is_object(c))
        c = json_object_get(c, "text");
    return json_string_value(c);
}

static void set_true(json_t *obj, const char *key)
{
    if (key)
        json_object_set_new(obj, key, json_true());
}

void oracle_build(oracle *o, const char *path)
{
    json_t *lines = tu_load_jsonl(path);
    if (lines == NULL)
        abort();
    o->runs = json_array();
    o->answered = json_array();
    o->finals = json_object();
    o->partials = json_object();
    o->contexts = json_object();
    o->calls = json_object();
    o->context_info = json_object();
    json_t *rejected = json_object(); /* ids named by error events */
    json_t *thought_final = json_object(); /* thought id -> final text */
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        json_t *log = json_object_get(l, "log");
        json_t *data = json_object_get(log, "data");
        const char *ref = json_string_value(json_object_get(log, "ref"));
        const char *target =
            json_string_value(json_object_get(json_object_get(data, "ref"), "id"));
        if (strcmp(ref, "event") == 0 && target)
            set_true(rejected, target);
        const char *id = json_string_value(json_object_get(log, "id"));
        int done = json_is_true(json_object_get(l, "done"));
        if (strcmp(ref, "thought") == 0 && done)
            json_object_set(thought_final, id, json_object_get(log, "content"));
        if (strcmp(ref, "action_result") == 0) {
            json_t *err = json_object_get(data, "error");
            json_object_set_new(
                o->calls,
                json_string_value(json_object_get(log, "callId")),
                json_pack("{s:O, s:b}", "name", json_object_get(log, "name"),
                          "ok", err == NULL));
        }
    }
    /* calls that failed by an error event never got a result */
    json_array_foreach(lines, i, l) {
        json_t *log = json_object_get(l, "log");
        const char *ref = json_string_value(json_object_get(log, "ref"));
        const char *id = json_string_value(json_object_get(log, "id"));
        if (strcmp(ref, "action_call") == 0 && !json_object_get(o->calls, id))
            json_object_set_new(o->calls, id,
                                json_pack("{s:O, s:b}", "name",
                                          json_object_get(log, "name"), "ok",
                                          0));
    }
    json_t *current = json_object(); /* context -> open run */
    json_t *seen = json_object();    /* element ids already placed */
    json_array_foreach(lines, i, l) {
        const char *ctx = json_string_value(json_object_get(l, "contextId"));
        json_t *log = json_object_get(l, "log");
        const char *ref = json_string_value(json_object_get(log, "ref"));
        const char *id = json_string_value(json_object_get(log, "id"));
        int done = json_is_true(json_object_get(l, "done"));
        json_t *ts = json_object_get(log, "timestamp");
        json_t *info = json_object_get(o->context_info, ctx);
        if (info == NULL) {
            info = json_pack("{s:O, s:O, s:O, s:b, s:[]}", "type",
                             json_object_get(l, "contextType"), "start", ts,
                             "end", ts, "failed", 0, "thoughts");
            json_object_set_new(o->context_info, ctx, info);
        }
        if (json_integer_value(ts) < json_integer_value(json_object_get(info, "start")))
            json_object_set(info, "start", ts);
        if (json_integer_value(ts) > json_integer_value(json_object_get(info, "end")))
            json_object_set(info, "end", ts);
        if (strcmp(ref, "run") == 0) {
            json_t *run = json_pack("{s:s, s:[], s:[], s:[]}", "context",
                                    ctx, "thoughts", "actions", "steps");
            json_array_append_new(o->runs, run);
            json_object_set(current, ctx, run);
            continue;
        }
        if ((strcmp(ref, "event") == 0 &&
             strcmp(json_string_value(json_object_get(log, "name")), "error") == 0) ||
            (strcmp(ref, "action_result") == 0 &&
             json_object_get(json_object_get(log, "data"), "error")))
            json_object_set(info, "failed", json_true());
        json_t *run = json_object_get(current, ctx);
        if (strcmp(ref, "output") == 0) {
            const char *c = json_string_value(json_object_get(log, "content"));
            if (!done)
                set_true(o->partials, c && *c ? c : NULL);
            else if (!json_object_get(rejected, id) && output_text(log)) {
                set_true(o->finals, output_text(log));
                if (run)
                    json_object_set_new(run, "output",
                                        json_string(output_text(log)));
            }
        }
        if (strcmp(ref, "thought") == 0) {
            const char *c = json_string_value(json_object_get(log, "content"));
            if (!done)
                set_true(o->partials, c && *c ? c : NULL);
            if (!json_object_get(seen, id) && run) {
                set_true(seen, id);
                json_t *final = json_object_get(thought_final, id);
                if (json_string_length(final) > 0) {
                    json_array_append(json_object_get(run, "thoughts"), final);
                    json_array_append_new(json_object_get(run, "steps"),
                                          json_pack("{s:O}", "thought", final));
                    json_array_append(json_object_get(info, "thoughts"), final);
                }
            }
        }
        if (strcmp(ref, "action_call") == 0 && !json_object_get(seen, id) &&
            run) {
            set_true(seen, id);
            json_array_append_new(json_object_get(run, "actions"),
                                  json_string(id));
            json_array_append_new(json_object_get(run, "steps"),
                                  json_pack("{s:O}", "call",
                                            json_object_get(log, "name")));
        }
        if (strcmp(ref, "input") == 0 && run)
            json_object_set_new(run, "input", json_string(input_text(log)));
    }
    json_t *run;
    json_array_foreach(o->runs, i, run) {
        if (json_object_get(run, "input") && json_object_get(run, "output")) {
            json_array_append(o->answered, run);
            set_true(o->contexts,
                     json_string_value(json_object_get(run, "context")));
        } else if (json_object_get(run, "input")) {
            json_object_set(json_object_get(o->context_info,
                                            json_string_value(json_object_get(
                                                run, "context"))),
                            "failed", json_true());
        }
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(run, "actions"), k, a) {
            if (!json_is_true(json_object_get(
                    json_object_get(o->calls, json_string_value(a)), "ok")))
                json_object_set(
                    json_object_get(o->context_info,
                                    json_string_value(json_object_get(
                                        run, "context"))),
                    "failed", json_true());
        }
    }
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(o->partials, tmp, k, v) {
        if (json_object_get(o->finals, k))
            json_object_del(o->partials, k);
    }
    /* a partial thought equal to some final thought is not superseded */
    json_object_foreach(thought_final, k, v) json_object_del(
        o->partials, json_string_value(v));
    json_decref(seen);
    json_decref(current);
    json_decref(thought_final);
    json_decref(rejected);
    json_decref(lines);
}

void oracle_free(oracle *o)
{
    json_decref(o->runs);
    json_decref(o->answered);
    json_decref(o->finals);
    json_decref(o->partials);
    json_decref(o->contexts);
    json_decref(o->calls);
    json_decref(o->context_info);
}

json_t *oracle_find_run(const oracle *o, const char *context,
                        const char *input, const char *output)
{
    size_t i;
    json_t *r;
    json_array_foreach(o->answered, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "context")), context) == 0 &&
            strcmp(json_string_value(json_object_get(r, "input")), input) == 0 &&
            strcmp(json_string_value(json_object_get(r, "output")), output) == 0)
            return r;
    }
    return NULL;
}

const char *oracle_context_of(const char *context_line)
{
    const char *id = context_line ? strstr(context_line, ", ID: ") : NULL;
    return id ? id + 6 : "";
}
