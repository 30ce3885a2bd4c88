/*
 * testplug.c -- the plugin the loader tests load, built once per variant
 * (see the TEST_PLUGINS rules in the Makefile):
 *
 *   good.so          a formatter with one option of every type; each
 *                    session becomes one record echoing the option values
 *   abi-major.so     claims ABI 2.x           -> refused
 *   abi-newer.so     claims ABI 1.99          -> refused
 *   no-entry.so      exports no entry point   -> refused
 *   small-struct.so  struct_size ends before flush (whose pointer aborts):
 *                    loads, and flush is treated as absent
 *   too-small.so     struct_size 16           -> refused
 *   init-fails.so    synth_plugin_init fails  -> refused
 *   bad-default.so   an int option defaults to "many" -> refused
 *   bad-name.so      name "Bad Name"          -> refused
 */
#include "synth_plugin.h"

#include <stdlib.h>

#ifndef TP_NAME
#define TP_NAME "testplug"
#endif
#ifndef TP_ABI_MAJOR
#define TP_ABI_MAJOR SYNTH_ABI_MAJOR
#endif
#ifndef TP_ABI_MINOR
#define TP_ABI_MINOR SYNTH_ABI_MINOR
#endif
#ifndef TP_STRUCT_SIZE
#define TP_STRUCT_SIZE sizeof(synth_plugin)
#endif
#ifdef TP_BAD_DEFAULT
#define TP_COUNT_DEFAULT "many"
#else
#define TP_COUNT_DEFAULT "3"
#endif

static const synth_host_api *host;

static const synth_option tp_options[] = {
    {"flag", SYNTH_OPT_BOOL, 0, "false", "a bool"},
    {"count", SYNTH_OPT_INT, 0, TP_COUNT_DEFAULT, "an int"},
    {"ratio", SYNTH_OPT_FLOAT, 0, "0.5", "a float"},
    {"label", SYNTH_OPT_STRING, 0, "plain", "a string"},
    {"names", SYNTH_OPT_LIST, 0, "[\"a\"]", "a list"},
    {"shape", SYNTH_OPT_JSON, 0, NULL, "any value, no default"},
    {"reject", SYNTH_OPT_STRING, 0, NULL,
     "set to make create() fail through opt_error"},
    {"fail_every", SYNTH_OPT_INT, 0, "0",
     "session() fails on every N-th session (0: never)"},
    {NULL, 0, 0, NULL, NULL}};

typedef struct {
    json_t *echo; /* owned: the option values, copied into each record */
    long long fail_every, sessions;
} tp_state;

static int tp_create(synth_ctx *ctx, void **instance)
{
    const char *reject;
    if (host->opt_string(ctx, "reject", &reject) == SYNTH_OK)
        return host->opt_error(ctx, "reject", -1, "rejected: %s", reject);
    tp_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return SYNTH_ENOMEM;
    int flag = 0;
    long long count = 0;
    double ratio = 0;
    const char *label = NULL;
    json_t *names = NULL, *shape = NULL;
    if (host->opt_bool(ctx, "flag", &flag) != SYNTH_OK ||
        host->opt_int(ctx, "count", &count) != SYNTH_OK ||
        host->opt_float(ctx, "ratio", &ratio) != SYNTH_OK ||
        host->opt_string(ctx, "label", &label) != SYNTH_OK ||
        host->opt_json(ctx, "names", &names) != SYNTH_OK) {
        free(st);
        return host->error(ctx, SYNTH_EPLUGIN, "option getter failed");
    }
    host->opt_int(ctx, "fail_every", &st->fail_every);
    /* No default and unset: ENOTFOUND.  Wrong type: EINVAL. */
    int shape_rc = host->opt_json(ctx, "shape", &shape);
    int wrong_type = host->opt_int(ctx, "label", &count) == SYNTH_EINVAL;
    int unknown = host->opt_bool(ctx, "nope", &flag) == SYNTH_ENOTFOUND;
    st->echo = json_pack("{s:b, s:I, s:f, s:s, s:O, s:O?, s:b, s:b, s:i}",
                         "flag", flag, "count", (json_int_t)count, "ratio",
                         ratio, "label", label, "names", names, "shape",
                         shape_rc == SYNTH_OK ? shape : NULL, "wrong_type",
                         wrong_type, "unknown", unknown, "label_set",
                         host->opt_is_set(ctx, "label"));
    *instance = st;
    return SYNTH_OK;
}

static void tp_destroy(void *instance)
{
    tp_state *st = instance;
    if (st == NULL)
        return;
    json_decref(st->echo);
    free(st);
}

static int tp_session(void *instance, synth_ctx *ctx, json_t *session)
{
    tp_state *st = instance;
    if (st->fail_every > 0 && ++st->sessions % st->fail_every == 0)
        return host->error(ctx, SYNTH_EPLUGIN, "failing session %lld on "
                                               "purpose",
                           st->sessions);
    host->count(ctx, "testplug.sessions", 1);
    json_t *rec = json_deep_copy(st->echo);
    json_object_set(rec, "session", json_object_get(session, "id"));
    json_object_set_new(rec, "turns", json_integer((json_int_t)json_array_size(
                                          json_object_get(session, "turns"))));
    /* Calls outside their stage must be refused. */
    json_object_set_new(rec, "score_refused",
                        json_boolean(host->score(ctx, 0.5) == SYNTH_ESTATE));
    return host->emit(ctx, rec, NULL);
}

static int tp_flush(void *instance, synth_ctx *ctx)
{
    (void)instance;
    (void)ctx;
    /* small-struct.so declares a size that ends before this field: the
     * host must never call it. */
    if (TP_STRUCT_SIZE < sizeof(synth_plugin))
        abort();
    return SYNTH_OK;
}

static const synth_plugin tp_plugin = {
    (uint32_t)(TP_STRUCT_SIZE), TP_ABI_MAJOR, TP_ABI_MINOR,
    .kind = SYNTH_KIND_FORMATTER,
    .name = TP_NAME,
    .version = "9.9.9",
    .description = "test plugin",
    .options = tp_options,
    .create = tp_create,
    .destroy = tp_destroy,
    .session = tp_session,
    .flush = tp_flush,
#ifdef TP_DATASET_INFO
    .dataset_info = TP_DATASET_INFO,
#endif
};

#ifndef TP_NO_ENTRY
SYNTH_EXPORT int synth_plugin_init(const synth_host_api *h,
                                   const synth_plugin **out);
SYNTH_EXPORT int synth_plugin_init(const synth_host_api *h,
                                   const synth_plugin **out)
{
#ifdef TP_INIT_FAILS
    (void)h;
    (void)&tp_plugin;
    *out = NULL;
    return SYNTH_EPLUGIN;
#else
    host = h;
    *out = &tp_plugin;
    return SYNTH_OK;
#endif
}
#else
/* A visible symbol of another name, so the .so is otherwise valid. */
SYNTH_EXPORT int not_a_plugin(void);
SYNTH_EXPORT int not_a_plugin(void) { return tp_plugin.kind + (host != 0); }
#endif
