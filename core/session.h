/*
 * session.h -- the sessionizer: events -> sessions of turns.
 *
 * Events are grouped by contextId into sessions (the JSON model documented
 * in sdk/synth_plugin.h).  Streamed partials are upserted by id (the last
 * version wins, a final line is never overwritten by a late partial),
 * action results and error events are joined with their calls in any
 * order, and object content is reduced to text, so no plugin deals with
 * raw lines.
 *
 * Memory is bounded by the open sessions, never by the input: a session is
 * handed to the sink and forgotten when it closes -- at end of input, after
 * an idle gap in event time, at a run boundary once it reached the turn or
 * byte cap (the rest continues as a new "part"), or when too many sessions
 * are open (the least recently active one is closed).
 */
#ifndef CORE_SESSION_H
#define CORE_SESSION_H

#include <jansson.h>

#include "reader.h"

typedef enum {
    CORE_CLOSE_END = 0,   /* end of input / explicit flush */
    CORE_CLOSE_IDLE,      /* no event for idle_gap_ms of event time */
    CORE_CLOSE_CAP,       /* reached max_turns or max_bytes */
    CORE_CLOSE_EVICT,     /* more than max_open sessions were open */
    CORE_CLOSE_COUNT
} core_close_reason;

typedef struct core_session_limits {
    long long idle_gap_ms;   /* <= 0: never close for idleness */
    size_t max_turns;        /* turns per part; 0: unlimited */
    size_t max_bytes;        /* log bytes per part; 0: unlimited */
    size_t max_open;         /* open sessions at once; 0: unlimited */
    long long idle_timeout_ms; /* live: wall clock without events; 0 off */
    long long open_turn_timeout_ms; /* both idle closes wait at least this
                                       long for a session whose last turn
                                       is open (see core_sessionizer_cut) */
} core_session_limits;

typedef struct core_session_stats {
    unsigned long long events[CORE_REF_COUNT]; /* by ref */
    unsigned long long sessions;               /* closed sessions */
    unsigned long long closed[CORE_CLOSE_COUNT];
    unsigned long long turns;
    unsigned long long duplicates;   /* repeated ids of one-shot refs */
    unsigned long long orphans;      /* calls known only from a result or an
                                        error event: their line never came */
    unsigned long long open_turns_cut;  /* sessions closed while their last
                                           turn was open */
    unsigned long long open_turns_carried; /* of those, continued by a
                                              later part with the input */
    size_t open_peak;
} core_session_stats;

/* Receives each closed session; session is stolen. */
typedef void (*core_session_sink)(json_t *session, core_close_reason why,
                                  void *user);

typedef struct core_sessionizer core_sessionizer;

/* Return a new sessionizer (never NULL).  limits is copied; user is
 * borrowed and handed to sink. */
core_sessionizer *core_sessionizer_new(const core_session_limits *limits,
                                       core_session_sink sink, void *user);
/* Add one event (borrowed: the sessionizer takes its own references to
 * what it keeps).  May close sessions, calling the sink. */
void core_sessionizer_add(core_sessionizer *z, const core_event *ev);
/* Note a streamed line (thought, action_call or output) that a later line
 * with the same id supersedes, without its content: the element takes its
 * place in the order of the session now (as its first line would give
 * it), the later line fills it in.  Strings are borrowed.  ts: the line's
 * timestamp or -1. */
void core_sessionizer_touch(core_sessionizer *z, const char *context_id,
                            const char *context_type, core_ref ref,
                            const char *id, long long ts);
/* Close every open session (reason CORE_CLOSE_END), calling the sink:
 * the end of the input. */
