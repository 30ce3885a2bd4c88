/*
 * jsonin.h -- JSON text -> jansson values, fast.
 *
 * The reader's hot path: one call per log line that must be parsed.  It
 * accepts exactly what json_loadb(text, len, 0, &err) accepts and builds
 * the same values (objects keep their key order, a repeated key keeps its
 * first place and its last value, integers that do not fit json_int_t and
 * reals that overflow are errors, \u0000 is refused, the top level must be
 * an object or an array, nesting stops at 2048), so nothing downstream can
 * tell the two apart; tests/unit/test_jsonin.c holds it to that, value for
 * value and error for error, on real and mutated log lines.
 *
 * Why not json_loadb: jansson reads through a stream layer one character
 * at a time and appends every string byte to a buffer one by one; a log
 * line is mostly long strings.  Here a string is found eight bytes at a
 * time, checked as UTF-8 only when it has non-ASCII bytes, and copied
 * once.  The values themselves are ordinary jansson values.
 */
#ifndef CORE_JSONIN_H
#define CORE_JSONIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Why a parse failed. */
typedef struct core_json_error {
    int utf8;            /* the text is not valid UTF-8 (json_loadb's
                            json_error_invalid_utf8) */
    size_t column;       /* 1-based byte position of the problem */
    char text[96];       /* what is wrong, NUL-terminated */
} core_json_error;

/* Parse text[0..len) (no NUL needed).  Returns the value (a new
 * reference, an object or an array), or NULL with *err filled in. */
json_t *core_json_parse(const char *text, size_t len, core_json_error *err);

/* ---- walking a line member by member ------------------------------------
 *
 * For a reader that wants some members of the top-level object without
 * the object itself (reader.c): the same grammar, errors and nesting
 * limit as core_json_parse, in steps:
 *
 *     core_json_parser ps;
 *     core_json_start(&ps, text, len, &err);
 *     if (core_json_peek(&ps) == '{') {
 *         core_json_open(&ps);
 *         while (core_json_member(&ps, &key, &klen) == 1)
 *             v = core_json_value(&ps, 2);   (or core_json_open a nested
 *                                            object and walk it, depth 2)
 *     }
 *     ok = core_json_end(&ps) == 0;      (nothing but space may follow)
 *     core_json_stop(&ps);
 *
 * Any step after an error does nothing and fails; err has the first. */
typedef struct core_json_parser {
    const char *p, *start, *end;
    core_json_error *err;    /* borrowed */
    int failed;
    int first;               /* core_json_member: before the first member
                                (1), after one (0), empty object (-1) */
    /* decoded strings that had escapes: the stack buffer, then the heap */
    char *buf;
    size_t len, cap;
    char stack[4096];
} core_json_parser;

/* Begin a walk of text[0..len); errors go to *err (borrowed). */
void core_json_start(core_json_parser *ps, const char *text, size_t len,
                     core_json_error *err);
/* Skip space; return the next byte (0..255), or -1 at the end or after
 * an error. */
int core_json_peek(core_json_parser *ps);
/* Enter the object at the next '{' (checked with core_json_peek).
 * Returns 0, or -1 (error set). */
int core_json_open(core_json_parser *ps);
/* The next member of the object entered: returns 1 with its key in
 * *key, *klen (valid until the next string is read: copy it before
 * reading the value), the ':' read; 0 when the object ended; -1 on an
 * error. */
int core_json_member(core_json_parser *ps, const char **key, size_t *klen);
/* Parse the value at the cursor, nested depth deep (the top level is 1).
 * Returns a new reference, or NULL (error set). */
json_t *core_json_value(core_json_parser *ps, int depth);
/* The string value at the cursor (a '"', checked with core_json_peek),
 * decoded into *s, *n (valid until the next string is read), without
 * making a jansson value.  Returns 0, or -1 (error set). */
int core_json_string(core_json_parser *ps, const char **s, size_t *n);
/* Nothing but space left?  Returns 0, or -1 (error set). */
int core_json_end(core_json_parser *ps);
/* Release the walk's memory (not the values it returned). */
void core_json_stop(core_json_parser *ps);

/* The value of hex digit c, or -1 when it is not one (\u escapes; shared
 * with the prescan). */
static inline int core_json_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The first '"', '\\' or control character in [p, end), or end: where a
 * JSON string's plain run stops.  Eight bytes at a time, since strings are
 * most of a log line's bytes (the SWAR tests can flag bytes after a hit,
 * never before one, so the lowest flag is exact).  Shared with the
 * prescan. */
static inline const char *core_json_string_stop(const char *p,
                                                const char *end)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t x, q, b, t;
        memcpy(&x, p, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        t = ((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x);
        t &= high;
        if (t)
            return p + (__builtin_ctzll(t) >> 3);
        p += 8;
    }
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    return p;
}

#endif
