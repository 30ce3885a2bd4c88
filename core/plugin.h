/*
 * plugin.h -- loading plugins, checking them, and running their instances.
 *
 * The registry scans plugin_dir for *.so, refuses what it cannot trust
 * (writable by others, wrong ABI, no entry point, bad option table, name
 * taken) with a reason, and keeps the rest loaded.  An instance is one
 * configured use of a plugin: its options are validated against the
 * plugin's table before create() runs.  The synth_ctx handed to callbacks
 * is defined here, with the host API table that works on it.
 */
#ifndef CORE_PLUGIN_H
#define CORE_PLUGIN_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

#include "config.h"
#include "map.h"
#include "stats.h"
#include "strbuf.h"
#include "synth_plugin.h"

typedef struct core_plugin {
    synth_plugin desc;    /* copy of the plugin's descriptor, zero-extended
                             past its struct_size; strings borrowed from
                             the loaded .so */
    char *path;           /* owned */
    void *dl;             /* dlopen handle, or NULL when refused */
    char *refused;        /* owned: why it was refused, or NULL */
} core_plugin;

typedef struct core_registry {
    core_plugin *plugins; /* owned: loaded and refused ones, by file name */
    size_t n;
    char *dir;            /* owned */
} core_registry;

/* The host API table every plugin receives. */
extern const synth_host_api core_host_api;

/* Scan dir and load every *.so.  Refused files stay in the registry with
 * their reason (and are reported with core_warn when warn is set).
 * Returns SYNTH_OK, or SYNTH_EIO when dir cannot be read or is writable by
 * other users (reason in *why). */
int core_registry_load(core_registry *r, const char *dir, int warn,
                       core_strbuf *why);
/* Load one .so file into r (also used by tests).  Returns SYNTH_OK, or the
 * code of the refusal (reason in the entry's `refused`). */
int core_registry_add(core_registry *r, const char *path);
/* Return the loaded plugin of that kind and name, or NULL. */
const core_plugin *core_registry_find(const core_registry *r, int kind,
                                      const char *name);
/* Return an owned NULL-terminated array of the loaded plugins' names of
 * one kind (the array is owned; the names are borrowed). */
const char **core_registry_names(const core_registry *r, int kind);
/* Unload everything; NULL-safe. */
void core_registry_free(core_registry *r);
/* Return 1 when plugin p (a scorer or record filter) sees records of
 * format (its `formats` list holds it, or is NULL), else 0. */
int core_plugin_applies(const core_plugin *p, const char *format);
/* Return the kind's name ("formatter"), or "unknown". */
const char *core_kind_name(int kind);
/* Return the option type's name ("bool"). */
const char *core_option_type_name(int type);

/* What plugins measure: counters (host->count) and distributions
 * (host->observe), shared by all instances of a run. */
typedef struct core_metrics {
    pthread_mutex_t lock;
    json_t *values;       /* owned: counter name -> integer */
    core_map *dists;      /* owned: name -> core_dist* (owned) */
} core_metrics;

typedef struct core_instance core_instance;

/* The instances of one pipeline stage, in the order they run. */
typedef struct core_stage {
    core_instance **v;    /* owned array of owned instances */
    size_t n;
} core_stage;

struct core_instance {
    const core_plugin *plugin;    /* borrowed from the registry */
    void *state;                  /* the plugin's instance */
    json_t *values;               /* owned: option name -> value (set or
                                     default) */
    const config_setting_t **set; /* owned array parallel to the option
                                     table: the setting, or NULL */
    core_config *config;          /* borrowed, for error lines */
    core_metrics *counters;      /* borrowed */
    pthread_mutex_t lock;         /* serialises SYNTH_PLUGIN_SERIAL */
    unsigned long long errors;    /* failed callbacks */
    const core_stage *scorers;    /* borrowed: what host->score_as runs */
};

/* What one record carries through scoring and filtering. */
typedef struct core_record {
    json_t *json;         /* owned */
    json_t *lineage;      /* owned, or NULL */
    json_t *issues;       /* owned array of {code, message, by} */
    double score_sum;
    int scores;           /* scorers that scored it */
    const char *format;   /* borrowed: the formatter's name */
    int probe;            /* a candidate scored for score_as, not written */
} core_record;

enum { CORE_CALL_CREATE = 1, CORE_CALL_SESSION, CORE_CALL_RECORD,
       CORE_CALL_FLUSH, CORE_CALL_RESTORE };

struct synth_ctx {
    core_instance *inst;  /* borrowed */
    int call;             /* CORE_CALL_* */
    int error_code;       /* set by host->error */
    core_strbuf error;    /* owned: its message */
    int dropped;
    char *drop_reason;    /* owned */
    core_record *records; /* owned (formatter calls): emitted records */
    size_t nrecords, cap;
    core_record *record;  /* borrowed (record calls) */
};

/* Validate the options for plugin p from the config (plugins.<name> and
 * the kind's shared section) and create an instance.  Returns SYNTH_OK and
 * *out, or SYNTH_ECONFIG after reporting every problem with file and
 * line. */
int core_instance_new(const core_plugin *p, core_config *cfg,
                      core_metrics *counters, core_instance **out);
/* Destroy the plugin instance and free; NULL-safe. */
void core_instance_free(core_instance *inst);
/* Check the kind sections (capture, filters, privacy) and the plugins
 * group against the loaded plugins' option tables: every key must belong
 * to a plugin.  Returns SYNTH_OK or SYNTH_ECONFIG (errors reported). */
int core_registry_check_config(const core_registry *r, core_config *cfg);
/* Return 1 when the config names plugin p (a plugins.<name> group, or a
 * key of its kind's section that its table declares), else 0. */
int core_config_mentions(const core_plugin *p, const core_config *cfg);

/* Prepare and release a context for one callback of inst. */
void core_ctx_init(synth_ctx *ctx, core_instance *inst, int call);
void core_ctx_release(synth_ctx *ctx);
/* Free a record's contents; NULL-safe. */
void core_record_clear(core_record *rec);
/* Call one of inst's callbacks under its lock when it is SERIAL; a failure
 * (code < 0) is reported with the plugin's message and counted.  Returns
 * the callback's code (SYNTH_OK when the callback is absent). */
int core_instance_call(core_instance *inst, synth_ctx *ctx, json_t *arg);
/* The state inst holds across sessions (ABI 1.1 save()): a new reference,
 * or NULL when it holds none or cannot say.  Restoring it is
 * core_instance_call with CORE_CALL_RESTORE and the state as arg. */
json_t *core_instance_save(core_instance *inst);

/* Set up / free the metrics of a run; free is NULL-safe. */
/* Run the scorers of `scorers` that apply to format on record (borrowed);
 * probe marks a candidate that will not be written (see is_probe).
 * Returns SYNTH_OK and their mean in *score, or SYNTH_ENOTFOUND when none
 * applies.  With issues, *issues gets a new array of the issues raised. */
int core_score_record(const core_stage *scorers, const char *format,
                      json_t *record, int probe, double *score,
                      json_t **issues);
void core_metrics_init(core_metrics *c);
void core_metrics_free(core_metrics *c);
/* Print the counters with core_note(), a line per group of their first
 * dotted part: "redacted: email 48, phone 38". */
void core_metrics_note(const core_metrics *m);
/* Append inst (stolen) to the stage s. */
void core_stage_add(core_stage *s, core_instance *inst);
/* Free every instance of s and empty it; NULL-safe. */
void core_stage_free(core_stage *s);

#endif
