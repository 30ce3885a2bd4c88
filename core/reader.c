/* reader.c -- Daydreams JSONL line -> core_event (see reader.h). */
#include "reader.h"
#include "alloc.h"
#include "jsonin.h"
#include "synth_plugin.h"
#include "text.h"

#include <string.h>

static const char *const ref_names[CORE_REF_COUNT] = {
    [CORE_REF_UNKNOWN] = "unknown",
    [CORE_REF_INPUT] = "input",
    [CORE_REF_OUTPUT] = "output",
    [CORE_REF_THOUGHT] = "thought",
    [CORE_REF_ACTION_CALL] = "action_call",
    [CORE_REF_ACTION_RESULT] = "action_result",
    [CORE_REF_EVENT] = "event",
    [CORE_REF_STEP] = "step",
    [CORE_REF_RUN] = "run",
};

const char *core_ref_name(core_ref ref)
{
    return ref < CORE_REF_COUNT ? ref_names[ref] : ref_names[0];
}

static core_ref ref_from_name(const char *s)
{
    for (int r = 1; r < CORE_REF_COUNT; r++)
        if (strcmp(s, ref_names[r]) == 0)
            return (core_ref)r;
    return CORE_REF_UNKNOWN;
}

static int event_fail(core_event *ev, core_strbuf *why, const char *msg)
{
    core_strbuf_puts(why, msg);
    core_event_clear(ev);
    return SYNTH_EINVAL;
}

static json_t *event_load(const char *line, size_t len, core_event *ev,
                          core_strbuf *why)
{
    core_json_error err;
    json_t *root = core_json_parse(line, len, &err);
    if (root == NULL && err.utf8) {
        /* Keep the line: replace the broken bytes and count the repair. */
        size_t fixed_len;
        char *fixed = core_utf8_repair(line, len, &fixed_len);
        root = core_json_parse(fixed, fixed_len, &err);
        core_free(fixed);
        ev->repaired = root != NULL;
    }
    if (root == NULL)
        core_strbuf_printf(why, "invalid JSON at column %zu: %s", err.column,
                           err.text);
    return root;
}

int core_event_parse(const char *line, size_t len, core_event *ev,
                     core_strbuf *why)
{
    memset(ev, 0, sizeof *ev);
    ev->bytes = len;
    ev->root = event_load(line, len, ev, why);
    if (ev->root == NULL)
        return SYNTH_EINVAL;
    if (!json_is_object(ev->root))
        return event_fail(ev, why, "line is not a JSON object");

    /* Envelope form has "log"; the bare form is the log itself. */
    json_t *log = json_object_get(ev->root, "log");
    json_t *outer = ev->root;
    if (log == NULL)
        log = ev->root;
    else if (!json_is_object(log))
        return event_fail(ev, why, "\"log\" is not an object");
    ev->log = log;

    json_t *cid = json_object_get(outer, "contextId");
    if (cid == NULL)
        cid = json_object_get(log, "contextId");
    if (!json_is_string(cid) || json_string_length(cid) == 0)
        return event_fail(ev, why, "missing \"contextId\"");
    ev->context_id = json_string_value(cid);

    json_t *ctype = json_object_get(outer, "contextType");
    if (ctype == NULL)
        ctype = json_object_get(log, "contextType");
    ev->context_type = json_is_string(ctype) ? json_string_value(ctype) : NULL;

    json_t *ref = json_object_get(log, "ref");
    if (!json_is_string(ref))
        return event_fail(ev, why, "missing \"ref\" in the log object");
    ev->ref_name = json_string_value(ref);
    ev->ref = ref_from_name(ev->ref_name);

    json_t *id = json_object_get(log, "id");
    ev->id = json_is_string(id) ? json_string_value(id) : NULL;
    if (ev->id == NULL && ev->ref != CORE_REF_STEP &&
        ev->ref != CORE_REF_UNKNOWN) {
        core_strbuf_printf(why, "\"%s\" log without \"id\"", ev->ref_name);
        core_event_clear(ev);
        return SYNTH_EINVAL;
    }
    if (ev->ref == CORE_REF_ACTION_RESULT &&
        !json_is_string(json_object_get(log, "callId")))
        return event_fail(ev, why, "missing \"callId\" in an action_result");

    json_t *done = json_object_get(outer, "done");
    if (done == NULL && outer != log)
        done = json_object_get(log, "done");
    ev->done = done == NULL ? 1 : json_is_true(done);
    return SYNTH_OK;
}

void core_event_clear(core_event *ev)
{
    if (ev == NULL)
        return;
    json_decref(ev->root);
    memset(ev, 0, sizeof *ev);
}
