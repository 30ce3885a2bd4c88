/* live.c -- realtime mode: followed files, a log socket, a control socket
 * (see live.h). */
#include "live.h"
#include "alloc.h"
#include "checkpoint_live.h"
#include "control.h"
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

struct live {
    core_config *cfg;        /* borrowed from the caller, or owned */
    int own_cfg;             /* cfg was made here (reload, configure) */
    const char *config_path; /* borrowed */
    core_pipeline *p;        /* owned: the running pipeline, or NULL */
    core_live_checkpoint *ck; /* owned */
    core_follow *follows;    /* owned */
    follow_ref *refs;        /* owned, parallel to follows */
    size_t nfollows;
    int listen_fd, control_fd;
    conn conns[MAX_CLIENTS];
    size_t nconns;
    long long started_ms;
    char last_error[256];
};

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
    core_pipeline *p;
    if (core_pipeline_open(cfg, &p) != SYNTH_OK) {
        core_pipeline_close(p);
        return NULL;
    }
    return p;
}

/* Record where the run is (see checkpoint_live.h); a failure is kept for
 * `ctl status`.  Returns as core_live_checkpoint_save. */
static int checkpoint(live *l, int force)
{
    core_strbuf why = {0};
    int rc = core_live_checkpoint_save(l->ck, force, &why);
    if (rc != SYNTH_OK)
        snprintf(l->last_error, sizeof l->last_error, "%s",
                 core_strbuf_str(&why));
    core_strbuf_free(&why);
    return rc;
}

/* Start a prepared pipeline (stolen) as the running one, appending to
 * the outputs of the run before (resume, borrowed; NULL: new files). */
static int start(live *l, core_pipeline *p, json_t *resume)
{
    if (core_pipeline_start(p, 1, resume) != SYNTH_OK) {
        core_pipeline_close(p);
        return SYNTH_EIO;
    }
    l->p = p;
    core_live_checkpoint_attach(l->ck, p);
    return SYNTH_OK;
}

/* Flush everything open and close the output files. */
static void close_pipeline(live *l)
{
    if (l->p == NULL)
        return;
    core_pipeline_process(l->p);
    checkpoint(l, 1); /* nothing open: the replay point is the end */
    core_live_checkpoint_attach(l->ck, NULL);
    core_pipeline_finish(l->p, SYNTH_OK);
    core_pipeline_summary(l->p);
    core_pipeline_close(l->p);
    l->p = NULL;
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
    core_live_checkpoint_reset(l->ck, next);
    if (start(l, np, NULL) != SYNTH_OK)
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
    core_overrides keep = core_config_overrides_of(l->cfg);
    if (core_config_load_with(c, path, &keep) != SYNTH_OK) {
        core_config_free(c);
        core_free(c);
        return NULL;
    }
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

/* ---- control ------------------------------------------------------------------ */

static int reconfigure(void *user, core_config *next)
{
    return switch_config(user, next);
}

static void control_line(live *l, conn *c, const char *line, size_t len)
{
    json_t *inputs = json_array();
    for (size_t i = 0; i < l->nfollows; i++) {
        const core_follow *f = &l->follows[i];
        json_array_append_new(
            inputs, json_pack("{s:s, s:I, s:I, s:I}", "path", f->path,
                              "device", (json_int_t)f->dev, "inode",
                              (json_int_t)f->ino, "offset",
                              (json_int_t)core_follow_consumed(f)));
    }
    core_control ctl = {l->p, l->cfg, l->config_path,
                        (double)(now_ms() - l->started_ms) / 1000.0,
                        l->last_error, inputs, reconfigure, l};
    json_t *resp = core_control_answer(&ctl, line, len);
    json_decref(inputs);
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
    core_live_checkpoint_free(l->ck);
    l->ck = NULL;
}

int core_live_run(core_config *cfg, const char *config_path)
{
    live l;
    memset(&l, 0, sizeof l);
    l.cfg = cfg;
    l.config_path = config_path;
    l.listen_fd = l.control_fd = -1;
    l.started_ms = now_ms();
    core_pipeline *first = prepare(cfg);
    if (first == NULL)
        return SYNTH_ECONFIG;
    l.ck = core_live_checkpoint_new(cfg);
    int after_crash = core_live_checkpoint_load(l.ck);
    if (start(&l, first, core_live_checkpoint_outputs(l.ck)) != SYNTH_OK) {
        core_live_checkpoint_free(l.ck);
        return SYNTH_EIO;
    }
    if (after_crash && core_pipeline_restore(
                           l.p, core_live_checkpoint_plugins(l.ck)) != SYNTH_OK)
        snprintf(l.last_error, sizeof l.last_error,
                 "a plugin refused its saved state: it started afresh");
    l.follows = core_calloc(cfg->ninputs + 1, sizeof *l.follows);
    l.refs = core_calloc(cfg->ninputs + 1, sizeof *l.refs);
    for (size_t i = 0; i < cfg->ninputs; i++) {
        if (strcmp(cfg->inputs[i], "-") == 0)
            continue;
        core_follow *f = &l.follows[l.nfollows];
        core_follow_init(f, cfg->inputs[i]);
        l.refs[l.nfollows] = (follow_ref){&l, (unsigned)l.nfollows + 1};
        core_live_checkpoint_follow(l.ck, f);
        l.nfollows++;
    }
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
            if (got == 0)
                core_live_checkpoint_caught_up(l.ck, (unsigned)i + 1);
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
