/*
 * checkpoint.h -- exactly-once batch runs.
 *
 * A batch run publishes all its files or none.  To make that hold across
 * a crash (kill -9 at any moment) the output directory keeps two files:
 *
 *   .synthhost-publish.json  written (atomically) just before the files
 *                            are given their final names: which temporary
 *                            file becomes which final file.  A run that
 *                            finds it finishes that publish first (roll
 *                            forward): every record of the crashed run
 *                            ends up published once.
 *   .synthhost-state.json    the runs that completed: a fingerprint of the
 *                            config and the identity of each input (device,
 *                            inode, size, modification time) with the files
 *                            they produced.  Running again with the same
 *                            config on the same inputs writes nothing a
 *                            second time.
 *
 * Temporary files of a crashed run (whose process is gone) are removed.
 * A run killed before it published leaves nothing but those: the next
 * run starts the input again from its beginning.
 */
#ifndef CORE_CHECKPOINT_H
#define CORE_CHECKPOINT_H

#include <jansson.h>

#include "config.h"
#include "strbuf.h"
#include "writer.h"

/* A fingerprint of the config: its file's bytes and the command line's
 * output and plugin directories (owned string). */
char *core_checkpoint_fingerprint(const core_config *cfg);
/* Write v to dir/name atomically (temporary file, fsync, rename), as
 * json_dumps writes it with flags.  Returns SYNTH_OK or SYNTH_EIO with
 * the reason. */
int core_checkpoint_write(const char *dir, const char *name, json_t *v,
                          size_t flags, core_strbuf *why);
/* The fingerprint and inputs of this run (new reference), or NULL when an
 * input is stdin or missing (nothing to remember then). */
json_t *core_checkpoint_identity(const core_config *cfg);
/* Finish a publish a crash interrupted and remove dead runs' temporary
 * files.  Returns SYNTH_OK, or SYNTH_EIO with the reason. */
int core_checkpoint_recover(const char *dir, core_strbuf *why);
/* Return the files of a completed run with this identity whose files all
 * still exist (new reference), or NULL when there is none. */
json_t *core_checkpoint_find(const char *dir, json_t *identity);
/* Publish the writers' finished temporary files under their final names,
 * exactly once even if the process dies in the middle, and record the run
 * (identity may be NULL: then nothing is recorded).  Returns SYNTH_OK or
 * SYNTH_EIO with the reason. */
int core_checkpoint_publish(const char *dir, core_writer *w, size_t n,
                            json_t *identity, core_strbuf *why);

#endif
