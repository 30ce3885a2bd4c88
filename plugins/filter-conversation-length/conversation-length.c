/*
 * conversation-length -- keeps sessions whose length, in answered turns
 * (a user input with a final answer), lies within
 * [min_conversation_length, max_conversation_length].
 *
 *   filters = { min_conversation_length = 2; max_conversation_length = 20; };
 */
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdio.h>
#include <stdlib.h>

static const synth_host_api *host;

typedef struct {
    long long min, max;
} len_state;

static const synth_option len_options[] = {
    {"min_conversation_length", SYNTH_OPT_INT, 0, "0",
     "drop sessions with fewer answered turns"},
    {"max_conversation_length", SYNTH_OPT_INT, 0, "0",
     "drop sessions with more answered turns (0: no limit)"},
    {NULL, 0, 0, NULL, NULL}};

static int len_create(synth_ctx *ctx, void **instance)
{
    len_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    int rc = SYNTH_OK;
    if (host->opt_int(ctx, "min_conversation_length", &st->min) != SYNTH_OK ||
        host->opt_int(ctx, "max_conversation_length", &st->max) != SYNTH_OK)
        rc = host->error(ctx, SYNTH_EPLUGIN, "cannot read options");
    else if (st->min < 0)
        rc = host->opt_error(ctx, "min_conversation_length", -1,
                             "must not be negative");
    else if (st->max < 0 || (st->max > 0 && st->max < st->min))
        rc = host->opt_error(ctx, "max_conversation_length", -1,
                             "must be 0 (no limit) or at least "
                             "min_conversation_length (%lld)",
                             st->min);
    if (rc != SYNTH_OK) {
        free(st);
        return rc;
    }
    *instance = st;
    return SYNTH_OK;
}

static void len_destroy(void *instance)
{
    free(instance);
}

static int len_session(void *instance, synth_ctx *ctx, json_t *session)
{
    const len_state *st = instance;
    long long n = 0;
    size_t i;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        n += synth_turn_input_text(turn) && synth_turn_final_output(turn);
    }
    if (n < st->min)
        return host->drop(ctx, "shorter than min_conversation_length");
    if (st->max > 0 && n > st->max)
        return host->drop(ctx, "longer than max_conversation_length");
    return SYNTH_OK;
}

static const synth_plugin len_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FILTER,
    .name = "conversation-length",
    .version = "1.0.0",
    .description = "keeps sessions with a number of answered turns in range",
    .options = len_options,
    .create = len_create,
    .destroy = len_destroy,
    .session = len_session,
};

SYNTH_PLUGIN_ENTRY(len_plugin, host)
