/*
 * reader.h -- one log line -> one normalised event.
 *
 * This is the only place that knows the Daydreams line format: an envelope
 * {"contextId", "contextType", "log": {...}, "done"} or a bare log object
 * that carries its own contextId.  Everything after it (sessionizer,
 * plugins) sees core_event values.  Other agents' trace formats will be
 * other readers producing the same events.
 */
#ifndef CORE_READER_H
#define CORE_READER_H

#include <jansson.h>
#include <stddef.h>

#include "strbuf.h"

typedef enum {
    CORE_REF_UNKNOWN = 0,
    CORE_REF_INPUT,
    CORE_REF_OUTPUT,
    CORE_REF_THOUGHT,
    CORE_REF_ACTION_CALL,
    CORE_REF_ACTION_RESULT,
    CORE_REF_EVENT,
    CORE_REF_STEP,
    CORE_REF_RUN,
    CORE_REF_COUNT
} core_ref;

/* Return the log spelling of a ref ("action_call"), "unknown" for
 * CORE_REF_UNKNOWN. */
const char *core_ref_name(core_ref ref);

typedef struct core_event {
    json_t *root;             /* owned: the parsed line */
    json_t *log;              /* borrowed from root: the log object */
    const char *context_id;   /* borrowed from root; never NULL */
    const char *context_type; /* borrowed from root, or NULL if absent */
    const char *ref_name;     /* borrowed from root; the raw ref */
    core_ref ref;
    const char *id;           /* borrowed from root; NULL only for step
                                 and unknown refs */
    int done;                 /* the envelope's done flag (1 if absent) */
    int repaired;             /* invalid UTF-8 was replaced by U+FFFD */
    size_t bytes;             /* length of the line */
} core_event;

/* Parse one line into *ev.  Returns SYNTH_OK (ev->root then owns the
 * parse; release it with core_event_clear), or SYNTH_EINVAL with the
 * reason appended to *why (ev is then empty). */
int core_event_parse(const char *line, size_t len, core_event *ev,
                     core_strbuf *why);
/* Release what ev owns and zero it; NULL-safe. */
void core_event_clear(core_event *ev);

#endif
