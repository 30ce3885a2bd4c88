/* live.c -- realtime mode: followed files, a log socket, a control socket
 * (see live.h). */
#include "live.h"
#include "alloc.h"
#include "analyze.h"
#include "checkpoint.h"
#include "follow.h"
#include "log.h"
#include "pipeline.h"
#include "stop.h"
#include "strbuf.h"
#include "synth_plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define MAX_LINE (64u << 20)

/* A connection: an agent writing log lines, or a control client. */
typedef struct {
    int fd;
    int control;             /* a control client */
    char name[48];           /* "socket:7" for reports */
    unsigned long long line_no;
    core_strbuf partial;     /* owned: a line still missing its end */
} conn;

typedef struct live live;

/* A followed file and its number as a replayable source (1..). */
typedef struct {
    live *l;
    unsigned src;
} follow_ref;

#define LIVE_CHECKPOINT ".synthhost-live.json"

struct live {
    core_config *cfg;        /* borrowed from the caller, or owned */
    int own_cfg;             /* cfg was made here (reload, configure) */
    const char *config_path; /* borrowed */
    core_pipeline *p;        /* owned: the running pipeline, or NULL */
    core_follow *follows;    /* owned */
    follow_ref *refs;        /* owned, parallel to follows */
    size_t nfollows;
    /* checkpoint: sessions written whose last line is past the replay
     * point, as [context, src, first, last, part, cap]; after a crash,
     * those of the run before: replay is "src:first:part:context" ->
     * [last, cap], owned is context -> [[src, first, last]..] of the ones
     * that began before the replay point; ends[src] is where the run
     * before had read to (replaying below it), 0 when done */
    json_t *written;         /* owned */
    json_t *replay;          /* owned, or NULL */
    json_t *owned;           /* owned, or NULL */
    unsigned long long *ends; /* owned, nfollows + 1, or NULL */
    unsigned long long replay_last_first; /* no entry begins after this */
    long long clock;         /* the event clock to restore, -1 none */
    unsigned long long marked_lines, marked_records;
    int listen_fd, control_fd;
    conn conns[MAX_CLIENTS];
    size_t nconns;
    long long started_ms;
    char last_error[256];
};

/* Defined below, next to the checkpoint they feed. */
static void hook(live *l);
static int checkpoint(live *l, int force);

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sockets ------------------------------------------------------------- */

static int unix_listen(const char *path, core_strbuf *why)
{
    struct sockaddr_un addr;
    if (strlen(path) >= sizeof addr.sun_path) {
        core_strbuf_printf(why, "socket path too long: %s", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, path);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path); /* a stale socket of an earlier run */
    mode_t old = umask(0177); /* the socket file is 0600 from birth */
    int rc = fd >= 0 ? bind(fd, (struct sockaddr *)&addr, sizeof addr) : -1;
    umask(old);
    if (rc != 0 || listen(fd, 16) != 0) {
        core_strbuf_printf(why, "cannot listen on %s: %s", path,
                           strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void conn_close(live *l, size_t i)
{
    close(l->conns[i].fd);
    core_strbuf_free(&l->conns[i].partial);
    l->conns[i] = l->conns[--l->nconns];
}

static void accept_all(live *l, int lfd, int control)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        if (control) {
            /* only our own user (or root) may steer the service */
            struct ucred cred;
            socklen_t len = sizeof cred;
            if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
                (cred.uid != geteuid() && cred.uid != 0)) {
                core_warn("control: refused a client of uid %u",
                          (unsigned)cred.uid);
                close(fd);
                continue;
            }
        }
        if (l->nconns == MAX_CLIENTS) {
            core_warn("too many connections; refusing one");
            close(fd);
            continue;
        }
        conn *c = &l->conns[l->nconns++];
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->control = control;
        snprintf(c->name, sizeof c->name, "%s:%d",
                 control ? "control" : "socket", fd);
    }
}

/* ---- the pipeline ------------------------------------------------------------ */

/* A pipeline for cfg, validated (plugins, options) but not started: it
 * writes nothing yet.  Returns it, or NULL after reporting why. */
static core_pipeline *prepare(core_config *cfg)
{
    core_pipeline *p = core_calloc(1, sizeof *p);
    if (core_pipeline_open(p, cfg) != SYNTH_OK) {
        core_pipeline_close(p);
        core_free(p);
        return NULL;
    }
    return p;
}

