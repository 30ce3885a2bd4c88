/* pipeline.c -- a batch run from inputs to published files (see
 * pipeline.h). */
#include "pipeline.h"
#include "alloc.h"
#include "lines.h"
#include "queue.h"
#include "log.h"
#include "catalog.h"
#include "checkpoint.h"
#include "feed.h"
#include "instance.h"
#include "options.h"
#include "progress.h"
#include "reader.h"
#include "writer.h"
#include "stop.h"

#include <errno.h>
#include <sys/stat.h>
#include <pthread.h>
#include <string.h>

struct core_pipeline {
    core_config *cfg;         /* borrowed */
    core_registry reg;
    core_metrics counters;
    core_stage privacy, filters, formatters, scorers;
    core_writer *writers;     /* owned, parallel to formatters */
    core_sessionizer *sz;     /* owned */
    core_feed *feed;          /* owned: lines into sz */
    core_input_stats in;
    unsigned long long sessions_dropped, records_dropped, plugin_errors;
    unsigned long long sessions_cleared;  /* by ctl clear */
    unsigned long long records_cleared;   /* held back by formatters, ditto */
    int live;                 /* realtime: final files, appended to */
    json_t *identity;         /* owned: this run for the checkpoint, or NULL */
    /* live checkpoints (core_pipeline_hook): what a replay wrote before is
     * skipped, what is written reported; hooks.written NULL: none */
    core_pipeline_hooks hooks;
    int already_done;         /* the checkpoint says these inputs are done */
    unsigned long long *records;  /* owned, per formatter: records written */
    unsigned long long *scored;   /* owned, per formatter: of them scored */
    double *score_sum;            /* owned, per formatter: their scores */
    json_t *drops;            /* owned: drop reason -> count */
    int io_error;             /* a write failed */
    /* threads = 2: the session and plugin threads and their queues */
    int threaded, qinit, read_failed;
    core_queue batches;       /* windows of parsed lines -> sessionizer */
    core_queue sessions;      /* sessions past privacy, filters -> formatters */
    pthread_t session_tid, plugin_tid;
    int async;                /* the formatters run in plugin_tid */
    int stages;               /* threads the run used: 3 (batch), 2
                                 (live), 0 (one thread) */
    double cpu[3];            /* CPU s of the read, session, plugin threads */
    core_progress progress;   /* on a terminal: how far a batch run is */
    pthread_mutex_t drops_lock;   /* drops: counted from both threads */
    int drops_init;
};

/* Which stage a loaded plugin joins, or NULL when the config does not
 * select it.  Formatters are picked by `formats` (below, in config
 * order); filters and privacy plugins when the config sets one of their
 * options; every scorer runs (a formatter may score candidates as another
 * format with host->score_as). */
static core_stage *stage_for(core_pipeline *p, const core_plugin *pl)
{
    int named = core_config_mentions(p->cfg, pl->desc.kind, pl->desc.name,
                                     pl->desc.options);
    switch (pl->desc.kind) {
    case SYNTH_KIND_PRIVACY:
        return named ? &p->privacy : NULL;
    case SYNTH_KIND_FILTER:
        return named ? &p->filters : NULL;
    case SYNTH_KIND_SCORER:
        return &p->scorers;
    default:
        return NULL;
    }
}

static void unknown_format(core_pipeline *p, const char *name)
{
    const char **known = core_registry_names(&p->reg, SYNTH_KIND_FORMATTER);
    core_config_unknown(p->cfg, core_config_section(p->cfg, "formats"),
                        "format", name, "", known);
    for (size_t i = 0; i < p->reg.n; i++)
        if (p->reg.plugins[i].refused && strstr(p->reg.plugins[i].path, name))
            core_note("note: %s was refused: %s", p->reg.plugins[i].path,
                      p->reg.plugins[i].refused);
    core_free(known);
}

