/* plugin.c -- plugin registry, option validation, instances and the host
 * API (see plugin.h and sdk/synth_plugin.h). */
#include "plugin.h"
#include "alloc.h"
#include "log.h"
#include "version.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- names ------------------------------------------------------------ */

const char *core_kind_name(int kind)
{
    switch (kind) {
    case SYNTH_KIND_FORMATTER: return "formatter";
    case SYNTH_KIND_FILTER:    return "filter";
    case SYNTH_KIND_PRIVACY:   return "privacy";
    case SYNTH_KIND_SCORER:    return "scorer";
    default:                   return "unknown";
    }
}

const char *core_option_type_name(int type)
{
    switch (type) {
    case SYNTH_OPT_BOOL:   return "bool";
    case SYNTH_OPT_INT:    return "int";
    case SYNTH_OPT_FLOAT:  return "float";
    case SYNTH_OPT_STRING: return "string";
    case SYNTH_OPT_LIST:   return "list";
    case SYNTH_OPT_JSON:   return "json";
    case SYNTH_OPT_PATH:   return "path";
    default:               return "unknown";
    }
}

/* The config section whose keys are handed to every plugin of a kind. */
static const char *kind_section(int kind)
{
    switch (kind) {
    case SYNTH_KIND_FORMATTER: return "capture";
    case SYNTH_KIND_FILTER:    return "filters";
    case SYNTH_KIND_PRIVACY:   return "privacy";
    default:                   return NULL;
    }
}

static int valid_name(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

/* ---- trust ------------------------------------------------------------- */

/* Refuse what another user could have written: o+w, g+w for a group that
 * is not ours, or an owner other than us or root.  Returns SYNTH_OK or
 * SYNTH_EIO with the reason in *why. */
static int check_owner(const char *path, int want_dir, core_strbuf *why)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        core_strbuf_printf(why, "%s: %s", path, strerror(errno));
        return SYNTH_EIO;
    }
    if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
        core_strbuf_printf(why, "%s: not a %s", path,
                           want_dir ? "directory" : "regular file");
        return SYNTH_EIO;
    }
    if (st.st_mode & S_IWOTH) {
        core_strbuf_printf(why, "%s is writable by every user (mode %03o); "
                                "refusing to load code from it (chmod o-w)",
                           path, (unsigned)(st.st_mode & 0777));
        return SYNTH_EIO;
    }
    if ((st.st_mode & S_IWGRP) && st.st_gid != getegid()) {
        core_strbuf_printf(why, "%s is writable by group %u (mode %03o); "
                                "refusing to load code from it (chmod g-w)",
                           path, (unsigned)st.st_gid,
                           (unsigned)(st.st_mode & 0777));
        return SYNTH_EIO;
    }
    if (st.st_uid != 0 && st.st_uid != geteuid()) {
        core_strbuf_printf(why, "%s belongs to uid %u, not to us or root; "
                                "refusing to load code from it",
                           path, (unsigned)st.st_uid);
        return SYNTH_EIO;
    }
    return SYNTH_OK;
}

/* ---- option values ------------------------------------------------------ */

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

/* Check a plugin's option table: names, types, defaults, no repeats.
 * Returns SYNTH_OK or SYNTH_EINVAL with the reason in *why. */
