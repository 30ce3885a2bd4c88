/*
 * keywords -- an out-of-tree filter: keeps only sessions whose user inputs
 * mention at least one of the configured keywords (case-insensitive), for
 * example to build a dataset about refunds from a support agent's log.
 *
 *   filters = { keywords = ["refund", "return"]; };
 */
#define _DEFAULT_SOURCE /* strncasecmp */
#include <synth_plugin.h>
#include <synth_session.h>

#include <string.h>
#include <strings.h>

static const synth_host_api *host;

static const synth_option keyword_options[] = {
    {"keywords", SYNTH_OPT_LIST, SYNTH_OPT_REQUIRED, NULL,
     "keep sessions whose inputs contain one of these words"},
    {NULL, 0, 0, NULL, NULL}};

static int keywords_create(synth_ctx *ctx, void **instance)
{
    json_t *words;
    int rc = host->opt_json(ctx, "keywords", &words);
    if (rc != SYNTH_OK)
        return host->error(ctx, rc, "cannot read option keywords");
    if (json_array_size(words) == 0)
        return host->opt_error(ctx, "keywords", -1, "name at least one word");
    size_t i;
    json_t *w;
    json_array_foreach(words, i, w) {
        if (json_string_length(w) == 0)
            return host->opt_error(ctx, "keywords", (int)i, "empty keyword");
    }
    *instance = words; /* borrowed from the host until destroy */
    return SYNTH_OK;
}

static int mentions(const char *text, json_t *words)
{
    size_t i;
    json_t *w;
    json_array_foreach(words, i, w) {
        size_t n = json_string_length(w);
        for (const char *p = text; *p; p++)
            if (strncasecmp(p, json_string_value(w), n) == 0)
                return 1;
    }
    return 0;
}

static int keywords_session(void *instance, synth_ctx *ctx, json_t *session)
{
    size_t i;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        const char *input = synth_turn_input_text(turn);
        if (input && mentions(input, instance))
            return SYNTH_OK;
    }
    return host->drop(ctx, "no keyword in any input");
}

static const synth_plugin keywords_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FILTER,
    .name = "keywords",
    .version = "1.0.0",
    .description = "keep sessions whose user inputs mention a keyword",
    .options = keyword_options,
    .create = keywords_create,
    .session = keywords_session,
};

SYNTH_PLUGIN_ENTRY(keywords_plugin, host)
