/*
 * lines.h -- read a file (or stdin) one line at a time, fast.
 *
 * Lines are returned as borrowed pointers into an internal buffer, valid
 * until the next call: no copy, no allocation per line.  A line longer than
 * the limit is skipped whole and reported, so one giant line can neither
 * exhaust memory nor desynchronise the line numbers.
 */
#ifndef CORE_LINES_H
#define CORE_LINES_H

#include <stddef.h>

typedef struct core_lines {
    int fd;
    int owns_fd;               /* close fd on core_lines_close */
    char *name;                /* owned: path, or "<stdin>" */
    char *buf;                 /* owned */
    size_t cap, start, end;    /* buf[start..end) is unread data */
    size_t max_line;           /* longest accepted line, in bytes */
    unsigned long long line_no;    /* number of the line last returned */
    unsigned long long offset;     /* byte offset just past that line */
    int eof;
} core_lines;

/* Open path ("-" = stdin) for reading.  Returns SYNTH_OK, or SYNTH_EIO
 * with errno set (l is then closed and may be discarded). */
int core_lines_open(core_lines *l, const char *path, size_t max_line);
/* Read the next line (without "\n" or "\r\n").  Returns SYNTH_OK with
 * *line and *len set (borrowed until the next call); SYNTH_ELIMIT when the line
 * was longer than max_line (it is skipped, line_no counts it); SYNTH_ENOTFOUND
 * at end of input; SYNTH_EIO on a read error (errno set). */
int core_lines_next(core_lines *l, const char **line, size_t *len);
/* Release everything; NULL-safe and safe to call twice. */
void core_lines_close(core_lines *l);

#endif