/* Start a prepared pipeline (stolen) as the running one. */
static int start(live *l, core_pipeline *p)
{
    if (core_pipeline_start(p, 1) != SYNTH_OK) {
        core_pipeline_close(p);
        core_free(p);
        return SYNTH_EIO;
    }
    l->p = p;
    hook(l);
    for (size_t f = 0; f < p->formatters.n; f++)
        core_note("writing %s", p->writers[f].path);
    return SYNTH_OK;
}

/* Flush everything open and close the output files. */
static void close_pipeline(live *l)
{
    if (l->p == NULL)
        return;
    core_pipeline_process(l->p);
    checkpoint(l, 1); /* nothing open: the replay point is the end */
    core_pipeline_finish(l->p, SYNTH_OK);
    core_pipeline_summary(l->p);
    core_pipeline_close(l->p);
    core_free(l->p);
    l->p = NULL;
}

static void take_line(live *l, const char *name, unsigned long long line_no,
                      unsigned src, unsigned long long start, const char *line,
                      size_t len)
{
    if (l->cfg->enabled)
        core_pipeline_line(l->p, name, line_no, src, start, line, len);
}

/* A line of a followed file: replayable from its offset. */
static void on_file_line(void *user, const char *name,
                         unsigned long long line_no, unsigned long long start,
                         const char *line, size_t len)
{
    follow_ref *r = user;
    take_line(r->l, name, line_no, r->src, start, line, len);
}

/* ---- checkpoint ------------------------------------------------------------
 *
 * Once before anything is written, and after every tick that read lines or
 * wrote records, the output files are synced and .synthhost-live.json in
 * the output directory records: for each followed file its dev/ino, the
 * offset to replay from (the first line of the oldest open session, or
 * all it consumed) and how far it had read ("end"); the committed size of
 * each output file; the event clock; the state formatters hold across
 * sessions (ABI 1.1 save); and the sessions written whose last line is
 * past the replay point.  A restart after kill -9 cuts the files back to
 * the committed sizes, restores the formatters' state and replays each
 * file from its offset, where:
 *   - lines of written sessions that began before the offset are dropped
 *     (owned), since those sessions cannot be rebuilt whole;
 *   - a replayed session closes after the last line it had (ended), and a
 *     part cut by a cap is cut again by the same cap (parts share the
 *     offset of part 0, so a chain replays as one);
 *   - up to "end" no eviction or idle close happens that the run before
 *     did not make (replaying), since every close it made is known;
 *   - sessions it wrote are not written again (the pipeline asks
 *     replay_skip).
 * So every record is written once.  Lines from the listen socket cannot
 * be replayed (at most once). */

/* A number of the checkpoint file (0 when absent or not a number). */
static unsigned long long ck_num(json_t *v)
{
    return json_is_integer(v) ? (unsigned long long)json_integer_value(v) : 0;
}

/* A written entry [context, src, first, last, part, cap] as an origin. */
static core_session_origin written_origin(json_t *w)
{
    core_session_origin o = {(unsigned)ck_num(json_array_get(w, 1)),
                             ck_num(json_array_get(w, 2)),
                             ck_num(json_array_get(w, 3)),
                             (int)ck_num(json_array_get(w, 4))};
    return o;
}

static char *replay_key(const char *ctx, const core_session_origin *o)
{
    core_strbuf b = {0};
    core_strbuf_printf(&b, "%u:%llu:%d:%s", o->src, o->first, o->part, ctx);
    return b.data;
}

/* The entry of the run before for this session: [last, cap], or NULL. */
static json_t *replay_entry(const live *l, const char *ctx,
                            const core_session_origin *o)
{
    /* the common case after a restart: a session the run before never saw */
    if (l->replay == NULL || o->first > l->replay_last_first)
        return NULL;
    char *k = replay_key(ctx, o);
    json_t *e = json_object_get(l->replay, k);
    core_free(k);
    return e;
}

static long long replay_ended(void *user, const char *ctx,
                              const core_session_origin *o)
{
    json_t *e = replay_entry(user, ctx, o);
    if (e == NULL || json_is_true(json_array_get(e, 1)))
        return -1; /* not written, or cut by a cap, which cuts it again */
    return (long long)json_integer_value(json_array_get(e, 0));
}

static int replay_owned(void *user, const char *ctx, unsigned src,
                        unsigned long long pos)
{
    live *l = user;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(l->owned, ctx), i, r)
        if (ck_num(json_array_get(r, 0)) == src &&
            ck_num(json_array_get(r, 1)) <= pos &&
            pos <= ck_num(json_array_get(r, 2)))
            return 1;
    return 0;
}