int core_pipeline_open(core_config *cfg, core_pipeline **out)
{
    core_pipeline *p = *out = core_calloc(1, sizeof *p);
    p->cfg = cfg;
    core_metrics_init(&p->counters);
    p->drops = json_object();
    pthread_mutex_init(&p->drops_lock, NULL);
    p->drops_init = 1;
    core_strbuf why = {0};
    if (core_registry_load(&p->reg, cfg->plugin_dir, 1, &why) != SYNTH_OK) {
        core_error("plugin_dir: %s", core_strbuf_str(&why));
        core_strbuf_free(&why);
        return SYNTH_EIO;
    }
    core_registry_check_config(&p->reg, cfg);
    for (size_t i = 0; i < cfg->nformats; i++) {
        const core_plugin *pl = core_registry_find(
            &p->reg, SYNTH_KIND_FORMATTER, cfg->formats[i]);
        for (size_t j = 0; j < i && pl; j++)
            if (strcmp(cfg->formats[j], cfg->formats[i]) == 0) {
                core_config_error(cfg, core_config_section(cfg, "formats"),
                                  "format \"%s\" is listed twice",
                                  cfg->formats[i]);
                pl = NULL;
            }
        if (pl == NULL) {
            if (core_registry_find(&p->reg, SYNTH_KIND_FORMATTER,
                                   cfg->formats[i]) == NULL)
                unknown_format(p, cfg->formats[i]);
            continue;
        }
        core_instance *inst;
        if (core_instance_new(pl, cfg, &p->counters, &inst) == SYNTH_OK)
            core_stage_add(&p->formatters, inst);
    }
    for (size_t i = 0; i < p->reg.n; i++) {
        const core_plugin *pl = &p->reg.plugins[i];
        core_stage *st = pl->dl ? stage_for(p, pl) : NULL;
        core_instance *inst;
        if (st && core_instance_new(pl, cfg, &p->counters, &inst) == SYNTH_OK)
            core_stage_add(st, inst);
    }
    core_stage_order(&p->privacy);
    core_stage_order(&p->filters);
    for (size_t f = 0; f < p->formatters.n; f++)
        p->formatters.v[f]->scorers = &p->scorers;
    p->records = core_calloc(p->formatters.n + 1, sizeof *p->records);
    p->scored = core_calloc(p->formatters.n + 1, sizeof *p->scored);
    p->score_sum = core_calloc(p->formatters.n + 1, sizeof *p->score_sum);
    return cfg->errors ? SYNTH_ECONFIG : SYNTH_OK;
}

/* ---- per session and per record ----------------------------------------- */

/* Counters both plugin-running threads share (threads = 2): rare
 * events, counted atomically, the drop table under a lock. */
static void count_error(core_pipeline *p)
{
    __atomic_fetch_add(&p->plugin_errors, 1, __ATOMIC_RELAXED);
}

static void count_drop(core_pipeline *p, const core_instance *inst,
                       const char *reason)
{
    core_strbuf key = {0};
    core_strbuf_printf(&key, "%s: %s", inst->plugin->desc.name, reason);
    pthread_mutex_lock(&p->drops_lock);
    json_t *v = json_object_get(p->drops, key.data);
    json_object_set_new(p->drops, key.data,
                        json_integer((v ? json_integer_value(v) : 0) + 1));
    pthread_mutex_unlock(&p->drops_lock);
    core_strbuf_free(&key);
}

/* Run a session through one stage of session plugins.  Returns 1 when the
 * session survives, 0 when a plugin dropped it or failed (a privacy
 * plugin that fails must not let the session through unredacted). */
static int run_session_stage(core_pipeline *p, core_stage *st,
                             json_t *session)
{
    for (size_t i = 0; i < st->n; i++) {
        synth_ctx ctx;
        core_ctx_init(&ctx, st->v[i], CORE_CALL_SESSION);
        int rc = core_instance_call(st->v[i], &ctx, session);
        int keep = rc >= 0 && !ctx.dropped;
        if (rc < 0)
            count_error(p);
        else if (ctx.dropped)
            count_drop(p, st->v[i], ctx.drop_reason);
        core_ctx_release(&ctx);
        if (!keep) {
            p->sessions_dropped++;
            return 0;
        }
    }
    return 1;
}

/* Score, filter and write one record of formatter f. */
static void finish_record(core_pipeline *p, size_t f, core_record *rec,
                          json_t *session)
{
    core_stage *stages[2] = {&p->scorers, &p->filters};
    for (int s = 0; s < 2; s++) {
        core_stage *st = stages[s];
        for (size_t i = 0; i < st->n; i++) {
            if (!core_plugin_applies(st->v[i]->plugin, rec->format) ||
                st->v[i]->plugin->desc.record == NULL)
                continue;
            synth_ctx ctx;
            core_ctx_init(&ctx, st->v[i], CORE_CALL_RECORD);
            ctx.record = rec;
            int rc = core_instance_call(st->v[i], &ctx, rec->json);
            int dropped = ctx.dropped;
            if (rc < 0)
                count_error(p);
            else if (dropped)
                count_drop(p, st->v[i], ctx.drop_reason);
            core_ctx_release(&ctx);
            if (dropped) {
                p->records_dropped++;
                return;
            }
        }
    }
    json_t *meta = NULL;
    if (p->cfg->sidecar) {
        meta = json_pack("{s:I}", "line", (json_int_t)p->writers[f].records + 1);
        if (session) {
            json_object_set(meta, "session", json_object_get(session, "id"));
            json_object_set(meta, "part", json_object_get(session, "part"));
            /* privacy plugins count what they replaced here, per kind */
            json_t *redacted = json_object_get(session, "redacted");
            if (json_is_object(redacted))
                json_object_set(meta, "redacted", redacted);
        }
        if (rec->scores)
            json_object_set_new(meta, "score",
                                json_real(rec->score_sum / rec->scores));
        json_object_set_new(meta, "issues", rec->issues
                                                ? json_incref(rec->issues)
                                                : json_array());
        if (rec->lineage)
            json_object_set(meta, "lineage", rec->lineage);
    }
    if (core_writer_put(&p->writers[f], rec->json, meta) != SYNTH_OK) {
        p->io_error = 1;
    } else {
        /* atomic: the reading thread shows progress with it */
        __atomic_fetch_add(&p->records[f], 1, __ATOMIC_RELAXED);
        if (rec->scores) {
            p->scored[f]++;
            p->score_sum[f] += rec->score_sum / rec->scores;
        }
    }
    json_decref(meta);
}

