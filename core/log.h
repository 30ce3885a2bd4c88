/*
 * log.h -- diagnostics on stderr, one line each, prefixed "synthhost: ".
 *
 * core_error() is for what makes the run fail, core_warn() for what the
 * user must know (a skipped line), core_note() for progress and summaries
 * (silenced by core_log_quiet).  Safe to call from any thread: each call
 * writes one whole line.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <stdarg.h>

void core_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void core_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void core_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* level: "error", "warning" or NULL for a plain note. */
void core_vlog(const char *level, const char *fmt, va_list ap);

/* Nonzero: core_note() prints nothing.  Set once, before threads start. */
extern int core_log_quiet;

struct core_strbuf;
/* When set, errors and warnings of the thread that set it are also
 * appended here (one line each): the control socket answers a rejected
 * `configure` with them.  Per thread, so the plugin thread's messages
 * meanwhile neither race on it nor end up in that answer. */
extern _Thread_local struct core_strbuf *core_log_capture;

#endif
