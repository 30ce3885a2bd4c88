/* config.c -- load and validate synth.conf (see config.h). */
#include "config.h"
#include "alloc.h"
#include "log.h"
#include "strbuf.h"
#include "synth_plugin.h"

#include <limits.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>

/* The top-level keys.  Sections owned by plugins are validated in plugin.c
 * against the plugins' option tables. */
static const char *const top_keys[] = {
    "enabled", "input", "output_dir", "plugin_dir", "formats", "mode",
    "batch_size", "capture", "filters", "privacy", "plugins", "session",
    "max_line_bytes", "sidecar", "skip_superseded", "threads", "listen",
    "control", "poll_ms", "checkpoint", NULL};
static const char *const session_keys[] = {"idle_gap_ms", "max_turns",
                                           "max_bytes", "max_open",
                                           "idle_timeout_ms",
                                           "open_turn_timeout_ms", NULL};

void core_config_defaults(core_config *c)
{
    memset(c, 0, sizeof *c);
    c->enabled = 1;
    c->output_dir = core_strdup("synthetic-data");
    c->batch_size = 100;
    c->limits.idle_gap_ms = 30LL * 60 * 1000;
    c->limits.max_turns = 256;
    c->limits.max_bytes = 16u << 20;
    c->limits.max_open = 1000;
    c->limits.idle_timeout_ms = 60000;
    c->limits.open_turn_timeout_ms = 10LL * 60 * 1000;
    c->max_line_bytes = 64u << 20;
    c->skip_superseded = 1;
    c->threads = 2;
    c->poll_ms = 200;
    c->checkpoint = 1;
}

char *core_config_resolve(const char *base, const char *p)
{
    if (base == NULL || p[0] == '/' || strcmp(p, "-") == 0 || base[0] == 0)
        return core_strdup(p);
    core_strbuf b = {0};
    core_strbuf_puts(&b, base);
    /* Fold leading "./" and "../" into the base, so messages show
     * /srv/synth/out rather than /srv/synth/conf/../out.  Exact because
     * the config's base directory is a realpath (no symlinks to climb). */
    while (1) {
        if (strncmp(p, "./", 2) == 0) {
            p += 2;
        } else if (strncmp(p, "../", 3) == 0 && base[0] == '/' &&
                   strrchr(b.data, '/') != b.data) {
            b.len = (size_t)(strrchr(b.data, '/') - b.data);
            b.data[b.len] = '\0';
            p += 3;
        } else {
            break;
        }
    }
    core_strbuf_printf(&b, "/%s", p);
    return b.data;
}

void core_config_error(core_config *c, const config_setting_t *s,
                       const char *fmt, ...)
{
    core_strbuf msg = {0};
    const char *file = s ? config_setting_source_file(s) : NULL;
    if (file == NULL)
        file = c->path ? c->path : "(config)";
    if (s && config_setting_source_line(s) > 0)
        core_strbuf_printf(&msg, "%s:%u: ", file,
                           config_setting_source_line(s));
    else
        core_strbuf_printf(&msg, "%s: ", file);
    va_list ap;
    va_start(ap, fmt);
    core_strbuf_vprintf(&msg, fmt, ap);
    va_end(ap);
    /* the same problem found by two checks is said once */
    if (c->reported == NULL)
        c->reported = json_object();
    if (json_object_get(c->reported, core_strbuf_str(&msg)) == NULL) {
        core_error("%s", core_strbuf_str(&msg));
        json_object_set_new(c->reported, core_strbuf_str(&msg), json_true());
    }
    core_strbuf_free(&msg);
    c->errors++;
}

config_setting_t *core_config_section(const core_config *c, const char *name)
{
    if (!c->loaded)
        return NULL;
    return config_setting_get_member(config_root_setting(&c->cfg), name);
}

const char *core_config_type_name(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP:  return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:  return "an integer";
    case CONFIG_TYPE_FLOAT:  return "a float";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL:   return "a boolean";
    case CONFIG_TYPE_ARRAY:  return "an array";
    case CONFIG_TYPE_LIST:   return "a list";
    default:                 return "a value";
    }
}

