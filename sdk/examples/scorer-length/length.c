/*
 * length -- an out-of-tree scorer: rates a record by how much text it
 * carries.  Score = min(1, characters / target); records under `minimum`
 * characters get the issue "short_record", which halves the score.  It is
 * built on the SDK's optional helpers: synth_quality.h for the score that
 * issues multiply down, and through it synth_pii.h, so a record that
 * still holds personal data (what the redact plugin removes) gets
 * "pii_residual" from this scorer too.
 *
 *   plugins = { length = { target = 400; minimum = 20; }; };
 */
#include <synth_options.h>
#include <synth_plugin.h>
#include <synth_quality.h>

#include <stdlib.h>

static const synth_host_api *host;

static const synth_option length_options[] = {
    {"target", SYNTH_OPT_INT, 0, "400", "characters for a full score"},
    {"minimum", SYNTH_OPT_INT, 0, "20", "fewer characters: short_record"},
    {NULL, 0, 0, NULL, NULL}};

/* The instance: read-only after create, so record() may run on several
 * threads at once without a lock. */
typedef struct {
    long long target, minimum;
    synth_pii_matcher pii;  /* owned */
} length_opts;

/* where each option goes in length_opts (synth_options.h) */
static const synth_option_field length_fields[] = {
    SYNTH_FIELD(length_opts, target, "target"),
    SYNTH_FIELD(length_opts, minimum, "minimum"),
    SYNTH_FIELD_END};

static int length_create(synth_ctx *ctx, void **instance)
{
    length_opts *o = calloc(1, sizeof *o);
    if (o == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    int rc = synth_options_fill(host, ctx, length_options, length_fields, o);
    if (rc != SYNTH_OK) {
        free(o);
        return rc;
    }
    if (o->target <= 0) {
        free(o);
        return host->opt_error(ctx, "target", -1, "must be positive");
    }
    if (synth_pii_matcher_init(&o->pii) != 0) {
        free(o);
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    }
    *instance = o;
    return SYNTH_OK;
}

static void length_destroy(void *instance)
{
    length_opts *o = instance;
    if (o)
        synth_pii_matcher_free(&o->pii);
    free(o);
}

/* Characters (UTF-8 code points) in every string of a JSON value. */
static long long text_length(json_t *v)
{
    long long n = 0;
    if (json_is_string(v)) {
        for (const char *p = json_string_value(v); *p; p++)
            n += ((unsigned char)*p & 0xC0) != 0x80;
    } else if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) n += text_length(x);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) n += text_length(x);
    }
    return n;
}

static int length_record(void *instance, synth_ctx *ctx, json_t *record)
{
    const length_opts *o = instance;
    long long n = text_length(record);
    synth_q q;
    synth_q_init(&q, host, ctx);
    q.score = n >= o->target ? 1.0 : (double)n / o->target;
    if (n < o->minimum)
        synth_q_issue(&q, 0.5, "short_record", "%lld characters (minimum %lld)",
                      n, o->minimum);
    synth_q_pii(&q, &o->pii, record);
    return synth_q_finish(&q);
}

static const synth_plugin length_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_SCORER,
    .name = "length",
    .version = "1.0.0",
    .description = "scores a record by the amount of text it carries",
    .options = length_options,
    .create = length_create,
    .destroy = length_destroy,
    .record = length_record,
};

SYNTH_PLUGIN_ENTRY(length_plugin, host)
