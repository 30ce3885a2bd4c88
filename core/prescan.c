/* prescan.c -- walk a log line's JSON without building it (see
 * prescan.h). */
#include "prescan.h"
#include "jsonin.h"
#include "synth_plugin.h"

#include <string.h>

typedef struct {
    const char *p, *end;
} cursor;

static void ws(cursor *c)
{
    while (c->p < c->end &&
           (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* A string at c->p (the opening quote).  Sets *s and *n to its raw content
 * and *escaped when it holds a backslash.  Returns 0 or -1 (invalid). */
static int string(cursor *c, const char **s, size_t *n, int *escaped)
{
    const char *p = c->p + 1;
    *escaped = 0;
    while ((p = core_json_string_stop(p, c->end)) < c->end) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') {
            *s = c->p + 1;
            *n = (size_t)(p - *s);
            c->p = p + 1;
            return 0;
        }
        if (ch < 0x20)
            return -1;
        if (ch == '\\') {
            *escaped = 1;
            if (p + 1 >= c->end)
                return -1;
            char e = p[1];
            if (e == 'u') {
                if (p + 5 >= c->end || core_json_hex_digit(p[2]) < 0 ||
                    core_json_hex_digit(p[3]) < 0 ||
                    core_json_hex_digit(p[4]) < 0 ||
                    core_json_hex_digit(p[5]) < 0)
                    return -1;
                p += 6;
                continue;
            }
            if (!strchr("\"\\/bfnrt", e) || e == '\0')
                return -1;
            p += 2;
            continue;
        }
        return -1; /* a control character */
    }
    return -1;
}

static int literal(cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

/* A number; *v gets its integer part when it is an integer. */
static int number(cursor *c, long long *v, int *integer)
{
    const char *start = c->p;
    int neg = 0, digits = 0;
    long long x = 0;
    *integer = 1;
    if (c->p < c->end && *c->p == '-') {
        neg = 1;
        c->p++;
    }
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        if (x < 100000000000000000LL)
            x = x * 10 + (*c->p - '0');
        c->p++;
        digits++;
    }
    if (digits == 0)
        return -1;
    if (c->p < c->end && *c->p == '.') {
        *integer = 0;
        c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return -1;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        *integer = 0;
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return -1;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
            c->p++;
    }
    *v = neg ? -x : x;
    return c->p > start ? 0 : -1;
}

static int value(cursor *c, int depth);

/* What the walk of an object remembers of the members it is asked for. */
typedef struct member_s {
    const char *key;
    size_t key_len;
    const char *s;        /* string value span */
    size_t n;
    int escaped, is_string, is_true, is_false, is_int, present;
    long long num;
    int is_object;
    struct member_s *inner; /* members wanted inside when it is an object */
} member;

/* An object; members whose key is in `want` (NULL-key terminated) have
 * their value recorded.  Returns 0 or -1. */
static int object(cursor *c, int depth, member *want)
{
    if (depth > 64)
        return -1;
    c->p++; /* '{' */
    ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 0;
    }
    for (;;) {
        ws(c);
        if (c->p >= c->end || *c->p != '"')
            return -1;
        const char *k;
        size_t kn;
        int kesc;
        if (string(c, &k, &kn, &kesc) != 0)
            return -1;
        ws(c);
        if (c->p >= c->end || *c->p != ':')
            return -1;
        c->p++;
        ws(c);
        member *m = NULL;
        for (size_t i = 0; want && want[i].key && !kesc; i++)
            if (want[i].key_len == kn && memcmp(want[i].key, k, kn) == 0)
                m = &want[i];
        if (m && m->present)
            return -1; /* a repeated key: leave it to the parser */
        if (m && c->p < c->end) {
            m->present = 1;
            if (*c->p == '"') {
                m->is_string = 1;
                if (string(c, &m->s, &m->n, &m->escaped) != 0)
                    return -1;
            } else if (*c->p == '{') {
                /* walked once: its wanted members are read on the way */
                m->is_object = 1;
                if (object(c, depth + 1, m->inner) != 0)
                    return -1;
            } else if (*c->p == 't' || *c->p == 'f') {
                m->is_true = *c->p == 't';
                m->is_false = *c->p == 'f';
                if (value(c, depth + 1) != 0)
                    return -1;
            } else if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9')) {
                if (number(c, &m->num, &m->is_int) != 0)
                    return -1;
            } else if (value(c, depth + 1) != 0) {
                return -1;
            }
        } else if (value(c, depth + 1) != 0) {
            return -1;
        }
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return 0;
        }
        return -1;
    }
}

