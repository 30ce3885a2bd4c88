/* checkpoint.c -- exactly-once publishing of batch runs (see
 * checkpoint.h). */
#include "checkpoint.h"
#include "stop.h"
#include "alloc.h"
#include "log.h"
#include "map.h"
#include "synth_plugin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PUBLISH_FILE ".synthhost-publish.json"
#define STATE_FILE ".synthhost-state.json"

static char *in_dir(const char *dir, const char *name)
{
    core_strbuf b = {0};
    core_strbuf_printf(&b, "%s/%s", dir, name);
    return b.data;
}

int core_checkpoint_write(const char *dir, const char *name, json_t *v,
                          size_t flags, core_strbuf *why)
{
    char *path = in_dir(dir, name);
    core_strbuf tmp = {0};
    core_strbuf_printf(&tmp, "%s.%ld.tmp", path, (long)getpid());
    int rc = SYNTH_EIO;
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    char *text = json_dumps(v, flags);
    if (fd >= 0 && text) {
        size_t n = strlen(text);
        if (write(fd, text, n) == (ssize_t)n && fsync(fd) == 0 &&
            close(fd) == 0 && rename(tmp.data, path) == 0) {
            core_writer_sync_dir(dir);
            rc = SYNTH_OK;
        }
        fd = -1;
    }
    if (fd >= 0)
        close(fd);
    if (rc != SYNTH_OK) {
        core_strbuf_printf(why, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp.data);
    }
    free(text);
    core_strbuf_free(&tmp);
    core_free(path);
    return rc;
}

json_t *core_checkpoint_identity(const core_config *cfg)
{
    json_t *inputs = json_array();
    for (size_t i = 0; i < cfg->ninputs; i++) {
        struct stat st;
        if (strcmp(cfg->inputs[i], "-") == 0 || stat(cfg->inputs[i], &st) != 0) {
            json_decref(inputs);
            return NULL;
        }
        json_array_append_new(
            inputs,
            json_pack("{s:s, s:I, s:I, s:I, s:I}", "path", cfg->inputs[i],
                      "dev", (json_int_t)st.st_dev, "ino", (json_int_t)st.st_ino,
                      "size", (json_int_t)st.st_size, "mtime_ns",
                      (json_int_t)st.st_mtim.tv_sec * 1000000000 +
                          st.st_mtim.tv_nsec));
    }
    char *fp = core_checkpoint_fingerprint(cfg);
    json_t *id = json_pack("{s:s, s:o}", "fingerprint", fp, "inputs", inputs);
    core_free(fp);
    return id;
}

char *core_checkpoint_fingerprint(const core_config *cfg)
{
    core_strbuf b = {0};
    if (cfg->path) {
        FILE *f = fopen(cfg->path, "rb");
        char buf[4096];
        size_t n;
        while (f && (n = fread(buf, 1, sizeof buf, f)) > 0)
            core_strbuf_append(&b, buf, n);
        if (f)
            fclose(f);
    }
    core_strbuf_printf(&b, "|%s|%s", cfg->output_dir,
                       cfg->plugin_dir ? cfg->plugin_dir : "");
    char fp[32];
    snprintf(fp, sizeof fp, "%016llx", core_hash(core_strbuf_str(&b), b.len));
    core_strbuf_free(&b);
    return core_strdup(fp);
}

static json_t *read_json(const char *dir, const char *name)
{
    char *path = in_dir(dir, name);
    json_t *v = json_load_file(path, 0, NULL);
    core_free(path);
    return v;
}

/* Add a completed run to the state file. */
static int record_run(const char *dir, json_t *identity, json_t *files,
                      core_strbuf *why)
{
    json_t *state = read_json(dir, STATE_FILE);
    if (!json_is_object(state)) {
        json_decref(state);
        state = json_pack("{s:i, s:[]}", "version", 1, "runs");
    }
    json_t *run = json_deep_copy(identity);
    json_object_set(run, "files", files);
    json_array_append_new(json_object_get(state, "runs"), run);
    int rc = core_checkpoint_write(dir, STATE_FILE, state, JSON_COMPACT, why);
    json_decref(state);
    return rc;
}

/* Link tmp to path unless path exists; remove tmp.  0 or errno. */
static int roll(const char *tmp, const char *path)
{
    struct stat st;
    if (tmp == NULL || path == NULL)
        return 0;
    if (lstat(path, &st) == 0) {
        unlink(tmp); /* linked before the crash */
        return 0;
    }
    if (link(tmp, path) != 0)
        return errno;
    unlink(tmp);
    return 0;
}

