/* jsonin.c -- JSON text -> jansson values, what json_loadb(.., 0, ..)
 * accepts and builds, faster (see jsonin.h). */
#include "jsonin.h"
#include "alloc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* jansson's JSON_PARSER_MAX_DEPTH: every value, scalars too, counts one
 * level, the top level being 1. */
#define MAX_DEPTH 2048

typedef core_json_parser parser;

/* Record the first error (at p) and return NULL. */
static json_t *fail(parser *ps, const char *p, int utf8, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static json_t *fail(parser *ps, const char *p, int utf8, const char *fmt, ...)
{
    ps->failed = 1;
    if (ps->err->text[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err->text, sizeof ps->err->text, fmt, ap);
        va_end(ap);
        ps->err->utf8 = utf8;
        ps->err->column = (size_t)(p - ps->start) + 1;
    }
    return NULL;
}

static void ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                               *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* Does [s, s + n) have a byte >= 0x80?  Eight bytes at a time. */
static int has_high(const char *s, size_t n)
{
    uint64_t acc = 0, x;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&x, s + i, 8);
        acc |= x;
    }
    for (; i < n; i++)
        acc |= (unsigned char)s[i];
    return (acc & 0x8080808080808080ULL) != 0;
}

/* The first byte of [s, s + n) that is not part of well-formed UTF-8 (no
 * overlong forms, surrogates or code points past U+10FFFF), or NULL. */