/* Levenshtein distance, capped: only small distances matter here. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *core_config_suggest(const char *word, const char *const *names)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    size_t wl = strlen(word);
    /* A word that starts or ends another name ("idle_gap") is a truncation. */
    for (size_t i = 0; wl >= 4 && names[i]; i++) {
        size_t nl = strlen(names[i]);
        if (nl > wl && (strncmp(names[i], word, wl) == 0 ||
                        strcmp(names[i] + nl - wl, word) == 0))
            return names[i];
    }
    for (size_t i = 0; names[i]; i++) {
        size_t d = edit_distance(word, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best_d <= (wl < 6 ? 1 : wl / 3) ? best : NULL;
}

void core_config_unknown(core_config *c, const config_setting_t *s,
                         const char *noun, const char *name,
                         const char *where, const char *const *known)
{
    const char *near = core_config_suggest(name, known);
    if (near) {
        core_config_error(c, s, "unknown %s \"%s\"%s; did you mean \"%s\"?",
                          noun, name, where, near);
        return;
    }
    core_strbuf list = {0};
    for (size_t i = 0; known[i]; i++)
        core_strbuf_printf(&list, "%s%s", i ? ", " : "", known[i]);
    core_config_error(c, s, "unknown %s \"%s\"%s (known: %s)", noun, name,
                      where, known[0] ? core_strbuf_str(&list) : "none");
    core_strbuf_free(&list);
}

static int is_known(const char *name, const char *const *known)
{
    for (size_t i = 0; known[i]; i++)
        if (strcmp(name, known[i]) == 0)
            return 1;
    return 0;
}

static int want_type(core_config *c, const config_setting_t *s, int type,
                     const char *what)
{
    int t = config_setting_type(s);
    if (t == type || (type == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64))
        return 1;
    core_config_error(c, s, "\"%s\" must be %s, not %s",
                      config_setting_name(s), what,
                      core_config_type_name(s));
    return 0;
}

static int get_bool(core_config *c, const config_setting_t *s, int *out)
{
    if (!want_type(c, s, CONFIG_TYPE_BOOL, "true or false"))
        return 0;
    *out = config_setting_get_bool(s);
    return 1;
}

static int get_count(core_config *c, const config_setting_t *s,
                     long long min, long long *out)
{
    if (!want_type(c, s, CONFIG_TYPE_INT, "an integer"))
        return 0;
    long long v = config_setting_get_int64(s);
    if (v < min) {
        core_config_error(c, s, "\"%s\" must be at least %lld, not %lld",
                          config_setting_name(s), min, v);
        return 0;
    }
    *out = v;
    return 1;
}

/* Read a string or a list of strings into an owned array. */
static int get_strings(core_config *c, const config_setting_t *s,
                       char ***out, size_t *n, const char *resolve_base)
{
    int t = config_setting_type(s);
    if (t == CONFIG_TYPE_STRING) {
        *out = core_calloc(1, sizeof **out);
        (*out)[0] = core_config_resolve(resolve_base,
                                        config_setting_get_string(s));
        *n = 1;
        return 1;
    }
    if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY) {
        core_config_error(c, s, "\"%s\" must be a list of strings, not %s",
                          config_setting_name(s), core_config_type_name(s));
        return 0;
    }
    int len = config_setting_length(s);
    char **v = core_calloc((size_t)len + 1, sizeof *v);
    for (int i = 0; i < len; i++) {
        config_setting_t *el = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(el) != CONFIG_TYPE_STRING) {
            core_config_error(c, el, "\"%s\" must hold strings only",
                              config_setting_name(s));
            for (int j = 0; j < i; j++)
                core_free(v[j]);
            core_free(v);
            return 0;
        }
        v[i] = core_config_resolve(resolve_base, config_setting_get_string(el));
    }
    *out = v;
    *n = (size_t)len;
    return 1;
}

