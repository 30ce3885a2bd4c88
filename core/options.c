/* options.c -- plugin options: the option tables, the config sections
 * they read, and the host's option getters (see options.h). */
#include "options.h"
#include "alloc.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- values ------------------------------------------------------------ */

/* Convert a libconfig setting to JSON (new reference). */
static json_t *setting_json(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return json_integer(config_setting_get_int64(s));
    case CONFIG_TYPE_FLOAT:
        return json_real(config_setting_get_float(s));
    case CONFIG_TYPE_STRING:
        return json_string(config_setting_get_string(s));
    case CONFIG_TYPE_BOOL:
        return json_boolean(config_setting_get_bool(s));
    case CONFIG_TYPE_GROUP: {
        json_t *o = json_object();
        for (int i = 0; i < config_setting_length(s); i++) {
            config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
            json_object_set_new(o, config_setting_name(m), setting_json(m));
        }
        return o;
    }
    default: {
        json_t *a = json_array();
        for (int i = 0; i < config_setting_length(s); i++)
            json_array_append_new(
                a, setting_json(config_setting_get_elem(s, (unsigned)i)));
        return a;
    }
    }
}

/* Does setting s fit an option of the given type?  Returns NULL when it
 * does, else what was expected. */
static const char *setting_mismatch(const config_setting_t *s, int type)
{
    int t = config_setting_type(s);
    switch (type) {
    case SYNTH_OPT_BOOL:
        return t == CONFIG_TYPE_BOOL ? NULL : "true or false";
    case SYNTH_OPT_INT:
        return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 ? NULL
                                                             : "an integer";
    case SYNTH_OPT_FLOAT:
        return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 ||
                       t == CONFIG_TYPE_FLOAT
                   ? NULL
                   : "a number";
    case SYNTH_OPT_STRING:
    case SYNTH_OPT_PATH:
        return t == CONFIG_TYPE_STRING ? NULL : "a string";
    case SYNTH_OPT_LIST:
        if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY)
            return "a list of strings";
        for (int i = 0; i < config_setting_length(s); i++)
            if (config_setting_type(config_setting_get_elem(
                    s, (unsigned)i)) != CONFIG_TYPE_STRING)
                return "a list of strings";
        return NULL;
    default:
        return NULL;
    }
}

/* Parse a table default (config text) for an option type.  Returns a new
 * reference, or NULL when the text does not fit the type. */
static json_t *default_json(const synth_option *o)
{
    const char *d = o->default_value;
    char *end;
    switch (o->type) {
    case SYNTH_OPT_BOOL:
        if (strcmp(d, "true") == 0)
            return json_true();
        return strcmp(d, "false") == 0 ? json_false() : NULL;
    case SYNTH_OPT_INT: {
        errno = 0;
        long long v = strtoll(d, &end, 10);
        return *d && !*end && !errno ? json_integer(v) : NULL;
    }
    case SYNTH_OPT_FLOAT: {
        double v = strtod(d, &end);
        return *d && !*end ? json_real(v) : NULL;
    }
    case SYNTH_OPT_STRING:
    case SYNTH_OPT_PATH:
        return json_string(d);
    case SYNTH_OPT_LIST: {
        json_t *v = json_loads(d, JSON_DECODE_ANY, NULL);
        size_t i;
        json_t *el;
        if (!json_is_array(v))
            goto bad;
        json_array_foreach(v, i, el) if (!json_is_string(el)) goto bad;
        return v;
    bad:
        json_decref(v);
        return NULL;
    }
    case SYNTH_OPT_JSON:
        return json_loads(d, JSON_DECODE_ANY, NULL);
    default:
        return NULL;
    }
}

static size_t option_count(const synth_option *opts)
{
    size_t n = 0;
    while (opts && opts[n].name)
        n++;
    return n;
}

/* ---- tables and sections -------------------------------------------- */

/* Check a plugin's option table: names, types, defaults, no repeats.
 * Returns SYNTH_OK or SYNTH_EINVAL with the reason in *why. */
