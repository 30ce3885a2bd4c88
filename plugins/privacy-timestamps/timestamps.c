/*
 * timestamps -- with remove_timestamps = true, no timestamp reaches a
 * record: the "timestamp" and "result_timestamp" of every element (and any
 * "timestamp" field inside action arguments, results and event data), and
 * the "start"/"end" of sessions and turns are deleted from the session, so
 * formatters leave those fields out (actions' timestamp, GRPO metadata's
 * timestamp, episodes' duration).
 *
 * keep_durations = true first stores each session's and turn's length in
 * milliseconds as "duration", so episodes keep a duration without anybody
 * learning when they happened.
 *
 *   privacy = { remove_timestamps = true; keep_durations = false; };
 */
#include "synth_options.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdlib.h>

static const synth_host_api *host;

typedef struct {
    int enabled, keep_durations;
} ts_state;

static const synth_option ts_options[] = {
    {"remove_timestamps", SYNTH_OPT_BOOL, 0, "false",
     "delete every timestamp before the formatters run"},
    {"keep_durations", SYNTH_OPT_BOOL, 0, "false",
     "keep session and turn durations (milliseconds) all the same"},
    {NULL, 0, 0, NULL, NULL}};

static const synth_option_field ts_fields[] = {
    SYNTH_FIELD(ts_state, enabled, "remove_timestamps"),
    SYNTH_FIELD(ts_state, keep_durations, "keep_durations"),
    SYNTH_FIELD_END};

static int ts_create(synth_ctx *ctx, void **instance)
{
    ts_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    int rc = synth_options_fill(host, ctx, ts_options, ts_fields, st);
    if (rc != SYNTH_OK) {
        free(st);
        return rc;
    }
    *instance = st;
    return SYNTH_OK;
}

static void ts_destroy(void *instance)
{
    free(instance);
}

/* Delete the "timestamp" fields of v at any depth; returns how many. */
static long long strip(json_t *v)
{
    long long n = 0;
    size_t i;
    const char *k;
    json_t *x;
    void *tmp;
    if (json_is_array(v))
        json_array_foreach(v, i, x) n += strip(x);
    if (json_is_object(v)) {
        json_object_foreach_safe(v, tmp, k, x) {
            if (strcmp(k, "timestamp") == 0 ||
                strcmp(k, "result_timestamp") == 0) {
                json_object_del(v, k);
                n++;
            } else {
                n += strip(x);
            }
        }
    }
    return n;
}

/* Replace start/end of a session or turn by its duration, or by nothing. */
static void span(json_t *obj, int keep_duration)
{
    json_t *a = json_object_get(obj, "start"), *b = json_object_get(obj, "end");
    if (keep_duration && json_is_integer(a) && json_is_integer(b))
        json_object_set_new(obj, "duration",
                            json_integer(json_integer_value(b) -
                                         json_integer_value(a)));
    json_object_del(obj, "start");
    json_object_del(obj, "end");
}

static int ts_session(void *instance, synth_ctx *ctx, json_t *session)
{
    const ts_state *st = instance;
    if (!st->enabled)
        return SYNTH_OK;
    span(session, st->keep_durations);
    size_t i;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        span(turn, st->keep_durations);
    }
    host->count(ctx, "timestamps.removed", strip(session));
    return SYNTH_OK;
}

static const synth_plugin ts_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_PRIVACY,
    .flags = SYNTH_PLUGIN_LAST, /* see SYNTH_PLUGIN_FIRST in synth_plugin.h */
    .name = "timestamps",
    .version = "1.0.0",
    .description = "removes every timestamp (optionally keeping durations)",
    .options = ts_options,
    .create = ts_create,
    .destroy = ts_destroy,
    .session = ts_session,
};

SYNTH_PLUGIN_ENTRY(ts_plugin, host)