static void load_session(core_config *c, const config_setting_t *g)
{
    if (!want_type(c, g, CONFIG_TYPE_GROUP, "a group { ... }"))
        return;
    for (int i = 0; i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        long long v;
        if (!is_known(name, session_keys))
            core_config_unknown(c, s, "key", name, " in session",
                                session_keys);
        else if (!get_count(c, s, 0, &v))
            continue;
        else if (strcmp(name, "idle_gap_ms") == 0)
            c->limits.idle_gap_ms = v;
        else if (strcmp(name, "max_turns") == 0)
            c->limits.max_turns = (size_t)v;
        else if (strcmp(name, "max_bytes") == 0)
            c->limits.max_bytes = (size_t)v;
        else if (strcmp(name, "idle_timeout_ms") == 0)
            c->limits.idle_timeout_ms = v;
        else if (strcmp(name, "open_turn_timeout_ms") == 0)
            c->limits.open_turn_timeout_ms = v;
        else
            c->limits.max_open = (size_t)v;
    }
}

static void load_key(core_config *c, config_setting_t *s)
{
    const char *name = config_setting_name(s);
    long long v;
    if (strcmp(name, "enabled") == 0) {
        get_bool(c, s, &c->enabled);
    } else if (strcmp(name, "sidecar") == 0) {
        get_bool(c, s, &c->sidecar);
    } else if (strcmp(name, "checkpoint") == 0) {
        get_bool(c, s, &c->checkpoint);
    } else if (strcmp(name, "skip_superseded") == 0) {
        get_bool(c, s, &c->skip_superseded);
    } else if (strcmp(name, "poll_ms") == 0) {
        if (get_count(c, s, 1, &v))
            c->poll_ms = (int)v;
    } else if (strcmp(name, "threads") == 0) {
        if (get_count(c, s, 1, &v))
            c->threads = v > 2 ? 2 : (int)v;
    } else if (strcmp(name, "input") == 0) {
        get_strings(c, s, &c->inputs, &c->ninputs, c->dir);
    } else if (strcmp(name, "formats") == 0) {
        if (get_strings(c, s, &c->formats, &c->nformats, NULL) &&
            c->nformats == 0)
            core_config_error(c, s, "\"formats\" is empty: name at least "
                                    "one format");
    } else if (strcmp(name, "output_dir") == 0 ||
               strcmp(name, "plugin_dir") == 0 ||
               strcmp(name, "listen") == 0 || strcmp(name, "control") == 0) {
        if (!want_type(c, s, CONFIG_TYPE_STRING, "a string"))
            return;
        char **dst = name[0] == 'o'   ? &c->output_dir
                     : name[0] == 'p' ? &c->plugin_dir
                     : name[0] == 'l' ? &c->listen
                                      : &c->control;
        core_free(*dst);
        *dst = core_config_resolve(c->dir, config_setting_get_string(s));
    } else if (strcmp(name, "mode") == 0) {
        if (!want_type(c, s, CONFIG_TYPE_STRING, "a string"))
            return;
        const char *m = config_setting_get_string(s);
        if (strcmp(m, "realtime") == 0)
            c->realtime = 1;
        else if (strcmp(m, "batch") == 0)
            c->realtime = 0;
        else
            core_config_error(c, s, "unknown mode \"%s\" (known: batch, "
                                    "realtime)", m);
    } else if (strcmp(name, "batch_size") == 0) {
        get_count(c, s, 1, &c->batch_size);
    } else if (strcmp(name, "max_line_bytes") == 0) {
        if (get_count(c, s, 1024, &v))
            c->max_line_bytes = (size_t)v;
    } else if (strcmp(name, "session") == 0) {
        load_session(c, s);
    } else if (strcmp(name, "capture") == 0 || strcmp(name, "filters") == 0 ||
               strcmp(name, "privacy") == 0 || strcmp(name, "plugins") == 0) {
        want_type(c, s, CONFIG_TYPE_GROUP, "a group { ... }");
    } else {
        core_config_unknown(c, s, "key", name, "", top_keys);
    }
}

