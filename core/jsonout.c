/* jsonout.c -- fast compact JSON serialisation (see jsonout.h). */
#include "jsonout.h"
#include "jsonin.h"

#include <stdio.h>
#include <string.h>

static void append_string(core_strbuf *b, const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    core_strbuf_append(b, "\"", 1);
    for (;;) {
        /* runs of plain bytes go in whole, found eight bytes at a time */
        const char *stop = core_json_string_stop(p, end);
        core_strbuf_append(b, p, (size_t)(stop - p));
        if (stop == end)
            break;
        unsigned char c = (unsigned char)*stop;
        switch (c) {
        case '"': core_strbuf_append(b, "\\\"", 2); break;
        case '\\': core_strbuf_append(b, "\\\\", 2); break;
        case '\b': core_strbuf_append(b, "\\b", 2); break;
        case '\f': core_strbuf_append(b, "\\f", 2); break;
        case '\n': core_strbuf_append(b, "\\n", 2); break;
        case '\r': core_strbuf_append(b, "\\r", 2); break;
        case '\t': core_strbuf_append(b, "\\t", 2); break;
        default: {
            static const char hex[] = "0123456789ABCDEF";
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            core_strbuf_append(b, u, 6);
        }
        }
        p = stop + 1;
    }
    core_strbuf_append(b, "\"", 1);
}

/* An integer in decimal, as "%lld" writes it. */
static void append_integer(core_strbuf *b, json_int_t v)
{
    char buf[24], *p = buf + sizeof buf;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                                 : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    core_strbuf_append(b, p, (size_t)(buf + sizeof buf - p));
}

/* Reals as jansson writes them with JSON_REAL_PRECISION(15): %.15g, ".0"
 * when that looks like an integer, and the exponent without a '+' or
 * leading zeros ("1e-05" -> "1e-5"). */
static void append_real(core_strbuf *b, double d)
{
    char buf[48];
    int n = snprintf(buf, sizeof buf, "%.15g", d);
    if (n < 0 || (size_t)n >= sizeof buf - 3)
        return;
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }
    char *e = strchr(buf, 'e');
    if (e) {
        char *start = e + 1, *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(buf + n - end) + 1);
            n -= (int)(end - start);
        }
    }
    core_strbuf_append(b, buf, (size_t)n);
}

void core_json_append(core_strbuf *b, const json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        core_strbuf_append(b, "{", 1);
        int first = 1;
        json_object_foreach((json_t *)v, k, x) {
            if (!first)
                core_strbuf_append(b, ",", 1);
            first = 0;
            append_string(b, k, json_object_iter_key_len(json_object_key_to_iter(k)));
            core_strbuf_append(b, ":", 1);
            core_json_append(b, x);
        }
        core_strbuf_append(b, "}", 1);
        break;
    }
    case JSON_ARRAY:
        core_strbuf_append(b, "[", 1);
        json_array_foreach((json_t *)v, i, x) {
            if (i)
                core_strbuf_append(b, ",", 1);
            core_json_append(b, x);
        }
        core_strbuf_append(b, "]", 1);
        break;
    case JSON_STRING:
        append_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        append_integer(b, json_integer_value(v));
        break;
    case JSON_REAL:
        append_real(b, json_real_value(v));
        break;
    case JSON_TRUE:
        core_strbuf_append(b, "true", 4);
        break;
    case JSON_FALSE:
        core_strbuf_append(b, "false", 5);
        break;
    default:
        core_strbuf_append(b, "null", 4);
    }
}