static const char *utf8_bad(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = u[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return s + i;
        }
        if (n - i <= k)
            return s + i;
        for (size_t j = 1; j <= k; j++) {
            if ((u[i + j] & 0xC0) != 0x80)
                return s + i;
            cp = cp << 6 | (u[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return s + i;
        i += k + 1;
    }
    return NULL;
}

/* Check a raw run of string bytes; returns 0, or -1 after fail(). */
static int check_run(parser *ps, const char *s, size_t n)
{
    const char *bad;
    if (has_high(s, n) && (bad = utf8_bad(s, n)) != NULL) {
        fail(ps, bad, 1, "unable to decode byte 0x%x",
             (unsigned char)*bad);
        return -1;
    }
    return 0;
}

static void put(parser *ps, const char *s, size_t n)
{
    ps->buf = core_grow_inline(ps->buf, ps->stack, &ps->cap, ps->len + n, 1);
    memcpy(ps->buf + ps->len, s, n);
    ps->len += n;
}

/* Four hex digits at p (p + 4 <= end checked by the caller); -1 if not. */
static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = core_json_hex_digit(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* A \u escape at p (the backslash): appends its UTF-8 and returns the
 * position after it (both halves of a surrogate pair), or NULL after
 * fail(). */
static const char *unicode_escape(parser *ps, const char *p)
{
    if (ps->end - p < 6 || hex4(p + 2) < 0)
        return fail(ps, p, 0, "invalid escape"), NULL;
    long cp = hex4(p + 2);
    const char *next = p + 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        long lo = ps->end - next >= 6 && next[0] == '\\' && next[1] == 'u'
                      ? hex4(next + 2)
                      : -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(ps, p, 0, "invalid Unicode '\\u%04lX'", cp), NULL;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        next += 6;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return fail(ps, p, 0, "invalid Unicode '\\u%04lX'", cp), NULL;
    } else if (cp == 0) {
        return fail(ps, p, 0, "\\u0000 is not allowed"), NULL;
    }
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    put(ps, u, n);
    return next;
}

/* The string at ps->p (its opening quote).  Sets *s, *n to its decoded
 * bytes: a span of the text when it has no escapes, else the parser's
 * buffer (good until the next string).  Returns 0, or -1 after fail(). */
static int string(parser *ps, const char **s, size_t *n)
{
    const char *run = ps->p + 1, *p = run;
    int escaped = 0;
    for (;;) {
        p = core_json_string_stop(p, ps->end);
        if (p >= ps->end) {
            fail(ps, p, 0, "premature end of input");
            return -1;
        }
        if (*p == '"')
            break;
        if (*p != '\\') {
            fail(ps, p, 0, "control character 0x%x", (unsigned char)*p);
            return -1;
        }
        if (check_run(ps, run, (size_t)(p - run)) != 0)
            return -1;
        if (!escaped) {
            escaped = 1;
            ps->len = 0;
        }
        put(ps, run, (size_t)(p - run));
        if (ps->end - p < 2) {
            fail(ps, p, 0, "premature end of input");
            return -1;
        }
        char e = p[1], c;
        switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
            if ((p = unicode_escape(ps, p)) == NULL)
                return -1;
            run = p;
            continue;
        default:
            fail(ps, p, 0, "invalid escape");
            return -1;
        }
        put(ps, &c, 1);
        p += 2;
        run = p;
    }
    if (check_run(ps, run, (size_t)(p - run)) != 0)
        return -1;
    if (escaped) {
        put(ps, run, (size_t)(p - run));
        *s = ps->buf;
        *n = ps->len;
    } else {
        *s = run;
        *n = (size_t)(p - run);
    }
    ps->p = p + 1;
    return 0;
}

static int digit(const parser *ps, const char *p)
{
    return p < ps->end && *p >= '0' && *p <= '9';
}

/* A number: an integer when it has neither fraction nor exponent (and
 * must then fit json_int_t), else a real (which must not overflow). */
static json_t *number(parser *ps)
{
    const char *start = ps->p, *p = start;
    int real = 0;
    if (*p == '-')
        p++;
    if (p < ps->end && *p == '0')
        p++;
    else if (digit(ps, p))
        while (digit(ps, p))
            p++;
    else
        return fail(ps, start, 0, "invalid token");
    if (p < ps->end && *p == '.') {
        real = 1;
        if (!digit(ps, ++p))
            return fail(ps, start, 0, "invalid token");
        while (digit(ps, p))
            p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        real = 1;
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if (!digit(ps, p))
            return fail(ps, start, 0, "invalid token");
        while (digit(ps, p))
            p++;
    }
    /* strtoll/strtod want a terminated copy */
    size_t n = (size_t)(p - start);
    char small[64], *text = n < sizeof small ? small : core_malloc(n + 1);
    memcpy(text, start, n);
    text[n] = '\0';
    json_t *v = NULL;
    errno = 0;
    if (!real) {
        long long x = strtoll(text, NULL, 10);
        if (errno == ERANGE)
            fail(ps, start, 0, "too big %sinteger", x < 0 ? "negative " : "");
        else
            v = json_integer(x);
    } else {
        double d = strtod(text, NULL);
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL))
            fail(ps, start, 0, "real number overflow");
        else
            v = json_real(d);
    }
    if (text != small)
        core_free(text);
    ps->p = p;
    return v;
}

static json_t *literal(parser *ps, const char *word, json_t *v)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, ps->p, 0, "invalid token");
    ps->p += n;
    return v;
}

static json_t *value(parser *ps, int depth);

int core_json_open(parser *ps)
{
    if (ps->failed || ps->p >= ps->end || *ps->p != '{') {
        fail(ps, ps->p, 0, "'{' expected");
        return -1;
    }
    ps->p++;
    ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        ps->first = -1; /* empty: the first core_json_member ends it */
    } else {
        ps->first = 1;
    }
    return 0;
}

int core_json_member(parser *ps, const char **key, size_t *klen)
{
    if (ps->failed)
        return -1;
    if (ps->first == -1) {
        ps->first = 0;
        return 0;
    }
    if (!ps->first) {
        ws(ps);
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            return 0;
        }
        if (ps->p >= ps->end || *ps->p != ',') {
            fail(ps, ps->p, 0, "'}' expected");
            return -1;
        }
        ps->p++;
        ws(ps);
    }
    ps->first = 0;
    if (ps->p >= ps->end || *ps->p != '"') {
        fail(ps, ps->p, 0, "string or '}' expected");
        return -1;
    }
    if (string(ps, key, klen) != 0)
        return -1;
    ws(ps);
    if (ps->p >= ps->end || *ps->p != ':') {
        fail(ps, ps->p, 0, "':' expected");
        return -1;
    }
    ps->p++;
    ws(ps);
    return 1;
}