static int replay_replaying(void *user, unsigned src, unsigned long long pos)
{
    live *l = user;
    if (l->ends == NULL)
        return 0;
    if (src > 0) {
        if (src > l->nfollows || l->ends[src] == 0)
            return 0;
        if (pos < l->ends[src])
            return 1;
        l->ends[src] = 0; /* past it: the replay of src is over */
        return 0;
    }
    for (size_t i = 1; i <= l->nfollows; i++)
        if (l->ends[i])
            return 1;
    return 0;
}

static int replay_skip(void *user, const char *ctx,
                       const core_session_origin *o)
{
    return replay_entry(user, ctx, o) != NULL;
}

static void session_written(void *user, const char *ctx,
                            const core_session_origin *o,
                            core_close_reason why)
{
    live *l = user;
    json_array_append_new(l->written,
                          json_pack("[s, I, I, I, i, b]", ctx, (json_int_t)o->src,
                                    (json_int_t)o->first, (json_int_t)o->last,
                                    o->part, why == CORE_CLOSE_CAP));
}

static void hook(live *l)
{
    if (!l->cfg->checkpoint)
        return; /* nothing would prune the list of written sessions */
    l->p->replayed = replay_skip;
    l->p->written = session_written;
    l->p->hook_user = l;
    if (l->replay) {
        /* only after a crash: otherwise every event would ask for nothing */
        core_session_replay r = {l, replay_ended, replay_owned,
                                 replay_replaying};
        core_sessionizer_replay(l->p->sz, &r);
    }
    if (l->clock >= 0)
        core_sessionizer_set_clock(l->p->sz, l->clock);
}

/* Drop the replay state of the run before (a new config starts afresh). */
static void replay_forget(live *l)
{
    json_decref(l->replay);
    json_decref(l->owned);
    core_free(l->ends);
    l->replay = l->owned = NULL;
    l->ends = NULL;
    l->clock = -1;
    l->replay_last_first = 0;
}

/* The run before, from its checkpoint (borrowed): what it wrote, where
 * each file was read to, its event clock. */
static void replay_load(live *l, json_t *before)
{
    l->replay = json_object();
    l->owned = json_object();
    json_t *clock = json_object_get(before, "clock");
    l->clock = json_is_integer(clock) ? (long long)json_integer_value(clock) : -1;
    json_t *files = json_object_get(before, "files");
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(before, "written"), i, w) {
        const char *ctx = json_string_value(json_array_get(w, 0));
        core_session_origin o = written_origin(w);
        if (ctx == NULL || o.src == 0)
            continue;
        if (o.first > l->replay_last_first)
            l->replay_last_first = o.first;
        char *k = replay_key(ctx, &o);
        json_object_set_new(l->replay, k,
                            json_pack("[I, O]", (json_int_t)o.last,
                                      json_array_get(w, 5)));
        core_free(k);
        unsigned long long mark = ck_num(json_object_get(
            json_array_get(files, o.src - 1), "offset"));
        if (o.first < mark) {
            json_t *list = json_object_get(l->owned, ctx);
            if (list == NULL)
                json_object_set_new(l->owned, ctx, list = json_array());
            json_array_append_new(list, json_pack("[I, I, I]", (json_int_t)o.src,
                                                  (json_int_t)o.first,
                                                  (json_int_t)o.last));
        }
        json_array_append(l->written, w); /* known to the next checkpoint */
    }
}

/* Record where the run is (see live.h) unless nothing changed since the
 * last checkpoint (force: even then).  Returns SYNTH_OK when written, not
 * needed or off; SYNTH_EIO with the reason in l->last_error. */
