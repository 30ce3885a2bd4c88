/*
 * scorer reasoning-chains -- rates {problem, reasoning, conclusion}
 * records: a problem and a conclusion that answers it; enough steps (none:
 * no_steps, one: few_steps), at least one thought (no_thoughts); action
 * steps whose call failed (failed_action) or whose arguments are not JSON
 * (truncated_json: the model's text was cut or malformed); no residual
 * personal data, no exact duplicate.  Observes "reasoning.steps".
 */
#include "synth_plugin.h"
#include "synth_quality.h"
#include "synth_session.h"

static const synth_host_api *host;

static const synth_option rc_options[] = {SYNTH_Q_OPTIONS,
                                          {NULL, 0, 0, NULL, NULL}};
static const char *const rc_formats[] = {"reasoning-chains", NULL};

SYNTH_Q_LIFECYCLE(rc, host)

/* Do the arguments inside "name(...)" parse as JSON (or are they empty)? */
static int call_args_ok(const char *call)
{
    const char *open = strchr(call, '(');
    size_t n = strlen(call);
    if (open == NULL || n == 0 || call[n - 1] != ')')
        return 0;
    const char *args = open + 1;
    size_t len = (size_t)(call + n - 1 - args);
    if (len == 0)
        return 1;
    json_t *v = json_loadb(args, len, JSON_DECODE_ANY, NULL);
    int ok = v != NULL;
    json_decref(v);
    return ok;
}

static int rc_record(void *instance, synth_ctx *ctx, json_t *record)
{
    synth_q_base *b = instance;
    synth_q q;
    synth_q_init(&q, host, ctx);
    const char *problem = synth_str(record, "problem");
    synth_q_text(&q, "problem", problem, NULL, 3, 0);
    synth_q_text(&q, "conclusion", synth_str(record, "conclusion"), problem,
                 (size_t)b->min_chars, 1);
    json_t *steps = json_object_get(record, "reasoning");
    size_t n = json_array_size(steps), thoughts = 0, failed = 0, bad_args = 0;
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s) {
        const char *call = synth_str(s, "action");
        if (call == NULL) {
            thoughts += !synth_blank(synth_str(s, "thought"));
            continue;
        }
        const char *result = synth_str(s, "result");
        if (result && strncmp(result, "Error: ", 7) == 0)
            failed++;
        if (!call_args_ok(call))
            bad_args++;
    }
    if (n == 0)
        synth_q_issue(&q, 0.2, "no_steps", "no reasoning steps");
    else if (n == 1)
        synth_q_issue(&q, 0.8, "few_steps", "a single reasoning step");
    if (n > 0 && thoughts == 0)
        synth_q_issue(&q, 0.7, "no_thoughts", "actions without any thought");
    for (i = 0; i < failed; i++)
        synth_q_issue(&q, 0.85, "failed_action",
                      "an action in the chain failed");
    for (i = 0; i < bad_args; i++)
        synth_q_issue(&q, 0.7, "truncated_json",
                      "action arguments are not valid JSON");
    host->observe(ctx, "reasoning.steps", (double)n);
    synth_q_common(&q, b, record);
    return synth_q_finish(&q);
}

static const synth_plugin rc_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_SCORER,
    .name = "score-reasoning-chains",
    .version = "1.0.0",
    .description = "quality of reasoning chains",
    .options = rc_options,
    .formats = rc_formats,
    .create = rc_create,
    .destroy = rc_destroy,
    .record = rc_record,
};

SYNTH_PLUGIN_ENTRY(rc_plugin, host)
