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

#include <jansson.h>

#include "config.h"
#include "session.h"
#include "strbuf.h"

/* One run's pipeline (opaque): the plugins, the sessionizer, the
 * writers and the counters.  Made by core_pipeline_open(), freed by
 * core_pipeline_close(). */
typedef struct core_pipeline core_pipeline;

/* What a live run's checkpoint hooks into (all borrowed by the pipeline):
 * replayed() says whether a closing session was already written before a
 * crash (it is then skipped), written() is told of every session written;
 * replay (may be NULL) is handed to the sessionizer, and clock (-1: none)
 * restores its event clock. */
typedef struct core_pipeline_hooks {
    int (*replayed)(void *user, const char *context_id,
                    const core_session_origin *o);
    void (*written)(void *user, const char *context_id,
                    const core_session_origin *o, core_close_reason why);
    const core_session_replay *replay;
    long long clock;
    void *user;
} core_pipeline_hooks;


/* Load the plugins from the config's plugin_dir (cfg is borrowed for the
 * pipeline's life), check every plugin option, and create the instances
 * the config selects.  Reports problems as config errors.  Sets *out to a
 * new pipeline whatever it returns (close it); returns SYNTH_OK,
 * SYNTH_ECONFIG or SYNTH_EIO (plugin dir unusable). */
int core_pipeline_open(core_config *cfg, core_pipeline **out);
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
 *   where resume (borrowed, may be NULL: {format: {path, size, meta_path,
 *   meta_size}} of a checkpoint) says so.  Returns SYNTH_OK or SYNTH_EIO.
 * create(): live, create the files start() named, once the checkpoint
 *   records their names.  Returns SYNTH_OK, or SYNTH_EIO with why.
 * line(): one input line (borrowed) of the input called name, from byte
 *   offset off of replayable source src (0: not replayable).
 * tick(): take the lines so far, close the sessions idle for
 *   session.idle_timeout_ms of wall clock (now_ms), push the files out.
 * process(): close every open session now and flush every formatter.
 * clear(): drop the open sessions unwritten, and the records formatters
 *   hold back (how many in *records); returns how many sessions.
 * finish(): end of input: flush, and publish (batch) or close (live);
 *   rc is how reading went.  Returns as core_pipeline_run.
 * status(): the counts `synthhost ctl status` shows (new reference).
 * drain(): wait until the formatters' thread (threads = 2) has done every
 *   session handed to it: before reading counters or output files, or
 *   taking a checkpoint.  tick, process, clear and save drain first. */
int core_pipeline_start(core_pipeline *p, int live, json_t *resume);
int core_pipeline_create(core_pipeline *p, core_strbuf *why);
void core_pipeline_line(core_pipeline *p, const char *name,
                        unsigned long long line_no, unsigned src,
                        unsigned long long off, const char *line, size_t len);
void core_pipeline_tick(core_pipeline *p, long long now_ms);
void core_pipeline_process(core_pipeline *p);
size_t core_pipeline_clear(core_pipeline *p, unsigned long long *records);
/* Live checkpoints hook in before the first line (h is copied). */
void core_pipeline_hook(core_pipeline *p, const core_pipeline_hooks *h);
/* What a checkpoint records, after a drain:
 * lines(): input lines taken so far; records(): records written so far,
 *   all formats; watermark(): the offset of the first line of the oldest
 *   open session of replayable source src (ULLONG_MAX when none);
 *   clock(): the sessionizer's event clock (-1 none);
 * sync(): every output file synced to disk, as {format: {path, size,
 *   meta_path, meta_size}} (new reference) in *outputs; a file that was
 *   never created (its name taken) is left out.  Returns SYNTH_OK, or
 *   SYNTH_EIO with why and *outputs NULL. */
unsigned long long core_pipeline_lines(const core_pipeline *p);
unsigned long long core_pipeline_records(const core_pipeline *p);
unsigned long long core_pipeline_watermark(const core_pipeline *p,
                                           unsigned src);
long long core_pipeline_clock(const core_pipeline *p);
int core_pipeline_sync(core_pipeline *p, json_t **outputs, core_strbuf *why);
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
/* Free everything, p itself too; NULL-safe. */
void core_pipeline_close(core_pipeline *p);

#endif
