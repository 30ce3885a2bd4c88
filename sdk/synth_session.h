/*
 * synth_session.h -- header-only helpers for reading the session model
 * (described in synth_plugin.h).  Optional: everything here is plain
 * jansson on the documented fields, inlined into the plugin, so it adds
 * nothing to the ABI.
 */
#ifndef SYNTH_SESSION_H
#define SYNTH_SESSION_H

#include <string.h>
#include <jansson.h>

#include "synth_plugin.h"

/* Return obj[key] as a C string (borrowed from obj), or NULL when absent
 * or not a string. */
static inline const char *synth_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Return 1 when s is NULL or only white space. */
static inline int synth_blank(const char *s)
{
    if (s == NULL)
        return 1;
    for (; *s; s++)
        if (!strchr(" \t\r\n\v\f", *s))
            return 0;
    return 1;
}

/* Return the text of a turn's user input (borrowed), or NULL when the
 * turn has no input or its text is blank. */
static inline const char *synth_turn_input_text(const json_t *turn)
{
    const char *t = synth_str(json_object_get(turn, "input"), "text");
    return synth_blank(t) ? NULL : t;
}

/* Return the output that answers a turn: the last one whose status is
 * "final" and whose text is not blank (borrowed), or NULL. */
static inline json_t *synth_turn_final_output(const json_t *turn)
{
    json_t *outputs = json_object_get(turn, "outputs");
    for (size_t i = json_array_size(outputs); i > 0; i--) {
        json_t *o = json_array_get(outputs, i - 1);
        const char *status = synth_str(o, "status");
        if (status && strcmp(status, "final") == 0 &&
            !synth_blank(synth_str(o, "text")))
            return o;
    }
    return NULL;
}

/* Emit a record built with json_pack (which returns NULL when out of
 * memory): record and lineage are stolen, as by host->emit().  Returns
 * SYNTH_OK, or the failure already described through host->error(). */
static inline int synth_emit_built(const synth_host_api *host, synth_ctx *ctx,
                                   json_t *record, json_t *lineage)
{
    if (record == NULL) {
        json_decref(lineage);
        return host->error(ctx, SYNTH_ENOMEM, "cannot build a record");
    }
    int rc = host->emit(ctx, record, lineage);
    return rc == SYNTH_OK ? SYNTH_OK
                          : host->error(ctx, rc, "emit failed: %s",
                                        synth_strerror(rc));
}

#endif