int core_options_check_table(const synth_option *opts, core_strbuf *why)
{
    for (size_t i = 0; opts && opts[i].name; i++) {
        const synth_option *o = &opts[i];
        if (!core_plugin_valid_name(o->name)) {
            core_strbuf_printf(why, "option %zu has a bad name \"%s\"", i,
                               o->name);
            return SYNTH_EINVAL;
        }
        if (o->type < SYNTH_OPT_BOOL || o->type > SYNTH_OPT_PATH) {
            core_strbuf_printf(why, "option \"%s\" has unknown type %d",
                               o->name, o->type);
            return SYNTH_EINVAL;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(opts[j].name, o->name) == 0) {
                core_strbuf_printf(why, "option \"%s\" is declared twice",
                                   o->name);
                return SYNTH_EINVAL;
            }
        if (o->default_value) {
            json_t *v = default_json(o);
            if (v == NULL) {
                core_strbuf_printf(why, "option \"%s\": default \"%s\" is "
                                        "not a valid %s",
                                   o->name, o->default_value,
                                   core_option_type_name(o->type));
                return SYNTH_EINVAL;
            }
            json_decref(v);
        }
    }
    return SYNTH_OK;
}

static const synth_option *option_find(const synth_plugin *d,
                                       const char *name, size_t *index)
{
    for (size_t i = 0; d->options && d->options[i].name; i++)
        if (strcmp(d->options[i].name, name) == 0) {
            if (index)
                *index = i;
            return &d->options[i];
        }
    return NULL;
}

/* All option names the loaded plugins of kind declare (owned array,
 * borrowed names; duplicates removed). */
static const char **kind_option_names(const core_registry *r, int kind)
{
    size_t cap = 1;
    for (size_t i = 0; i < r->n; i++)
        cap += option_count(r->plugins[i].desc.options);
    const char **v = core_calloc(cap, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) {
        const core_plugin *p = &r->plugins[i];
        if (!p->dl || p->desc.kind != kind)
            continue;
        for (size_t j = 0; p->desc.options && p->desc.options[j].name; j++) {
            size_t m = 0;
            while (m < k && strcmp(v[m], p->desc.options[j].name) != 0)
                m++;
            if (m == k)
                v[k++] = p->desc.options[j].name;
        }
    }
    return v;
}

/* Report every key of plugins.<name> (g, may be NULL) that plugin d
 * does not declare. */
static void unknown_options(core_config *cfg, const synth_plugin *d,
                            const config_setting_t *g)
{
    size_t nopts = option_count(d->options);
    for (int i = 0; g && i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        if (option_find(d, config_setting_name(s), NULL))
            continue;
        const char **known = core_calloc(nopts + 1, sizeof *known);
        for (size_t j = 0; j < nopts; j++)
            known[j] = d->options[j].name;
        core_strbuf where = {0};
        core_strbuf_printf(&where, " for plugin \"%s\"", d->name);
        core_config_unknown(cfg, s, "option", config_setting_name(s),
                            core_strbuf_str(&where), known);
        core_strbuf_free(&where);
        core_free(known);
    }
}

