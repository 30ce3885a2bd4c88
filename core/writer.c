/* writer.c -- atomic per-format output files (see writer.h). */
#include "writer.h"
#include "alloc.h"
#include "jsonout.h"
#include "synth_plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void core_writer_stamp(char buf[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, 32, "%Y%m%dT%H%M%SZ", &tm);
}

/* mkdir -p.  Returns SYNTH_OK or SYNTH_EIO (errno set). */
static int make_dirs(const char *dir)
{
    char *p = core_strdup(dir);
    int rc = SYNTH_OK;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            rc = SYNTH_EIO;
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    core_free(p);
    struct stat st;
    if (rc == SYNTH_OK && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        errno = ENOTDIR;
        rc = SYNTH_EIO;
    }
    return rc;
}

#define WRITE_BUFFER (256u * 1024u)
#define WRITEBACK_BYTES (1u << 20)
#define LIVE_BATCH_BYTES (64u * 1024u)

/* open(2) path with flags (mode 0644 when created) as a stdio stream;
 * NULL with errno set on failure, the descriptor closed. */
static FILE *open_stream(const char *path, int flags, const char *mode)
{
    int fd = open(path, flags | O_CLOEXEC, 0644);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, mode);
    if (fp == NULL) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return fp;
}

/* Create <dir>/.<base>.<kind>.<pid>.tmp exclusively: *path and *fp get
 * the owned results.  Returns SYNTH_OK or SYNTH_EIO with the reason. */
static int open_tmp(const core_writer *w, const char *kind, char **path,
                    FILE **fp, core_strbuf *why)
{
    core_strbuf b = {0};
    core_strbuf_printf(&b, "%s/.%s.%s.%ld.tmp", w->dir, w->base, kind,
                       (long)getpid());
    *fp = open_stream(b.data, O_WRONLY | O_CREAT | O_EXCL, "w");
    if (*fp != NULL) /* records are KBs: a few per write(2), not one */
        setvbuf(*fp, NULL, _IOFBF, WRITE_BUFFER);
    if (*fp == NULL) {
        int e = errno;
        if (e != EEXIST)
            unlink(b.data); /* made, if fdopen failed after open */
        core_strbuf_printf(why, "cannot create %s: %s", b.data, strerror(e));
        core_strbuf_free(&b);
        return SYNTH_EIO;
    }
    *path = b.data;
    return SYNTH_OK;
}

/* What every new writer starts with: its directory (created), and the
 * base name <format>-<stamp>.  Returns SYNTH_OK, or SYNTH_EIO with why. */
static int writer_init(core_writer *w, const char *dir, const char *format,
                       const char *stamp, long long batch, int live,
                       int sidecar, core_strbuf *why)
{
    memset(w, 0, sizeof *w);
    w->dir = core_strdup(dir);
    w->live = live;
    w->sidecar = sidecar;
    w->batch = batch > 0 ? batch : 1;
    core_strbuf b = {0};
    core_strbuf_printf(&b, "%s-%s", format, stamp);
    w->base = b.data;
    if (make_dirs(dir) != SYNTH_OK) {
        core_strbuf_printf(why, "cannot create output directory %s: %s",
                           dir, strerror(errno));
        return SYNTH_EIO;
    }
    return SYNTH_OK;
}

int core_writer_open(core_writer *w, const char *dir, const char *format,
                     const char *stamp, int sidecar, long long batch,
                     core_strbuf *why)
{
    if (writer_init(w, dir, format, stamp, batch, 0, sidecar, why) != SYNTH_OK)
        return SYNTH_EIO;
    if (open_tmp(w, "jsonl", &w->tmp, &w->fp, why) != SYNTH_OK)
        return SYNTH_EIO;
    if (sidecar &&
        open_tmp(w, "jsonl.meta", &w->meta_tmp, &w->meta, why) != SYNTH_OK)
        return SYNTH_EIO;
    return SYNTH_OK;
}

/* Write b (whole lines) to fp's descriptor and empty it.  Returns
 * SYNTH_OK or SYNTH_EIO (errno set). */
