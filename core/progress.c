/* progress.c -- progress on a terminal (see progress.h). */
#include "progress.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The bytes of every file, or 0 when one has no size (stdin). */
static unsigned long long total_bytes(char *const *paths, size_t n)
{
    unsigned long long total = 0;
    struct stat st;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(paths[i], "-") == 0 || stat(paths[i], &st) != 0)
            return 0;
        total += (unsigned long long)st.st_size;
    }
    return total;
}

void core_progress_start(core_progress *pr, char *const *paths, size_t n)
{
    memset(pr, 0, sizeof *pr);
    pr->on = !core_log_quiet && isatty(STDERR_FILENO);
    pr->total = pr->on ? total_bytes(paths, n) : 0;
    pr->start_ms = pr->shown_ms = mono_ms();
    /* the tests draw at every update, on a log that takes milliseconds */
    const char *every = getenv("SYNTH_PROGRESS_MS");
    pr->interval_ms = every ? atoll(every) : 250;
}

void core_progress_update(core_progress *pr, unsigned long long bytes,
                          unsigned long long records)
{
    if (!pr->on)
        return;
    long long now = mono_ms();
    if (now - pr->shown_ms < pr->interval_ms)
        return;
    pr->shown_ms = now;
    double secs = (double)(now - pr->start_ms) / 1000.0;
    double mb = (double)bytes / 1048576.0;
    double rate = secs > 0 ? mb / secs : 0;
    char line[160];
    int n;
    if (pr->total > 0) {
        double total_mb = (double)pr->total / 1048576.0;
        double left = rate > 0 ? (total_mb - mb) / rate : 0;
        n = snprintf(line, sizeof line,
                     "synthhost: %.1f of %.1f MB (%.0f%%), %.1f MB/s, %llu "
                     "records, %.0f s left",
                     mb, total_mb, 100.0 * mb / total_mb, rate, records,
                     left > 0 ? left : 0);
    } else {
        n = snprintf(line, sizeof line,
                     "synthhost: %.1f MB, %.1f MB/s, %llu records", mb, rate,
                     records);
    }
    /* \r and erase to the end of the line: the next drawing replaces it */
    fprintf(stderr, "\r%.*s\033[K", n, line);
    fflush(stderr);
    pr->drawn = 1;
}

void core_progress_end(core_progress *pr)
{
    if (pr == NULL || !pr->drawn)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    pr->drawn = 0;
}
