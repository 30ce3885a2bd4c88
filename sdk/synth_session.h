/*
 * synth_session.h -- header-only helpers for reading the session model
 * (described in synth_plugin.h).  Optional: everything here is plain
 * jansson on the documented fields, inlined into the plugin, so it adds
 * nothing to the ABI.
 */
#ifndef SYNTH_SESSION_H
#define SYNTH_SESSION_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "synth_plugin.h"

/* Return obj[key] as a C string (borrowed from obj), or NULL when absent
 * or not a string. */
static inline const char *synth_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- building records ------------------------------------------------
 *
 * json_pack checks every key and copies and checks every string it gets;
 * per record that was a tenth of a run's time (perf, make bench).  Keys
 * here are literals and the session's strings are valid UTF-8 already
 * (the host checked the log), so a record can share the session's values
 * and skip the checks: nothing downstream modifies either (session() and
 * record() must not, synth_plugin.h). */

/* obj[key] = v (stolen; NULL sets null), key an ASCII literal.  Returns
 * obj. */
static inline json_t *synth_set(json_t *obj, const char *key, json_t *v)
{
    json_object_set_new_nocheck(obj, key, v ? v : json_null());
    return obj;
}

/* obj[key] = v shared (borrowed: a new reference; NULL sets null). */
static inline json_t *synth_set_ref(json_t *obj, const char *key,
                                    json_t *v)
{
    return synth_set(obj, key, v ? json_incref(v) : NULL);
}

/* Return 1 when s is NULL or only white space. */
static inline int synth_blank(const char *s)
{
    if (s == NULL)
        return 1;
    for (; *s; s++)
        if (!strchr(" \t\r\n\v\f", *s))
            return 0;
    return 1;
}

/* Return the text of a turn's user input (borrowed), or NULL when the
 * turn has no input or its text is blank. */
static inline const char *synth_turn_input_text(const json_t *turn)
{
    const char *t = synth_str(json_object_get(turn, "input"), "text");
    return synth_blank(t) ? NULL : t;
}

/* Return the output that answers a turn: the last one whose status is
 * "final" and whose text is not blank (borrowed), or NULL. */
static inline json_t *synth_turn_final_output(const json_t *turn)
{
    json_t *outputs = json_object_get(turn, "outputs");
    for (size_t i = json_array_size(outputs); i > 0; i--) {
        json_t *o = json_array_get(outputs, i - 1);
        const char *status = synth_str(o, "status");
        if (status && strcmp(status, "final") == 0 &&
            !synth_blank(synth_str(o, "text")))
            return o;
    }
    return NULL;
}

/* Return 1 when an action succeeded (status "ok"), else 0. */
static inline int synth_action_ok(const json_t *action)
{
    const char *s = synth_str(action, "status");
    return s != NULL && strcmp(s, "ok") == 0;
}

/* Return 1 when every action of a turn succeeded (a final answer then
 * counts as a success: a rejected output the agent redid does not count
 * against it), else 0. */
static inline int synth_turn_actions_ok(const json_t *turn)
{
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(turn, "actions"), i, a) {
        if (!synth_action_ok(a))
            return 0;
    }
    return 1;
}

/* Return a new reference to what an action gave back: its result when it
 * succeeded, otherwise its error object, or {"name": "NoResult", ...}
 * when it never got a result or an error. */
static inline json_t *synth_action_outcome(const json_t *action)
{
    json_t *v = json_object_get(action, synth_action_ok(action) ? "result"
                                                                : "error");
    if (v != NULL && !json_is_null(v))
        return json_incref(v);
    if (synth_action_ok(action))
        return json_null();
    return json_pack("{s:s, s:s}", "name", "NoResult", "message",
                     "the action returned no result");
}

/* Return a new reference to the spec's action shape:
 * {name, arguments, result, timestamp, success}.  Arguments are the parsed
 * ones, else the raw text the model wrote.  "timestamp" is left out when
 * the session has none (removed by the timestamps privacy plugin). */
