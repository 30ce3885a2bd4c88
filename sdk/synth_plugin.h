/*
 * synth_plugin.h -- the synthhost plugin ABI, version 1 (1.2).
 *
 * This header is the whole contract between synthhost (the host) and a
 * plugin (a shared object loaded with dlopen).  A plugin needs nothing else:
 * it includes this file and <jansson.h>, links -ljansson, and exports one
 * symbol, synth_plugin_init().  It never links against the host and never
 * sees libconfig; it reaches the host only through the synth_host_api table
 * handed to its entry point (the sqlite3ext.h model).
 *
 * Versioning promise
 *   SYNTH_ABI_MAJOR changes only when an existing field or function changes
 *   meaning; plugins built for another major are refused.  SYNTH_ABI_MINOR
 *   grows when fields are appended to the end of synth_plugin or
 *   synth_host_api; the host refuses a plugin built for a newer minor than
 *   its own and accepts every older one.  Both structs begin with
 *   struct_size; the host reads no plugin field beyond the size the plugin
 *   declares (absent fields count as NULL/0), and a plugin must not read a
 *   host field beyond host->struct_size (use SYNTH_HAS_FIELD).
 *   synth_option is frozen: its layout never changes within major 1.
 *
 * Ownership, in one word per pointer (the jq model)
 *   borrowed  the callee may read it for the duration of the call only
 *             (or for the stated lifetime) and must not free it;
 *   stolen    the callee takes over the reference: the caller must not use
 *             or decref it afterwards, whatever the return code.
 *
 * Status codes
 *   Every int-returning function here returns SYNTH_OK (0) on success or a
 *   negative SYNTH_E* code on failure.  A plugin that fails describes why
 *   through host->error() before returning the code; the host copies the
 *   message, prefixes it with the plugin name and reports it.
 *
 * Threads
 *   The host may call one instance's session() and record() from several
 *   threads at once, on different sessions and records.  A plugin whose
 *   instance state is not safe for that sets SYNTH_PLUGIN_SERIAL and the host
 *   never runs two of its callbacks at the same time.  create(), flush() and
 *   destroy() are never concurrent with anything else of the same instance.
 */
#ifndef SYNTH_PLUGIN_H
#define SYNTH_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SYNTH_ABI_MAJOR 1
#define SYNTH_ABI_MINOR 2

/* Marks the one symbol a plugin exports; build with -fvisibility=hidden. */
#if defined(__GNUC__)
#define SYNTH_EXPORT __attribute__((visibility("default")))
#else
#define SYNTH_EXPORT
#endif

/* True when struct *p (whose first member is struct_size) is large enough
 * to hold member m.  Use it before reading any field added after 1.0. */
#define SYNTH_HAS_FIELD(p, type, m) \
    ((p)->struct_size >= offsetof(type, m) + sizeof(((type *)0)->m))

/* ------------------------------------------------------------------ */
/* Status codes                                                        */
/* ------------------------------------------------------------------ */

enum {
    SYNTH_OK        =  0,
    SYNTH_ENOMEM    = -1,  /* out of memory */
    SYNTH_EINVAL    = -2,  /* bad argument, or input data a plugin rejects */
    SYNTH_ECONFIG   = -3,  /* an option value is unusable (a config error) */
    SYNTH_EIO       = -4,  /* file or socket I/O failed */
    SYNTH_EABI      = -5,  /* ABI version or struct size mismatch */
    SYNTH_ENOTFOUND = -6,  /* no such option, plugin, field or symbol */
    SYNTH_ELIMIT    = -7,  /* a resource or safety limit was hit */
    SYNTH_ESTATE    = -8,  /* called at a time the contract does not allow */
    SYNTH_EPLUGIN   = -9   /* any other plugin failure */
};

