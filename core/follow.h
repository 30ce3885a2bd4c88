/*
 * follow.h -- read a file as it grows, like tail -F.
 *
 * Each call reads what was appended since the last one and hands over the
 * complete lines; a last line without its newline waits for the rest.  A
 * file that shrinks (truncated) is read again from the start; a file that
 * is replaced (rotated: another inode at the path) is read to its end,
 * then the new one from its start.  A path that does not exist yet is
 * waited for.
 */
#ifndef CORE_FOLLOW_H
#define CORE_FOLLOW_H

#include <stddef.h>
#include <sys/types.h>

#include "strbuf.h"

typedef struct core_follow {
    char *path;                 /* owned */
    int fd;                     /* -1 while the file is missing */
    dev_t dev;
    ino_t ino;
    unsigned long long offset;  /* bytes consumed from the open file */
    unsigned long long line_no;
    core_strbuf partial;        /* owned: a line still missing its end */
    unsigned long long partial_start; /* offset where that line began */
    unsigned long long rotations, truncations;
} core_follow;

/* Receives one complete line (borrowed, without its newline) that began
 * at byte offset `start` of the file. */
typedef void (*core_follow_line)(void *user, const char *name,
                                 unsigned long long line_no,
                                 unsigned long long start, const char *line,
                                 size_t len);

/* Start following path (the file may not exist yet).  Never fails. */
void core_follow_init(core_follow *f, const char *path);
/* Resume at byte offset of the file with that device and inode (a
 * checkpoint); a different file at the path is read from its start. */
void core_follow_resume(core_follow *f, unsigned long long dev,
                        unsigned long long ino, unsigned long long offset);
/* The offset of the first byte not yet handed over as a line. */
unsigned long long core_follow_consumed(const core_follow *f);
/* Read what is new and call fn for each complete line.  Returns the
 * number of bytes read (0: nothing new), or -1 on a read error (errno). */
long core_follow_poll(core_follow *f, core_follow_line fn, void *user);
/* Close and free; NULL-safe. */
void core_follow_close(core_follow *f);

#endif
