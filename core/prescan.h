/*
 * prescan.h -- the cheap look at a line: which context, ref, id, done and
 * timestamp it carries, found by walking the JSON text without building
 * anything.
 *
 * Most lines of a real agent log are streamed partials that a later line
 * with the same id supersedes; the reader prescans a window of lines and
 * parses only the last version of each element.  The walk checks the
 * line's JSON structure (balanced, strings terminated, escapes and
 * literals valid), so a broken line is never mistaken for a skippable one;
 * it does not validate UTF-8 (jansson does, on the lines it parses).
 */
#ifndef CORE_PRESCAN_H
#define CORE_PRESCAN_H

#include <stddef.h>

#include "reader.h"

typedef struct core_scan {
    const char *ctx;      /* borrowed from the line: contextId */
    size_t ctx_len;
    const char *type;     /* contextType, or NULL */
    size_t type_len;
    const char *id;       /* the log's id, or NULL */
    size_t id_len;
    core_ref ref;
    int done;             /* the done flag; 1 when absent */
    long long ts;         /* the log's timestamp, -1 when absent */
} core_scan;

/* Scan one line.  Returns SYNTH_OK when it is structurally valid JSON with
 * a contextId, a ref and (for the ref) an id, all without escapes, so the
 * spans equal what the parser would decode; SYNTH_EINVAL otherwise (the
 * caller then parses it, and reports it if it is broken). */
int core_prescan(const char *line, size_t len, core_scan *out);

#endif
