/* plugin.c -- the plugin loader: scan plugin_dir, trust, ABI checks,
 * the registry (see plugin.h and sdk/synth_plugin.h).  Options are
 * options.c, instances and their callbacks instance.c, the table of host
 * functions hostapi.c. */
#include "plugin.h"
#include "alloc.h"
#include "log.h"
#include "options.h"
#include "version.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
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

int core_plugin_valid_name(const char *s)
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
    if (!core_plugin_valid_name(d->name)) {
        core_strbuf_printf(&why, "bad plugin name \"%s\" (use [a-z0-9_-])",
                           d->name ? d->name : "(null)");
        return refuse(p, SYNTH_EINVAL, &why);
    }
    if (d->kind < SYNTH_KIND_FORMATTER || d->kind > SYNTH_KIND_SCORER) {
        core_strbuf_printf(&why, "plugin \"%s\" has unknown kind %d",
                           d->name, d->kind);
        return refuse(p, SYNTH_EINVAL, &why);
    }
    if (d->dataset_info) {
        json_t *entry = json_loads(d->dataset_info, 0, NULL);
        int ok = json_is_object(entry);
        json_decref(entry);
        if (!ok) {
            core_strbuf_printf(&why, "plugin \"%s\": dataset_info is not a "
                                     "JSON object",
                               d->name);
            return refuse(p, SYNTH_EINVAL, &why);
        }
    }
    if (core_options_check_table(d->options, &why) != SYNTH_OK) {
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
