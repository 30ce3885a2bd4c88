/* catalog.c -- dataset_info.json beside the outputs (see catalog.h). */
#include "catalog.h"
#include "alloc.h"
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define CATALOG_FILE "dataset_info.json"
#define CATALOG_LOCK ".dataset_info.lock"

/* The entries for this run's files (new object; empty when none). */
static json_t *entries_of(const core_plugin *const *formats,
                          const char *const *paths, size_t n)
{
    json_t *out = json_object();
    for (size_t i = 0; i < n; i++) {
        const char *info = formats[i]->desc.dataset_info;
        if (info == NULL || paths[i] == NULL)
            continue;
        json_t *parsed = json_loads(info, 0, NULL); /* checked at load */
        const char *slash = strrchr(paths[i], '/');
        const char *file = slash ? slash + 1 : paths[i];
        size_t len = strlen(file);
        if (len > 6 && strcmp(file + len - 6, ".jsonl") == 0)
            len -= 6;
        char *name = core_strndup(file, len);
        json_t *entry = json_pack("{s:s}", "file_name", file);
        json_object_update(entry, parsed);
        json_decref(parsed);
        json_object_set_new(out, name, entry);
        core_free(name);
    }
    return out;
}

int core_catalog_add(const char *dir, const core_plugin *const *formats,
                     const char *const *paths, size_t n, core_strbuf *why)
{
    json_t *add = entries_of(formats, paths, n);
    if (json_object_size(add) == 0) {
        json_decref(add);
        return SYNTH_OK;
    }
    core_strbuf path = {0};
    core_strbuf_printf(&path, "%s/%s", dir, CATALOG_LOCK);
    int lock = open(path.data, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    int rc = SYNTH_EIO;
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        core_strbuf_printf(why, "cannot lock %s: %s", path.data,
                           strerror(errno));
        goto done;
    }
    core_strbuf_reset(&path);
    core_strbuf_printf(&path, "%s/%s", dir, CATALOG_FILE);
    json_error_t err;
    json_t *all = json_load_file(path.data, 0, &err);
    if (all == NULL && access(path.data, F_OK) == 0) {
        core_strbuf_printf(why, "%s:%d: %s; not updated", path.data, err.line,
                           err.text);
        rc = SYNTH_EINVAL;
        goto done;
    }
    if (all != NULL && !json_is_object(all)) {
        core_strbuf_printf(why, "%s is not a JSON object; not updated",
                           path.data);
        json_decref(all);
        rc = SYNTH_EINVAL;
        goto done;
    }
    if (all == NULL)
        all = json_object();
    json_object_update(all, add);
    rc = core_checkpoint_write(dir, CATALOG_FILE, all,
                               JSON_INDENT(2) | JSON_PRESERVE_ORDER, why);
    json_decref(all);
done:
    if (lock >= 0)
        close(lock); /* releases the lock */
    core_strbuf_free(&path);
    json_decref(add);
    return rc;
}
