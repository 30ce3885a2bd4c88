/* jsonout.c -- fast compact JSON serialisation (see jsonout.h). */
#include "jsonout.h"

#include <stdio.h>
#include <string.h>

/* Bytes that cannot stand in a JSON string as they are. */
static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

static void append_string(core_strbuf *b, const char *s, size_t n)
{
    core_strbuf_append(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c))
            continue;
        core_strbuf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': core_strbuf_append(b, "\\\"", 2); break;
        case '\\': core_strbuf_append(b, "\\\\", 2); break;
        case '\b': core_strbuf_append(b, "\\b", 2); break;
        case '\f': core_strbuf_append(b, "\\f", 2); break;
        case '\n': core_strbuf_append(b, "\\n", 2); break;
        case '\r': core_strbuf_append(b, "\\r", 2); break;
        case '\t': core_strbuf_append(b, "\\t", 2); break;
        default: {
            char u[8];
            snprintf(u, sizeof u, "\\u%04X", c);
            core_strbuf_append(b, u, 6);
        }
        }
    }
    core_strbuf_append(b, s + run, n - run);
    core_strbuf_append(b, "\"", 1);
}

/* Reals as jansson writes them with JSON_REAL_PRECISION(15): %.15g, and
 * ".0" when that looks like an integer. */
static void append_real(core_strbuf *b, double d)
{
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.15g", d);
    if (n < 0)
        return;
    if (!strpbrk(buf, ".eE") && strcmp(buf, "inf") && strcmp(buf, "-inf") &&
        strcmp(buf, "nan") && strcmp(buf, "-nan")) {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }
    core_strbuf_append(b, buf, (size_t)n);
}

void core_json_append(core_strbuf *b, const json_t *v)
{
    char num[32];
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
            append_string(b, k, strlen(k));
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
    case JSON_INTEGER: {
        int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
                         json_integer_value(v));
        core_strbuf_append(b, num, (size_t)n);
        break;
    }
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