static int write_pending(FILE *fp, core_strbuf *b)
{
    const char *p = b->data;
    size_t left = b->len;
    while (left > 0) {
        ssize_t n = write(fileno(fp), p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return SYNTH_EIO;
        p += n;
        left -= (size_t)n;
    }
    core_strbuf_reset(b);
    return SYNTH_OK;
}

/* Push fp's buffer out and start writing it back; 0 or -1. */
static int writeback(FILE *fp)
{
    if (fflush(fp) != 0)
        return -1;
    sync_file_range(fileno(fp), 0, 0, SYNC_FILE_RANGE_WRITE);
    return 0;
}

/* One value as one line, serialised into the writer's buffer: batch, one
 * fwrite (*unsynced counts the bytes since the last writeback); live,
 * appended to the pending whole lines of fp, written out at the flush or
 * every LIVE_BATCH_BYTES, so a reader never sees half a line.  Returns
 * SYNTH_OK or SYNTH_EIO (errno set). */
static int put_line(core_writer *w, FILE *fp, size_t *unsynced, json_t *v)
{
    core_strbuf_reset(&w->line);
    core_json_append(&w->line, v);
    core_strbuf_append(&w->line, "\n", 1);
    if (!w->live) {
        if (fwrite(w->line.data, 1, w->line.len, fp) != w->line.len)
            return SYNTH_EIO;
        /* Start writing back every MB: the fsync before publishing
         * then finds little left to do (it was a tenth of a run). */
        if ((*unsynced += w->line.len) >= WRITEBACK_BYTES) {
            *unsynced = 0;
            if (writeback(fp) != 0)
                return SYNTH_EIO;
        }
        return SYNTH_OK;
    }
    /* live: whole lines only, gathered until the tick's flush (or 64 KB)
     * and written in one go: a write(2) per line was a tenth of a live
     * run */
    core_strbuf *pend = &w->pending[fp == w->fp ? 0 : 1];
    core_strbuf_append(pend, w->line.data, w->line.len);
    return pend->len >= LIVE_BATCH_BYTES ? write_pending(fp, pend) : SYNTH_OK;
}

int core_writer_open_live(core_writer *w, const char *dir, const char *format,
                          const char *stamp, int sidecar, core_strbuf *why)
{
    if (writer_init(w, dir, format, stamp, 1, 1, sidecar, why) != SYNTH_OK ||
        core_writer_choose(w, why) != SYNTH_OK)
        return SYNTH_EIO;
    return SYNTH_OK;
}

/* Create path exclusively for appending into *fp.  Returns SYNTH_OK, or
 * SYNTH_EIO with the reason. */
static int create_final(const char *path, FILE **fp, core_strbuf *why)
{
    *fp = open_stream(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, "a");
    if (*fp == NULL) {
        int e = errno;
        core_strbuf_printf(why, "cannot create %s: %s", path, strerror(e));
        errno = e;
        return SYNTH_EIO;
    }
    return SYNTH_OK;
}

int core_writer_create_live(core_writer *w, core_strbuf *why)
{
    if ((w->fp == NULL && create_final(w->path, &w->fp, why) != SYNTH_OK) ||
        (w->meta_path && w->meta == NULL &&
         create_final(w->meta_path, &w->meta, why) != SYNTH_OK)) {
        w->error = errno ? errno : EIO; /* records fail, none pile up */
        return SYNTH_EIO;
    }
    return SYNTH_OK;
}

/* Open path for appending, cut to size.  A file the checkpoint names
 * empty may not exist yet (the run before stopped between recording the
 * name and creating the file): then it is created.  NULL on failure. */
static FILE *reopen(const char *path, unsigned long long size)
{
    FILE *fp = open_stream(path, O_WRONLY | O_APPEND | (size ? 0 : O_CREAT),
                           "a");
    if (fp && ftruncate(fileno(fp), (off_t)size) != 0) {
        int e = errno;
        fclose(fp);
        errno = e;
        return NULL;
    }
    return fp;
}

int core_writer_reopen_live(core_writer *w, const char *dir, json_t *state,
                            core_strbuf *why)
{
    const char *path = json_string_value(json_object_get(state, "path"));
    const char *meta_path =
        json_string_value(json_object_get(state, "meta_path"));
    unsigned long long size = (unsigned long long)json_integer_value(
        json_object_get(state, "size"));
    unsigned long long meta_size = (unsigned long long)json_integer_value(
        json_object_get(state, "meta_size"));
    memset(w, 0, sizeof *w);
    if (path == NULL) {
        core_strbuf_printf(why, "a checkpoint names no output file");
        return SYNTH_EIO;
    }
    w->dir = core_strdup(dir);
    w->live = 1;
    w->batch = 1;
    w->sidecar = meta_path != NULL;
    w->base = core_strdup(path);
    w->path = core_strdup(path);
    w->fp = reopen(path, size);
    if (w->fp && meta_path) {
        w->meta_path = core_strdup(meta_path);
        w->meta = reopen(meta_path, meta_size);
    }
    if (w->fp == NULL || (meta_path && w->meta == NULL)) {
        core_strbuf_printf(why, "cannot resume %s: %s", path, strerror(errno));
        return SYNTH_EIO;
    }
    return SYNTH_OK;
}

int core_writer_sync(core_writer *w, json_t **state, core_strbuf *why)
{
    struct stat st;
    unsigned long long size = 0, meta_size = 0;
    *state = NULL;
    if (core_writer_flush(w) != SYNTH_OK ||
        (w->fp && (fsync(fileno(w->fp)) != 0 || fstat(fileno(w->fp), &st) != 0)))
        goto fail;
    size = w->fp ? (unsigned long long)st.st_size : 0;
    if (w->meta && (fsync(fileno(w->meta)) != 0 ||
                    fstat(fileno(w->meta), &st) != 0))
        goto fail;
    meta_size = w->meta ? (unsigned long long)st.st_size : 0;
    *state = json_pack("{s:s, s:I, s:s?, s:I}", "path", w->path, "size",
                       (json_int_t)size, "meta_path", w->meta_path,
                       "meta_size", (json_int_t)meta_size);
    return SYNTH_OK;
fail:
    core_strbuf_printf(why, "%s: %s", w->path,
                       strerror(w->error ? w->error : errno));
    return SYNTH_EIO;
}

int core_writer_flush(core_writer *w)
{
    if (w->fp && write_pending(w->fp, &w->pending[0]) != SYNTH_OK)
        return SYNTH_EIO;
    if (w->meta && write_pending(w->meta, &w->pending[1]) != SYNTH_OK)
        return SYNTH_EIO;
    if (w->fp && fflush(w->fp) != 0)
        return SYNTH_EIO;
    if (w->meta && fflush(w->meta) != 0)
        return SYNTH_EIO;
    return SYNTH_OK;
}

int core_writer_writeback(core_writer *w)
{
    if (w->fp && writeback(w->fp) != 0)
        return SYNTH_EIO;
    if (w->meta && writeback(w->meta) != 0)
        return SYNTH_EIO;
    return SYNTH_OK;
}

int core_writer_put(core_writer *w, json_t *record, json_t *meta)
{
    if (w->error)
        return SYNTH_EIO;
    if (put_line(w, w->fp, &w->unsynced[0], record) != SYNTH_OK ||
        (w->meta && put_line(w, w->meta, &w->unsynced[1],
                             meta ? meta : json_null()) != SYNTH_OK)) {
        w->error = errno ? errno : EIO;
        return SYNTH_EIO;
    }
    if (w->live)
        w->records++;
    if (!w->live && ++w->records % (unsigned long long)w->batch == 0 &&
        (fflush(w->fp) != 0 || (w->meta && fflush(w->meta) != 0))) {
        w->error = errno;
        return SYNTH_EIO;
    }
    return SYNTH_OK;
}

int core_writer_note(core_writer *w, json_t *meta)
{
    if (w->error)
        return SYNTH_EIO;
    if (w->meta && put_line(w, w->meta, &w->unsynced[1], meta) != SYNTH_OK) {
        w->error = errno ? errno : EIO;
        return SYNTH_EIO;
    }
    return SYNTH_OK;
}

/* Flush, fsync and close fp.  Returns 0 or an errno value. */
static int finish_file(FILE **fp)
{
    int err = 0;
    if (fflush(*fp) != 0 || fsync(fileno(*fp)) != 0)
        err = errno;
    if (fclose(*fp) != 0 && err == 0)
        err = errno;
    *fp = NULL;
    return err;
}

/* Link tmp to final without replacing anything.  Returns 0 or errno. */
static int publish(const char *tmp, const char *final)
{
    if (link(tmp, final) != 0)
        return errno;
    unlink(tmp);
    return 0;
}

int core_writer_finish(core_writer *w, core_strbuf *why)
{
    int err = w->error;
    if (err == 0 && w->fp)
        err = finish_file(&w->fp);
    if (err == 0 && w->meta)
        err = finish_file(&w->meta);
    if (err != 0) {
        core_strbuf_printf(why, "cannot write %s: %s",
                           w->tmp ? w->tmp : w->path, strerror(err));
        return SYNTH_EIO;
    }
    return SYNTH_OK;
}

/* Does nothing exist at path? */
static int is_free(const char *path)
{
    struct stat st;
    return lstat(path, &st) != 0 && errno == ENOENT;
}

int core_writer_choose(core_writer *w, core_strbuf *why)
{
    for (int n = 1; n < 1000; n++) {
        core_strbuf p = {0}, m = {0};
        if (n == 1)
            core_strbuf_printf(&p, "%s/%s.jsonl", w->dir, w->base);
        else
            core_strbuf_printf(&p, "%s/%s-%d.jsonl", w->dir, w->base, n);
        if (w->sidecar)
            core_strbuf_printf(&m, "%s.meta", p.data);
        /* both names free: a stray sidecar must not stop the publish */
        if (is_free(p.data) && (!w->sidecar || is_free(m.data))) {
            core_free(w->path);
            core_free(w->meta_path);
            w->path = p.data;
            w->meta_path = m.data; /* NULL without a sidecar */
            return SYNTH_OK;
        }
        core_strbuf_free(&p);
        core_strbuf_free(&m);
    }
    core_strbuf_printf(why, "no free file name for %s in %s", w->base, w->dir);
    return SYNTH_EIO;
}

int core_writer_link(core_writer *w, core_strbuf *why)
{
    int err = publish(w->tmp, w->path);
    if (err == 0 && w->meta_tmp)
        err = publish(w->meta_tmp, w->meta_path);
    if (err != 0) {
        core_strbuf_printf(why, "cannot publish %s: %s", w->path,
                           strerror(err));
        return SYNTH_EIO;
    }
    core_free(w->tmp);
    w->tmp = NULL;
    core_free(w->meta_tmp);
    w->meta_tmp = NULL;
    return SYNTH_OK;
}

void core_writer_sync_dir(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

int core_writer_commit(core_writer *w, core_strbuf *why)
{
    if (w->live) {
        int lerr = w->error;
        if (lerr == 0 && core_writer_flush(w) != SYNTH_OK)
            lerr = errno ? errno : EIO;
        if (lerr == 0 && w->fp)
            lerr = finish_file(&w->fp);
        if (lerr == 0 && w->meta)
            lerr = finish_file(&w->meta);
        if (lerr) {
            core_strbuf_printf(why, "cannot write %s: %s", w->path,
                               strerror(lerr));
            return SYNTH_EIO;
        }
        return SYNTH_OK;
    }
    if (core_writer_finish(w, why) != SYNTH_OK ||
        core_writer_choose(w, why) != SYNTH_OK ||
        core_writer_link(w, why) != SYNTH_OK)
        return SYNTH_EIO;
    core_writer_sync_dir(w->dir);
    return SYNTH_OK;
}

void core_writer_free(core_writer *w)
{
    if (w == NULL)
        return;
    if (w->fp)
        fclose(w->fp);
    if (w->meta)
        fclose(w->meta);
    core_strbuf_free(&w->pending[0]);
    core_strbuf_free(&w->pending[1]);
    if (w->tmp)
        unlink(w->tmp);
    if (w->meta_tmp)
        unlink(w->meta_tmp);
    core_free(w->tmp);
    core_free(w->meta_tmp);
    core_free(w->path);
    core_free(w->meta_path);
    core_free(w->base);
    core_free(w->dir);
    core_strbuf_free(&w->line);
    memset(w, 0, sizeof *w);
}
