/* control.c -- control requests and the ctl client (see control.h). */
#include "control.h"
#include "alloc.h"
#include "analyze.h"
#include "log.h"
#include "strbuf.h"
#include "synth_plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static json_t *refuse(const char *error)
{
    return json_pack("{s:b, s:s}", "ok", 0, "error", error);
}

/* JSON -> libconfig setting under parent (for configure).  Returns 0, or
 * -1 when v has no libconfig form. */
static int put_setting(config_setting_t *parent, const char *name, json_t *v)
{
    int type;
    switch (json_typeof(v)) {
    case JSON_OBJECT: type = CONFIG_TYPE_GROUP; break;
    case JSON_ARRAY: type = CONFIG_TYPE_LIST; break;
    case JSON_STRING: type = CONFIG_TYPE_STRING; break;
    case JSON_INTEGER: type = CONFIG_TYPE_INT64; break;
    case JSON_REAL: type = CONFIG_TYPE_FLOAT; break;
    case JSON_TRUE:
    case JSON_FALSE: type = CONFIG_TYPE_BOOL; break;
    default: return -1;
    }
    if (name && config_setting_get_member(parent, name))
        config_setting_remove(parent, name);
    config_setting_t *s = config_setting_add(parent, name, type);
    if (s == NULL)
        return -1;
    size_t i;
    const char *k;
    json_t *x;
    switch (type) {
    case CONFIG_TYPE_GROUP:
        json_object_foreach(v, k, x) if (put_setting(s, k, x) != 0) return -1;
        return 0;
    case CONFIG_TYPE_LIST:
        json_array_foreach(v, i, x) if (put_setting(s, NULL, x) != 0) return -1;
        return 0;
    case CONFIG_TYPE_STRING: return config_setting_set_string(s, json_string_value(v)) ? 0 : -1;
    case CONFIG_TYPE_INT64: return config_setting_set_int64(s, json_integer_value(v)) ? 0 : -1;
    case CONFIG_TYPE_FLOAT: return config_setting_set_float(s, json_real_value(v)) ? 0 : -1;
    default: return config_setting_set_bool(s, json_is_true(v)) ? 0 : -1;
    }
}

/* text with every occurrence of from replaced by to (owned). */
static char *replace_all(const char *text, const char *from, const char *to)
{
    core_strbuf out = {0};
    size_t fl = strlen(from);
    for (const char *q = text; *q;) {
        const char *hit = strstr(q, from);
        if (hit == NULL) {
            core_strbuf_puts(&out, q);
            break;
        }
        core_strbuf_append(&out, q, (size_t)(hit - q));
        core_strbuf_puts(&out, to);
        q = hit + fl;
    }
    return out.data ? out.data : core_strdup("");
}

/* configure: the running config file with the request's keys replaced,
 * validated exactly like the file, with the command line's overrides
 * kept.  Returns the answer. */
static json_t *cmd_configure(const core_control *c, json_t *req)
{
    config_t doc;
    config_init(&doc);
    if (config_read_file(&doc, c->config_path) != CONFIG_TRUE) {
        config_destroy(&doc);
        return refuse("cannot read the running configuration file");
    }
    const char *k;
    json_t *v;
    json_object_foreach(req, k, v) {
        if (strcmp(k, "command") == 0)
            continue;
        if (put_setting(config_root_setting(&doc), k, v) != 0) {
            config_destroy(&doc);
            return refuse("a value cannot be written as configuration");
        }
    }
    /* next to the file, so relative paths mean the same */
    core_strbuf tmp = {0};
    core_strbuf_printf(&tmp, "%s/.synthhost-configure-%ld.conf",
                       c->cfg->dir && c->cfg->dir[0] ? c->cfg->dir : ".",
                       (long)getpid());
    int written = config_write_file(&doc, tmp.data) == CONFIG_TRUE;
    config_destroy(&doc);
    core_strbuf errors = {0};
    core_log_capture = &errors;
    int ok = 0;
    if (written) {
        core_config *next = core_calloc(1, sizeof *next);
        core_overrides keep = core_config_overrides_of(c->cfg);
        if (core_config_load_with(next, tmp.data, &keep) == SYNTH_OK) {
            ok = c->reconfigure(c->user, next) == SYNTH_OK; /* stolen */
        } else {
            core_config_free(next);
            core_free(next);
        }
    }
    core_log_capture = NULL;
    json_t *resp;
    if (ok) {
        resp = json_pack("{s:b}", "ok", 1);
    } else {
        /* the lines name the scratch file: say what it stands for */
        char *msg = replace_all(errors.len ? errors.data
                                           : "the configuration was refused",
                                tmp.data, "configure request");
        resp = refuse(msg);
        core_free(msg);
    }
    unlink(tmp.data);
    core_strbuf_free(&tmp);
    core_strbuf_free(&errors);
    return resp;
}

/* The analysis of n files (borrowed), or NULL when it cannot be made. */
static json_t *run_analyze(const core_control *c, char *const *paths,
                           size_t n)
{
    core_analyze_opts o = {paths, n, c->cfg};
    json_t *report = NULL;
    if (core_analyze(&o, &report) != SYNTH_OK)
        return NULL;
    return report;
}

