/*
 * control.h -- the control protocol of a realtime run, and its client.
 *
 * A control client sends one JSON object per line and gets one JSON
 * object per line back:
 *   status                  counters, files, inputs read, uptime,
 *                           last error
 *   process {analyze}       close and write every open session now
 *   export {format}         process, then name the file of that format
 *                           (export_all_episodes: the spec's name for it)
 *   configure {key: value}  the running config with those keys replaced,
 *                           validated like the file, switched to
 *   analyze {path}          `synthhost analyze PATH`
 *   clear                   drop the open sessions unwritten
 * Every answer has "ok"; a refused request has "ok": false and "error".
 * live.c owns the socket and the connections; this file only turns a
 * request into an answer, through the pipeline's public functions.
 */
#ifndef CORE_CONTROL_H
#define CORE_CONTROL_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "pipeline.h"

/* What a request may read and change (all borrowed, valid for one call). */
typedef struct core_control {
    core_pipeline *p;          /* the running pipeline */
    core_config *cfg;          /* its config */
    const char *config_path;   /* the file that config came from */
    double uptime_s;           /* how long the service has run */
    const char *last_error;    /* "" when none */
    json_t *inputs;            /* the followed files: [{path, device,
                                  inode, offset}], offset the bytes read
                                  as whole lines; NULL when none */
    /* Switch the service to next (stolen).  Returns SYNTH_OK, or
     * SYNTH_ECONFIG (refused, reported, the old config runs) or
     * SYNTH_EIO (switched, its files could not be made: reported). */
    int (*reconfigure)(void *user, core_config *next);
    void *user;
} core_control;

/* Answer one request line (borrowed, without its newline).  Returns the
 * answer (new reference; never NULL). */
json_t *core_control_answer(const core_control *c, const char *line,
                            size_t len);

/* The `synthhost ctl` client: send one request (a JSON object, borrowed)
 * to the control socket at path and print the answer line on stdout.
 * Returns SYNTH_OK when the answer says "ok": true, SYNTH_EINVAL when it
 * says false, SYNTH_EIO when the socket cannot be used (said on stderr). */
int core_control_send(const char *path, json_t *request);

#endif