/* Call formatter f (session() or, with session NULL, flush()) and finish
 * what it emitted.  A failing call's records are discarded. */
static void run_formatter(core_pipeline *p, size_t f, json_t *session)
{
    synth_ctx ctx;
    core_ctx_init(&ctx, p->formatters.v[f],
                  session ? CORE_CALL_SESSION : CORE_CALL_FLUSH);
    int rc = core_instance_call(p->formatters.v[f], &ctx, session);
    if (rc < 0)
        count_error(p);
    for (size_t i = 0; rc >= 0 && i < ctx.nrecords; i++)
        finish_record(p, f, &ctx.records[i], session);
    size_t i;
    json_t *skip;
    json_array_foreach(rc >= 0 ? ctx.skips : NULL, i, skip) {
        /* what a format left out: counted, and traced in the sidecar */
        core_strbuf name = {0};
        core_strbuf_printf(&name, "%s.skipped_%s", ctx.inst->plugin->desc.name,
                           json_string_value(json_object_get(skip, "code")));
        core_ctx_count(&ctx, core_strbuf_str(&name), 1);
        core_strbuf_free(&name);
        json_t *meta = json_pack("{s:n, s:O, s:O, s:O}", "line", "session",
                                 json_object_get(session, "id"), "part",
                                 json_object_get(session, "part"), "skipped",
                                 skip);
        if (p->cfg->sidecar && core_writer_note(&p->writers[f], meta) != SYNTH_OK)
            p->io_error = 1;
        json_decref(meta);
    }
    core_ctx_release(&ctx);
}

/* The session stages: privacy, then filters.  Returns 1 when the
 * session (borrowed) goes on to the formatters. */
static int session_stages(core_pipeline *p, json_t *session)
{
    return run_session_stage(p, &p->privacy, session) &&
           run_session_stage(p, &p->filters, session);
}

/* The formatters, with their scorers, record filters and writers, on one
 * session (stolen) that went through the session stages. */
static void format_session(core_pipeline *p, json_t *session)
{
    for (size_t f = 0; f < p->formatters.n; f++)
        run_formatter(p, f, session);
    json_decref(session);
}

/* Everything the plugins do with one closed session (stolen): the
 * session stages here, the formatters here or in the plugin thread. */
static void process_session(core_pipeline *p, json_t *session)
{
    if (!session_stages(p, session))
        json_decref(session);
    else if (p->async)
        core_queue_push(&p->sessions, session);
    else
        format_session(p, session);
}

/* ---- threads -----------------------------------------------------------
 *
 * With threads = 2 the run is three stages in three threads, which the
 * system spreads over the cores: the calling thread reads, prescans and
 * parses; the session thread sessionizes and runs the privacy and filter
 * plugins on each session it closes; the plugin thread runs the
 * formatters, their scorers and record filters, and writes.  (perf put the
 * privacy plugins' share of the work in the session thread to even out
 * the two.)  Work crosses in bounded queues -- a batch per window of
 * lines, then whole sessions -- so no lock is taken per event, and every
 * stage keeps the order of the one before: the output is the same, byte
 * for byte, as with threads = 1.  Both plugin-running threads may count an
 * error or a drop; those counters are atomic.
 *
 * A live run has no session thread: the calling thread reads,
 * sessionizes and runs the session stages, since its checkpoints need the
 * sessionizer as of the lines read; only the formatters' stage runs in the
 * plugin thread, and core_pipeline_drain() waits for it before anything
 * looks at what it wrote (syncs, checkpoints, control commands). */

