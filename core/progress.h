/*
 * progress.h -- a long batch run shows how far it is, in place on one
 * stderr line, like other data tools: bytes read of the total, MB/s,
 * records written and the time left.
 *
 *   synthhost: 412.0 of 1024.0 MB (40%), 91.3 MB/s, 160233 records, 6 s left
 *
 * Only when stderr is a terminal and the run is not quiet (-q); nothing
 * at all otherwise, so logs and pipes never see it.  The line is redrawn
 * at most four times a second and erased when the run ends, before the
 * summary.
 */
#ifndef CORE_PROGRESS_H
#define CORE_PROGRESS_H

#include <stddef.h>

typedef struct core_progress {
    int on;                       /* stderr is a terminal, not quiet */
    unsigned long long total;     /* bytes of every input; 0: unknown
                                     (stdin) */
    long long start_ms, shown_ms; /* monotonic clock */
    long long interval_ms;        /* between drawings: 250, or
                                     SYNTH_PROGRESS_MS (for the tests) */
    int drawn;                    /* a line is on the screen */
} core_progress;

/* Start showing progress of reading the n files at paths (borrowed; "-"
 * is stdin, whose size is unknown: then no total is shown).  Never fails;
 * does nothing when stderr is not a terminal or the run is quiet. */
void core_progress_start(core_progress *pr, char *const *paths, size_t n);
/* Bytes read so far and records written so far: redrawn when a quarter
 * of a second has passed since the last drawing.  Cheap when not. */
void core_progress_update(core_progress *pr, unsigned long long bytes,
                          unsigned long long records);
/* Erase the line.  NULL-safe. */
void core_progress_end(core_progress *pr);

#endif
