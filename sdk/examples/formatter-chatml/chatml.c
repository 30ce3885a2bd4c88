/*
 * chatml -- an out-of-tree formatter: each session's answered turns as one
 * ChatML document, {"text": "<|im_start|>system\n...<|im_end|>\n..."}, the
 * shape many pre-training and SFT scripts read as plain text.
 *
 * Build (needs only the installed SDK):  make
 * Use:  copy formatter-chatml.so into plugin_dir, add "chatml" to formats.
 */
#include <synth_plugin.h>
#include <synth_session.h>

#include <stdlib.h>
#include <string.h>

static const synth_host_api *host;

static const synth_option chatml_options[] = {
    {"system", SYNTH_OPT_STRING, 0, "You are a helpful assistant.",
     "system message opening every document (empty: none)"},
    {NULL, 0, 0, NULL, NULL}};

/* Append three strings (synth_buf is in synth_session.h). */
static int buf_add(synth_buf *b, const char *a, const char *c, const char *z)
{
    synth_buf_add(b, a, strlen(a));
    synth_buf_add(b, c, strlen(c));
    synth_buf_add(b, z, strlen(z));
    return b->oom ? SYNTH_ENOMEM : SYNTH_OK;
}

static int chatml_create(synth_ctx *ctx, void **instance)
{
    const char *system = NULL;
    int rc = host->opt_string(ctx, "system", &system);
    if (rc != SYNTH_OK)
        return host->error(ctx, rc, "cannot read option system");
    *instance = (void *)system; /* borrowed from the host until destroy */
    return SYNTH_OK;
}

static int chatml_session(void *instance, synth_ctx *ctx, json_t *session)
{
    const char *system = instance;
    synth_buf b = {NULL, 0, 0, 0};
    int rc = SYNTH_OK, turns = 0;
    if (*system)
        rc = buf_add(&b, "<|im_start|>system\n", system, "<|im_end|>\n");
    size_t i;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        const char *input = synth_turn_input_text(turn);
        json_t *output = synth_turn_final_output(turn);
        if (rc != SYNTH_OK || input == NULL || output == NULL)
            continue;
        rc = buf_add(&b, "<|im_start|>user\n", input, "<|im_end|>\n");
        if (rc == SYNTH_OK)
            rc = buf_add(&b, "<|im_start|>assistant\n",
                         synth_str(output, "text"), "<|im_end|>\n");
        turns++;
    }
    if (rc == SYNTH_OK && turns > 0)
        rc = synth_emit_built(host, ctx, json_pack("{s:s}", "text", b.s),
                              json_pack("{s:i}", "turns", turns));
    else if (rc != SYNTH_OK)
        rc = host->error(ctx, rc, "out of memory");
    free(b.s);
    return rc;
}

static const char *const record_fields[] = {"text", NULL};

static const synth_plugin chatml_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .name = "chatml",
    .version = "1.0.0",
    .description = "answered turns of a session as one ChatML document",
    .options = chatml_options,
    .create = chatml_create,
    .session = chatml_session,
    .record_fields = record_fields,
};

SYNTH_PLUGIN_ENTRY(chatml_plugin, host)