void core_sessionizer_flush(core_sessionizer *z);
/* Close every open session now (reason CORE_CLOSE_END) although more of
 * them may come: a live `process`.
 *
 * Open turns.  A turn is open while it waits for its answer: it began (a
 * run or an input) and its latest step left a call pending, called an
 * action (the agent runs another step with the results) or has no final
 * output.  Agents wait minutes for tools, so neither idle close
 * (idle_gap_ms, idle_timeout_ms) closes a session whose last turn is open
 * before open_turn_timeout_ms, and eviction takes a session without an
 * open turn when one of the least recently active few has none.  When a
 * session is closed with its last turn open anyway (a cut, eviction, the
 * longer timeout), that turn's id and input are kept, and the context's
 * next event opens the next part with them, so the answer that comes
 * later still has its instruction.  At most max_open turns are kept (the
 * oldest is dropped first); a replay after a crash does not rebuild them. */
void core_sessionizer_cut(core_sessionizer *z);
/* Positions, for checkpoints of followed files: the source (1.., 0 for
 * none) and byte offset of the line whose event is added next.  A session
 * remembers where its first and last lines came from. */
void core_sessionizer_at(core_sessionizer *z, unsigned src,
                         unsigned long long pos);
/* Where a session came from, for replay after a crash: the source (1..;
 * 0: not replayable), the offsets of its first and last lines, and its part
 * (a session cut by max_turns/max_bytes continues as part 1, 2, ..; the
 * parts share the first offset, so a replay rebuilds them in one go). */
typedef struct {
    unsigned src;
    unsigned long long first, last;
    int part;
} core_session_origin;
/* In the sink: the origin of the session being closed.  Returns 1, or 0
 * when it has no replayable source. */
int core_sessionizer_closing(const core_sessionizer *z, core_session_origin *o);
/* The offset of the first line of the oldest open session from src, or
 * ULLONG_MAX when none is open: replaying src from there rebuilds every
 * open session. */
unsigned long long core_sessionizer_watermark(const core_sessionizer *z,
                                              unsigned src);
/* Replay after a crash, answered from the checkpoint of the run before:
 *   ended(ctx, o): the offset of the last line of the session (ctx,
 *     o->src, o->first, o->part) when the run before closed it other than
 *     by a cap, else -1; it is closed after that line again.
 *   owned(ctx, src, pos): 1 when the line belongs to a session that began
 *     before the replay point and was written: its event is dropped.
 *   replaying(src, pos): 1 while the replay is before the point the run
 *     before had checkpointed: no eviction or idle closes there, since
 *     every close it made is known to ended().  src 0: whether any source
 *     is still replaying (no wall-clock idle closes until it is done).
 * The struct is copied; user is borrowed. */
typedef struct {
    void *user;
    long long (*ended)(void *user, const char *ctx,
                       const core_session_origin *o);
    int (*owned)(void *user, const char *ctx, unsigned src,
                 unsigned long long pos);
    int (*replaying)(void *user, unsigned src, unsigned long long pos);
} core_session_replay;
void core_sessionizer_replay(core_sessionizer *z, const core_session_replay *r);
/* The latest event time seen (ms, -1 none), saved and restored with a
 * checkpoint so idle-gap closes after a replay match the run before. */
long long core_sessionizer_clock(const core_sessionizer *z);
void core_sessionizer_set_clock(core_sessionizer *z, long long clock);
/* Live input: the wall clock (ms) that events arriving now are stamped
 * with, for core_sessionizer_close_stale. */
void core_sessionizer_set_now(core_sessionizer *z, long long now_ms);
/* Close (through the sink, reason CORE_CLOSE_IDLE) every session whose
 * last event arrived more than timeout_ms of wall clock ago -- more than
 * open_turn_timeout_ms when that is longer and its last turn is open.
 * Returns how many. */
size_t core_sessionizer_close_stale(core_sessionizer *z, long long timeout_ms);
/* Drop every open session without the sink.  Returns how many. */
size_t core_sessionizer_clear(core_sessionizer *z);
/* Return the number of open sessions. */
size_t core_sessionizer_open(const core_sessionizer *z);
/* Return the counters (borrowed, live). */
const core_session_stats *core_sessionizer_stats(const core_sessionizer *z);
/* Free the sessionizer; open sessions are discarded without the sink.
 * NULL-safe. */
void core_sessionizer_free(core_sessionizer *z);

#endif
