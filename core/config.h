/*
 * config.h -- synth.conf: load with libconfig, validate the core's keys.
 *
 * The core validates the keys it owns (see core_config below) and leaves
 * the sections that belong to plugins (capture, filters, privacy, plugins)
 * to plugin.c, which checks them against the plugins' option tables.  Every
 * problem is printed as "synthhost: error: FILE:LINE: message"; loading
 * reports all of them, then fails, before anything is written.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <jansson.h>
#include <libconfig.h>
#include <stddef.h>

#include "session.h"
#include "synth_plugin.h"

typedef struct core_config {
    char *path;               /* owned: the file as named, or NULL (none) */
    char *dir;                /* owned: its directory (relative paths) */
    config_t cfg;             /* owned: the parsed document */
    int loaded;               /* cfg holds a document to destroy */
    int enabled;              /* `enabled` (default true) */
    char **inputs;            /* owned: resolved `input` paths ("-" stdin) */
    size_t ninputs;
    char *output_dir;         /* owned: resolved `output_dir` */
    char *plugin_dir;         /* owned: resolved `plugin_dir`, or NULL */
    char **formats;           /* owned: `formats`, in config order */
    size_t nformats;
    long long batch_size;     /* `batch_size`: records per write batch */
    core_session_limits limits;   /* `session = {...}` */
    size_t max_line_bytes;    /* `max_line_bytes` */
    int sidecar;              /* `sidecar`: write <file>.meta lineage */
    int skip_superseded;      /* `skip_superseded`: do not parse streamed
                                 partials a later line replaces */
    int threads;              /* `threads`: 1 inline, 2 three stages */
    int realtime;             /* `mode = "realtime"` */
    int checkpoint;           /* `checkpoint`: exactly-once batch runs */
    char *listen;             /* owned: `listen` unix socket path, or NULL */
    char *control;            /* owned: `control` socket path, or NULL */
    int poll_ms;              /* `poll_ms`: how often followed files are
                                 checked for growth */
    int errors;               /* config errors found so far */
    json_t *reported;         /* owned: the messages printed, each once */
} core_config;

/* Fill c with the defaults (no file).  Never fails. */
void core_config_defaults(core_config *c);
/* Load and validate path into c (defaults first).  Returns SYNTH_OK, or
 * SYNTH_ECONFIG after printing every error; c must be freed either way. */
int core_config_load(core_config *c, const char *path);
/* What the command line sets over a config file (all borrowed): the
 * inputs when inputs is not NULL (ninputs may be 0), output_dir and
 * plugin_dir when not NULL. */
typedef struct core_overrides {
    char *const *inputs;
    size_t ninputs;
    const char *output_dir;
    const char *plugin_dir;
} core_overrides;
/* Load path into c (NULL: the defaults, no file), then apply o (NULL:
 * none; applied after errors too).  Returns SYNTH_OK, or SYNTH_ECONFIG
 * after printing every error; c must be freed either way. */
int core_config_load_with(core_config *c, const char *path,
                          const core_overrides *o);
/* The overrides that keep what c's command line chose: its inputs, output
 * and plugin directories (borrowed from c; valid while c is). */
core_overrides core_config_overrides_of(const core_config *c);
/* Return an owned path: p itself when absolute or when base is NULL, else
 * base/p. */
char *core_config_resolve(const char *base, const char *p);
/* Print "FILE:LINE: message" for setting s (or FILE alone when s is NULL)
 * as an error and count it in c->errors. */
void core_config_error(core_config *c, const config_setting_t *s,
                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Return the named top-level setting, or NULL. */
config_setting_t *core_config_section(const core_config *c, const char *name);
/* Return the type of s with its article ("an integer", "a group"). */
const char *core_config_type_name(const config_setting_t *s);
/* Return the closest of the NULL-terminated names to word (for "did you
 * mean"), or NULL when none is close. */
const char *core_config_suggest(const char *word, const char *const *names);
/* Report "unknown <noun> "<name>"<where>" at setting s, with a "did you
 * mean" suggestion or else the list of known names; counts an error. */
void core_config_unknown(core_config *c, const config_setting_t *s,
                         const char *noun, const char *name,
                         const char *where, const char *const *known);
/* The config section whose keys are handed to every plugin of a kind
 * (SYNTH_KIND_*): "capture", "filters", "privacy", or NULL. */
const char *core_config_kind_section(int kind);
/* Return 1 when c names the plugin called name of that kind (a
 * plugins.<name> group, or a key of its kind's section that its option
 * table, borrowed, declares), else 0. */
int core_config_mentions(const core_config *c, int kind, const char *name,
                         const synth_option *options);
/* Free what c owns; NULL-safe. */
void core_config_free(core_config *c);

#endif