int core_registry_check_config(const core_registry *r, core_config *cfg)
{
    int before = cfg->errors;
    for (int kind = SYNTH_KIND_FORMATTER; kind <= SYNTH_KIND_SCORER; kind++) {
        const char *sec = core_config_kind_section(kind);
        config_setting_t *g = sec ? core_config_section(cfg, sec) : NULL;
        if (g == NULL || !config_setting_is_group(g))
            continue;
        const char **known = kind_option_names(r, kind);
        core_strbuf noun = {0};
        core_strbuf_printf(&noun, "%s option", sec);
        for (int i = 0; i < config_setting_length(g); i++) {
            config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
            size_t m = 0;
            while (known[m] && strcmp(known[m], config_setting_name(s)) != 0)
                m++;
            if (known[m] == NULL)
                core_config_unknown(cfg, s, core_strbuf_str(&noun),
                                    config_setting_name(s), "", known);
        }
        core_strbuf_free(&noun);
        core_free(known);
    }
    config_setting_t *pg = core_config_section(cfg, "plugins");
    if (pg && config_setting_is_group(pg)) {
        const char **names = core_registry_names(r, 0);
        for (int i = 0; i < config_setting_length(pg); i++) {
            config_setting_t *s = config_setting_get_elem(pg, (unsigned)i);
            const core_plugin *p = core_registry_find(r, 0,
                                                      config_setting_name(s));
            if (p == NULL)
                core_config_unknown(cfg, s, "plugin", config_setting_name(s),
                                    "", names);
            else if (!config_setting_is_group(s))
                core_config_error(cfg, s, "plugins.%s must be a group "
                                          "{ option = value; ... }",
                                  config_setting_name(s));
            else /* in use or not: a typo is an error either way */
                unknown_options(cfg, &p->desc, s);
        }
        core_free(names);
    }
    return cfg->errors > before ? SYNTH_ECONFIG : SYNTH_OK;
}

config_setting_t *core_options_group(const core_config *cfg, const char *name)
{
    config_setting_t *pg = core_config_section(cfg, "plugins");
    config_setting_t *g = pg ? config_setting_get_member(pg, name) : NULL;
    return g && config_setting_is_group(g) ? g : NULL;
}

/* Assign a validated setting to option row i, reporting a type error. */
static void instance_set(core_instance *inst, size_t i,
                         const config_setting_t *s)
{
    const synth_option *o = &inst->plugin->desc.options[i];
    const char *want = setting_mismatch(s, o->type);
    if (want) {
        core_config_error(inst->config, s, "option \"%s\" of plugin \"%s\" "
                                           "must be %s, not %s",
                          o->name, inst->plugin->desc.name, want,
                          core_config_type_name(s));
        return;
    }
    inst->set[i] = s;
}

/* Bind inst's options from the config: plugins.<name> first (it wins),
 * then the kind's shared section, then the table's defaults; PATH values
 * resolve against the config's directory.  Fills inst->set and
 * inst->values.  Returns SYNTH_OK, or SYNTH_ECONFIG after reporting every
 * problem with file and line. */
int core_options_bind(core_instance *inst)
{
    const synth_plugin *d = &inst->plugin->desc;
    core_config *cfg = inst->config;
    size_t nopts = option_count(d->options);
    inst->values = json_object();
    inst->set = core_calloc(nopts + 1, sizeof *inst->set);
    int before = cfg->errors;

    config_setting_t *g = core_options_group(cfg, d->name);
    unknown_options(cfg, d, g);
    for (int i = 0; g && i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        size_t row;
        if (option_find(d, config_setting_name(s), &row))
            instance_set(inst, row, s);
    }
    const char *sec = core_config_kind_section(d->kind);
    config_setting_t *shared = sec ? core_config_section(cfg, sec) : NULL;
    for (int i = 0; shared && config_setting_is_group(shared) &&
                    i < config_setting_length(shared);
         i++) {
        config_setting_t *s = config_setting_get_elem(shared, (unsigned)i);
        size_t row;
        if (option_find(d, config_setting_name(s), &row) && !inst->set[row])
            instance_set(inst, row, s);
    }
    for (size_t i = 0; i < nopts; i++) {
        const synth_option *o = &d->options[i];
        json_t *v = inst->set[i] ? setting_json(inst->set[i])
                  : o->default_value ? default_json(o)
                                     : NULL;
        if (v && o->type == SYNTH_OPT_PATH) {
            /* relative to the config file, like every path in it */
            char *path = core_config_resolve(cfg->dir, json_string_value(v));
            json_decref(v);
            v = json_string(path);
            core_free(path);
        }
        if (v)
            json_object_set_new(inst->values, o->name, v);
        else if (o->flags & SYNTH_OPT_REQUIRED)
            core_config_error(cfg, g, "plugin \"%s\" needs option \"%s\" "
                                      "(%s): set it in plugins.%s",
                              d->name, o->name, o->help ? o->help : "",
                              d->name);
    }
    return cfg->errors > before ? SYNTH_ECONFIG : SYNTH_OK;
}
/* ---- the host's option getters ---------------------------------------- */