static void *session_thread(void *arg)
{
    core_pipeline *p = arg;
    core_batch *b;
    while ((b = core_queue_pop(&p->batches)) != NULL) {
        if (core_stop_requested)
            core_batch_free(b); /* nothing will be published */
        else
            core_batch_apply(b, p->sz);
    }
    if (!core_stop_requested && !p->read_failed)
        core_sessionizer_flush(p->sz);
    core_queue_close(&p->sessions);
    p->cpu[1] = core_thread_cpu();
    return NULL;
}

static void *plugin_thread(void *arg)
{
    core_pipeline *p = arg;
    json_t *session;
    while ((session = core_queue_pop(&p->sessions)) != NULL) {
        /* a stopped batch run publishes nothing; a live one flushes */
        if (core_stop_requested && !p->live)
            json_decref(session);
        else
            format_session(p, session);
        core_queue_done(&p->sessions);
    }
    p->cpu[2] = core_thread_cpu();
    return NULL;
}

/* Where the feed's batches go: straight into the sessionizer, or to the
 * session thread. */
static void deliver(core_batch *b, void *user)
{
    core_pipeline *p = user;
    if (p->threaded)
        core_queue_push(&p->batches, b);
    else
        core_batch_apply(b, p->sz);
}

/* Where closed sessions go: to the plugins, here or in their thread.  A
 * live run with a checkpoint skips what it already wrote before a crash
 * and reports what it writes. */
static void on_session(json_t *session, core_close_reason why, void *user)
{
    core_pipeline *p = user;
    core_session_origin o;
    if (p->hooks.written && core_sessionizer_closing(p->sz, &o)) {
        /* the id before privacy plugins change it */
        char *id = core_strdup(json_string_value(json_object_get(session, "id")));
        if (p->hooks.replayed(p->hooks.user, id, &o)) {
            json_decref(session);
        } else {
            process_session(p, session);
            p->hooks.written(p->hooks.user, id, &o, why);
        }
        core_free(id);
        return;
    }
    process_session(p, session);
}

/* The queues between the threads: two windows of lines, then sixteen
 * sessions, so memory stays bounded when a later stage is slower. */
static void init_queues(core_pipeline *p)
{
    core_queue_init(&p->batches, 2);
    core_queue_init(&p->sessions, 16);
    p->qinit = 1;
}

/* Start the session and plugin threads; returns 1 when both run. */
static int start_threads(core_pipeline *p)
{
    init_queues(p);
    p->threaded = p->async = 1; /* before the session thread reads them */
    p->stages = 3;
    if (pthread_create(&p->session_tid, NULL, session_thread, p) != 0) {
        p->threaded = p->async = p->stages = 0;
        return 0;
    }
    if (pthread_create(&p->plugin_tid, NULL, plugin_thread, p) != 0) {
        /* nothing was read yet: the session thread closes nothing */
        core_queue_close(&p->batches);
        pthread_join(p->session_tid, NULL);
        p->threaded = p->async = p->stages = 0;
        return 0;
    }
    return 1;
}

/* Live: the formatters in a thread of their own, the rest here (the
 * checkpoint needs the sessionizer where the lines come in).  Returns 1
 * when the thread runs. */
static int start_plugin_thread(core_pipeline *p)
{
    init_queues(p);
    if (pthread_create(&p->plugin_tid, NULL, plugin_thread, p) != 0)
        return 0;
    p->async = 1;
    p->stages = 2;
    return 1;
}

void core_pipeline_drain(core_pipeline *p)
{
    if (p->async)
        core_queue_wait_idle(&p->sessions);
}

/* End the plugin thread (live), after what it was handed. */
static void join_plugin_thread(core_pipeline *p)
{
    core_queue_close(&p->sessions);
    pthread_join(p->plugin_tid, NULL);
    p->async = 0;
}

static void join_threads(core_pipeline *p)
{
    core_queue_close(&p->batches); /* the session thread flushes, closes */
    pthread_join(p->session_tid, NULL);
    pthread_join(p->plugin_tid, NULL);
    p->threaded = p->async = 0;
}

/* ---- reading ----------------------------------------------------------------- */