int core_config_load(core_config *c, const char *path)
{
    core_config_defaults(c);
    c->path = core_strdup(path);
    const char *slash = strrchr(path, '/');
    char *dir = slash ? core_strndup(path, (size_t)(slash - path + 1))
                      : core_strdup("./");
    /* Relative paths in the file are relative to its real directory. */
    char *real = realpath(dir, NULL);
    c->dir = real ? core_strdup(real) : core_strdup(dir);
    free(real);
    core_free(dir);
    config_init(&c->cfg);
    c->loaded = 1;
    if (c->dir[0] != '\0')
        config_set_include_dir(&c->cfg, c->dir);
    if (config_read_file(&c->cfg, path) != CONFIG_TRUE) {
        if (config_error_type(&c->cfg) == CONFIG_ERR_FILE_IO)
            core_error("%s: cannot read the config file", path);
        else
            core_error("%s:%d: %s", config_error_file(&c->cfg)
                                        ? config_error_file(&c->cfg)
                                        : path,
                       config_error_line(&c->cfg), config_error_text(&c->cfg));
        c->errors++;
        return SYNTH_ECONFIG;
    }
    config_setting_t *root = config_root_setting(&c->cfg);
    for (int i = 0; i < config_setting_length(root); i++)
        load_key(c, config_setting_get_elem(root, (unsigned)i));
    if (c->nformats == 0 && core_config_section(c, "formats") == NULL)
        core_config_error(c, NULL, "no \"formats\": name the formats to "
                                   "write, e.g. formats = "
                                   "[\"instruction-tuning\"];");
    return c->errors ? SYNTH_ECONFIG : SYNTH_OK;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        core_free(v[i]);
    core_free(v);
}

/* Replace the owned string *slot with a copy of value, when value is set. */
static void override(char **slot, const char *value)
{
    if (value == NULL)
        return;
    core_free(*slot);
    *slot = core_strdup(value);
}

int core_config_load_with(core_config *c, const char *path,
                          const core_overrides *o)
{
    int rc = SYNTH_OK;
    if (path == NULL)
        core_config_defaults(c);
    else
        rc = core_config_load(c, path); /* on errors, overridden all the
                                           same: the checks after it see
                                           the run's directories */
    if (o == NULL)
        return rc;
    if (o->inputs) {
        free_strings(c->inputs, c->ninputs);
        c->inputs = core_calloc(o->ninputs + 1, sizeof *c->inputs);
        for (size_t i = 0; i < o->ninputs; i++)
            c->inputs[i] = core_strdup(o->inputs[i]);
        c->ninputs = o->ninputs;
    }
    override(&c->output_dir, o->output_dir);
    override(&c->plugin_dir, o->plugin_dir);
    return rc;
}

core_overrides core_config_overrides_of(const core_config *c)
{
    static char *const none[1] = {NULL}; /* "no inputs" is an override too */
    core_overrides o = {c->inputs ? c->inputs : none, c->ninputs,
                        c->output_dir, c->plugin_dir};
    return o;
}

void core_config_free(core_config *c)
{
    if (c == NULL)
        return;
    if (c->loaded)
        config_destroy(&c->cfg);
    free_strings(c->inputs, c->ninputs);
    free_strings(c->formats, c->nformats);
    core_free(c->path);
    core_free(c->dir);
    core_free(c->output_dir);
    core_free(c->plugin_dir);
    json_decref(c->reported);
    core_free(c->listen);
    core_free(c->control);
    memset(c, 0, sizeof *c);
}

/* The config section whose keys are handed to every plugin of a kind. */
const char *core_config_kind_section(int kind)
{
    switch (kind) {
    case SYNTH_KIND_FORMATTER: return "capture";
    case SYNTH_KIND_FILTER:    return "filters";
    case SYNTH_KIND_PRIVACY:   return "privacy";
    default:                   return NULL;
    }
}

int core_config_mentions(const core_config *c, int kind, const char *name,
                         const synth_option *options)
{
    config_setting_t *pg = core_config_section(c, "plugins");
    config_setting_t *own = pg ? config_setting_get_member(pg, name) : NULL;
    if (own && config_setting_is_group(own))
        return 1;
    const char *sec = core_config_kind_section(kind);
    config_setting_t *g = sec ? core_config_section(c, sec) : NULL;
    for (int i = 0; g && i < config_setting_length(g); i++) {
        const char *key = config_setting_name(config_setting_get_elem(g, (unsigned)i));
        for (size_t j = 0; options && options[j].name; j++)
            if (strcmp(options[j].name, key) == 0)
                return 1;
    }
    return 0;
}
