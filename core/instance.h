/*
 * instance.h -- running plugins: instances, the context of one callback,
 * the records a formatter emits, and the metrics plugins keep.
 *
 * An instance is one configured use of a loaded plugin: its options are
 * bound from the config (options.h) before create() runs.  The synth_ctx
 * handed to callbacks is defined here, with the functions that act on it.
 */
#ifndef CORE_INSTANCE_H
#define CORE_INSTANCE_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>

#include "config.h"
#include "map.h"
#include "plugin.h"
#include "stats.h"
#include "strbuf.h"
#include "synth_plugin.h"

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
    json_t *skips;        /* owned (formatter session calls), or NULL:
                             [{"code", "message"}] said through skip_session() */
};

/* Validate the options for plugin p from the config (plugins.<name> and
 * the kind's shared section) and create an instance.  Returns SYNTH_OK and
 * *out, or SYNTH_ECONFIG after reporting every problem with file and
 * line. */
int core_instance_new(const core_plugin *p, core_config *cfg,
                      core_metrics *counters, core_instance **out);
/* Destroy the plugin instance and free; NULL-safe. */
void core_instance_free(core_instance *inst);

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

/* Run the scorers of `scorers` that apply to format on record (borrowed);
 * probe marks a candidate that will not be written (see is_probe).
 * Returns SYNTH_OK and their mean in *score, or SYNTH_ENOTFOUND when none
 * applies.  With issues, *issues gets a new array of the issues raised. */
int core_score_record(const core_stage *scorers, const char *format,
                      json_t *record, int probe, double *score,
                      json_t **issues);
/* Set up / free the metrics of a run; free is NULL-safe. */
void core_metrics_init(core_metrics *c);
void core_metrics_free(core_metrics *c);
/* Print the counters with core_note(), a line per group of their first
 * dotted part: "redacted: email 48, phone 38". */
void core_metrics_note(const core_metrics *m);
/* Append inst (stolen) to the stage s. */
void core_stage_add(core_stage *s, core_instance *inst);
/* Order the session stage s by the plugins' SYNTH_PLUGIN_FIRST/LAST
 * flags, keeping the order they were added in within a rank. */
void core_stage_order(core_stage *s);
/* Free every instance of s and empty it; NULL-safe. */
void core_stage_free(core_stage *s);

/* What a callback calls back: the host API functions that act on the
 * call's context (wired into core_host_api by hostapi.c; each is
 * documented at its field of synth_host_api in sdk/synth_plugin.h). */
int core_ctx_error(synth_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void core_ctx_log(synth_ctx *ctx, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int core_ctx_emit(synth_ctx *ctx, json_t *record, json_t *lineage);
int core_ctx_drop(synth_ctx *ctx, const char *reason);
int core_ctx_score(synth_ctx *ctx, double score);
int core_ctx_issue(synth_ctx *ctx, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int core_ctx_is_probe(synth_ctx *ctx);
int core_ctx_skip(synth_ctx *ctx, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int core_ctx_count(synth_ctx *ctx, const char *name, long long delta);
int core_ctx_observe(synth_ctx *ctx, const char *name, double value);
const char *core_ctx_record_format(synth_ctx *ctx);
int core_ctx_record_score(synth_ctx *ctx, double *out);
int core_ctx_score_as(synth_ctx *ctx, const char *format, json_t *record,
                      double *out);

#endif
