/*
 * synth_options.h -- read every option of a plugin into its config struct
 * in one call, the fluent-bit config-map way, without an ABI change.
 *
 * The option table (synth_option, in synth_plugin.h) stays what the host
 * validates and `synthhost plugins` prints.  Beside it a plugin lists
 * where each value goes in its struct:
 *
 *   typedef struct { int enabled; long long group_size; const char *system;
 *                    json_t *contexts; } my_config;
 *   static const synth_option_field my_fields[] = {
 *       SYNTH_FIELD(my_config, enabled, "preferences"),
 *       SYNTH_FIELD(my_config, group_size, "group_size"),
 *       SYNTH_FIELD(my_config, system, "system"),
 *       SYNTH_FIELD(my_config, contexts, "contexts"),
 *       SYNTH_FIELD_END};
 *
 *   rc = synth_options_fill(host, ctx, my_options, my_fields, cfg);
 *
 * The member's C type follows the option's type: BOOL int, INT long long,
 * FLOAT double, STRING and PATH const char *, LIST and JSON json_t *.
 * Strings and JSON values are borrowed from the host and valid for the
 * instance's life.  An option that is unset and has no default leaves its
 * member untouched (zero it first).
 *
 * Optional, like synth_session.h: inlined into the plugin, no ABI.
 */
#ifndef SYNTH_OPTIONS_H
#define SYNTH_OPTIONS_H

#include <stddef.h>
#include <string.h>

#include "synth_plugin.h"

/* Where the value of the option called name goes: offset bytes into the
 * plugin's config struct. */
typedef struct synth_option_field {
    const char *name;
    size_t offset;
} synth_option_field;

#define SYNTH_FIELD(type, member, option_name) \
    {(option_name), offsetof(type, member)}
#define SYNTH_FIELD_END {NULL, 0}

/* Read one option of type `type` into the member at p.  Returns what the
 * host's getter returns. */
static inline int synth_option_read(const synth_host_api *host,
                                    synth_ctx *ctx, const char *name,
                                    int type, void *p)
{
    switch (type) {
    case SYNTH_OPT_BOOL: return host->opt_bool(ctx, name, (int *)p);
    case SYNTH_OPT_INT: return host->opt_int(ctx, name, (long long *)p);
    case SYNTH_OPT_FLOAT: return host->opt_float(ctx, name, (double *)p);
    case SYNTH_OPT_STRING:
    case SYNTH_OPT_PATH: return host->opt_string(ctx, name, (const char **)p);
    default: return host->opt_json(ctx, name, (json_t **)p);
    }
}

/* Fill config (the plugin's struct) with every option fields names, each
 * read as its type in table says.  Call from create().  Returns SYNTH_OK;
 * or an error already described through host->error: SYNTH_ENOTFOUND when
 * a field names no option of the table (a bug in the plugin), else the
 * getter's code. */
static inline int synth_options_fill(const synth_host_api *host,
                                     synth_ctx *ctx,
                                     const synth_option *table,
                                     const synth_option_field *fields,
                                     void *config)
{
    for (size_t f = 0; fields[f].name; f++) {
        const synth_option *o = table;
        while (o->name && strcmp(o->name, fields[f].name) != 0)
            o++;
        if (o->name == NULL)
            return host->error(ctx, SYNTH_ENOTFOUND,
                               "field for \"%s\", which the option table "
                               "does not declare",
                               fields[f].name);
        int rc = synth_option_read(host, ctx, o->name, o->type,
                                   (char *)config + fields[f].offset);
        if (rc == SYNTH_ENOTFOUND && o->default_value == NULL &&
            !(o->flags & SYNTH_OPT_REQUIRED))
            continue; /* unset, no default: the member stays as it was */
        if (rc != SYNTH_OK)
            return host->error(ctx, rc, "cannot read option \"%s\"", o->name);
    }
    return SYNTH_OK;
}

#endif