static int read_input(core_pipeline *p, const char *path)
{
    core_lines in;
    if (core_lines_open(&in, path, p->cfg->max_line_bytes) != SYNTH_OK) {
        core_error("cannot open input %s: %s", path, strerror(errno));
        core_lines_close(&in);
        return SYNTH_EIO;
    }
    const char *line;
    size_t len;
    int rc = SYNTH_OK;
    while (!core_stop_requested &&
           (rc = core_lines_next(&in, &line, &len)) != SYNTH_ENOTFOUND) {
        if (rc == SYNTH_EIO) {
            core_error("%s:%llu: read error: %s", in.name, in.line_no + 1,
                       strerror(errno));
            break;
        }
        if (rc == SYNTH_ELIMIT)
            core_feed_overlong(p->feed, in.name, in.line_no,
                               p->cfg->max_line_bytes);
        else
            core_feed_line(p->feed, in.name, in.line_no, 0, 0, line, len);
        if ((in.line_no & 1023) == 0) {
            core_crash_point("line", in.line_no); /* the crash tests' */
            core_progress_update(&p->progress, p->in.bytes + in.offset,
                                 core_pipeline_records(p));
        }
    }
    core_feed_flush(p->feed); /* the name is only good until the close */
    p->in.bytes += in.offset;
    core_lines_close(&in);
    if (core_stop_requested)
        return SYNTH_ESTATE;
    return rc == SYNTH_EIO ? SYNTH_EIO : SYNTH_OK;
}

int core_pipeline_start(core_pipeline *p, int live, json_t *resume)
{
    core_config *cfg = p->cfg;
    char stamp[32];
    core_writer_stamp(stamp);
    p->live = live;
    p->writers = core_calloc(p->formatters.n + 1, sizeof *p->writers);
    core_strbuf why = {0};
    for (size_t f = 0; f < p->formatters.n; f++) {
        const char *name = p->formatters.v[f]->plugin->desc.name;
        json_t *again = json_object_get(resume, name);
        int rc = again ? core_writer_reopen_live(&p->writers[f],
                                                 cfg->output_dir, again, &why)
                 : live ? core_writer_open_live(&p->writers[f], cfg->output_dir,
                                                name, stamp, cfg->sidecar, &why)
                        : core_writer_open(&p->writers[f], cfg->output_dir,
                                           name, stamp, cfg->sidecar,
                                           cfg->batch_size, &why);
        if (rc != SYNTH_OK) {
            core_error("%s", core_strbuf_str(&why));
            core_strbuf_free(&why);
            return SYNTH_EIO;
        }
    }
    for (size_t f = 0; live && f < p->formatters.n; f++)
        core_note("writing %s", p->writers[f].path);
    p->sz = core_sessionizer_new(&cfg->limits, on_session, p);
    p->feed = core_feed_new(cfg->skip_superseded, deliver, p, &p->in);
    /* live input: lines, sessions and the privacy plugins here, where
     * the checkpoints are taken; the formatters in their own thread,
     * drained before every checkpoint, sync and control command */
    if (cfg->threads > 1 && !(live ? start_plugin_thread(p) : start_threads(p)))
        core_warn("cannot start the pipeline threads; running in one");
    return SYNTH_OK;
}

/* dataset_info.json for this run's files that hold records (live: all,
 * from their creation on).  A failure is a warning: the datasets are
 * written all the same. */
static void update_catalog(core_pipeline *p)
{
    size_t n = p->formatters.n;
    const core_plugin **formats = core_calloc(n + 1, sizeof *formats);
    const char **paths = core_calloc(n + 1, sizeof *paths);
    for (size_t f = 0; f < n; f++) {
        formats[f] = p->formatters.v[f]->plugin;
        paths[f] = p->live || p->records[f] ? p->writers[f].path : NULL;
    }
    core_strbuf why = {0};
    if (core_catalog_add(p->cfg->output_dir, formats, paths, n, &why) !=
        SYNTH_OK)
        core_warn("%s", core_strbuf_str(&why));
    core_strbuf_free(&why);
    core_free(formats);
    core_free(paths);
}

int core_pipeline_create(core_pipeline *p, core_strbuf *why)
{
    for (size_t f = 0; f < p->formatters.n; f++)
        if (core_writer_create_live(&p->writers[f], why) != SYNTH_OK)
            return SYNTH_EIO;
    update_catalog(p);
    return SYNTH_OK;
}

void core_pipeline_line(core_pipeline *p, const char *name,
                        unsigned long long line_no, unsigned src,
                        unsigned long long off, const char *line, size_t len)
{
    p->in.bytes += len + 1;
    core_feed_line(p->feed, name, line_no, src, off, line, len);
}

static void sync_writers(core_pipeline *p)
{
    for (size_t f = 0; f < p->formatters.n; f++)
        if (core_writer_flush(&p->writers[f]) != SYNTH_OK)
            p->io_error = 1;
}

void core_pipeline_tick(core_pipeline *p, long long now_ms)
{
    /* the lines taken since the last tick arrived by now_ms */
    core_sessionizer_set_now(p->sz, now_ms);
    core_feed_flush(p->feed);
    if (p->cfg->limits.idle_timeout_ms > 0)
        core_sessionizer_close_stale(p->sz, p->cfg->limits.idle_timeout_ms);
    core_pipeline_drain(p);
    sync_writers(p);
}

