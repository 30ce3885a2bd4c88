/*
 * plugin.h -- loading plugins: the registry.
 *
 * The registry scans plugin_dir for *.so, refuses what it cannot trust
 * (writable by others, wrong ABI, no entry point, bad option table, name
 * taken) with a reason, and keeps the rest loaded.  What a loaded plugin
 * is configured and run as is instance.h; its options, options.h; the
 * table of host functions it is handed, hostapi.c.
 */
#ifndef CORE_PLUGIN_H
#define CORE_PLUGIN_H

#include <stddef.h>

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

/* The host API table every plugin receives (hostapi.c). */
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
/* Return 1 when s is a valid plugin or option name (lower case letters,
 * digits, '-' and '_'; not empty), else 0. */
int core_plugin_valid_name(const char *s);

#endif
