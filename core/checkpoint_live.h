/*
 * checkpoint_live.h -- exactly-once realtime runs: the live checkpoint.
 *
 * Once before anything is written, and after every tick that read lines or
 * wrote records, the output files are synced and .synthhost-live.json in
 * the output directory records: for each followed file its dev/ino, the
 * offset to replay from (the first line of the oldest open session, or
 * all it consumed) and how far it had read ("end"); the committed size of
 * each output file; the event clock; the state formatters hold across
 * sessions (ABI 1.1 save); and the sessions written whose last line is
 * past the replay point (core_written, below).  A restart after kill -9
 * cuts the files back to the committed sizes, restores the formatters'
 * state and replays each file from its offset, where:
 *   - lines of written sessions that began before the offset are dropped
 *     (owned), since those sessions cannot be rebuilt whole;
 *   - a replayed session closes after the last line it had (ended), and a
 *     part cut by a cap is cut again by the same cap (parts share the
 *     offset of part 0, so a chain replays as one);
 *   - up to "end" no eviction or idle close happens that the run before
 *     did not make (replaying), since every close it made is known;
 *   - sessions it wrote are not written again (the pipeline asks
 *     replayed).
 * So every record is written once.  Lines from the listen socket cannot
 * be replayed (at most once).
 *
 * live.c owns one core_live_checkpoint for the whole service; it reaches
 * the pipeline only through pipeline.h.  Every function is a no-op when
 * the config says checkpoint = false.
 */
#ifndef CORE_CHECKPOINT_LIVE_H
#define CORE_CHECKPOINT_LIVE_H

#include <jansson.h>

#include "config.h"
#include "follow.h"
#include "pipeline.h"
#include "session.h"
#include "strbuf.h"

/* A session the run wrote, as the checkpoint keeps it. */
typedef struct core_written {
    char *context;            /* owned: the context id before privacy */
    core_session_origin o;    /* where its lines came from, its part */
    int cap;                  /* closed by a size cap (a replay cuts it
                                 again by the same cap) */
} core_written;

/* w as {"context", "src", "first", "last", "part", "cap"} (new
 * reference). */
json_t *core_written_to_json(const core_written *w);
/* Read w (its context owned by the caller, core_free) from j: the object
 * above, or the positional array [context, src, first, last, part, cap]
 * that checkpoints of version 0.1 wrote.  Returns SYNTH_OK, or
 * SYNTH_EINVAL (w untouched) when j is neither or names no replayable
 * source. */
int core_written_from_json(json_t *j, core_written *w);

/* The checkpoint of one live service (opaque). */
typedef struct core_live_checkpoint core_live_checkpoint;

/* A checkpoint for cfg (borrowed until the next reset or the free).
 * Never fails. */
core_live_checkpoint *core_live_checkpoint_new(const core_config *cfg);
/* After a crash: take the state the run before left in the output
 * directory, when it was made with this config (another config's is
 * said and ignored).  Returns 1 when there was one, 0 otherwise. */
int core_live_checkpoint_load(core_live_checkpoint *ck);
/* What the run before wrote, for core_pipeline_start's resume, and its
 * formatters' state, for core_pipeline_restore: borrowed until the free,
 * NULL when there is no run before. */
json_t *core_live_checkpoint_outputs(const core_live_checkpoint *ck);
json_t *core_live_checkpoint_plugins(const core_live_checkpoint *ck);
/* Register the next followed file (borrowed until the free; call in input
 * order, numbered 1.. as replayable sources) and resume it where the run
 * before had read it when it is the same path. */
void core_live_checkpoint_follow(core_live_checkpoint *ck, core_follow *f);
/* A followed file had nothing more to read: its replay is over. */
void core_live_checkpoint_caught_up(core_live_checkpoint *ck, unsigned src);
/* Hook a started pipeline (borrowed until the next attach or reset) so
 * it skips what the run before wrote and reports what it writes. */
void core_live_checkpoint_attach(core_live_checkpoint *ck, core_pipeline *p);
/* Sync the output files and record where the run is, unless nothing
 * changed since the last save (force: even then).  Returns SYNTH_OK when
 * written, not needed or off; SYNTH_EIO with the reason in why (the
 * checkpoint before stays: a restart replays from there). */
int core_live_checkpoint_save(core_live_checkpoint *ck, int force,
                              core_strbuf *why);
/* A new config (borrowed) runs: forget the run before and every written
 * session; the followed files stay. */
void core_live_checkpoint_reset(core_live_checkpoint *ck,
                                const core_config *cfg);
/* Free everything; NULL-safe. */
void core_live_checkpoint_free(core_live_checkpoint *ck);

#endif