static int checkpoint(live *l, int force)
{
    if (!l->cfg->checkpoint || l->p == NULL)
        return SYNTH_OK;
    core_pipeline_drain(l->p); /* what the checkpoint says is written, is */
    unsigned long long records = 0;
    for (size_t f = 0; f < l->p->formatters.n; f++)
        records += l->p->records[f];
    if (!force && l->p->in.lines == l->marked_lines &&
        records == l->marked_records)
        return SYNTH_OK;
    core_strbuf why = {0};
    json_t *outputs = json_object();
    for (size_t f = 0; f < l->p->formatters.n; f++) {
        core_writer *w = &l->p->writers[f];
        unsigned long long size, meta_size;
        if (w->fp == NULL && w->error)
            continue; /* never created (the name was taken): not ours, and
                         a restart chooses another */
        if (core_writer_sync(w, &size, &meta_size) != SYNTH_OK) {
            /* the checkpoint before stays: a restart replays from there */
            snprintf(l->last_error, sizeof l->last_error, "%s: %s", w->path,
                     strerror(w->error ? w->error : errno));
            json_decref(outputs);
            return SYNTH_EIO;
        }
        json_object_set_new(outputs, l->p->formatters.v[f]->plugin->desc.name,
                            json_pack("{s:s, s:I, s:s?, s:I}", "path", w->path,
                                      "size", (json_int_t)size, "meta_path",
                                      w->meta_path, "meta_size",
                                      (json_int_t)meta_size));
    }
    json_t *files = json_array();
    unsigned long long *marks = core_calloc(l->nfollows + 1, sizeof *marks);
    for (size_t i = 0; i < l->nfollows; i++) {
        core_follow *f = &l->follows[i];
        unsigned long long low = core_sessionizer_watermark(l->p->sz,
                                                            (unsigned)i + 1);
        unsigned long long consumed = core_follow_consumed(f);
        marks[i] = low < consumed ? low : consumed;
        /* a crash during a replay: the run before's closes still stand */
        unsigned long long end = consumed;
        if (l->ends && l->ends[i + 1] > end)
            end = l->ends[i + 1];
        json_array_append_new(files,
                              json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "path",
                                        f->path, "dev", (json_int_t)f->dev,
                                        "ino", (json_int_t)f->ino, "offset",
                                        (json_int_t)marks[i], "end",
                                        (json_int_t)end, "read",
                                        (json_int_t)consumed));
    }
    /* sessions that end before the replay point will not come again */
    json_t *keep = json_array();
    size_t i;
    json_t *w;
    json_array_foreach(l->written, i, w) {
        core_session_origin o = written_origin(w);
        if (o.src >= 1 && o.src <= l->nfollows && o.last >= marks[o.src - 1])
            json_array_append(keep, w);
    }
    json_decref(l->written);
    l->written = keep;
    char *fp = core_checkpoint_fingerprint(l->cfg);
    json_t *state = json_pack("{s:s, s:o, s:o, s:O, s:I, s:o*}", "fingerprint",
                              fp, "files", files, "outputs", outputs,
                              "written", l->written, "clock",
                              (json_int_t)core_sessionizer_clock(l->p->sz),
                              "plugins", core_pipeline_save(l->p));
    int rc = core_checkpoint_write(l->cfg->output_dir, LIVE_CHECKPOINT,
                                   state, &why);
    if (rc != SYNTH_OK)
        snprintf(l->last_error, sizeof l->last_error, "%s",
                 core_strbuf_str(&why));
    l->marked_lines = l->p->in.lines;
    l->marked_records = records;
    json_decref(state);
    core_free(fp);
    core_free(marks);
    core_strbuf_free(&why);
    return rc;
}

/* Create the output files the pipeline named, after a checkpoint that
 * names them: a run killed at any moment leaves no output file that its
 * checkpoint does not know (a restart would start another beside it).
 * Returns SYNTH_OK, or SYNTH_EIO with the reason in *why (a file that
 * could not be created is left out of the checkpoints from then on). */
static int create_outputs(live *l, core_strbuf *why)
{
    if (checkpoint(l, 1) != SYNTH_OK) {
        core_strbuf_printf(why, "%s", l->last_error);
        return SYNTH_EIO;
    }
    return core_pipeline_create(l->p, why);
}

/* After a crash: the state of the run before (new reference), when it was
 * made with this config; NULL otherwise. */
static json_t *load_checkpoint(live *l)
{
    if (!l->cfg->checkpoint)
        return NULL;
    core_strbuf path = {0};
    core_strbuf_printf(&path, "%s/%s", l->cfg->output_dir, LIVE_CHECKPOINT);
    json_t *state = json_load_file(path.data, 0, NULL);
    core_strbuf_free(&path);
    char *fp = core_checkpoint_fingerprint(l->cfg);
    const char *had = json_string_value(json_object_get(state, "fingerprint"));
    if (state && (had == NULL || strcmp(fp, had) != 0)) {
        core_note("%s/%s belongs to another config: starting afresh",
                  l->cfg->output_dir, LIVE_CHECKPOINT);
        json_decref(state);
        state = NULL;
    }
    core_free(fp);
    return state;
}