void core_pipeline_process(core_pipeline *p)
{
    core_feed_flush(p->feed);
    core_sessionizer_cut(p->sz); /* more of them may come */
    core_pipeline_drain(p);
    for (size_t f = 0; f < p->formatters.n; f++)
        run_formatter(p, f, NULL);
    sync_writers(p);
}

size_t core_pipeline_clear(core_pipeline *p, unsigned long long *records)
{
    unsigned long long held = p->records_cleared;
    core_feed_flush(p->feed);
    core_pipeline_drain(p); /* what closed before the clear is written */
    size_t n = core_sessionizer_clear(p->sz);
    p->sessions_cleared += n;
    /* Records a formatter holds back (grpo groups waiting for members):
     * its flush() hands them over, and they are counted, not written.
     * The plugin thread is idle (drained above), so this is safe. */
    for (size_t f = 0; f < p->formatters.n; f++) {
        synth_ctx ctx;
        core_ctx_init(&ctx, p->formatters.v[f], CORE_CALL_FLUSH);
        if (core_instance_call(p->formatters.v[f], &ctx, NULL) >= 0)
            p->records_cleared += ctx.nrecords;
        core_ctx_release(&ctx);
    }
    *records = p->records_cleared - held;
    return n;
}

void core_pipeline_hook(core_pipeline *p, const core_pipeline_hooks *h)
{
    p->hooks = *h;
    if (h->replay)
        core_sessionizer_replay(p->sz, h->replay);
    if (h->clock >= 0)
        core_sessionizer_set_clock(p->sz, h->clock);
}

unsigned long long core_pipeline_lines(const core_pipeline *p)
{
    return p->in.lines;
}

unsigned long long core_pipeline_records(const core_pipeline *p)
{
    unsigned long long n = 0;
    for (size_t f = 0; f < p->formatters.n; f++)
        n += __atomic_load_n(&p->records[f], __ATOMIC_RELAXED);
    return n;
}

unsigned long long core_pipeline_watermark(const core_pipeline *p,
                                           unsigned src)
{
    return core_sessionizer_watermark(p->sz, src);
}

long long core_pipeline_clock(const core_pipeline *p)
{
    return core_sessionizer_clock(p->sz);
}

int core_pipeline_sync(core_pipeline *p, json_t **outputs, core_strbuf *why)
{
    core_pipeline_drain(p); /* what the caller records as written, is */
    *outputs = json_object();
    for (size_t f = 0; f < p->formatters.n; f++) {
        core_writer *w = &p->writers[f];
        json_t *state;
        if (w->fp == NULL && w->error)
            continue; /* never created (the name was taken): not ours, and
                         a restart chooses another */
        if (core_writer_sync(w, &state, why) != SYNTH_OK) {
            json_decref(*outputs);
            *outputs = NULL;
            return SYNTH_EIO;
        }
        json_object_set_new(*outputs, p->formatters.v[f]->plugin->desc.name,
                            state);
    }
    return SYNTH_OK;
}

json_t *core_pipeline_save(core_pipeline *p)
{
    core_pipeline_drain(p);
    json_t *states = NULL;
    for (size_t f = 0; f < p->formatters.n; f++) {
        json_t *st = core_instance_save(p->formatters.v[f]);
        if (st == NULL)
            continue;
        if (states == NULL)
            states = json_object();
        json_object_set_new(states, p->formatters.v[f]->plugin->desc.name, st);
    }
    return states;
}

int core_pipeline_restore(core_pipeline *p, json_t *states)
{
    int first = SYNTH_OK;
    for (size_t f = 0; states && f < p->formatters.n; f++) {
        core_instance *inst = p->formatters.v[f];
        json_t *st = json_object_get(states, inst->plugin->desc.name);
        if (st == NULL)
            continue;
        synth_ctx ctx;
        core_ctx_init(&ctx, inst, CORE_CALL_RESTORE);
        int rc = core_instance_call(inst, &ctx, st);
        core_ctx_release(&ctx);
        if (rc < 0 && first == SYNTH_OK)
            first = rc; /* core_instance_call said why */
    }
    return first;
}