static json_t *cmd_status(const core_control *c)
{
    json_t *st = core_pipeline_status(c->p);
    json_object_set_new(st, "ok", json_true());
    json_object_set_new(st, "uptime_s", json_real(c->uptime_s));
    json_object_set_new(st, "enabled", json_boolean(c->cfg->enabled));
    json_object_set_new(st, "mode",
                        json_string(c->cfg->realtime ? "realtime" : "batch"));
    json_object_set_new(st, "inputs", c->inputs ? json_incref(c->inputs)
                                                : json_array());
    json_object_set_new(st, "last_error", c->last_error[0]
                                              ? json_string(c->last_error)
                                              : json_null());
    return st;
}

/* process and export: write what is open; export names one format's
 * file (the spec's exportAllEpisodes takes the format as an argument). */
static json_t *cmd_process(const core_control *c, json_t *req, int export)
{
    const char *format = json_string_value(json_object_get(req, "format"));
    if (export && format == NULL)
        return refuse("export needs \"format\"");
    core_pipeline_process(c->p);
    json_t *st = core_pipeline_status(c->p);
    json_t *files = json_object_get(st, "files");
    json_t *resp = json_pack("{s:b, s:O, s:O}", "ok", 1, "records",
                             json_object_get(st, "records"), "files", files);
    if (export) {
        json_t *file = json_object_get(files, format);
        if (file == NULL) {
            json_decref(resp);
            core_strbuf why = {0};
            core_strbuf_printf(&why, "format \"%s\" is not running", format);
            resp = refuse(why.data);
            core_strbuf_free(&why);
            json_decref(st);
            return resp;
        }
        json_object_set(resp, "file", file);
    }
    if (json_is_true(json_object_get(req, "analyze"))) {
        size_t n = json_object_size(files), i = 0;
        char **paths = core_calloc(n + 1, sizeof *paths);
        const char *k;
        json_t *v;
        json_object_foreach(files, k, v)
            paths[i++] = (char *)json_string_value(v);
        json_t *report = run_analyze(c, paths, n);
        json_object_set_new(resp, "analysis", report ? report : json_null());
        core_free(paths);
    }
    json_decref(st);
    return resp;
}

static json_t *cmd_analyze(const core_control *c, json_t *req)
{
    const char *path = json_string_value(json_object_get(req, "path"));
    if (path == NULL)
        path = json_string_value(json_object_get(req, "filePath"));
    if (path == NULL)
        return refuse("analyze needs \"path\"");
    char *paths[1] = {(char *)path};
    json_t *report = run_analyze(c, paths, 1);
    if (report == NULL)
        return refuse("cannot analyse that file");
    return json_pack("{s:b, s:o}", "ok", 1, "analysis", report);
}

static json_t *cmd_clear(const core_control *c)
{
    unsigned long long records;
    size_t n = core_pipeline_clear(c->p, &records);
    return json_pack("{s:b, s:I, s:I}", "ok", 1, "sessions_cleared",
                     (json_int_t)n, "records_cleared", (json_int_t)records);
}

static json_t *handle(const core_control *c, json_t *req)
{
    /* counters and output files as of every session closed so far */
    core_pipeline_drain(c->p);
    const char *cmd = json_string_value(json_object_get(req, "command"));
    if (cmd == NULL)
        return refuse("a request is {\"command\": ...}");
    if (strcmp(cmd, "status") == 0)
        return cmd_status(c);
    if (strcmp(cmd, "process") == 0)
        return cmd_process(c, req, 0);
    if (strcmp(cmd, "export") == 0 || strcmp(cmd, "export_all_episodes") == 0)
        return cmd_process(c, req, 1);
    if (strcmp(cmd, "analyze") == 0)
        return cmd_analyze(c, req);
    if (strcmp(cmd, "clear") == 0)
        return cmd_clear(c);
    if (strcmp(cmd, "configure") == 0)
        return cmd_configure(c, req);
    return refuse("unknown command (known: status, process, export, "
                  "export_all_episodes, configure, analyze, clear)");
}

json_t *core_control_answer(const core_control *c, const char *line,
                            size_t len)
{
    json_error_t err;
    json_t *req = json_loadb(line, len, 0, &err);
    json_t *resp = json_is_object(req) ? handle(c, req)
                                       : refuse("not a JSON object");
    json_decref(req);
    return resp;
}

int core_control_send(const char *path, json_t *request)
{
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) {
        core_error("socket path too long: %s", path);
        return SYNTH_EIO;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        core_error("cannot connect to %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return SYNTH_EIO;
    }
    char *text = json_dumps(request, JSON_COMPACT);
    size_t n = strlen(text);
    int ok = write(fd, text, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
    free(text);
    core_strbuf resp = {0};
    char buf[4096];
    ssize_t got;
    while (ok && (got = read(fd, buf, sizeof buf)) > 0) {
        core_strbuf_append(&resp, buf, (size_t)got);
        if (memchr(buf, '\n', (size_t)got))
            break;
    }
    close(fd);
    if (!ok || resp.len == 0) {
        core_error("no answer from %s", path);
        core_strbuf_free(&resp);
        return SYNTH_EIO;
    }
    fputs(resp.data, stdout);
    json_t *r = json_loads(resp.data, JSON_DISABLE_EOF_CHECK, NULL);
    int rc = json_is_true(json_object_get(r, "ok")) ? SYNTH_OK : SYNTH_EINVAL;
    json_decref(r);
    core_strbuf_free(&resp);
    return rc;
}