/* Switch to a new config (stolen).  It is checked completely (plugins,
 * options) before anything changes; then the open sessions are flushed
 * into the old files and new files are started.  Returns SYNTH_OK,
 * SYNTH_ECONFIG with the old config still running untouched, or SYNTH_EIO
 * when the new config runs but its files could not be created (reported;
 * its records then fail as write errors). */
static int switch_config(live *l, core_config *next)
{
    if (next->realtime != l->cfg->realtime) {
        /* a batch run reads to the end and publishes: not a service */
        core_error("mode cannot change while running: stop synthhost and "
                   "start it with mode = \"batch\"");
        core_config_free(next);
        core_free(next);
        return SYNTH_ECONFIG;
    }
    core_pipeline *np = prepare(next);
    if (np == NULL) {
        core_config_free(next);
        core_free(next);
        return SYNTH_ECONFIG;
    }
    close_pipeline(l);
    if (l->own_cfg) {
        core_config_free(l->cfg);
        core_free(l->cfg);
    }
    l->cfg = next;
    l->own_cfg = 1;
    json_decref(l->written);
    l->written = json_array();
    replay_forget(l);
    if (start(l, np) != SYNTH_OK)
        return SYNTH_ECONFIG;
    core_strbuf why = {0};
    int rc = create_outputs(l, &why);
    if (rc != SYNTH_OK) {
        /* the run goes on without output, the reason in `ctl status` */
        snprintf(l->last_error, sizeof l->last_error, "%s",
                 core_strbuf_str(&why));
        core_error("%s", core_strbuf_str(&why));
    }
    core_strbuf_free(&why);
    return rc;
}

/* Load path as a config with the command line's overrides kept.  Returns
 * a new config, or NULL after reporting why. */
static core_config *load_config(live *l, const char *path)
{
    core_config *c = core_calloc(1, sizeof *c);
    if (core_config_load(c, path) != SYNTH_OK) {
        core_config_free(c);
        core_free(c);
        return NULL;
    }
    /* keep what the command line chose (-i, -o, -p) */
    for (size_t i = 0; i < c->ninputs; i++)
        core_free(c->inputs[i]);
    core_free(c->inputs);
    c->ninputs = l->cfg->ninputs;
    c->inputs = core_calloc(c->ninputs + 1, sizeof *c->inputs);
    for (size_t i = 0; i < c->ninputs; i++)
        c->inputs[i] = core_strdup(l->cfg->inputs[i]);
    core_free(c->output_dir);
    c->output_dir = core_strdup(l->cfg->output_dir);
    core_free(c->plugin_dir);
    c->plugin_dir = core_strdup(l->cfg->plugin_dir);
    return c;
}

static void reload(live *l)
{
    core_note("SIGHUP: reading %s again", l->config_path);
    core_config *next = load_config(l, l->config_path);
    /* SYNTH_EIO: switched, but the new files could not be made (said) */
    if ((next ? switch_config(l, next) : SYNTH_ECONFIG) == SYNTH_ECONFIG) {
        snprintf(l->last_error, sizeof l->last_error,
                 "reload of %s refused: the configuration is invalid",
                 l->config_path);
        core_warn("%s; keeping the one that runs", l->last_error);
    }
}

/* ---- control commands ---------------------------------------------------------- */

/* JSON -> libconfig setting under parent (for configure). */
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

/* configure: the running config file with the request's keys replaced,
 * validated exactly like the file.  Returns the response. */
static json_t *cmd_configure(live *l, json_t *req)
{
    config_t doc;
    config_init(&doc);
    if (config_read_file(&doc, l->config_path) != CONFIG_TRUE) {
        config_destroy(&doc);
        return json_pack("{s:b, s:s}", "ok", 0, "error",
                         "cannot read the running configuration file");
    }
    const char *k;
    json_t *v;
    json_object_foreach(req, k, v) {
        if (strcmp(k, "command") == 0)
            continue;
        if (put_setting(config_root_setting(&doc), k, v) != 0) {
            config_destroy(&doc);
            return json_pack("{s:b, s:s}", "ok", 0, "error",
                             "a value cannot be written as configuration");
        }
    }
    /* next to the file, so relative paths mean the same */
    core_strbuf tmp = {0};
    core_strbuf_printf(&tmp, "%s/.synthhost-configure-%ld.conf",
                       l->cfg->dir && l->cfg->dir[0] ? l->cfg->dir : ".",
                       (long)getpid());
    int written = config_write_file(&doc, tmp.data) == CONFIG_TRUE;
    config_destroy(&doc);
    json_t *resp;
    core_strbuf errors = {0};
    core_log_capture = &errors;
    core_config *next = written ? load_config(l, tmp.data) : NULL;
    int ok = next && switch_config(l, next) == SYNTH_OK;
    core_log_capture = NULL;
    if (ok) {
        resp = json_pack("{s:b}", "ok", 1);
    } else {
        /* the lines name the scratch file: say what it stands for */
        core_strbuf msg = {0};
        const char *e = errors.len ? errors.data
                                   : "the configuration was refused";
        size_t tl = strlen(tmp.data);
        for (const char *q = e; *q;) {
            const char *hit = strstr(q, tmp.data);
            if (hit == NULL) {
                core_strbuf_puts(&msg, q);
                break;
            }
            core_strbuf_append(&msg, q, (size_t)(hit - q));
            core_strbuf_puts(&msg, "configure request");
            q = hit + tl;
        }
        resp = json_pack("{s:b, s:s}", "ok", 0, "error", msg.data);
        core_strbuf_free(&msg);
    }
    unlink(tmp.data);
    core_strbuf_free(&tmp);
    core_strbuf_free(&errors);
    return resp;
}

