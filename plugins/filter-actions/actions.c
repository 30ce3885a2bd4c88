/*
 * actions -- keeps what uses only the listed actions:
 *   - a session that calls none of them is dropped;
 *   - a record that shows an action not in the list is dropped: the
 *     "actions" of action-sequences and episodes, the "action" steps of
 *     reasoning-chains.  Records without actions pass.
 *
 *   filters = { actions = ["web_search", "calculate"]; };
 */
#include "synth_plugin.h"
#include "synth_session.h"

static const synth_host_api *host;

static const synth_option act_options[] = {
    {"actions", SYNTH_OPT_LIST, 0, "[]",
     "action names to keep; [] keeps everything"},
    {NULL, 0, 0, NULL, NULL}};

static int act_create(synth_ctx *ctx, void **instance)
{
    json_t *names;
    if (host->opt_json(ctx, "actions", &names) != SYNTH_OK)
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read option");
    *instance = names; /* borrowed until destroy */
    return SYNTH_OK;
}

/* Is the name (its first n bytes) in the list? */
static int listed(json_t *names, const char *name, size_t n)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v) {
        if (json_string_length(v) == n &&
            strncmp(json_string_value(v), name, n) == 0)
            return 1;
    }
    return 0;
}

static int act_session(void *instance, synth_ctx *ctx, json_t *session)
{
    json_t *names = instance;
    if (json_array_size(names) == 0)
        return SYNTH_OK;
    size_t i, k;
    json_t *turn, *a;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        json_array_foreach(json_object_get(turn, "actions"), k, a) {
            const char *n = synth_str(a, "name");
            if (n && listed(names, n, strlen(n)))
                return SYNTH_OK;
        }
    }
    return host->drop(ctx, "calls none of the listed actions");
}

static int act_record(void *instance, synth_ctx *ctx, json_t *record)
{
    json_t *names = instance;
    if (json_array_size(names) == 0)
        return SYNTH_OK;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(record, "actions"), i, a) {
        const char *n = synth_str(a, "name");
        if (n && !listed(names, n, strlen(n)))
            return host->drop(ctx, "shows an action not in the list");
    }
    json_array_foreach(json_object_get(record, "reasoning"), i, a) {
        const char *call = synth_str(a, "action"); /* name(args) */
        if (call && !listed(names, call, strcspn(call, "(")))
            return host->drop(ctx, "shows an action not in the list");
    }
    return SYNTH_OK;
}

static const synth_plugin act_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FILTER,
    .name = "actions",
    .version = "1.0.0",
    .description = "keeps sessions and records that use only the listed "
                   "actions",
    .options = act_options,
    .create = act_create,
    .session = act_session,
    .record = act_record,
};

SYNTH_PLUGIN_ENTRY(act_plugin, host)
