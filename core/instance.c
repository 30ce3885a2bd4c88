/* instance.c -- plugin instances: creating them from the config,
 * calling them, and what they call back (see instance.h). */
#include "instance.h"
#include "alloc.h"
#include "log.h"
#include "options.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- metrics and stages -------------------------------------------------- */

void core_metrics_init(core_metrics *c)
{
    pthread_mutex_init(&c->lock, NULL);
    c->values = json_object();
    c->dists = core_map_new();
}

void core_metrics_free(core_metrics *c)
{
    if (c == NULL)
        return;
    json_decref(c->values);
    c->values = NULL;
    core_map_free(c->dists, core_free);
    c->dists = NULL;
    pthread_mutex_destroy(&c->lock);
}

void core_metrics_note(const core_metrics *m)
{
    /* grouped by their first dotted part: "redacted: email 48, phone 38" */
    json_t *groups = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(m->values, k, v) {
        const char *dot = strchr(k, '.');
        char *group = dot ? core_strndup(k, (size_t)(dot - k)) : core_strdup(k);
        json_t *line = json_object_get(groups, group);
        if (line == NULL) {
            line = json_string("");
            json_object_set_new(groups, group, line);
        }
        core_strbuf b = {0};
        core_strbuf_printf(&b, "%s%s%s %lld", json_string_value(line),
                           json_string_length(line) ? ", " : "",
                           dot ? dot + 1 : "", (long long)json_integer_value(v));
        json_string_set(line, b.data);
        core_strbuf_free(&b);
        core_free(group);
    }
    json_object_foreach(groups, k, v) core_note("%s: %s", k, json_string_value(v));
    json_decref(groups);
}

void core_stage_add(core_stage *s, core_instance *inst)
{
    s->v = core_realloc(s->v, (s->n + 1) * sizeof *s->v);
    s->v[s->n++] = inst;
}

void core_stage_free(core_stage *s)
{
    for (size_t i = 0; i < s->n; i++)
        core_instance_free(s->v[i]);
    core_free(s->v);
    memset(s, 0, sizeof *s);
}

/* 0 for SYNTH_PLUGIN_FIRST, 2 for SYNTH_PLUGIN_LAST, else 1. */
static int rank(const core_instance *inst)
{
    unsigned f = inst->plugin->desc.flags;
    return (f & SYNTH_PLUGIN_FIRST) ? 0 : (f & SYNTH_PLUGIN_LAST) ? 2 : 1;
}

/* A stable insertion sort: stages hold a handful of plugins. */
void core_stage_order(core_stage *s)
{
    for (size_t i = 1; i < s->n; i++)
        for (size_t j = i; j > 0 && rank(s->v[j - 1]) > rank(s->v[j]); j--) {
            core_instance *t = s->v[j];
            s->v[j] = s->v[j - 1];
            s->v[j - 1] = t;
        }
}

/* ---- instances ----------------------------------------------------------- */

void core_ctx_init(synth_ctx *ctx, core_instance *inst, int call)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->inst = inst;
    ctx->call = call;
}

void core_record_clear(core_record *rec)
{
    if (rec == NULL)
        return;
    json_decref(rec->json);
    json_decref(rec->lineage);
    json_decref(rec->issues);
    memset(rec, 0, sizeof *rec);
}

void core_ctx_release(synth_ctx *ctx)
{
    core_strbuf_free(&ctx->error);
    core_free(ctx->drop_reason);
    for (size_t i = 0; i < ctx->nrecords; i++)
        core_record_clear(&ctx->records[i]);
    core_free(ctx->records);
    json_decref(ctx->skips);
    memset(ctx, 0, sizeof *ctx);
}

int core_instance_new(const core_plugin *p, core_config *cfg,
                      core_metrics *counters, core_instance **out)
{
    const synth_plugin *d = &p->desc;
    core_instance *inst = core_calloc(1, sizeof *inst);
    inst->plugin = p;
    inst->config = cfg;
    inst->counters = counters;
    pthread_mutex_init(&inst->lock, NULL);
    int before = cfg->errors;
    if (core_options_bind(inst) != SYNTH_OK) {
        core_instance_free(inst);
        return SYNTH_ECONFIG;
    }
    config_setting_t *g = core_options_group(cfg, d->name);
    if (d->create) {
        synth_ctx ctx;
        core_ctx_init(&ctx, inst, CORE_CALL_CREATE);
        int rc = d->create(&ctx, &inst->state);
        if (rc < 0) {
            /* opt_error() already reported a config error with a line. */
            if (cfg->errors == before)
                core_config_error(cfg, g, "plugin \"%s\" cannot start: %s",
                                  d->name,
                                  ctx.error.len ? core_strbuf_str(&ctx.error)
                                                : synth_strerror(rc));
            core_ctx_release(&ctx);
            inst->state = NULL;
            core_instance_free(inst);
            return SYNTH_ECONFIG;
        }
        core_ctx_release(&ctx);
    }
    *out = inst;
    return SYNTH_OK;
}