static json_t *run_analyze(live *l, char *const *paths, size_t n)
{
    core_analyze_opts o = {paths, n, l->cfg};
    json_t *report = NULL;
    if (core_analyze(&o, &report) != SYNTH_OK)
        return NULL;
    return report;
}

static json_t *handle(live *l, json_t *req)
{
    /* counters and output files as of every session closed so far */
    core_pipeline_drain(l->p);
    const char *cmd = json_string_value(json_object_get(req, "command"));
    if (cmd == NULL)
        return json_pack("{s:b, s:s}", "ok", 0, "error",
                         "a request is {\"command\": ...}");
    if (strcmp(cmd, "status") == 0) {
        json_t *st = core_pipeline_status(l->p);
        json_object_set_new(st, "ok", json_true());
        json_object_set_new(st, "uptime_s",
                            json_real((double)(now_ms() - l->started_ms) /
                                      1000.0));
        json_object_set_new(st, "enabled", json_boolean(l->cfg->enabled));
        json_object_set_new(st, "mode", json_string(l->cfg->realtime
                                                        ? "realtime"
                                                        : "batch"));
        json_object_set_new(st, "last_error",
                            l->last_error[0] ? json_string(l->last_error)
                                             : json_null());
        return st;
    }
    if (strcmp(cmd, "process") == 0 ||
        strcmp(cmd, "export_all_episodes") == 0) {
        core_pipeline_process(l->p);
        json_t *st = core_pipeline_status(l->p);
        json_t *resp = json_pack("{s:b, s:O, s:O}", "ok", 1, "records",
                                 json_object_get(st, "records"), "files",
                                 json_object_get(st, "files"));
        if (strcmp(cmd, "export_all_episodes") == 0)
            json_object_set(resp, "episodes",
                            json_object_get(json_object_get(st, "files"),
                                            "episodes")
                                ? json_object_get(json_object_get(st, "files"),
                                                  "episodes")
                                : json_null());
        if (json_is_true(json_object_get(req, "analyze"))) {
            size_t n = json_object_size(json_object_get(st, "files")), i = 0;
            char **paths = core_calloc(n + 1, sizeof *paths);
            const char *k;
            json_t *v;
            json_object_foreach(json_object_get(st, "files"), k, v)
                paths[i++] = (char *)json_string_value(v);
            json_t *report = run_analyze(l, paths, n);
            json_object_set_new(resp, "analysis",
                                report ? report : json_null());
            core_free(paths);
        }
        json_decref(st);
        return resp;
    }
    if (strcmp(cmd, "analyze") == 0) {
        const char *path = json_string_value(json_object_get(req, "path"));
        if (path == NULL)
            path = json_string_value(json_object_get(req, "filePath"));
        if (path == NULL)
            return json_pack("{s:b, s:s}", "ok", 0, "error",
                             "analyze needs \"path\"");
        char *paths[1] = {(char *)path};
        json_t *report = run_analyze(l, paths, 1);
        if (report == NULL)
            return json_pack("{s:b, s:s}", "ok", 0, "error",
                             "cannot analyse that file");
        return json_pack("{s:b, s:o}", "ok", 1, "analysis", report);
    }
    if (strcmp(cmd, "clear") == 0) {
        unsigned long long held = l->p->records_cleared;
        size_t n = core_pipeline_clear(l->p);
        return json_pack("{s:b, s:I, s:I}", "ok", 1, "sessions_cleared",
                         (json_int_t)n, "records_cleared",
                         (json_int_t)(l->p->records_cleared - held));
    }
    if (strcmp(cmd, "configure") == 0)
        return cmd_configure(l, req);
    return json_pack("{s:b, s:s}", "ok", 0, "error",
                     "unknown command (known: status, process, configure, "
                     "analyze, export_all_episodes, clear)");
}

