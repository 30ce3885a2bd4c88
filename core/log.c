/* log.c -- one-line diagnostics on stderr (see log.h). */
#include "log.h"
#include "strbuf.h"

#include <stdio.h>

int core_log_quiet = 0;
_Thread_local core_strbuf *core_log_capture = NULL;

void core_vlog(const char *level, const char *fmt, va_list ap)
{
    /* Build the whole line first so concurrent threads never interleave
     * inside a line. */
    core_strbuf line = {0};
    core_strbuf_puts(&line, "synthhost: ");
    if (level) {
        core_strbuf_puts(&line, level);
        core_strbuf_puts(&line, ": ");
    }
    core_strbuf_vprintf(&line, fmt, ap);
    core_strbuf_puts(&line, "\n");
    fputs(core_strbuf_str(&line), stderr);
    if (core_log_capture && level)
        core_strbuf_append(core_log_capture, line.data + 11, line.len - 11);
    core_strbuf_free(&line);
}

void core_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    core_vlog("error", fmt, ap);
    va_end(ap);
}

void core_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    core_vlog("warning", fmt, ap);
    va_end(ap);
}

void core_note(const char *fmt, ...)
{
    if (core_log_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    core_vlog(NULL, fmt, ap);
    va_end(ap);
}