/* Look an option up; returns its value (borrowed; NULL when unset) and
 * sets *rc to SYNTH_OK, SYNTH_ENOTFOUND or SYNTH_EINVAL (type). */
static json_t *host_opt(synth_ctx *ctx, const char *name, int type, int *rc)
{
    const synth_option *o =
        ctx && name ? option_find(&ctx->inst->plugin->desc, name, NULL) : NULL;
    if (o == NULL) {
        *rc = SYNTH_ENOTFOUND;
        return NULL;
    }
    if (type && o->type != type &&
        !(type == SYNTH_OPT_FLOAT && o->type == SYNTH_OPT_INT) &&
        !(type == SYNTH_OPT_STRING && o->type == SYNTH_OPT_PATH)) {
        *rc = SYNTH_EINVAL;
        return NULL;
    }
    json_t *v = json_object_get(ctx->inst->values, name);
    *rc = v ? SYNTH_OK : SYNTH_ENOTFOUND;
    return v;
}

int core_opt_bool(synth_ctx *ctx, const char *name, int *out)
{
    int rc;
    json_t *v = host_opt(ctx, name, SYNTH_OPT_BOOL, &rc);
    if (rc == SYNTH_OK)
        *out = json_is_true(v);
    return rc;
}

int core_opt_int(synth_ctx *ctx, const char *name, long long *out)
{
    int rc;
    json_t *v = host_opt(ctx, name, SYNTH_OPT_INT, &rc);
    if (rc == SYNTH_OK)
        *out = (long long)json_integer_value(v);
    return rc;
}

int core_opt_float(synth_ctx *ctx, const char *name, double *out)
{
    int rc;
    json_t *v = host_opt(ctx, name, SYNTH_OPT_FLOAT, &rc);
    if (rc == SYNTH_OK)
        *out = json_number_value(v);
    return rc;
}

int core_opt_string(synth_ctx *ctx, const char *name,
                           const char **out)
{
    int rc;
    json_t *v = host_opt(ctx, name, SYNTH_OPT_STRING, &rc);
    if (rc == SYNTH_OK)
        *out = json_string_value(v);
    return rc;
}

int core_opt_json(synth_ctx *ctx, const char *name, json_t **out)
{
    int rc;
    json_t *v = host_opt(ctx, name, 0, &rc);
    if (rc == SYNTH_OK)
        *out = v;
    return rc;
}

int core_opt_is_set(synth_ctx *ctx, const char *name)
{
    size_t row;
    if (ctx == NULL || name == NULL ||
        !option_find(&ctx->inst->plugin->desc, name, &row))
        return SYNTH_ENOTFOUND;
    return ctx->inst->set[row] != NULL;
}

int core_opt_error(synth_ctx *ctx, const char *name, int index,
                          const char *fmt, ...)
{
    if (ctx == NULL)
        return SYNTH_ECONFIG;
    core_instance *inst = ctx->inst;
    size_t row = 0;
    const config_setting_t *s = NULL;
    if (name && option_find(&inst->plugin->desc, name, &row))
        s = inst->set[row];
    if (s && index >= 0 && index < config_setting_length(s))
        s = config_setting_get_elem(s, (unsigned)index);
    if (s == NULL)
        s = core_options_group(inst->config, inst->plugin->desc.name);
    core_strbuf msg = {0};
    va_list ap;
    va_start(ap, fmt);
    core_strbuf_vprintf(&msg, fmt, ap);
    va_end(ap);
    core_config_error(inst->config, s, "plugin \"%s\", option \"%s\": %s",
                      inst->plugin->desc.name, name ? name : "?",
                      core_strbuf_str(&msg));
    core_ctx_error(ctx, SYNTH_ECONFIG, "%s", core_strbuf_str(&msg));
    core_strbuf_free(&msg);
    return SYNTH_ECONFIG;
}