static inline json_t *synth_action_record(const json_t *action)
{
    json_t *args = json_object_get(action, "arguments");
    if (args == NULL || json_is_null(args))
        args = json_object_get(action, "content");
    json_t *ts = json_object_get(action, "timestamp");
    json_t *r = json_object();
    synth_set_ref(r, "name", json_object_get(action, "name"));
    synth_set_ref(r, "arguments", args);
    synth_set(r, "result", synth_action_outcome(action));
    if (ts != NULL && !json_is_null(ts))
        synth_set_ref(r, "timestamp", ts);
    synth_set(r, "success", json_boolean(synth_action_ok(action)));
    return r;
}

/* Return a new reference to the length of a session or turn in
 * milliseconds: its "duration" when a privacy plugin kept only that, else
 * end - start; NULL when unknown (no timestamps). */
static inline json_t *synth_duration(const json_t *span)
{
    json_t *d = json_object_get(span, "duration");
    if (json_is_integer(d))
        return json_incref(d);
    json_t *a = json_object_get(span, "start"), *b = json_object_get(span, "end");
    if (!json_is_integer(a) || !json_is_integer(b))
        return NULL;
    return json_integer(json_integer_value(b) - json_integer_value(a));
}

/* Return 1 when a turn went wrong anywhere: an action that failed or never
 * finished, a rejected output, an error event, or an input that got no
 * final answer.  Else 0. */
static inline int synth_turn_failed(const json_t *turn)
{
    if (!synth_turn_actions_ok(turn))
        return 1;
    size_t i;
    json_t *el;
    json_array_foreach(json_object_get(turn, "outputs"), i, el) {
        const char *s = synth_str(el, "status");
        if (s && strcmp(s, "rejected") == 0)
            return 1;
    }
    json_array_foreach(json_object_get(turn, "events"), i, el) {
        const char *n = synth_str(el, "name");
        if (n && strcmp(n, "error") == 0)
            return 1;
    }
    return synth_turn_input_text(turn) != NULL &&
           synth_turn_final_output(turn) == NULL;
}

/* Return a malloc'd compact JSON spelling of v (strings without quotes),
 * or NULL when out of memory.  The caller frees it. */
static inline char *synth_json_text(const json_t *v)
{
    if (json_is_string(v)) {
        size_t n = json_string_length(v);
        char *s = malloc(n + 1);
        if (s != NULL)
            memcpy(s, json_string_value(v), n + 1);
        return s;
    }
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Return the session's type and id as the spec's context line
 * "Context: <type>, ID: <id>" in buf (size n); returns buf. */
static inline char *synth_context_line(const json_t *session, char *buf,
                                       size_t n)
{
    const char *type = synth_str(session, "type");
    const char *id = synth_str(session, "id");
    snprintf(buf, n, "Context: %s, ID: %s", type ? type : "", id ? id : "");
    return buf;
}

/* A growable string for plugins that build text (always NUL-terminated
 * once anything was added).  A zeroed struct is empty; free s when done.
 * After an allocation failure `oom` is set and later adds do nothing. */
typedef struct synth_buf {
    char *s;
    size_t len, cap;
    int oom;
} synth_buf;

static inline void synth_buf_add(synth_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *p = realloc(b->s, cap);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* Emit a record built with json_pack (which returns NULL when out of
 * memory): record and lineage are stolen, as by host->emit().  Returns
 * SYNTH_OK, or the failure already described through host->error(). */
static inline int synth_emit_built(const synth_host_api *host, synth_ctx *ctx,
                                   json_t *record, json_t *lineage)
{
    if (record == NULL) {
        json_decref(lineage);
        return host->error(ctx, SYNTH_ENOMEM, "cannot build a record");
    }
    int rc = host->emit(ctx, record, lineage);
    return rc == SYNTH_OK ? SYNTH_OK
                          : host->error(ctx, rc, "emit failed: %s",
                                        synth_strerror(rc));
}

#endif
