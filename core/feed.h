/*
 * feed.h -- log lines into the sessionizer, parsing as few as possible.
 *
 * Lines are taken in windows (1024 lines or 256 KiB).  Each is prescanned
 * (prescan.h); a streamed partial whose id comes again later in the same
 * window is superseded, so it is not parsed: the sessionizer only learns
 * that the element exists (core_sessionizer_touch), which keeps its place
 * in the session's order.  Every other line is parsed with jansson and
 * added.  The sessions that come out are the same, byte for byte, as when
 * every line is parsed (skip = 0).
 *
 * The feed does not call the sessionizer itself: each window becomes a
 * batch of parsed events and notes, handed to a deliver callback -- which
 * applies it at once (one thread) or passes it to the pipeline thread --
 * so parsing and sessionizing can run on different cores, in the same
 * order.
 *
 * Broken lines are reported as NAME:LINE: reason (the first 100) and
 * counted; blank lines are counted.
 */
#ifndef CORE_FEED_H
#define CORE_FEED_H

#include <stddef.h>

#include "session.h"

typedef struct core_input_stats {
    unsigned long long lines, bytes, blank, bad, repaired, parsed, skipped;
} core_input_stats;

typedef struct core_feed core_feed;
/* A window's worth of sessionizer work, in line order. */
typedef struct core_batch core_batch;

/* Receives each batch (stolen). */
typedef void (*core_feed_deliver)(core_batch *batch, void *user);

/* Return a feed that counts into *stats (borrowed) and hands its batches
 * to deliver(batch, user); skip = 0 parses every line. */
core_feed *core_feed_new(int skip, core_feed_deliver deliver, void *user,
                         core_input_stats *stats);
/* Apply a batch to z (borrowed) and free it. */
void core_batch_apply(core_batch *batch, core_sessionizer *z);
/* Free a batch unapplied; NULL-safe. */
void core_batch_free(core_batch *batch);
/* Take one line (copied) of the input called name (borrowed until the
 * next core_feed_flush), line number line_no, which began at byte offset
 * off of replayable source src (0: a source that cannot be replayed).
 * May process a window. */
void core_feed_line(core_feed *f, const char *name, unsigned long long line_no,
                    unsigned src, unsigned long long off, const char *line,
                    size_t len);
/* Count a line that was too long to read (reported as bad). */
void core_feed_overlong(core_feed *f, const char *name,
                        unsigned long long line_no, size_t limit);
/* Process every line taken so far and deliver the batch (call at the end
 * of each input). */
void core_feed_flush(core_feed *f);
/* Free; NULL-safe (pending lines are dropped: flush first). */
void core_feed_free(core_feed *f);

#endif
