/*
 * pipeline.h -- one run: inputs -> reader -> sessionizer -> plugins ->
 * writers, and the summary of what happened.
 *
 * core_pipeline_open() does everything that can fail because of the
 * config (plugins, options, instances) and writes nothing; only
 * core_pipeline_run() touches the output directory, and it publishes the
 * files only when the whole input was read.
 */
#ifndef CORE_PIPELINE_H
#define CORE_PIPELINE_H

#include <pthread.h>

#include "config.h"
#include "feed.h"
#include "plugin.h"
#include "queue.h"
#include "session.h"
#include "writer.h"

typedef struct core_pipeline {
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
    unsigned long long records_cleared;   /* held back by formatters, by ctl clear */
    int live;                 /* realtime: final files, appended to */
    json_t *identity;         /* owned: this run for the checkpoint, or NULL */
    /* live checkpoints (set by live.c): sessions of a replay that were
     * written before the crash are skipped; written ones are reported */
    int (*replayed)(void *user, const char *context_id,
                    const core_session_origin *o);
    void (*written)(void *user, const char *context_id,
                    const core_session_origin *o, core_close_reason why);
    void *hook_user;
    json_t *resume;           /* borrowed: live outputs to append to */
    int already_done;         /* the checkpoint says these inputs are done */
    unsigned long long *records;  /* owned, per formatter: records written */
    unsigned long long *scored;   /* owned, per formatter: of them scored */
    double *score_sum;            /* owned, per formatter: their scores */
    json_t *drops;            /* owned: drop reason -> count */
    int io_error;             /* a write failed */
    /* threads = 2: the session and plugin threads and their queues */
    int threaded, qinit, read_failed;
    core_queue batches;       /* windows of parsed lines -> sessionizer */
    core_queue sessions;      /* sessions past privacy and filters ->
                                 formatters */
    pthread_t session_tid, plugin_tid;
    int async;                /* the formatters run in plugin_tid */
    int stages;               /* threads the run used: 3 (batch), 2
                                 (live), 0 (one thread) */
    double cpu[3];            /* CPU seconds of the reading, session and
                                 plugin threads */
    pthread_mutex_t drops_lock;   /* drops: counted from both threads */
    int drops_init;
} core_pipeline;

/* Load the plugins from the config's plugin_dir, check every plugin
 * option, and create the instances the config selects.  Reports problems
 * as config errors.  Returns SYNTH_OK, SYNTH_ECONFIG or SYNTH_EIO (plugin
 * dir unusable).  Close p whatever it returns. */
int core_pipeline_open(core_pipeline *p, core_config *cfg);
/* Read every input, process and write.  Returns SYNTH_OK when all files
 * were published (bad lines and dropped sessions are not failures),
 * SYNTH_EIO when an input or output failed (nothing is published),
 * SYNTH_ESTATE when interrupted (nothing is published), SYNTH_EPLUGIN
 * when files were published but a plugin callback failed. */
int core_pipeline_run(core_pipeline *p);
/* The pieces of a run, for live mode (core_pipeline_run is start, the
 * inputs, finish):
 * start(): open the output files and the sessionizer; live, the final
 *   files (appended to as sessions close) are only named, or reopened
 *   where resume says so.  Returns SYNTH_OK or SYNTH_EIO.
 * create(): live, create the files start() named, once the checkpoint
 *   records their names.  Returns SYNTH_OK, or SYNTH_EIO with why.
 * line(): one input line (borrowed) of the input called name, from byte
 *   offset off of replayable source src (0: not replayable).
 * tick(): take the lines so far, close the sessions idle for
 *   session.idle_timeout_ms of wall clock (now_ms), push the files out.
 * process(): close every open session now and flush every formatter.
 * clear(): drop the open sessions unwritten, and the records formatters
 * hold back (counted in records_cleared); returns how many sessions.
 * finish(): end of input: flush, and publish (batch) or close (live);
 *   rc is how reading went.  Returns as core_pipeline_run.
 * status(): the counts `synthhost ctl status` shows (new reference).
 * drain(): wait until the formatters' thread (threads = 2) has done every
 *   session handed to it: before reading counters or output files, or
 *   taking a checkpoint.  tick, process, clear and save drain first. */
int core_pipeline_start(core_pipeline *p, int live);
int core_pipeline_create(core_pipeline *p, core_strbuf *why);
void core_pipeline_line(core_pipeline *p, const char *name,
                        unsigned long long line_no, unsigned src,
                        unsigned long long off, const char *line, size_t len);
void core_pipeline_tick(core_pipeline *p, long long now_ms);
void core_pipeline_process(core_pipeline *p);
size_t core_pipeline_clear(core_pipeline *p);
/* Live checkpoints: the state the formatters hold across sessions, as
 * {format: state} (new reference), or NULL when none holds any.  Restore
 * gives it (borrowed) to the formatters of a started pipeline; a plugin
 * that refuses it starts afresh, reported.  Returns SYNTH_OK, or the first
 * refusal's code. */
json_t *core_pipeline_save(core_pipeline *p);
int core_pipeline_restore(core_pipeline *p, json_t *states);
int core_pipeline_finish(core_pipeline *p, int rc);
json_t *core_pipeline_status(const core_pipeline *p);
void core_pipeline_drain(core_pipeline *p);
/* Print the run summary with core_note(). */
void core_pipeline_summary(const core_pipeline *p);
/* Free everything; NULL-safe. */
void core_pipeline_close(core_pipeline *p);

#endif
