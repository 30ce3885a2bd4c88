/* follow.c -- tail -F for one file (see follow.h). */
#include "follow.h"
#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void core_follow_init(core_follow *f, const char *path)
{
    memset(f, 0, sizeof *f);
    f->path = core_strdup(path);
    f->fd = -1;
}

static void follow_open(core_follow *f)
{
    f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (f->fd < 0)
        return;
    struct stat st;
    fstat(f->fd, &st);
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->offset = 0;
}

/* Hand over the complete lines in buf[0..n), which starts at file offset
 * base. */
static void split(core_follow *f, const char *buf, size_t n,
                  unsigned long long base, core_follow_line fn, void *user)
{
    const char *p = buf, *end = buf + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            if (f->partial.len == 0)
                f->partial_start = base + (unsigned long long)(p - buf);
            core_strbuf_append(&f->partial, p, (size_t)(end - p));
            return;
        }
        const char *line = p;
        size_t len = (size_t)(nl - p);
        unsigned long long start = base + (unsigned long long)(p - buf);
        if (f->partial.len) {
            start = f->partial_start;
            core_strbuf_append(&f->partial, p, len);
            line = f->partial.data;
            len = f->partial.len;
        }
        if (len > 0 && line[len - 1] == '\r')
            len--;
        f->line_no++;
        fn(user, f->path, f->line_no, start, line, len);
        core_strbuf_reset(&f->partial);
        p = nl + 1;
    }
}

/* Read everything available from the open file. */
static long drain(core_follow *f, core_follow_line fn, void *user)
{
    char buf[1 << 16];
    long total = 0;
    for (;;) {
        ssize_t n = read(f->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return total;
        unsigned long long base = f->offset;
        f->offset += (unsigned long long)n;
        total += n;
        split(f, buf, (size_t)n, base, fn, user);
    }
}

long core_follow_poll(core_follow *f, core_follow_line fn, void *user)
{
    if (f->fd < 0) {
        follow_open(f);
        if (f->fd < 0)
            return 0; /* not there yet */
    }
    long got = drain(f, fn, user);
    if (got < 0)
        return -1;
    struct stat now, path;
    if (fstat(f->fd, &now) == 0 && (unsigned long long)now.st_size < f->offset) {
        /* truncated: start again; a half line from before is void */
        f->truncations++;
        lseek(f->fd, 0, SEEK_SET);
        f->offset = 0;
        core_strbuf_reset(&f->partial);
        long more = drain(f, fn, user);
        return more < 0 ? -1 : got + more;
    }
    if (stat(f->path, &path) == 0 &&
        (path.st_ino != f->ino || path.st_dev != f->dev)) {
        /* rotated: the old file is finished, follow the new one */
        f->rotations++;
        close(f->fd);
        core_strbuf_reset(&f->partial);
        follow_open(f);
        if (f->fd >= 0) {
            long more = drain(f, fn, user);
            return more < 0 ? -1 : got + more;
        }
    }
    return got;
}

void core_follow_resume(core_follow *f, unsigned long long dev,
                        unsigned long long ino, unsigned long long offset)
{
    follow_open(f);
    if (f->fd < 0)
        return;
    if ((unsigned long long)f->dev == dev && (unsigned long long)f->ino == ino &&
        lseek(f->fd, (off_t)offset, SEEK_SET) == (off_t)offset)
        f->offset = offset;
}

unsigned long long core_follow_consumed(const core_follow *f)
{
    return f->partial.len ? f->partial_start : f->offset;
}

void core_follow_close(core_follow *f)
{
    if (f == NULL)
        return;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    core_strbuf_free(&f->partial);
    core_free(f->path);
    f->path = NULL;
}
