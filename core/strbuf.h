/*
 * strbuf.h -- a growable byte buffer, always NUL-terminated.
 *
 * Used for error messages, JSON serialisation and path building.  The
 * struct is owned by its user (often on the stack); core_strbuf_free()
 * releases the bytes.  A zeroed struct is an empty buffer.
 */
#ifndef CORE_STRBUF_H
#define CORE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

typedef struct core_strbuf {
    char *data;   /* owned; NULL while empty and never grown */
    size_t len;   /* bytes used, excluding the terminating NUL */
    size_t cap;   /* bytes allocated */
} core_strbuf;

/* Append bytes / a C string / printf output.  Never fail (abort on OOM).
 * core_strbuf_append is inline when there is room: the JSON writer calls
 * it for every token. */
void core_strbuf_append_grow(core_strbuf *b, const char *s, size_t len);
static inline void core_strbuf_append(core_strbuf *b, const char *s,
                                      size_t len)
{
    if (b->len + len < b->cap) {
        memcpy(b->data + b->len, s, len);
        b->len += len;
        b->data[b->len] = '\0';
    } else {
        core_strbuf_append_grow(b, s, len);
    }
}
void core_strbuf_puts(core_strbuf *b, const char *s);
void core_strbuf_printf(core_strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void core_strbuf_vprintf(core_strbuf *b, const char *fmt, va_list ap);
/* Empty the buffer, keeping its memory. */
void core_strbuf_reset(core_strbuf *b);
/* Return the contents as a C string ("" when empty); borrowed. */
const char *core_strbuf_str(const core_strbuf *b);
/* Free the bytes and zero the struct; NULL-safe. */
void core_strbuf_free(core_strbuf *b);

#endif