static void control_line(live *l, conn *c, const char *line, size_t len)
{
    json_error_t err;
    json_t *req = json_loadb(line, len, 0, &err);
    json_t *resp = json_is_object(req)
                       ? handle(l, req)
                       : json_pack("{s:b, s:s}", "ok", 0, "error",
                                   "not a JSON object");
    json_decref(req);
    char *text = json_dumps(resp, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(resp);
    if (text) {
        /* the control socket is blocking for the answer: it is short */
        int flags = fcntl(c->fd, F_GETFL);
        fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);
        size_t n = strlen(text);
        if (write(c->fd, text, n) != (ssize_t)n || write(c->fd, "\n", 1) != 1)
            core_warn("control: a client went away before its answer");
        fcntl(c->fd, F_SETFL, flags);
        free(text);
    }
}

/* Read what a connection sent; returns 0 to keep it, -1 to close it. */
static int conn_read(live *l, conn *c)
{
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return -1; /* closed (a half line without its end is dropped) */
        const char *p = buf, *end = buf + n;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (nl == NULL) {
                core_strbuf_append(&c->partial, p, (size_t)(end - p));
                if (c->partial.len > MAX_LINE) {
                    core_warn("%s: a line over %u bytes; closing", c->name,
                              MAX_LINE);
                    return -1;
                }
                break;
            }
            const char *line = p;
            size_t len = (size_t)(nl - p);
            if (c->partial.len) {
                core_strbuf_append(&c->partial, p, len);
                line = c->partial.data;
                len = c->partial.len;
            }
            if (len > 0 && line[len - 1] == '\r')
                len--;
            c->line_no++;
            if (c->control)
                control_line(l, c, line, len);
            else
                take_line(l, c->name, c->line_no, 0, 0, line, len);
            core_strbuf_reset(&c->partial);
            p = nl + 1;
        }
    }
}

/* ---- the loop ---------------------------------------------------------------------- */

/* Flush and close the pipeline, stop following, drop the replay state. */
static void live_release(live *l)
{
    close_pipeline(l);
    for (size_t i = 0; i < l->nfollows; i++)
        core_follow_close(&l->follows[i]);
    core_free(l->follows);
    core_free(l->refs);
    json_decref(l->written);
    replay_forget(l);
}