static json_t *object(parser *ps, int depth)
{
    json_t *obj = json_object();
    const char *k;
    size_t kn;
    int r;
    core_json_open(ps);
    while ((r = core_json_member(ps, &k, &kn)) == 1) {
        /* a decoded key lives in the buffer the value may reuse */
        char *kcopy = k == ps->buf ? core_strndup(k, kn) : NULL;
        json_t *v = value(ps, depth + 1);
        if (v)
            json_object_setn_new_nocheck(obj, kcopy ? kcopy : k, kn, v);
        core_free(kcopy);
        if (v == NULL)
            break;
    }
    if (r != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

static json_t *array(parser *ps, int depth)
{
    json_t *arr = json_array();
    ps->p++; /* '[' */
    ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return arr;
    }
    for (;;) {
        json_t *v = value(ps, depth + 1);
        if (v == NULL)
            break;
        json_array_append_new(arr, v);
        ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            ws(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            return arr;
        }
        fail(ps, ps->p, 0, "']' expected");
        break;
    }
    json_decref(arr);
    return NULL;
}

static json_t *value(parser *ps, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(ps, ps->p, 0, "maximum parsing depth reached");
    if (ps->p >= ps->end)
        return fail(ps, ps->p, 0, "premature end of input");
    const char *s;
    size_t n;
    switch (*ps->p) {
    case '{': return object(ps, depth);
    case '[': return array(ps, depth);
    case '"':
        return string(ps, &s, &n) == 0 ? json_stringn_nocheck(s, n) : NULL;
    case 't': return literal(ps, "true", json_true());
    case 'f': return literal(ps, "false", json_false());
    case 'n': return literal(ps, "null", json_null());
    case '-': return number(ps);
    default:
        if (*ps->p >= '0' && *ps->p <= '9')
            return number(ps);
        if ((unsigned char)*ps->p >= 0x80 &&
            utf8_bad(ps->p, (size_t)(ps->end - ps->p)) == ps->p)
            return fail(ps, ps->p, 1, "unable to decode byte 0x%x",
                        (unsigned char)*ps->p);
        return fail(ps, ps->p, 0, "invalid token");
    }
}

void core_json_start(parser *ps, const char *text, size_t len,
                     core_json_error *err)
{
    ps->p = ps->start = text;
    ps->end = text + len;
    ps->err = err;
    ps->failed = 0;
    ps->first = 0;
    ps->buf = ps->stack;
    ps->len = 0;
    ps->cap = sizeof ps->stack;
    memset(err, 0, sizeof *err);
}

int core_json_peek(parser *ps)
{
    ws(ps);
    return ps->failed || ps->p >= ps->end ? -1 : (unsigned char)*ps->p;
}

json_t *core_json_value(parser *ps, int depth)
{
    return ps->failed ? NULL : value(ps, depth);
}

int core_json_string(parser *ps, const char **s, size_t *n)
{
    return ps->failed ? -1 : string(ps, s, n);
}

int core_json_end(parser *ps)
{
    if (ps->failed)
        return -1;
    ws(ps);
    if (ps->p != ps->end) {
        fail(ps, ps->p, 0, "end of file expected");
        return -1;
    }
    return 0;
}

void core_json_stop(parser *ps)
{
    if (ps->buf != ps->stack)
        core_free(ps->buf);
    ps->buf = ps->stack;
}

json_t *core_json_parse(const char *text, size_t len, core_json_error *err)
{
    parser ps;
    core_json_start(&ps, text, len, err);
    json_t *v = NULL;
    int c = core_json_peek(&ps);
    if (c == '{' || c == '[')
        v = value(&ps, 1);
    else
        fail(&ps, ps.p, 0, "'[' or '{' expected");
    if (v && core_json_end(&ps) != 0) {
        json_decref(v);
        v = NULL;
    }
    core_json_stop(&ps);
    return v;
}