static int check_options(const synth_option *opts, core_strbuf *why)
{
    for (size_t i = 0; opts && opts[i].name; i++) {
        const synth_option *o = &opts[i];
        if (!valid_name(o->name)) {
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

/* ---- registry ------------------------------------------------------------ */

static core_plugin *registry_slot(core_registry *r, const char *path)
{
    r->plugins = core_realloc(r->plugins, (r->n + 1) * sizeof *r->plugins);
    core_plugin *p = &r->plugins[r->n++];
    memset(p, 0, sizeof *p);
    p->path = core_strdup(path);
    return p;
}

static int refuse(core_plugin *p, int code, core_strbuf *why)
{
    p->refused = core_strdup(core_strbuf_str(why));
    core_strbuf_free(why);
    if (p->dl)
        dlclose(p->dl);
    p->dl = NULL;
    memset(&p->desc, 0, sizeof p->desc);
    return code;
}

int core_registry_add(core_registry *r, const char *path)
{
    core_plugin *p = registry_slot(r, path);
    core_strbuf why = {0};
    if (check_owner(path, 0, &why) != SYNTH_OK)
        return refuse(p, SYNTH_EIO, &why);
    p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (p->dl == NULL) {
        core_strbuf_printf(&why, "cannot load: %s", dlerror());
        return refuse(p, SYNTH_EIO, &why);
    }
    synth_plugin_init_fn init;
    *(void **)&init = dlsym(p->dl, SYNTH_PLUGIN_INIT_SYMBOL);
    if (init == NULL) {
        core_strbuf_printf(&why, "no %s() entry point: not a synthhost "
                                 "plugin", SYNTH_PLUGIN_INIT_SYMBOL);
        return refuse(p, SYNTH_ENOTFOUND, &why);
    }
    const synth_plugin *d = NULL;
    int rc = init(&core_host_api, &d);
    if (rc != SYNTH_OK || d == NULL) {
        core_strbuf_printf(&why, "%s() failed: %s", SYNTH_PLUGIN_INIT_SYMBOL,
                           rc != SYNTH_OK ? synth_strerror(rc)
                                          : "no descriptor returned");
        return refuse(p, rc != SYNTH_OK ? rc : SYNTH_EPLUGIN, &why);
    }
    /* Version first: only the leading fields are common to every ABI. */
    if (d->abi_major != SYNTH_ABI_MAJOR || d->abi_minor > SYNTH_ABI_MINOR) {
        core_strbuf_printf(&why, "built for plugin ABI %u.%u, but this "
                                 "host speaks ABI %d.%d (%s)",
                           d->abi_major, d->abi_minor, SYNTH_ABI_MAJOR,
                           SYNTH_ABI_MINOR,
                           d->abi_major != SYNTH_ABI_MAJOR
                               ? "major version differs"
                               : "plugin is newer: upgrade synthhost");
        return refuse(p, SYNTH_EABI, &why);
    }
    if (d->struct_size < SYNTH_PLUGIN_SIZE_MIN) {
        core_strbuf_printf(&why, "descriptor is %u bytes, ABI %d needs at "
                                 "least %zu",
                           d->struct_size, SYNTH_ABI_MAJOR,
                           (size_t)SYNTH_PLUGIN_SIZE_MIN);
        return refuse(p, SYNTH_EABI, &why);
    }
    /* Copy what the plugin has; fields it does not know stay zero. */
    size_t n = d->struct_size < sizeof p->desc ? d->struct_size
                                               : sizeof p->desc;
    memcpy(&p->desc, d, n);
    d = &p->desc;
    if (!valid_name(d->name)) {
        core_strbuf_printf(&why, "bad plugin name \"%s\" (use [a-z0-9_-])",
                           d->name ? d->name : "(null)");
        return refuse(p, SYNTH_EINVAL, &why);
    }
    if (d->kind < SYNTH_KIND_FORMATTER || d->kind > SYNTH_KIND_SCORER) {
        core_strbuf_printf(&why, "plugin \"%s\" has unknown kind %d",
                           d->name, d->kind);
        return refuse(p, SYNTH_EINVAL, &why);
    }
    if (check_options(d->options, &why) != SYNTH_OK) {
        core_strbuf msg = {0};
        core_strbuf_printf(&msg, "plugin \"%s\": %s", d->name,
                           core_strbuf_str(&why));
        core_strbuf_free(&why);
        return refuse(p, SYNTH_EINVAL, &msg);
    }
    for (size_t i = 0; i + 1 < r->n; i++)
        if (r->plugins[i].dl && strcmp(r->plugins[i].desc.name, d->name) == 0) {
            core_strbuf_printf(&why, "plugin name \"%s\" is already taken "
                                     "by %s",
                               d->name, r->plugins[i].path);
            return refuse(p, SYNTH_EINVAL, &why);
        }
    return SYNTH_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int core_registry_load(core_registry *r, const char *dir, int warn,
                       core_strbuf *why)
{
    memset(r, 0, sizeof *r);
    r->dir = core_strdup(dir);
    if (check_owner(dir, 1, why) != SYNTH_OK)
        return SYNTH_EIO;
    DIR *d = opendir(dir);
    if (d == NULL) {
        core_strbuf_printf(why, "%s: %s", dir, strerror(errno));
        return SYNTH_EIO;
    }
    /* Sorted, so the load order (and so the order plugins of one kind
     * run in) does not depend on the file system. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0 ||
            e->d_name[0] == '.')
            continue;
        core_grow((void **)&names, &cap, n + 1, sizeof *names);
        names[n++] = core_strdup(e->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char *path = core_config_resolve(dir, names[i]);
        if (core_registry_add(r, path) != SYNTH_OK && warn)
            core_warn("plugin %s refused: %s", path,
                      r->plugins[r->n - 1].refused);
        core_free(path);
        core_free(names[i]);
    }
    core_free(names);
    return SYNTH_OK;
}

const core_plugin *core_registry_find(const core_registry *r, int kind,
                                      const char *name)
{
    for (size_t i = 0; i < r->n; i++) {
        const core_plugin *p = &r->plugins[i];
        if (p->dl && (kind == 0 || p->desc.kind == kind) &&
            strcmp(p->desc.name, name) == 0)
            return p;
    }
    return NULL;
}

const char **core_registry_names(const core_registry *r, int kind)
{
    const char **v = core_calloc(r->n + 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->plugins[i].dl && (kind == 0 || r->plugins[i].desc.kind == kind))
            v[k++] = r->plugins[i].desc.name;
    v[k] = NULL;
    return v;
}

void core_registry_free(core_registry *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++) {
        /* Sanitizer builds keep plugins mapped so leak reports can still
         * name their frames. */
        if (r->plugins[i].dl && getenv("SYNTH_KEEP_PLUGINS") == NULL)
            dlclose(r->plugins[i].dl);
        core_free(r->plugins[i].path);
        core_free(r->plugins[i].refused);
    }
    core_free(r->plugins);
    core_free(r->dir);
    memset(r, 0, sizeof *r);
}

/* ---- config checks ------------------------------------------------------- */

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

int core_registry_check_config(const core_registry *r, core_config *cfg)
{
    int before = cfg->errors;
    for (int kind = SYNTH_KIND_FORMATTER; kind <= SYNTH_KIND_SCORER; kind++) {
        const char *sec = kind_section(kind);
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
            if (core_registry_find(r, 0, config_setting_name(s)) == NULL)
                core_config_unknown(cfg, s, "plugin", config_setting_name(s),
                                    "", names);
            else if (!config_setting_is_group(s))
                core_config_error(cfg, s, "plugins.%s must be a group "
                                          "{ option = value; ... }",
                                  config_setting_name(s));
        }
        core_free(names);
    }
    return cfg->errors > before ? SYNTH_ECONFIG : SYNTH_OK;
}

static config_setting_t *plugin_group(const core_config *cfg, const char *name)
{
    config_setting_t *pg = core_config_section(cfg, "plugins");
    config_setting_t *g = pg ? config_setting_get_member(pg, name) : NULL;
    return g && config_setting_is_group(g) ? g : NULL;
}

int core_config_mentions(const core_plugin *p, const core_config *cfg)
{
    if (plugin_group(cfg, p->desc.name))
        return 1;
    const char *sec = kind_section(p->desc.kind);
    config_setting_t *g = sec ? core_config_section(cfg, sec) : NULL;
    for (int i = 0; g && i < config_setting_length(g); i++)
        if (option_find(&p->desc,
                        config_setting_name(config_setting_get_elem(
                            g, (unsigned)i)),
                        NULL))
            return 1;
    return 0;
}

/* ---- instances ----------------------------------------------------------- */

void core_metrics_init(core_metrics *c)
{
    pthread_mutex_init(&c->lock, NULL);
    c->values = json_object();
    c->dists = core_map_new();
}

void core_metrics_free(core_metrics *c)
{
    if (c == NULL)
        return;
    json_decref(c->values);
    c->values = NULL;
    core_map_free(c->dists, core_free);
    c->dists = NULL;
    pthread_mutex_destroy(&c->lock);
}

void core_ctx_init(synth_ctx *ctx, core_instance *inst, int call)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->inst = inst;
    ctx->call = call;
}

void core_record_clear(core_record *rec)
{
    if (rec == NULL)
        return;
    json_decref(rec->json);
    json_decref(rec->lineage);
    json_decref(rec->issues);
    memset(rec, 0, sizeof *rec);
}

void core_ctx_release(synth_ctx *ctx)
{
    core_strbuf_free(&ctx->error);
    core_free(ctx->drop_reason);
    for (size_t i = 0; i < ctx->nrecords; i++)
        core_record_clear(&ctx->records[i]);
    core_free(ctx->records);
    memset(ctx, 0, sizeof *ctx);
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

int core_instance_new(const core_plugin *p, core_config *cfg,
                      core_metrics *counters, core_instance **out)
{
    const synth_plugin *d = &p->desc;
    core_instance *inst = core_calloc(1, sizeof *inst);
    inst->plugin = p;
    inst->config = cfg;
    inst->counters = counters;
    inst->values = json_object();
    size_t nopts = option_count(d->options);
    inst->set = core_calloc(nopts + 1, sizeof *inst->set);
    pthread_mutex_init(&inst->lock, NULL);
    int before = cfg->errors;

    /* plugins.<name> first: it wins over the shared section. */
    config_setting_t *g = plugin_group(cfg, d->name);
    for (int i = 0; g && i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        size_t row;
        if (option_find(d, config_setting_name(s), &row)) {
            instance_set(inst, row, s);
            continue;
        }
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
    const char *sec = kind_section(d->kind);
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
    if (cfg->errors > before) {
        core_instance_free(inst);
        return SYNTH_ECONFIG;
    }
    if (d->create) {
        synth_ctx ctx;
        core_ctx_init(&ctx, inst, CORE_CALL_CREATE);
        int rc = d->create(&ctx, &inst->state);
        if (rc < 0) {
            /* opt_error() already reported a config error with a line. */
            if (cfg->errors == before)
                core_config_error(cfg, g, "plugin \"%s\" cannot start: %s",
                                  d->name,
                                  ctx.error.len ? core_strbuf_str(&ctx.error)
                                                : synth_strerror(rc));
            core_ctx_release(&ctx);
            inst->state = NULL;
            core_instance_free(inst);
            return SYNTH_ECONFIG;
        }
        core_ctx_release(&ctx);
    }
    *out = inst;
    return SYNTH_OK;
}

void core_instance_free(core_instance *inst)
{
    if (inst == NULL)
        return;
    if (inst->plugin->desc.destroy)
        inst->plugin->desc.destroy(inst->state);
    json_decref(inst->values);
    core_free(inst->set);
    pthread_mutex_destroy(&inst->lock);
    core_free(inst);
}

int core_instance_call(core_instance *inst, synth_ctx *ctx, json_t *arg)
{
    const synth_plugin *d = &inst->plugin->desc;
    int serial = (d->flags & SYNTH_PLUGIN_SERIAL) != 0;
    int rc = SYNTH_OK;
    const char *what = "session";
    if (serial)
        pthread_mutex_lock(&inst->lock);
    switch (ctx->call) {
    case CORE_CALL_SESSION:
        if (d->session)
            rc = d->session(inst->state, ctx, arg);
        break;
    case CORE_CALL_RECORD:
        what = "record";
        if (d->record)
            rc = d->record(inst->state, ctx, arg);
        break;
    case CORE_CALL_FLUSH:
        what = "flush";
        if (d->flush)
            rc = d->flush(inst->state, ctx);
        break;
    case CORE_CALL_RESTORE:
        what = "restore";
        if (d->restore)
            rc = d->restore(inst->state, ctx, arg);
        break;
    default:
        break;
    }
    if (rc < 0 && inst->errors++ < 10)
        core_error("plugin %s: %s failed: %s", d->name, what,
                   ctx->error.len ? core_strbuf_str(&ctx->error)
                                  : synth_strerror(rc));
    if (serial)
        pthread_mutex_unlock(&inst->lock);
    return rc;
}

json_t *core_instance_save(core_instance *inst)
{
    const synth_plugin *d = &inst->plugin->desc;
    if (d->save == NULL)
        return NULL;
    int serial = (d->flags & SYNTH_PLUGIN_SERIAL) != 0;
    if (serial)
        pthread_mutex_lock(&inst->lock);
    json_t *state = d->save(inst->state);
    if (serial)
        pthread_mutex_unlock(&inst->lock);
    return state;
}

/* ---- the host API ---------------------------------------------------------- */

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

static int host_opt_bool(synth_ctx *ctx, const char *name, int *out)
{
    int rc;
    json_t *v = host_opt(ctx, name, SYNTH_OPT_BOOL, &rc);
    if (rc == SYNTH_OK)
        *out = json_is_true(v);
    return rc;
}

static int host_opt_int(synth_ctx *ctx, const char *name, long long *out)
{
    int rc;
    json_t *v = host_opt(ctx, name, SYNTH_OPT_INT, &rc);
    if (rc == SYNTH_OK)
        *out = (long long)json_integer_value(v);
    return rc;
}

static int host_opt_float(synth_ctx *ctx, const char *name, double *out)
{
    int rc;
    json_t *v = host_opt(ctx, name, SYNTH_OPT_FLOAT, &rc);
    if (rc == SYNTH_OK)
        *out = json_number_value(v);
    return rc;
}

static int host_opt_string(synth_ctx *ctx, const char *name,
                           const char **out)
{
    int rc;
    json_t *v = host_opt(ctx, name, SYNTH_OPT_STRING, &rc);
    if (rc == SYNTH_OK)
        *out = json_string_value(v);
    return rc;
}

static int host_opt_json(synth_ctx *ctx, const char *name, json_t **out)
{
    int rc;
    json_t *v = host_opt(ctx, name, 0, &rc);
    if (rc == SYNTH_OK)
        *out = v;
    return rc;
}

static int host_opt_is_set(synth_ctx *ctx, const char *name)
{
    size_t row;
    if (ctx == NULL || name == NULL ||
        !option_find(&ctx->inst->plugin->desc, name, &row))
        return SYNTH_ENOTFOUND;
    return ctx->inst->set[row] != NULL;
}

static int host_error(synth_ctx *ctx, int code, const char *fmt, ...)
{
    if (ctx == NULL)
        return code;
    core_strbuf_reset(&ctx->error);
    va_list ap;
    va_start(ap, fmt);
    core_strbuf_vprintf(&ctx->error, fmt, ap);
    va_end(ap);
    ctx->error_code = code;
    return code;
}

static int host_opt_error(synth_ctx *ctx, const char *name, int index,
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
        s = plugin_group(inst->config, inst->plugin->desc.name);
    core_strbuf msg = {0};
    va_list ap;
    va_start(ap, fmt);
    core_strbuf_vprintf(&msg, fmt, ap);
    va_end(ap);
    core_config_error(inst->config, s, "plugin \"%s\", option \"%s\": %s",
                      inst->plugin->desc.name, name ? name : "?",
                      core_strbuf_str(&msg));
    host_error(ctx, SYNTH_ECONFIG, "%s", core_strbuf_str(&msg));
    core_strbuf_free(&msg);
    return SYNTH_ECONFIG;
}

static void host_log(synth_ctx *ctx, int level, const char *fmt, ...)
{
    if (level == SYNTH_LOG_DEBUG && getenv("SYNTH_DEBUG") == NULL)
        return;
    if (level == SYNTH_LOG_INFO && core_log_quiet)
        return;
    core_strbuf f = {0};
    core_strbuf_printf(&f, "plugin %s: %s",
                       ctx ? ctx->inst->plugin->desc.name : "?", fmt);
    va_list ap;
    va_start(ap, fmt);
    core_vlog(level >= SYNTH_LOG_WARN ? "warning" : NULL,
              core_strbuf_str(&f), ap);
    va_end(ap);
    core_strbuf_free(&f);
}

static int host_emit(synth_ctx *ctx, json_t *record, json_t *lineage)
{
    int ok = ctx && ctx->inst->plugin->desc.kind == SYNTH_KIND_FORMATTER &&
             (ctx->call == CORE_CALL_SESSION || ctx->call == CORE_CALL_FLUSH);
    if (!ok || !json_is_object(record) ||
        (lineage && !json_is_object(lineage))) {
        json_decref(record);
        json_decref(lineage);
        return ok ? SYNTH_EINVAL : SYNTH_ESTATE;
    }
    core_grow((void **)&ctx->records, &ctx->cap, ctx->nrecords + 1,
              sizeof *ctx->records);
    core_record *rec = &ctx->records[ctx->nrecords++];
    memset(rec, 0, sizeof *rec);
    rec->json = record;
    rec->lineage = lineage;
    rec->format = ctx->inst->plugin->desc.name;
    return SYNTH_OK;
}

static int host_drop(synth_ctx *ctx, const char *reason)
{
    if (ctx == NULL ||
        (ctx->call != CORE_CALL_SESSION && ctx->call != CORE_CALL_RECORD))
        return SYNTH_ESTATE;
    ctx->dropped = 1;
    core_free(ctx->drop_reason);
    ctx->drop_reason = core_strdup(reason ? reason : "dropped");
    return SYNTH_OK;
}

static int host_score(synth_ctx *ctx, double score)
{
    if (ctx == NULL || ctx->call != CORE_CALL_RECORD || ctx->record == NULL)
        return SYNTH_ESTATE;
    if (!(score >= 0.0 && score <= 1.0))
        return SYNTH_EINVAL;
    ctx->record->score_sum += score;
    ctx->record->scores++;
    return SYNTH_OK;
}

static int host_issue(synth_ctx *ctx, const char *code, const char *fmt, ...)
{
    if (ctx == NULL || ctx->call != CORE_CALL_RECORD || ctx->record == NULL)
        return SYNTH_ESTATE;
    core_strbuf msg = {0};
    va_list ap;
    va_start(ap, fmt);
    core_strbuf_vprintf(&msg, fmt, ap);
    va_end(ap);
    if (ctx->record->issues == NULL)
        ctx->record->issues = json_array();
    json_array_append_new(ctx->record->issues,
                          json_pack("{s:s, s:s, s:s}", "code",
                                    code ? code : "issue", "message",
                                    core_strbuf_str(&msg), "by",
                                    ctx->inst->plugin->desc.name));
    core_strbuf_free(&msg);
    return SYNTH_OK;
}

/* Measurements made while scoring a probe would count it as written. */
static int probing(const synth_ctx *ctx)
{
    return ctx->call == CORE_CALL_RECORD && ctx->record && ctx->record->probe;
}

static int host_is_probe(synth_ctx *ctx)
{
    return ctx != NULL && probing(ctx);
}

static int host_count(synth_ctx *ctx, const char *name, long long delta)
{
    if (ctx == NULL || name == NULL)
        return SYNTH_EINVAL;
    if (probing(ctx))
        return SYNTH_OK;
    core_metrics *c = ctx->inst->counters;
    pthread_mutex_lock(&c->lock);
    json_t *v = json_object_get(c->values, name);
    json_object_set_new(c->values, name,
                        json_integer((v ? json_integer_value(v) : 0) + delta));
    pthread_mutex_unlock(&c->lock);
    return SYNTH_OK;
}

static int host_observe(synth_ctx *ctx, const char *name, double value)
{
    if (ctx == NULL || name == NULL || value != value)
        return SYNTH_EINVAL;
    if (probing(ctx))
        return SYNTH_OK;
    core_metrics *m = ctx->inst->counters;
    pthread_mutex_lock(&m->lock);
    core_dist *d = core_map_get(m->dists, name);
    if (d == NULL) {
        d = core_calloc(1, sizeof *d);
        core_map_put(m->dists, name, d);
    }
    core_dist_add(d, value);
    pthread_mutex_unlock(&m->lock);
    return SYNTH_OK;
}

static const char *host_record_format(synth_ctx *ctx)
{
    return ctx && ctx->call == CORE_CALL_RECORD && ctx->record
               ? ctx->record->format
               : NULL;
}

static int host_record_score(synth_ctx *ctx, double *out)
{
    if (ctx == NULL || ctx->call != CORE_CALL_RECORD || ctx->record == NULL)
        return SYNTH_ESTATE;
    if (ctx->record->scores == 0)
        return SYNTH_ENOTFOUND;
    *out = ctx->record->score_sum / ctx->record->scores;
    return SYNTH_OK;
}

/* Does plugin p (a scorer or record filter) see records of format? */
int core_plugin_applies(const core_plugin *p, const char *format)
{
    if (p->desc.formats == NULL)
        return 1;
    for (size_t i = 0; p->desc.formats[i]; i++)
        if (strcmp(p->desc.formats[i], format) == 0)
            return 1;
    return 0;
}

int core_score_record(const core_stage *scorers, const char *format,
                      json_t *record, int probe, double *score,
                      json_t **issues)
{
    core_record rec = {.format = format, .probe = probe};
    for (size_t i = 0; scorers && i < scorers->n; i++) {
        if (!core_plugin_applies(scorers->v[i]->plugin, format))
            continue;
        synth_ctx sub;
        core_ctx_init(&sub, scorers->v[i], CORE_CALL_RECORD);
        sub.record = &rec;
        core_instance_call(scorers->v[i], &sub, record);
        core_ctx_release(&sub);
    }
    if (issues)
        *issues = rec.issues ? rec.issues : json_array();
    else
        json_decref(rec.issues);
    if (rec.scores == 0)
        return SYNTH_ENOTFOUND;
    *score = rec.score_sum / rec.scores;
    return SYNTH_OK;
}

static int host_score_as(synth_ctx *ctx, const char *format, json_t *record,
                         double *out)
{
    if (ctx == NULL || ctx->inst->plugin->desc.kind != SYNTH_KIND_FORMATTER ||
        (ctx->call != CORE_CALL_SESSION && ctx->call != CORE_CALL_FLUSH))
        return SYNTH_ESTATE;
    if (format == NULL || !json_is_object(record) || out == NULL)
        return SYNTH_EINVAL;
    return core_score_record(ctx->inst->scorers, format, record, 1, out, NULL);
}

const synth_host_api core_host_api = {
    .struct_size = sizeof(synth_host_api),
    .abi_major = SYNTH_ABI_MAJOR,
    .abi_minor = SYNTH_ABI_MINOR,
    .host_version = SYNTH_VERSION,
    .opt_bool = host_opt_bool,
    .opt_int = host_opt_int,
    .opt_float = host_opt_float,
    .opt_string = host_opt_string,
    .opt_json = host_opt_json,
    .opt_is_set = host_opt_is_set,
    .error = host_error,
    .opt_error = host_opt_error,
    .log = host_log,
    .emit = host_emit,
    .drop = host_drop,
    .score = host_score,
    .issue = host_issue,
    .count = host_count,
    .record_format = host_record_format,
    .record_score = host_record_score,
    .score_as = host_score_as,
    .observe = host_observe,
    .is_probe = host_is_probe,
};

void core_metrics_note(const core_metrics *m)
{
    /* grouped by their first dotted part: "redacted: email 48, phone 38" */
    json_t *groups = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(m->values, k, v) {
        const char *dot = strchr(k, '.');
        char *group = dot ? core_strndup(k, (size_t)(dot - k)) : core_strdup(k);
        json_t *line = json_object_get(groups, group);
        if (line == NULL) {
            line = json_string("");
            json_object_set_new(groups, group, line);
        }
        core_strbuf b = {0};
        core_strbuf_printf(&b, "%s%s%s %lld", json_string_value(line),
                           json_string_length(line) ? ", " : "",
                           dot ? dot + 1 : "", (long long)json_integer_value(v));
        json_string_set(line, b.data);
        core_strbuf_free(&b);
        core_free(group);
    }
    json_object_foreach(groups, k, v) core_note("%s: %s", k, json_string_value(v));
    json_decref(groups);
}

void core_stage_add(core_stage *s, core_instance *inst)
{
    s->v = core_realloc(s->v, (s->n + 1) * sizeof *s->v);
    s->v[s->n++] = inst;
}

void core_stage_free(core_stage *s)
{
    for (size_t i = 0; i < s->n; i++)
        core_instance_free(s->v[i]);
    core_free(s->v);
    memset(s, 0, sizeof *s);
}