/* Returns a static, human-readable name for a status code (never NULL). */
static inline const char *synth_strerror(int code)
{
    switch (code) {
    case SYNTH_OK:        return "ok";
    case SYNTH_ENOMEM:    return "out of memory";
    case SYNTH_EINVAL:    return "invalid argument or data";
    case SYNTH_ECONFIG:   return "configuration error";
    case SYNTH_EIO:       return "i/o error";
    case SYNTH_EABI:      return "ABI mismatch";
    case SYNTH_ENOTFOUND: return "not found";
    case SYNTH_ELIMIT:    return "limit reached";
    case SYNTH_ESTATE:    return "call not allowed now";
    case SYNTH_EPLUGIN:   return "plugin failure";
    default:              return "unknown error";
    }
}

/* ------------------------------------------------------------------ */
/* Plugin kinds and where they run in the pipeline                     */
/* ------------------------------------------------------------------ */

typedef enum {
    SYNTH_KIND_FORMATTER = 1, /* session -> records of one format        */
    SYNTH_KIND_FILTER    = 2, /* drops sessions (session()) or records
                                 (record(), after scoring)              */
    SYNTH_KIND_PRIVACY   = 3, /* rewrites a session before any filter
                                 or formatter sees it                   */
    SYNTH_KIND_SCORER    = 4  /* record -> quality score and issues     */
} synth_kind;

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

/*
 * A plugin declares its options in a static table; the host validates the
 * user's config against it (unknown names and wrong types are config errors
 * with file and line) before create() is called, and prints it in
 * `synthhost plugins`.
 *
 * Where the values come from: the group `plugins.<plugin name>` in the
 * config file, and the spec's shared sections, which the host hands to every
 * plugin of one kind that declares the key: `capture` to formatters,
 * `filters` to filters, `privacy` to privacy plugins.
 */
typedef enum {
    SYNTH_OPT_BOOL   = 1, /* true / false                              */
    SYNTH_OPT_INT    = 2, /* 64-bit integer                            */
    SYNTH_OPT_FLOAT  = 3, /* double; an integer in the config is fine  */
    SYNTH_OPT_STRING = 4, /* UTF-8 string                              */
    SYNTH_OPT_LIST   = 5, /* list or array of strings                  */
    SYNTH_OPT_JSON   = 6, /* any value (group -> object, list -> array) */
    SYNTH_OPT_PATH   = 7  /* a file path; a relative one (and a relative
                             default) is resolved against the config
                             file's directory.  Read with opt_string. */
} synth_option_type;

#define SYNTH_OPT_REQUIRED 0x1u /* the config must set it; no default */

/* One row of an option table; a table ends with a row whose name is NULL.
 * Frozen within ABI major 1. */
typedef struct synth_option {
    const char *name;          /* snake_case key */
    int type;                  /* synth_option_type */
    unsigned flags;            /* SYNTH_OPT_* flags */
    /* Default as config text: "true", "42", "0.5", "text" (a string
     * without quotes) or a JSON array/value for LIST and JSON.  NULL: the
     * option has no value unless the config sets it. */
    const char *default_value;
    const char *help;          /* one line, shown by `synthhost plugins` */
} synth_option;

/* ------------------------------------------------------------------ */
/* The data a plugin sees                                              */
/* ------------------------------------------------------------------ */

