/*
 * writer.h -- one output file per format, published atomically.
 *
 * Records go to a hidden temporary file in the output directory; commit
 * flushes it to disk and links it to <dir>/<format>-<stamp>.jsonl (never
 * over an existing file: -2, -3, ... are appended on a clash), so a reader
 * never sees half a file and an interrupted run leaves none.  With a
 * sidecar, line n of <file>.meta describes record n of <file>.
 */
#ifndef CORE_WRITER_H
#define CORE_WRITER_H

#include <jansson.h>
#include <stdio.h>

#include "strbuf.h"

typedef struct core_writer {
    char *dir;          /* owned */
    char *base;         /* owned: "<format>-<stamp>" */
    char *tmp;          /* owned: temporary path of the records */
    char *meta_tmp;     /* owned: temporary path of the sidecar, or NULL */
    char *path;         /* owned: final path, set by commit or choose */
    char *meta_path;    /* owned: final sidecar path, with path */
    FILE *fp;           /* owned */
    FILE *meta;         /* owned, or NULL */
    unsigned long long records;
    long long batch;    /* flush every `batch` records */
    int error;          /* errno of the first write failure, or 0 */
    int live;           /* writing the final file directly (realtime) */
    int sidecar;        /* with a <file>.meta beside the records */
    core_strbuf line;   /* owned: the line being written */
    size_t unsynced[2]; /* bytes written since writeback was started:
                           records, sidecar */
    core_strbuf pending[2]; /* owned, live: whole lines not written yet
                               (records, sidecar); core_writer_flush */
} core_writer;

/* Create the temporary file(s) for format in dir (created if missing).
 * Returns SYNTH_OK, or SYNTH_EIO with the reason in *why. */
int core_writer_open(core_writer *w, const char *dir, const char *format,
                     const char *stamp, int sidecar, long long batch,
                     core_strbuf *why);
/* Live output (realtime mode), step one: choose the final name
 * <dir>/<format>-<stamp>[-n].jsonl (a free one; w->path, and w->meta_path
 * with a sidecar) without creating anything, so the caller can record
 * the name in its checkpoint before the file exists: a run killed in
 * between then leaves no file that no checkpoint knows.  Returns SYNTH_OK,
 * or SYNTH_EIO with the reason. */
int core_writer_open_live(core_writer *w, const char *dir, const char *format,
                          const char *stamp, int sidecar, core_strbuf *why);
/* Step two: create the chosen file(s) (never over an existing one) and
 * append records to them in writes of whole lines (at every
 * core_writer_flush, i.e. every poll, or every 64 KB), so a reader never
 * sees half a line.  Does nothing for files already open.  Returns
 * SYNTH_OK, or SYNTH_EIO with the reason. */
int core_writer_create_live(core_writer *w, core_strbuf *why);
/* Live output after a crash: state (borrowed) is what core_writer_sync
 * gave the checkpoint.  Append to the existing file at its path again,
 * cut back to `size` bytes (what was committed; a missing file is created
 * when that is 0); the same for the sidecar when meta_path is set.
 * Returns SYNTH_OK or SYNTH_EIO with the reason. */
int core_writer_reopen_live(core_writer *w, const char *dir, json_t *state,
                            core_strbuf *why);
/* Live output: sync to disk and set *state to what a checkpoint keeps
 * and core_writer_reopen_live takes: {path, size, meta_path, meta_size},
 * the committed sizes of the file and its sidecar (new reference).
 * Returns SYNTH_OK, or SYNTH_EIO with the reason (and *state NULL). */
int core_writer_sync(core_writer *w, json_t **state, core_strbuf *why);
/* Append record (borrowed) as one line, and meta (borrowed, may be NULL)
 * to the sidecar.  Returns SYNTH_OK or SYNTH_EIO (also remembered). */
int core_writer_put(core_writer *w, json_t *record, json_t *meta);
/* A sidecar line without a record (a session skipped, with why); nothing
 * without a sidecar.  Returns as core_writer_put. */
int core_writer_note(core_writer *w, json_t *meta);
/* Push buffered lines to the file now (live output gathers whole lines
 * and writes them here, or every 64 KB).  Returns SYNTH_OK or
 * SYNTH_EIO. */
int core_writer_flush(core_writer *w);
/* Push buffered lines out and start writing them back to disk without
 * waiting, so the syncs of core_writer_finish (one file after another)
 * find the work done.  Returns SYNTH_OK or SYNTH_EIO. */
int core_writer_writeback(core_writer *w);
/* Flush, sync and publish under the final name (w->path); for live output
 * flush, sync and close.  Returns
 * SYNTH_OK, or SYNTH_EIO with the reason (the temporary files are then
 * removed). */
int core_writer_commit(core_writer *w, core_strbuf *why);
/* The steps of core_writer_commit, for a publish that spans several
 * writers (see checkpoint.h):
 * finish(): flush, sync and close the temporary files;
 * choose(): set w->path (and w->meta_path) to the first free final name
 *   (free for the sidecar too);
 * link(): give the temporary files their final names (never over an
 *   existing file) and remove the temporary names.
 * Each returns SYNTH_OK or SYNTH_EIO with the reason in *why. */
int core_writer_finish(core_writer *w, core_strbuf *why);
int core_writer_choose(core_writer *w, core_strbuf *why);
int core_writer_link(core_writer *w, core_strbuf *why);
/* fsync a directory, so new names in it survive a crash. */
void core_writer_sync_dir(const char *dir);
/* Remove the temporary files and free everything; NULL-safe, safe after
 * commit (then it only frees). */
void core_writer_free(core_writer *w);
/* Write the current UTC time as "YYYYMMDDTHHMMSSZ" into buf[32]. */
void core_writer_stamp(char buf[32]);

#endif