void core_instance_free(core_instance *inst)
{
    if (inst == NULL)
        return;
    if (inst->plugin->desc.destroy)
        inst->plugin->desc.destroy(inst->state);
    json_decref(inst->values);
    core_free(inst->set);
    pthread_mutex_destroy(&inst->lock);
    core_free(inst);
}

int core_instance_call(core_instance *inst, synth_ctx *ctx, json_t *arg)
{
    const synth_plugin *d = &inst->plugin->desc;
    int serial = (d->flags & SYNTH_PLUGIN_SERIAL) != 0;
    int rc = SYNTH_OK;
    const char *what = "session";
    if (serial)
        pthread_mutex_lock(&inst->lock);
    switch (ctx->call) {
    case CORE_CALL_SESSION:
        if (d->session)
            rc = d->session(inst->state, ctx, arg);
        break;
    case CORE_CALL_RECORD:
        what = "record";
        if (d->record)
            rc = d->record(inst->state, ctx, arg);
        break;
    case CORE_CALL_FLUSH:
        what = "flush";
        if (d->flush)
            rc = d->flush(inst->state, ctx);
        break;
    case CORE_CALL_RESTORE:
        what = "restore";
        if (d->restore)
            rc = d->restore(inst->state, ctx, arg);
        break;
    default:
        break;
    }
    if (rc < 0 && inst->errors++ < 10)
        core_error("plugin %s: %s failed: %s", d->name, what,
                   ctx->error.len ? core_strbuf_str(&ctx->error)
                                  : synth_strerror(rc));
    if (serial)
        pthread_mutex_unlock(&inst->lock);
    return rc;
}

json_t *core_instance_save(core_instance *inst)
{
    const synth_plugin *d = &inst->plugin->desc;
    if (d->save == NULL)
        return NULL;
    int serial = (d->flags & SYNTH_PLUGIN_SERIAL) != 0;
    if (serial)
        pthread_mutex_lock(&inst->lock);
    json_t *state = d->save(inst->state);
    if (serial)
        pthread_mutex_unlock(&inst->lock);
    return state;
}

/* ---- what a callback calls back ------------------------------------------ */

int core_ctx_error(synth_ctx *ctx, int code, const char *fmt, ...)
{
    if (ctx == NULL)
        return code;
    core_strbuf_reset(&ctx->error);
    va_list ap;
    va_start(ap, fmt);
    core_strbuf_vprintf(&ctx->error, fmt, ap);
    va_end(ap);
    ctx->error_code = code;
    return code;
}

void core_ctx_log(synth_ctx *ctx, int level, const char *fmt, ...)
{
    if (level == SYNTH_LOG_DEBUG && getenv("SYNTH_DEBUG") == NULL)
        return;
    if (level == SYNTH_LOG_INFO && core_log_quiet)
        return;
    core_strbuf f = {0};
    core_strbuf_printf(&f, "plugin %s: %s",
                       ctx ? ctx->inst->plugin->desc.name : "?", fmt);
    va_list ap;
    va_start(ap, fmt);
    core_vlog(level >= SYNTH_LOG_WARN ? "warning" : NULL,
              core_strbuf_str(&f), ap);
    va_end(ap);
    core_strbuf_free(&f);
}

int core_ctx_emit(synth_ctx *ctx, json_t *record, json_t *lineage)
{
    int ok = ctx && ctx->inst->plugin->desc.kind == SYNTH_KIND_FORMATTER &&
             (ctx->call == CORE_CALL_SESSION || ctx->call == CORE_CALL_FLUSH);
    if (!ok || !json_is_object(record) ||
        (lineage && !json_is_object(lineage))) {
        json_decref(record);
        json_decref(lineage);
        return ok ? SYNTH_EINVAL : SYNTH_ESTATE;
    }
    core_grow((void **)&ctx->records, &ctx->cap, ctx->nrecords + 1,
              sizeof *ctx->records);
    core_record *rec = &ctx->records[ctx->nrecords++];
    memset(rec, 0, sizeof *rec);
    rec->json = record;
    rec->lineage = lineage;
    rec->format = ctx->inst->plugin->desc.name;
    return SYNTH_OK;
}

int core_ctx_drop(synth_ctx *ctx, const char *reason)
{
    if (ctx == NULL ||
        (ctx->call != CORE_CALL_SESSION && ctx->call != CORE_CALL_RECORD))
        return SYNTH_ESTATE;
    ctx->dropped = 1;
    core_free(ctx->drop_reason);
    ctx->drop_reason = core_strdup(reason ? reason : "dropped");
    return SYNTH_OK;
}