int core_pipeline_finish(core_pipeline *p, int rc)
{
    core_strbuf why = {0};
    p->read_failed = rc != SYNTH_OK;
    p->cpu[0] = core_thread_cpu(); /* read as of the end of input */
    if (p->threaded) {
        join_threads(p);
    } else {
        if (rc == SYNTH_OK)
            core_sessionizer_flush(p->sz);
        if (p->async)
            join_plugin_thread(p);
    }
    if (rc == SYNTH_OK)
        for (size_t f = 0; f < p->formatters.n; f++)
            run_formatter(p, f, NULL);
    if (rc == SYNTH_OK && core_stop_requested && !p->live)
        rc = SYNTH_ESTATE;
    if (rc == SYNTH_OK && p->io_error) {
        rc = SYNTH_EIO;
        for (size_t f = 0; f < p->formatters.n; f++)
            if (p->writers[f].error)
                core_error("cannot write %s: %s",
                           p->writers[f].tmp ? p->writers[f].tmp
                                             : p->writers[f].path,
                           strerror(p->writers[f].error));
    }
    if (p->live) {
        /* the files are already there: close them */
        for (size_t f = 0; f < p->formatters.n; f++)
            if (core_writer_commit(&p->writers[f], &why) != SYNTH_OK) {
                core_error("%s", core_strbuf_str(&why));
                rc = SYNTH_EIO;
            }
    } else if (rc == SYNTH_OK &&
               core_checkpoint_publish(p->cfg->output_dir, p->writers,
                                       p->formatters.n, p->identity,
                                       &why) != SYNTH_OK) {
        /* all or nothing, exactly once even across a crash */
        core_error("%s", core_strbuf_str(&why));
        rc = SYNTH_EIO;
    } else if (rc == SYNTH_OK) {
        update_catalog(p);
    }
    core_strbuf_free(&why);
    if (rc == SYNTH_OK && p->plugin_errors)
        rc = SYNTH_EPLUGIN;
    return rc;
}

int core_pipeline_run(core_pipeline *p)
{
    core_config *cfg = p->cfg;
    if (cfg->checkpoint) {
        /* a crashed run first: finish its publish, drop its leftovers */
        core_strbuf why = {0};
        struct stat st;
        if (stat(cfg->output_dir, &st) == 0 &&
            core_checkpoint_recover(cfg->output_dir, &why) != SYNTH_OK) {
            core_error("%s", core_strbuf_str(&why));
            core_strbuf_free(&why);
            return SYNTH_EIO;
        }
        core_strbuf_free(&why);
        p->identity = core_checkpoint_identity(cfg);
        json_t *done = p->identity
                           ? core_checkpoint_find(cfg->output_dir, p->identity)
                           : NULL;
        if (done) {
            size_t i;
            json_t *f;
            core_note("these inputs were already processed with this "
                      "config; nothing to do");
            json_array_foreach(done, i, f)
                core_note("already written: %s",
                          json_string_value(json_object_get(f, "path")));
            json_decref(done);
            p->already_done = 1;
            return SYNTH_OK;
        }
    }
    int rc = core_pipeline_start(p, 0, NULL);
    if (rc != SYNTH_OK)
        return rc;
    core_progress_start(&p->progress, cfg->inputs, cfg->ninputs);
    for (size_t i = 0; i < p->cfg->ninputs && rc == SYNTH_OK; i++)
        rc = read_input(p, p->cfg->inputs[i]);
    core_progress_end(&p->progress);
    return core_pipeline_finish(p, rc);
}

json_t *core_pipeline_status(const core_pipeline *p)
{
    json_t *records = json_object();
    for (size_t f = 0; f < p->formatters.n; f++)
        json_object_set_new(records, p->formatters.v[f]->plugin->desc.name,
                            json_integer((json_int_t)p->records[f]));
    json_t *files = json_object();
    for (size_t f = 0; p->writers && f < p->formatters.n; f++)
        if (p->writers[f].path)
            json_object_set_new(files, p->formatters.v[f]->plugin->desc.name,
                                json_string(p->writers[f].path));
    const core_session_stats *st = p->sz ? core_sessionizer_stats(p->sz) : NULL;
    unsigned long long events = 0;
    for (int r = 0; st && r < CORE_REF_COUNT; r++)
        events += st->events[r];
    pthread_mutex_lock((pthread_mutex_t *)&p->counters.lock);
    json_t *counters = json_deep_copy(p->counters.values);
    pthread_mutex_unlock((pthread_mutex_t *)&p->counters.lock);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                     "s:I, s:I, s:o, s:o, s:o}",
                     "bytes", (json_int_t)p->in.bytes, "lines",
                     (json_int_t)p->in.lines, "bad_lines",
                     (json_int_t)p->in.bad, "events", (json_int_t)events,
                     "open_sessions",
                     (json_int_t)(p->sz ? core_sessionizer_open(p->sz) : 0),
                     "sessions_closed", (json_int_t)(st ? st->sessions : 0),
                     "sessions_dropped", (json_int_t)p->sessions_dropped,
                     "sessions_cleared", (json_int_t)p->sessions_cleared,
                     "records_cleared", (json_int_t)p->records_cleared,
                     "records_dropped", (json_int_t)p->records_dropped,
                     "open_turns_cut",
                     (json_int_t)(st ? st->open_turns_cut : 0),
                     "open_turns_carried",
                     (json_int_t)(st ? st->open_turns_carried : 0),
                     "records", records, "files", files, "counters",
                     counters);
}