/* Is a ".<name>.<pid>.tmp" file's process gone? */
static int dead_tmp(const char *name)
{
    size_t n = strlen(name);
    if (name[0] != '.' || n < 6 || strcmp(name + n - 4, ".tmp") != 0)
        return 0;
    const char *end = name + n - 4, *p = end;
    while (p > name && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (p == end || p[-1] != '.')
        return 0;
    long pid = strtol(p, NULL, 10);
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

int core_checkpoint_recover(const char *dir, core_strbuf *why)
{
    json_t *pending = read_json(dir, PUBLISH_FILE);
    if (json_is_object(pending)) {
        size_t i;
        json_t *f;
        json_t *files = json_object_get(pending, "files");
        json_array_foreach(files, i, f) {
            int err = roll(json_string_value(json_object_get(f, "tmp")),
                           json_string_value(json_object_get(f, "path")));
            if (err == 0)
                err = roll(json_string_value(json_object_get(f, "meta_tmp")),
                           json_string_value(json_object_get(f, "meta_path")));
            if (err != 0) {
                core_strbuf_printf(why, "cannot finish the interrupted "
                                        "publish in %s: %s",
                                   dir, strerror(err));
                json_decref(pending);
                return SYNTH_EIO;
            }
        }
        core_writer_sync_dir(dir);
        json_t *identity = json_object_get(pending, "identity");
        if (json_is_object(identity) &&
            record_run(dir, identity, files, why) != SYNTH_OK) {
            json_decref(pending);
            return SYNTH_EIO;
        }
        char *path = in_dir(dir, PUBLISH_FILE);
        unlink(path);
        core_free(path);
        core_note("finished publishing %zu file(s) an interrupted run had "
                  "written in %s",
                  json_array_size(files), dir);
    }
    json_decref(pending);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (dead_tmp(e->d_name)) {
            char *path = in_dir(dir, e->d_name);
            unlink(path);
            core_free(path);
        }
    }
    if (d)
        closedir(d);
    return SYNTH_OK;
}

/* Two identities name the same run (same config, same input files). */
static int same_run(json_t *a, json_t *b)
{
    if (!json_equal(json_object_get(a, "fingerprint"),
                    json_object_get(b, "fingerprint")))
        return 0;
    return json_equal(json_object_get(a, "inputs"), json_object_get(b, "inputs"));
}

json_t *core_checkpoint_find(const char *dir, json_t *identity)
{
    json_t *state = read_json(dir, STATE_FILE);
    json_t *found = NULL;
    size_t i;
    json_t *run;
    json_array_foreach(json_object_get(state, "runs"), i, run) {
        if (!identity || !same_run(run, identity))
            continue;
        /* only while its files are still there (deleted: run again) */
        int all = 1;
        size_t k;
        json_t *f;
        struct stat st;
        json_array_foreach(json_object_get(run, "files"), k, f) {
            const char *path = json_string_value(json_object_get(f, "path"));
            all &= path && stat(path, &st) == 0;
        }
        if (all) {
            json_decref(found);
            found = json_incref(json_object_get(run, "files"));
        }
    }
    json_decref(state);
    return found;
}

int core_checkpoint_publish(const char *dir, core_writer *w, size_t n,
                            json_t *identity, core_strbuf *why)
{
    json_t *files = json_array();
    for (size_t i = 0; i < n; i++) /* every file on its way to disk at once */
        core_writer_writeback(&w[i]); /* a failure shows again in finish */
    for (size_t i = 0; i < n; i++) {
        if (core_writer_finish(&w[i], why) != SYNTH_OK ||
            core_writer_choose(&w[i], why) != SYNTH_OK) {
            json_decref(files);
            return SYNTH_EIO;
        }
        json_array_append_new(
            files, json_pack("{s:s, s:s, s:s?, s:s?}", "tmp", w[i].tmp, "path",
                             w[i].path, "meta_tmp", w[i].meta_tmp,
                             "meta_path", w[i].meta_path));
    }
    /* the intent first: after a crash from here on, the next run rolls
     * this publish forward */
    json_t *pending = json_pack("{s:O, s:O?}", "files", files, "identity",
                                identity);
    int rc = core_checkpoint_write(dir, PUBLISH_FILE, pending, JSON_COMPACT,
                                   why);
    json_decref(pending);
    for (size_t i = 0; rc == SYNTH_OK && i < n; i++) {
        rc = core_writer_link(&w[i], why);
        core_crash_point("publish", i + 1);
    }
    if (rc == SYNTH_OK) {
        core_writer_sync_dir(dir);
        if (identity)
            rc = record_run(dir, identity, files, why);
    }
    if (rc == SYNTH_OK) {
        char *path = in_dir(dir, PUBLISH_FILE);
        unlink(path);
        core_free(path);
    }
    json_decref(files);
    return rc;
}