/*
 * A session is one agent context (contextId) as a jansson object, built by
 * the host from the raw log: streamed partials are merged (the last version
 * of each element wins), action calls are joined with their results and
 * errors, object content is reduced to text.  No plugin sees raw log lines.
 * Fields absent in the log are null; timestamps are milliseconds since the
 * epoch (numbers) or null.  New fields may be added in any minor version;
 * existing ones keep their meaning within the major.
 *
 *   { "id":    "cli:raj_p",         context id
 *     "type":  "cli",               context type
 *     "part":  0,                   0, or n when a long context was split
 *                                   (idle gap / size cap / eviction /
 *                                   a live `process`) into parts
 *     "start": ms, "end": ms,       earliest and latest timestamp seen
 *     "turns": [ turn, ... ],       in log order
 *     "redacted": {kind: count} }   set by privacy plugins: what they
 *                                   replaced, copied into the sidecar
 *
 * A turn starts at a `run` (or at an `input` in logs without runs):
 *
 *   { "id":       run id, or the input id when there are no runs, or null
 *     "start": ms, "end": ms,
 *     "steps":    number of model calls (step lines) seen
 *     "continued": true only on the first turn of a part when the part
 *                 before was closed while this turn waited for its
 *                 answer: its id and input are that turn's (since 1.2)
 *     "input":    null or { "id", "type", "text",    text of the content
 *                           "user",                  user of object content
 *                           "content",               raw content (any JSON)
 *                           "timestamp" }
 *     "thoughts": [ { "id", "seq", "step", "text", "timestamp",
 *                     "complete": true when its final line was seen } ]
 *     "actions":  [ { "id", "seq", "step", "name",
 *                     "content":   raw argument text as the model wrote it
 *                     "arguments": parsed arguments, or null
 *                     "status":    "ok" | "error" | "pending"
 *                     "result":    the result data, or null
 *                     "error":     error object ({name, message, ...}) from
 *                                  the result or an error event, or null
 *                     "formatted": formatted result text, or null
 *                     "timestamp", "result_timestamp" } ]
 *     "outputs":  [ { "id", "seq", "step", "name",
 *                     "text":      the output as text
 *                     "data":      parsed output value, or null
 *                     "status":    "final" | "rejected" | "partial"
 *                     "error":     why it was rejected, or null
 *                     "timestamp" } ]
 *     "events":   [ { "id", "seq", "step", "name", "data", "timestamp" } ]
 *     "other":    [ { "ref", "seq", "log" } ]  lines with unknown refs }
 *
 * "seq" orders the elements of a session by first appearance in the log
 * (timestamps are not monotonic in real logs, so do not sort by them);
 * "step" is the turn's step number when the element first appeared.
 *
 * A record is any JSON object a formatter emits; one record becomes one
 * line of the format's output file, byte for byte as jansson writes it.
 */

/* Opaque per-call handle: identifies the instance, the call and its data
 * to the host.  Borrowed: valid only during the callback it is passed to. */
typedef struct synth_ctx synth_ctx;

/* ------------------------------------------------------------------ */
/* The host API: the only way a plugin reaches the host                */
/* ------------------------------------------------------------------ */

enum { SYNTH_LOG_DEBUG = 0, SYNTH_LOG_INFO = 1, SYNTH_LOG_WARN = 2 };