/* ---- summary ------------------------------------------------------------------- */

void core_pipeline_summary(const core_pipeline *p)
{
    if (p->already_done)
        return;
    const core_session_stats *st =
        p->sz ? core_sessionizer_stats(p->sz) : NULL;
    core_note("read %llu lines (%llu bytes): %llu bad, %llu blank, %llu "
              "repaired (invalid UTF-8); %llu superseded partials not parsed",
              p->in.lines, p->in.bytes, p->in.bad, p->in.blank,
              p->in.repaired, p->in.skipped);
    if (st) {
        core_strbuf b = {0};
        for (int r = 1; r <= CORE_REF_COUNT; r++) {
            int ref = r % CORE_REF_COUNT; /* unknown last */
            core_strbuf_printf(&b, "%s%llu %s", r > 1 ? ", " : "",
                               st->events[ref], core_ref_name(ref));
        }
        core_note("events: %s", core_strbuf_str(&b));
        core_strbuf_free(&b);
        core_note("sessions: %llu with %llu turns (closed: %llu at end of "
                  "input, %llu idle, %llu at size cap, %llu evicted; peak "
                  "%zu open); %llu duplicate ids ignored, %llu calls "
                  "seen only through their result or error; %llu open "
                  "turns cut (%llu carried to the next part)",
                  st->sessions, st->turns, st->closed[CORE_CLOSE_END],
                  st->closed[CORE_CLOSE_IDLE], st->closed[CORE_CLOSE_CAP],
                  st->closed[CORE_CLOSE_EVICT], st->open_peak,
                  st->duplicates, st->orphans, st->open_turns_cut,
                  st->open_turns_carried);
    }
    /* where the time went, for tuning (threads = 2): the stage that
     * needs the most CPU bounds the run */
    if (p->stages == 3)
        core_note("cpu: %.2f s reading and parsing, %.2f s sessions and "
                  "privacy, %.2f s formatters, scorers and writing",
                  p->cpu[0], p->cpu[1], p->cpu[2]);
    else if (p->stages == 2) /* live: no session thread */
        core_note("cpu: %.2f s reading, sessions and privacy, %.2f s "
                  "formatters, scorers and writing",
                  p->cpu[0], p->cpu[2]);
    if (p->sessions_dropped || p->records_dropped) {
        core_note("dropped %llu sessions and %llu records:",
                  p->sessions_dropped, p->records_dropped);
        const char *k;
        json_t *v;
        json_object_foreach(p->drops, k, v)
            core_note("  %s: %lld", k, (long long)json_integer_value(v));
    }
    core_metrics_note(&p->counters);
    for (size_t f = 0; f < p->formatters.n; f++) {
        const core_writer *w = p->writers ? &p->writers[f] : NULL;
        if (w && w->path && p->scored[f])
            core_note("wrote %llu %s records (mean score %.3f) to %s",
                      p->records[f], p->formatters.v[f]->plugin->desc.name,
                      p->score_sum[f] / (double)p->scored[f], w->path);
        else if (w && w->path)
            core_note("wrote %llu %s records to %s", p->records[f],
                      p->formatters.v[f]->plugin->desc.name, w->path);
    }
    if (p->plugin_errors)
        core_note("%llu plugin calls failed (see the errors above)",
                  p->plugin_errors);
}

void core_pipeline_close(core_pipeline *p)
{
    if (p == NULL)
        return;
    if (p->threaded) { /* not finished: stop, writing nothing more */
        p->read_failed = 1;
        join_threads(p);
    } else if (p->async) {
        join_plugin_thread(p);
    }
    if (p->qinit) {
        core_queue_destroy(&p->batches);
        core_queue_destroy(&p->sessions);
    }
    for (size_t f = 0; p->writers && f < p->formatters.n; f++)
        core_writer_free(&p->writers[f]);
    core_free(p->writers);
    core_feed_free(p->feed);
    core_sessionizer_free(p->sz);
    core_stage_free(&p->privacy);
    core_stage_free(&p->filters);
    core_stage_free(&p->formatters);
    core_stage_free(&p->scorers);
    core_registry_free(&p->reg);
    core_metrics_free(&p->counters);
    json_decref(p->identity);
    core_free(p->records);
    core_free(p->scored);
    core_free(p->score_sum);
    json_decref(p->drops);
    if (p->drops_init)
        pthread_mutex_destroy(&p->drops_lock);
    core_free(p);
}