static int array(cursor *c, int depth)
{
    if (depth > 64)
        return -1;
    c->p++; /* '[' */
    ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return 0;
    }
    for (;;) {
        ws(c);
        if (value(c, depth + 1) != 0)
            return -1;
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            return 0;
        }
        return -1;
    }
}

static int value(cursor *c, int depth)
{
    if (c->p >= c->end)
        return -1;
    const char *s;
    size_t n;
    int esc, integer;
    long long v;
    switch (*c->p) {
    case '{': return object(c, depth, NULL);
    case '[': return array(c, depth);
    case '"': return string(c, &s, &n, &esc);
    case 't': return literal(c, "true");
    case 'f': return literal(c, "false");
    case 'n': return literal(c, "null");
    default: return number(c, &v, &integer);
    }
}

static const struct {
    const char *name;
    core_ref ref;
} refs[] = {{"input", CORE_REF_INPUT},
            {"output", CORE_REF_OUTPUT},
            {"thought", CORE_REF_THOUGHT},
            {"action_call", CORE_REF_ACTION_CALL},
            {"action_result", CORE_REF_ACTION_RESULT},
            {"event", CORE_REF_EVENT},
            {"step", CORE_REF_STEP},
            {"run", CORE_REF_RUN}};

int core_prescan(const char *line, size_t len, core_scan *out)
{
    enum { CTX, TYPE, LOG, DONE, REF, ID, TS, N };
    member top[N + 1], inner[N + 1];
#define KEY(s) {s, sizeof s - 1}
    static const struct {
        const char *s;
        size_t n;
    } keys[N] = {KEY("contextId"), KEY("contextType"), KEY("log"),
                 KEY("done"),      KEY("ref"),         KEY("id"),
                 KEY("timestamp")};
#undef KEY
    memset(top, 0, sizeof top);
    memset(inner, 0, sizeof inner);
    for (int i = 0; i < N; i++) {
        top[i].key = inner[i].key = keys[i].s;
        top[i].key_len = inner[i].key_len = keys[i].n;
    }
    top[LOG].inner = inner;
    cursor c = {line, line + len};
    ws(&c);
    if (c.p >= c.end || *c.p != '{' || object(&c, 0, top) != 0)
        return SYNTH_EINVAL;
    ws(&c);
    if (c.p != c.end)
        return SYNTH_EINVAL;
    member *log = top;
    if (top[LOG].present) {
        if (!top[LOG].is_object)
            return SYNTH_EINVAL;
        log = inner;
        /* a contextId inside the log counts when the envelope has none */
        if (!top[CTX].present)
            top[CTX] = inner[CTX];
        if (!top[TYPE].present)
            top[TYPE] = inner[TYPE];
    }
    if (!top[CTX].is_string || top[CTX].escaped || top[CTX].n == 0 ||
        !log[REF].is_string || log[REF].escaped)
        return SYNTH_EINVAL;
    memset(out, 0, sizeof *out);
    out->ctx = top[CTX].s;
    out->ctx_len = top[CTX].n;
    if (top[TYPE].is_string && !top[TYPE].escaped) {
        out->type = top[TYPE].s;
        out->type_len = top[TYPE].n;
    } else if (top[TYPE].present) {
        return SYNTH_EINVAL; /* let the parser decide what it is */
    }
    out->ref = CORE_REF_UNKNOWN;
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        if (strlen(refs[i].name) == log[REF].n &&
            memcmp(refs[i].name, log[REF].s, log[REF].n) == 0)
            out->ref = refs[i].ref;
    if (log[ID].is_string) {
        if (log[ID].escaped)
            return SYNTH_EINVAL;
        out->id = log[ID].s;
        out->id_len = log[ID].n;
    }
    member *done = top[DONE].present ? &top[DONE] : &log[DONE];
    out->done = done->present ? done->is_true : 1;
    out->ts = log[TS].present && log[TS].is_int ? log[TS].num : -1;
    return SYNTH_OK;
}