typedef struct synth_host_api {
    uint32_t struct_size;       /* sizeof(synth_host_api) in the host */
    uint16_t abi_major;         /* SYNTH_ABI_MAJOR of the host */
    uint16_t abi_minor;         /* SYNTH_ABI_MINOR of the host */
    const char *host_version;   /* e.g. "0.1.0"; static */

    /* --- Options: usable from create() on, in every callback. --------
     * Each getter looks `name` up in the plugin's own option table, and
     * returns the configured value or else the table's default.
     * Returns SYNTH_OK and sets *out; SYNTH_ENOTFOUND when the table has no
     * such option or it has neither value nor default (*out untouched);
     * SYNTH_EINVAL when the option is of another type. */
    int (*opt_bool)(synth_ctx *ctx, const char *name, int *out);
    int (*opt_int)(synth_ctx *ctx, const char *name, long long *out);
    int (*opt_float)(synth_ctx *ctx, const char *name, double *out);
    /* STRING and PATH options.  *out is borrowed, valid until the
     * instance is destroyed. */
    int (*opt_string)(synth_ctx *ctx, const char *name, const char **out);
    /* Any option as JSON (LIST -> array of strings, JSON -> its value,
     * scalars -> scalars).  *out is borrowed, valid until destroy. */
    int (*opt_json)(synth_ctx *ctx, const char *name, json_t **out);
    /* Returns 1 when the user's config sets the option, 0 when not (the
     * default applies), SYNTH_ENOTFOUND when the table has no such row. */
    int (*opt_is_set)(synth_ctx *ctx, const char *name);

    /* --- Errors and logging. -------------------------------------------
     * error(): records why the current callback fails (printf format; the
     * host copies the text) and returns `code` unchanged, so a plugin can
     * write `return host->error(ctx, SYNTH_EINVAL, "bad %s", x);`.
     * opt_error(): the same for a bad option value, reported as a config
     * error at the option's file and line (index >= 0: that list element).
     * Returns SYNTH_ECONFIG.  Meant for create(). */
    int (*error)(synth_ctx *ctx, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    int (*opt_error)(synth_ctx *ctx, const char *name, int index,
                     const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
    /* A diagnostic on stderr, prefixed with the plugin name. */
    void (*log)(synth_ctx *ctx, int level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* --- Pipeline. ------------------------------------------------------
     * emit(): formatters, in session() or flush(): hands one record to the
     * host.  record is stolen (must be a JSON object); lineage is stolen and
     * may be NULL: a JSON object of provenance (event ids, ...) written to
     * the sidecar file, never into the record.  Returns SYNTH_OK,
     * SYNTH_EINVAL if record is not an object, SYNTH_ESTATE outside a
     * formatter's session()/flush(). */
    int (*emit)(synth_ctx *ctx, json_t *record, json_t *lineage);
    /* drop(): filters (and privacy plugins that cannot make a session
     * safe): the current session or record is discarded after the callback
     * returns; reason (borrowed, copied) is counted in the run summary.
     * Returns SYNTH_OK, or SYNTH_ESTATE outside session()/record(). */
    int (*drop)(synth_ctx *ctx, const char *reason);
    /* score(): scorers, in record(): sets this scorer's score for the
     * current record, 0 <= score <= 1.  Returns SYNTH_OK, SYNTH_EINVAL for
     * a score out of range or NaN, SYNTH_ESTATE outside record(). */
    int (*score)(synth_ctx *ctx, double score);
    /* issue(): scorers, in record(): attaches a problem to the current
     * record: a stable snake_case code ("empty_response") and a message.
     * Returns SYNTH_OK or SYNTH_ESTATE outside record(). */
    int (*issue)(synth_ctx *ctx, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    /* count(): adds delta to a named run counter (e.g. "redacted.email"),
     * summed over threads and shown in the run summary, grouped by the
     * part before the first dot.  A name of three parts,
     * <table>.<row>.<column> (e.g. "action.refund_order.calls"), is also
     * shown by `synthhost analyze` as a table (stats.tables), where a row
     * with "calls" and "ok" gets a success rate.  Never pass sensitive
     * text as a name.  Returns SYNTH_OK. */
    int (*count)(synth_ctx *ctx, const char *name, long long delta);
    /* In record(): the format name of the current record (borrowed, valid
     * during the call), or NULL elsewhere. */
    const char *(*record_format)(synth_ctx *ctx);
    /* In record(): the record's combined score so far (record filters run
     * after all scorers).  Returns SYNTH_OK, or SYNTH_ENOTFOUND when no
     * scorer scored it, SYNTH_ESTATE outside record(). */
    int (*record_score)(synth_ctx *ctx, double *out);
    /* score_as(): formatters, in session() or flush(): runs the scorers
     * that apply to `format` on `record` (borrowed, not emitted) and sets
     * *out to their mean score -- e.g. to rank candidate responses with the
     * instruction-tuning scorers.  Issues they raise are discarded.
     * Returns SYNTH_OK, SYNTH_ENOTFOUND when no scorer applies, SYNTH_EINVAL
     * for a NULL or non-object record, SYNTH_ESTATE outside a formatter. */
    int (*score_as)(synth_ctx *ctx, const char *format, json_t *record,
                    double *out);
    /* observe(): adds one value to a named distribution (e.g.
     * "conversation.turns", "length.instruction-tuning"); the host keeps
     * count, mean, median and p95 in constant memory and reports them in
     * `synthhost analyze`.  Returns SYNTH_OK, SYNTH_EINVAL for a NULL name
     * or a NaN value. */
    int (*observe)(synth_ctx *ctx, const char *name, double value);
    /* In record(): 1 when the record is a candidate a formatter asked to
     * have scored (score_as), not one that will be written: a scorer must
     * not remember it (e.g. for duplicate detection).  0 otherwise.  The
     * host ignores count() and observe() during such calls. */
    int (*is_probe)(synth_ctx *ctx);

    /* ---- 1.2: SYNTH_HAS_FIELD(host, synth_host_api, skip_session) ---- */
    /* skip_session(): formatters, in session(): the current session gives no
     * record of this format, and why.  code is a stable snake_case name
     * ("no_answer"), counted in the run summary as <format>:
     * skipped_<code>; with sidecar = true the sidecar gets a line
     * {"line": null, "session", "part", "skipped": {"code", "message"}}
     * (message: printf format), so what was left out is as traceable as
     * what was written.  Never pass sensitive text in either.  Returns
     * SYNTH_OK, SYNTH_EINVAL for a code that is not [a-z0-9_]+, or
     * SYNTH_ESTATE outside a formatter's session(). */
    int (*skip_session)(synth_ctx *ctx, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
} synth_host_api;

/* ------------------------------------------------------------------ */
/* The plugin descriptor                                               */
/* ------------------------------------------------------------------ */

#define SYNTH_PLUGIN_SERIAL 0x1u /* never call this plugin concurrently */
/* The order of the session plugins of one kind (privacy, filter): those
 * with SYNTH_PLUGIN_FIRST run before the others, those with
 * SYNTH_PLUGIN_LAST after them; within a rank, in the order of their file
 * names.  The shipped privacy plugins use it so secrets are redacted
 * before anything rewrites the text around them (redact is FIRST), and
 * timestamps go last (timestamps is LAST): a user pattern can then never
 * cut an e-mail address in two before the e-mail detector sees it.  A
 * host older than these flags ignores them (file-name order). */
#define SYNTH_PLUGIN_FIRST 0x2u
#define SYNTH_PLUGIN_LAST 0x4u

typedef struct synth_plugin {
    uint32_t struct_size;       /* sizeof(synth_plugin) as compiled */
    uint16_t abi_major;         /* SYNTH_ABI_MAJOR as compiled */
    uint16_t abi_minor;         /* SYNTH_ABI_MINOR as compiled */
    int kind;                   /* synth_kind */
    unsigned flags;             /* SYNTH_PLUGIN_* */
    /* Unique among plugins; for a formatter it is the format name that
     * `formats` selects and that names the output file. [a-z0-9_-]+ */
    const char *name;
    const char *version;        /* the plugin's own version, e.g. "1.0.0" */
    const char *description;    /* one line */
    const synth_option *options;      /* NULL-name terminated, or NULL */
    /* Scorers and record filters: the formats whose records they see,
     * NULL-terminated; NULL means every format. */
    const char *const *formats;

    /* create(): makes an instance from the options (read them through the
     * host getters).  *instance may be left NULL for stateless plugins.
     * Returns SYNTH_OK, or a SYNTH_E* code after host->error/opt_error;
     * a failure stops the run before any output.  May be NULL. */
    int (*create)(synth_ctx *ctx, void **instance);
    /* destroy(): frees what create() made; gets NULL too. May be NULL. */
    void (*destroy)(void *instance);
    /* session(): one closed session (borrowed).  Privacy plugins may
     * change it in place (replace strings, remove fields); filters call
     * host->drop() to discard it; formatters call host->emit() per record.
     * Formatters and filters must not modify it.  Returns SYNTH_OK or a
     * SYNTH_E* code; on failure the host discards the session for a privacy
     * plugin or filter, and the records emitted in the call for a
     * formatter.  May be NULL. */
    int (*session)(void *instance, synth_ctx *ctx, json_t *session);
    /* record(): one emitted record (borrowed; scorers must not modify it).
     * Scorers call host->score()/issue(); filters call host->drop().
     * Returns as session().  May be NULL. */
    int (*record)(void *instance, synth_ctx *ctx, json_t *record);
    /* flush(): end of input (and, in live modes, when asked to flush):
     * formatters that hold records across sessions emit them now.
     * Returns as session().  May be NULL. */
    int (*flush)(void *instance, synth_ctx *ctx);
    /* Formatters: the top-level field names of every record, NULL-
     * terminated, in the order written.  `synthhost analyze` recognises a
     * dataset file's format by them and measures completeness against
     * them.  NULL: records have no fixed shape. */
    const char *const *record_fields;

    /* ---- 1.1 ---- */
    /* save(): formatters that hold records across sessions (grpo groups
     * waiting for members): that state as JSON (new reference; NULL when
     * nothing is held).  A live run stores it with its checkpoint, so a
     * restart after a crash goes on from the same state.  May be NULL. */
    json_t *(*save)(void *instance);
    /* restore(): make a fresh instance's state what save() returned
     * (borrowed).  Returns SYNTH_OK, or a SYNTH_E* code after host->error;
     * on failure the host starts afresh and says why.  May be NULL. */
    int (*restore)(void *instance, synth_ctx *ctx, json_t *state);

    /* ---- 1.2 ---- */
    /* Formatters whose files LLaMA-Factory loads: the file's entry in its
     * dataset_info.json, as JSON text without "file_name", e.g.
     * "{\"formatting\": \"sharegpt\", \"columns\": {...}}" (static).
     * When a file of this format is published, the host merges
     * {"<file name without .jsonl>": entry + "file_name"} into
     * <output_dir>/dataset_info.json (made when missing, other entries
     * kept), so LLaMA-Factory's dataset_dir can point at output_dir.
     * Checked when loaded: it must be a JSON object.  NULL: no entry. */
    const char *dataset_info;
} synth_plugin;

/* Size of the whole descriptor of each minor version (1.1 appended save
 * and restore, 1.2 dataset_info). */
#define SYNTH_PLUGIN_SIZE_1_0 \
    (offsetof(synth_plugin, record_fields) + \
     sizeof(((synth_plugin *)0)->record_fields))
#define SYNTH_PLUGIN_SIZE_1_1 \
    (offsetof(synth_plugin, restore) + sizeof(((synth_plugin *)0)->restore))
#define SYNTH_PLUGIN_SIZE_1_2 \
    (offsetof(synth_plugin, dataset_info) + \
     sizeof(((synth_plugin *)0)->dataset_info))
/* The smallest struct_size the host accepts: the identity fields through
 * `name`.  Every later field is optional; those past struct_size are
 * treated as NULL/0 and never read. */
#define SYNTH_PLUGIN_SIZE_MIN \
    (offsetof(synth_plugin, name) + sizeof(((synth_plugin *)0)->name))

/* ------------------------------------------------------------------ */
/* The entry point                                                     */
/* ------------------------------------------------------------------ */

/*
 * Every plugin exports exactly this function:
 *
 *   int synth_plugin_init(const synth_host_api *host,
 *                         const synth_plugin **out);
 *
 * host is borrowed and stays valid until the plugin is unloaded; keep it in
 * a static.  Set *out to a static descriptor (borrowed by the host until
 * unload).  Returns SYNTH_OK, or SYNTH_EABI when the host's major differs;
 * any failure makes the host unload the plugin and say why.
 */
#define SYNTH_PLUGIN_INIT_SYMBOL "synth_plugin_init"
typedef int (*synth_plugin_init_fn)(const synth_host_api *host,
                                    const synth_plugin **out);

/* Defines synth_plugin_init for descriptor `desc`, storing the host table
 * in the plugin's `static const synth_host_api *host_var`. */
#define SYNTH_PLUGIN_ENTRY(desc, host_var)                                   \
    SYNTH_EXPORT int synth_plugin_init(const synth_host_api *host_,          \
                                       const synth_plugin **out_);           \
    SYNTH_EXPORT int synth_plugin_init(const synth_host_api *host_,          \
                                       const synth_plugin **out_)            \
    {                                                                        \
        if (host_ == NULL || out_ == NULL ||                                 \
            host_->abi_major != SYNTH_ABI_MAJOR)                             \
            return SYNTH_EABI;                                               \
        host_var = host_;                                                    \
        *out_ = &(desc);                                                     \
        return SYNTH_OK;                                                     \
    }

/* Initialiser for the header fields of a descriptor of this ABI. */
#define SYNTH_PLUGIN_HEADER \
    sizeof(synth_plugin), SYNTH_ABI_MAJOR, SYNTH_ABI_MINOR

#ifdef __cplusplus
}
#endif
#endif /* SYNTH_PLUGIN_H */