int core_live_run(core_config *cfg, const char *config_path)
{
    live l;
    memset(&l, 0, sizeof l);
    l.cfg = cfg;
    l.config_path = config_path;
    l.listen_fd = l.control_fd = -1;
    l.started_ms = now_ms();
    l.written = json_array();
    core_pipeline *first = prepare(cfg);
    if (first == NULL) {
        json_decref(l.written);
        return SYNTH_ECONFIG;
    }
    json_t *before = load_checkpoint(&l);
    l.clock = -1;
    if (before) {
        first->resume = json_object_get(before, "outputs");
        replay_load(&l, before);
    }
    int started = start(&l, first);
    if (first && l.p)
        l.p->resume = NULL; /* only for opening */
    if (started == SYNTH_OK && before &&
        core_pipeline_restore(l.p, json_object_get(before, "plugins")) != SYNTH_OK)
        snprintf(l.last_error, sizeof l.last_error,
                 "a plugin refused its saved state: it started afresh");
    if (started != SYNTH_OK) {
        json_decref(before);
        json_decref(l.written);
        replay_forget(&l);
        return SYNTH_EIO;
    }
    l.follows = core_calloc(cfg->ninputs + 1, sizeof *l.follows);
    if (l.replay)
        l.ends = core_calloc(cfg->ninputs + 1, sizeof *l.ends);
    l.refs = core_calloc(cfg->ninputs + 1, sizeof *l.refs);
    for (size_t i = 0; i < cfg->ninputs; i++) {
        if (strcmp(cfg->inputs[i], "-") == 0)
            continue;
        core_follow *f = &l.follows[l.nfollows];
        core_follow_init(f, cfg->inputs[i]);
        l.refs[l.nfollows] = (follow_ref){&l, (unsigned)l.nfollows + 1};
        json_t *at = json_array_get(json_object_get(before, "files"),
                                    l.nfollows);
        const char *was = json_string_value(json_object_get(at, "path"));
        if (was && strcmp(was, f->path) == 0) {
            core_follow_resume(f, ck_num(json_object_get(at, "dev")),
                               ck_num(json_object_get(at, "ino")),
                               ck_num(json_object_get(at, "offset")));
            core_note("resuming %s at byte %llu", f->path, f->offset);
            if (l.ends && f->offset > 0)
                l.ends[l.nfollows + 1] = ck_num(json_object_get(at, "end"));
        }
        l.nfollows++;
    }
    json_decref(before);
    /* before anything is written: a crash from here on finds the files */
    core_strbuf why = {0};
    if (create_outputs(&l, &why) != SYNTH_OK)
        goto fail;
    /* the sockets last: a client that can connect finds the run set up */
    if (cfg->listen && (l.listen_fd = unix_listen(cfg->listen, &why)) < 0)
        goto fail;
    if (cfg->control && (l.control_fd = unix_listen(cfg->control, &why)) < 0)
        goto fail;
    core_note("live: following %zu file(s)%s%s%s%s", l.nfollows,
              cfg->listen ? ", listening on " : "",
              cfg->listen ? cfg->listen : "",
              cfg->control ? ", control on " : "",
              cfg->control ? cfg->control : "");
    while (!core_stop_requested) {
        struct pollfd fds[MAX_CLIENTS + 2];
        nfds_t n = 0;
        if (l.listen_fd >= 0)
            fds[n++] = (struct pollfd){l.listen_fd, POLLIN, 0};
        if (l.control_fd >= 0)
            fds[n++] = (struct pollfd){l.control_fd, POLLIN, 0};
        nfds_t first_conn = n;
        for (size_t i = 0; i < l.nconns; i++)
            fds[n++] = (struct pollfd){l.conns[i].fd, POLLIN, 0};
        int ready = poll(fds, n, l.cfg->poll_ms);
        if (ready < 0 && errno != EINTR)
            break;
        if (core_reload_requested) {
            core_reload_requested = 0;
            reload(&l);
        }
        for (nfds_t i = 0; ready > 0 && i < first_conn; i++)
            if (fds[i].revents & POLLIN)
                accept_all(&l, fds[i].fd, fds[i].fd == l.control_fd);
        /* connections, newest index first so closing one is safe */
        for (size_t i = l.nconns; ready > 0 && i > 0; i--) {
            size_t k = i - 1;
            nfds_t slot = first_conn + (nfds_t)k;
            if (slot < n && fds[slot].fd == l.conns[k].fd &&
                (fds[slot].revents & (POLLIN | POLLHUP | POLLERR)) &&
                conn_read(&l, &l.conns[k]) != 0)
                conn_close(&l, k);
        }
        for (size_t i = 0; i < l.nfollows; i++) {
            long got = core_follow_poll(&l.follows[i], on_file_line, &l.refs[i]);
            if (got < 0)
                snprintf(l.last_error, sizeof l.last_error, "%s: %s",
                         l.follows[i].path, strerror(errno));
            /* the replay is over past the point the run before reached
             * (seen by the sessionizer), or at the end of what there is
             * (a file cut while down; the tick applied all read before) */
            if (l.ends && got == 0)
                l.ends[i + 1] = 0;
        }
        core_pipeline_tick(l.p, now_ms());
        checkpoint(&l, 0);
    }
    core_note("stopping: flushing the open sessions");
    for (size_t i = 0; i < l.nconns; i++) {
        close(l.conns[i].fd);
        core_strbuf_free(&l.conns[i].partial);
    }
    live_release(&l);
    /* the sockets are the first config's (cfg is the caller's) */
    if (l.listen_fd >= 0) {
        close(l.listen_fd);
        unlink(cfg->listen);
    }
    if (l.control_fd >= 0) {
        close(l.control_fd);
        unlink(cfg->control);
    }
    if (l.own_cfg) {
        /* hand the caller back its own config */
        core_config_free(l.cfg);
        core_free(l.cfg);
    }
    core_strbuf_free(&why);
    return SYNTH_OK;
fail:
    core_error("%s", core_strbuf_str(&why));
    core_strbuf_free(&why);
    if (l.listen_fd >= 0)
        close(l.listen_fd);
    live_release(&l);
    return SYNTH_EIO;
}

int core_live_ctl(const char *path, json_t *request)
{
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path)
        return SYNTH_EIO;
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
