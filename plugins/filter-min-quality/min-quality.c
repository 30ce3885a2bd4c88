/*
 * min-quality -- drops records whose quality score (the mean of the
 * scorers that scored them) is below min_quality.  Records no scorer
 * scored are kept.
 *
 *   filters = { min_quality = 0.6; };
 */
#include "synth_plugin.h"

#include <stdlib.h>

static const synth_host_api *host;

static const synth_option mq_options[] = {
    {"min_quality", SYNTH_OPT_FLOAT, 0, "0",
     "drop records that scored below this (0..1)"},
    {NULL, 0, 0, NULL, NULL}};

static int mq_create(synth_ctx *ctx, void **instance)
{
    double *min = malloc(sizeof *min);
    if (min == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    if (host->opt_float(ctx, "min_quality", min) != SYNTH_OK) {
        free(min);
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read min_quality");
    }
    if (!(*min >= 0 && *min <= 1)) {
        free(min);
        return host->opt_error(ctx, "min_quality", -1,
                               "must be between 0 and 1");
    }
    *instance = min;
    return SYNTH_OK;
}

static void mq_destroy(void *instance)
{
    free(instance);
}

static int mq_record(void *instance, synth_ctx *ctx, json_t *record)
{
    (void)record;
    double score;
    if (host->record_score(ctx, &score) == SYNTH_OK &&
        score < *(const double *)instance)
        return host->drop(ctx, "score below min_quality");
    return SYNTH_OK;
}

static const synth_plugin mq_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FILTER,
    .name = "min-quality",
    .version = "1.0.0",
    .description = "drops records scored below min_quality",
    .options = mq_options,
    .create = mq_create,
    .destroy = mq_destroy,
    .record = mq_record,
};

SYNTH_PLUGIN_ENTRY(mq_plugin, host)
