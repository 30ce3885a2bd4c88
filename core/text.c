/* text.c -- text extraction from agent content (see text.h). */
#include "text.h"
#include "alloc.h"
#include "strbuf.h"

#include <stdio.h>
#include <string.h>

/* Keys that hold the text of object content, most specific first. */
static const char *const text_keys[] = {"text", "content", "message", "body",
                                        NULL};
static const char *const user_keys[] = {"user", "username", "author",
                                        "sender", "from", NULL};
static const char *const name_keys[] = {"name", "username", "id", NULL};

static json_t *text_of_depth(json_t *content, int depth);

static json_t *text_of_object(json_t *obj, int depth)
{
    for (int i = 0; text_keys[i]; i++) {
        json_t *v = json_object_get(obj, text_keys[i]);
        if (v == NULL)
            continue;
        json_t *t = text_of_depth(v, depth + 1);
        if (t)
            return t;
    }
    return NULL;
}

/* Salvage the text of a JSON object cut off mid-stream, such as
 * {"content": "Opened items can be ret : the value of the first text key,
 * decoded as far as it goes.  Returns a new reference or NULL. */
static json_t *salvage_cut_object(const char *s, size_t len)
{
    for (int k = 0; text_keys[k]; k++) {
        char pat[32];
        snprintf(pat, sizeof pat, "\"%s\"", text_keys[k]);
        const char *p = memmem(s, len, pat, strlen(pat));
        if (p == NULL)
            continue;
        const char *e = s + len;
        p += strlen(pat);
        while (p < e && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
            p++;
        if (p >= e || *p++ != ':')
            continue;
        while (p < e && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
            p++;
        if (p >= e || *p++ != '"')
            continue;
        /* up to the closing quote, or the end of the cut text */
        const char *q = p;
        while (q < e && *q != '"')
            q += (*q == '\\' && q + 1 < e) ? 2 : 1;
        /* a cut escape (\ or \u12) cannot decode: shorten until it does */
        for (size_t cut = 0; cut <= 6 && q - cut >= p; cut++) {
            core_strbuf b = {0};
            core_strbuf_puts(&b, "\"");
            core_strbuf_append(&b, p, (size_t)(q - cut - p));
            core_strbuf_puts(&b, "\"");
            json_t *v = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
            core_strbuf_free(&b);
            if (v)
                return v;
        }
    }
    return NULL;
}

static int looks_like_json_object(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' ||
                       s[i] == '\r'))
        i++;
    return i < len && (s[i] == '{' || s[i] == '`');
}

static json_t *text_of_depth(json_t *content, int depth)
{
    if (content == NULL || depth > 8)
        return NULL;
    switch (json_typeof(content)) {
    case JSON_STRING: {
        const char *s = json_string_value(content);
        size_t len = json_string_length(content);
        if (looks_like_json_object(s, len)) {
            json_t *doc = core_parse_lenient(s, len);
            json_t *t = json_is_object(doc) ? text_of_object(doc, depth)
                        : doc == NULL       ? salvage_cut_object(s, len)
                                            : NULL;
            json_decref(doc);
            if (t)
                return t;
        }
        return json_incref(content);
    }
    case JSON_OBJECT:
        return text_of_object(content, depth);
    case JSON_ARRAY: {
        core_strbuf b = {0};
        size_t i;
        json_t *el;
        int parts = 0;
        json_array_foreach(content, i, el) {
            json_t *t = text_of_depth(el, depth + 1);
            if (t == NULL)
                continue;
            if (parts++)
                core_strbuf_puts(&b, "\n");
            core_strbuf_append(&b, json_string_value(t),
                               json_string_length(t));
            json_decref(t);
        }
        json_t *r = parts ? json_stringn(core_strbuf_str(&b), b.len) : NULL;
        core_strbuf_free(&b);
        return r;
    }
    case JSON_INTEGER:
    case JSON_REAL:
    case JSON_TRUE:
    case JSON_FALSE: {
        char *s = json_dumps(content, JSON_ENCODE_ANY);
        json_t *r = s ? json_string(s) : NULL;
        free(s);
        return r;
    }
    default:
        return NULL;
    }
}

json_t *core_text_of(json_t *content)
{
    return text_of_depth(content, 0);
}

json_t *core_user_of(json_t *content)
{
    if (!json_is_object(content))
        return NULL;
    for (int i = 0; user_keys[i]; i++) {
        json_t *v = json_object_get(content, user_keys[i]);
        if (json_is_string(v) || json_is_integer(v))
            return json_incref(v);
        if (json_is_object(v)) {
            for (int j = 0; name_keys[j]; j++) {
                json_t *n = json_object_get(v, name_keys[j]);
                if (json_is_string(n) || json_is_integer(n))
                    return json_incref(n);
            }
        }
    }
    return NULL;
}

json_t *core_parse_lenient(const char *text, size_t len)
{
    const char *s = text, *e = text + len;
    while (s < e && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t' ||
                     e[-1] == '\r'))
        e--;
    if (e - s >= 6 && memcmp(s, "```", 3) == 0) {
        /* ```lang\n ... ``` : skip the info string line and the closing
         * fence. */
        const char *nl = memchr(s, '\n', (size_t)(e - s));
        if (nl == NULL)
            return NULL;
        s = nl + 1;
        if (e - s >= 3 && memcmp(e - 3, "```", 3) == 0)
            e -= 3;
    }
    if (s >= e)
        return NULL;
    return json_loadb(s, (size_t)(e - s), JSON_DECODE_ANY, NULL);
}

/* Return the length of the valid UTF-8 sequence at s (1..4), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
    else return 0;
    if (avail < n)
        return 0;
    unsigned cp = c & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

int core_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

char *core_utf8_repair(const char *s, size_t len, size_t *out_len)
{
    const unsigned char *p = (const unsigned char *)s;
    core_strbuf b = {0};
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq(p + i, len - i);
        if (n == 0) {
            core_strbuf_append(&b, "\xEF\xBF\xBD", 3);
            i++;
        } else {
            core_strbuf_append(&b, s + i, n);
            i += n;
        }
    }
    *out_len = b.len;
    if (b.data == NULL)
        return core_strdup("");
    return b.data;
}

long long core_json_ms(json_t *v)
{
    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    if (json_is_real(v))
        return (long long)json_real_value(v);
    return -1;
}
