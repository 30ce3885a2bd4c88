/* strbuf.c -- growable NUL-terminated byte buffer (see strbuf.h). */
#include "strbuf.h"
#include "alloc.h"

#include <stdio.h>
#include <string.h>

static void strbuf_reserve(core_strbuf *b, size_t extra)
{
    core_grow((void **)&b->data, &b->cap, b->len + extra + 1, 1);
}

void core_strbuf_append_grow(core_strbuf *b, const char *s, size_t len)
{
    strbuf_reserve(b, len);
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void core_strbuf_puts(core_strbuf *b, const char *s)
{
    core_strbuf_append(b, s, strlen(s));
}

void core_strbuf_vprintf(core_strbuf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return;
    strbuf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void core_strbuf_printf(core_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    core_strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void core_strbuf_reset(core_strbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

const char *core_strbuf_str(const core_strbuf *b)
{
    return b->data ? b->data : "";
}

void core_strbuf_free(core_strbuf *b)
{
    if (b == NULL)
        return;
    core_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
