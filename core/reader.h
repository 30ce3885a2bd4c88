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

/* The members of a log object the sessionizer reads, by name. */
typedef enum {
    CORE_F_REF = 0,        /* "ref" */
    CORE_F_ID,             /* "id" */
    CORE_F_CONTEXT_ID,     /* "contextId" */
    CORE_F_CONTEXT_TYPE,   /* "contextType" */
    CORE_F_DONE,           /* "done" */
    CORE_F_CONTENT,        /* "content" */
    CORE_F_DATA,           /* "data" */
    CORE_F_NAME,           /* "name" */
    CORE_F_CALL_ID,        /* "callId" */
    CORE_F_FORMATTED,      /* "formatted" */
    CORE_F_TYPE,           /* "type" */
    CORE_F_STEP,           /* "step" */
    CORE_F_TIMESTAMP,      /* "timestamp" */
    CORE_F_COUNT
} core_field;

/* One member of the log object: key (NUL-terminated) and value.  The
 * strings the reader itself reads (ref, id, contextId, contextType) are
 * kept as bytes, not as jansson values: value is then NULL and str holds
 * them (NUL-terminated). */
typedef struct core_member {
    const char *key;
    size_t key_len;
    json_t *value;
    const char *str;
    size_t str_len;
} core_member;

/* A parsed line.  The log object is kept as its members, not as a
 * jansson object: most lines need a handful of them by name (field[]),
 * and building, hashing and freeing two objects per line (envelope and
 * log) was a tenth of a run's time (perf, make bench). */
typedef struct core_event {
    core_member *log;         /* owned: the log object's members in line
                                 order, values owned; the block also holds
                                 the keys and strings */
    size_t nlog;
    json_t *field[CORE_F_COUNT]; /* borrowed from log: the member of that
                                    name (the last when repeated), or NULL;
                                    never set for ref, id, contextId and
                                    contextType (see core_member) */
    const char *context_id;   /* borrowed (from the block); never NULL */
    const char *context_type; /* borrowed, or NULL if absent */
    const char *ref_name;     /* borrowed: the raw ref */
    core_ref ref;
    const char *id;           /* borrowed; NULL only for step and unknown
                                 refs */
    int done;                 /* the envelope's done flag (1 if absent) */
    int repaired;             /* invalid UTF-8 was replaced by U+FFFD */
    size_t bytes;             /* length of the line */
} core_event;

/* Parse one line into *ev.  Accepts what json_loadb accepts (jsonin.h).
 * Returns SYNTH_OK (ev then owns the parse; release it with
 * core_event_clear), or SYNTH_EINVAL with the reason appended to *why (ev
 * is then empty). */
int core_event_parse(const char *line, size_t len, core_event *ev,
                     core_strbuf *why);
/* Return the whole log object, built from ev's members (a new
 * reference): for the rare line whose ref the sessionizer does not know,
 * kept as it is. */
json_t *core_event_log(const core_event *ev);
/* Release what ev owns and zero it; NULL-safe. */
void core_event_clear(core_event *ev);

#endif
