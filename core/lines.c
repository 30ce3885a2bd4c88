/* lines.c -- buffered line reader (see lines.h). */
#include "lines.h"
#include "alloc.h"
#include "stop.h"
#include "synth_plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define LINES_CHUNK (256u * 1024u)

int core_lines_open(core_lines *l, const char *path, size_t max_line)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    if (strcmp(path, "-") == 0) {
        l->fd = STDIN_FILENO;
        l->name = core_strdup("<stdin>");
    } else {
        l->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (l->fd < 0)
            return SYNTH_EIO;
        l->owns_fd = 1;
        l->name = core_strdup(path);
    }
    l->max_line = max_line;
    l->cap = LINES_CHUNK;
    l->buf = core_malloc(l->cap);
    return SYNTH_OK;
}

/* Read more bytes after l->end, compacting or growing the buffer first.
 * Returns bytes read (0 at EOF) or -1 on error. */
static ssize_t lines_fill(core_lines *l)
{
    if (l->start > 0) {
        memmove(l->buf, l->buf + l->start, l->end - l->start);
        l->end -= l->start;
        l->start = 0;
    }
    if (l->end == l->cap) {
        size_t want = l->cap * 2;
        if (want > l->max_line + LINES_CHUNK)
            want = l->max_line + LINES_CHUNK;
        if (want > l->cap) {
            l->buf = core_realloc(l->buf, want);
            l->cap = want;
        }
    }
    if (l->end == l->cap)
        return -2; /* full: the caller is skipping an overlong line */
    for (;;) {
        ssize_t n = read(l->fd, l->buf + l->end, l->cap - l->end);
        if (n < 0 && errno == EINTR && !core_stop_requested)
            continue;
        if (n > 0)
            l->end += (size_t)n;
        return n;
    }
}

int core_lines_next(core_lines *l, const char **line, size_t *len)
{
    size_t scanned = 0;      /* bytes of the current line known to hold no \n */
    int overlong = 0;        /* discarding the rest of an overlong line */
    for (;;) {
        char *from = l->buf + l->start + scanned;
        char *nl = memchr(from, '\n', l->end - l->start - scanned);
        if (nl != NULL) {
            size_t n = (size_t)(nl - (l->buf + l->start));
            l->line_no++;
            l->offset += n + 1;
            const char *s = l->buf + l->start;
            l->start += n + 1;
            if (overlong || n > l->max_line)
                return SYNTH_ELIMIT;
            if (n > 0 && s[n - 1] == '\r')
                n--;
            *line = s;
            *len = n;
            return SYNTH_OK;
        }
        scanned = l->end - l->start;
        if (scanned > l->max_line) {
            /* Too long: drop what we have and keep scanning for its end. */
            overlong = 1;
            l->offset += scanned;
            l->start = l->end;
            scanned = 0;
        }
        if (l->eof) {
            size_t n = l->end - l->start;
            if (n == 0 && !overlong)
                return SYNTH_ENOTFOUND;
            /* A last line without a newline is still a line. */
            l->line_no++;
            l->offset += n;
            const char *s = l->buf + l->start;
            l->start = l->end;
            if (overlong)
                return SYNTH_ELIMIT;
            if (n > 0 && s[n - 1] == '\r')
                n--;
            *line = s;
            *len = n;
            return SYNTH_OK;
        }
        ssize_t got = lines_fill(l);
        if (got == 0)
            l->eof = 1;
        else if (got == -1)
            return SYNTH_EIO;
    }
}

void core_lines_close(core_lines *l)
{
    if (l == NULL)
        return;
    if (l->owns_fd && l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    l->owns_fd = 0;
    core_free(l->buf);
    core_free(l->name);
    l->buf = NULL;
    l->name = NULL;
}