int core_ctx_skip(synth_ctx *ctx, const char *code, const char *fmt, ...)
{
    if (ctx == NULL || ctx->inst->plugin->desc.kind != SYNTH_KIND_FORMATTER ||
        ctx->call != CORE_CALL_SESSION)
        return SYNTH_ESTATE;
    if (code == NULL || *code == '\0' || strspn(code,
            "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(code))
        return SYNTH_EINVAL;
    core_strbuf msg = {0};
    va_list ap;
    va_start(ap, fmt);
    core_strbuf_vprintf(&msg, fmt ? fmt : "", ap);
    va_end(ap);
    if (ctx->skips == NULL)
        ctx->skips = json_array();
    json_array_append_new(ctx->skips,
                          json_pack("{s:s, s:s}", "code", code, "message",
                                    core_strbuf_str(&msg)));
    core_strbuf_free(&msg);
    return SYNTH_OK;
}

int core_ctx_score(synth_ctx *ctx, double score)
{
    if (ctx == NULL || ctx->call != CORE_CALL_RECORD || ctx->record == NULL)
        return SYNTH_ESTATE;
    if (!(score >= 0.0 && score <= 1.0))
        return SYNTH_EINVAL;
    ctx->record->score_sum += score;
    ctx->record->scores++;
    return SYNTH_OK;
}

int core_ctx_issue(synth_ctx *ctx, const char *code, const char *fmt, ...)
{
    if (ctx == NULL || ctx->call != CORE_CALL_RECORD || ctx->record == NULL)
        return SYNTH_ESTATE;
    core_strbuf msg = {0};
    va_list ap;
    va_start(ap, fmt);
    core_strbuf_vprintf(&msg, fmt, ap);
    va_end(ap);
    if (ctx->record->issues == NULL)
        ctx->record->issues = json_array();
    json_array_append_new(ctx->record->issues,
                          json_pack("{s:s, s:s, s:s}", "code",
                                    code ? code : "issue", "message",
                                    core_strbuf_str(&msg), "by",
                                    ctx->inst->plugin->desc.name));
    core_strbuf_free(&msg);
    return SYNTH_OK;
}

/* Measurements made while scoring a probe would count it as written. */
static int probing(const synth_ctx *ctx)
{
    return ctx->call == CORE_CALL_RECORD && ctx->record && ctx->record->probe;
}

int core_ctx_is_probe(synth_ctx *ctx)
{
    return ctx != NULL && probing(ctx);
}

int core_ctx_count(synth_ctx *ctx, const char *name, long long delta)
{
    if (ctx == NULL || name == NULL)
        return SYNTH_EINVAL;
    if (probing(ctx))
        return SYNTH_OK;
    core_metrics *c = ctx->inst->counters;
    pthread_mutex_lock(&c->lock);
    json_t *v = json_object_get(c->values, name);
    json_object_set_new(c->values, name,
                        json_integer((v ? json_integer_value(v) : 0) + delta));
    pthread_mutex_unlock(&c->lock);
    return SYNTH_OK;
}

int core_ctx_observe(synth_ctx *ctx, const char *name, double value)
{
    if (ctx == NULL || name == NULL || value != value)
        return SYNTH_EINVAL;
    if (probing(ctx))
        return SYNTH_OK;
    core_metrics *m = ctx->inst->counters;
    pthread_mutex_lock(&m->lock);
    core_dist *d = core_map_get(m->dists, name);
    if (d == NULL) {
        d = core_calloc(1, sizeof *d);
        core_map_put(m->dists, name, d);
    }
    core_dist_add(d, value);
    pthread_mutex_unlock(&m->lock);
    return SYNTH_OK;
}

const char *core_ctx_record_format(synth_ctx *ctx)
{
    return ctx && ctx->call == CORE_CALL_RECORD && ctx->record
               ? ctx->record->format
               : NULL;
}

int core_ctx_record_score(synth_ctx *ctx, double *out)
{
    if (ctx == NULL || ctx->call != CORE_CALL_RECORD || ctx->record == NULL)
        return SYNTH_ESTATE;
    if (ctx->record->scores == 0)
        return SYNTH_ENOTFOUND;
    *out = ctx->record->score_sum / ctx->record->scores;
    return SYNTH_OK;
}

int core_score_record(const core_stage *scorers, const char *format,
                      json_t *record, int probe, double *score,
                      json_t **issues)
{
    core_record rec = {.format = format, .probe = probe};
    for (size_t i = 0; scorers && i < scorers->n; i++) {
        if (!core_plugin_applies(scorers->v[i]->plugin, format))
            continue;
        synth_ctx sub;
        core_ctx_init(&sub, scorers->v[i], CORE_CALL_RECORD);
        sub.record = &rec;
        core_instance_call(scorers->v[i], &sub, record);
        core_ctx_release(&sub);
    }
    if (issues)
        *issues = rec.issues ? rec.issues : json_array();
    else
        json_decref(rec.issues);
    if (rec.scores == 0)
        return SYNTH_ENOTFOUND;
    *score = rec.score_sum / rec.scores;
    return SYNTH_OK;
}

int core_ctx_score_as(synth_ctx *ctx, const char *format, json_t *record,
                         double *out)
{
    if (ctx == NULL || ctx->inst->plugin->desc.kind != SYNTH_KIND_FORMATTER ||
        (ctx->call != CORE_CALL_SESSION && ctx->call != CORE_CALL_FLUSH))
        return SYNTH_ESTATE;
    if (format == NULL || !json_is_object(record) || out == NULL)
        return SYNTH_EINVAL;
    return core_score_record(ctx->inst->scorers, format, record, 1, out, NULL);
}
