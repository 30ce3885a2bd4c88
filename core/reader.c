/* reader.c -- Daydreams JSONL line -> core_event (see reader.h). */
#include "reader.h"
#include "alloc.h"
#include "jsonin.h"
#include "synth_plugin.h"
#include "text.h"

#include <string.h>

static const char *const ref_names[CORE_REF_COUNT] = {
    [CORE_REF_UNKNOWN] = "unknown",
    [CORE_REF_INPUT] = "input",
    [CORE_REF_OUTPUT] = "output",
    [CORE_REF_THOUGHT] = "thought",
    [CORE_REF_ACTION_CALL] = "action_call",
    [CORE_REF_ACTION_RESULT] = "action_result",
    [CORE_REF_EVENT] = "event",
    [CORE_REF_STEP] = "step",
    [CORE_REF_RUN] = "run",
};

const char *core_ref_name(core_ref ref)
{
    return ref < CORE_REF_COUNT ? ref_names[ref] : ref_names[0];
}

static core_ref ref_from_name(const char *s)
{
    for (int r = 1; r < CORE_REF_COUNT; r++)
        if (strcmp(s, ref_names[r]) == 0)
            return (core_ref)r;
    return CORE_REF_UNKNOWN;
}

/* ---- gathering members -------------------------------------------------- */

/* A member while the line is walked: its key as an offset into the
 * keys buffer (which may move), its value owned. */
typedef struct {
    size_t off, len;
    int field;                /* field_of(key), -1 for others */
    json_t *value;            /* NULL when str is set */
    int str;                  /* a string kept as bytes: keys + soff */
    size_t soff, slen;
} pending;

typedef struct {
    pending *v;
    size_t n, cap;
    pending small[24];
} plist;

typedef struct {
    plist top, log;
    char *keys;               /* every key and kept string, each
                                 NUL-terminated */
    size_t klen, kcap;
    char ksmall[512];
} gather;

static void gather_init(gather *g)
{
    g->top.v = g->top.small;
    g->top.cap = sizeof g->top.small / sizeof g->top.small[0];
    g->top.n = 0;
    g->log.v = g->log.small;
    g->log.cap = g->top.cap;
    g->log.n = 0;
    g->keys = g->ksmall;
    g->kcap = sizeof g->ksmall;
    g->klen = 0;
}

static void plist_drop(plist *l)
{
    for (size_t i = 0; i < l->n; i++)
        json_decref(l->v[i].value);
    l->n = 0;
}

static void gather_free(gather *g)
{
    plist_drop(&g->top);
    plist_drop(&g->log);
    if (g->top.v != g->top.small)
        core_free(g->top.v);
    if (g->log.v != g->log.small)
        core_free(g->log.v);
    if (g->keys != g->ksmall)
        core_free(g->keys);
}

/* Keep bytes s[0..n) (NUL-terminated) in the keys buffer; returns their
 * offset there. */
static size_t keep(gather *g, const char *s, size_t n)
{
    g->keys = core_grow_inline(g->keys, g->ksmall, &g->kcap, g->klen + n + 1, 1);
    size_t off = g->klen;
    memcpy(g->keys + off, s, n);
    g->keys[off + n] = '\0';
    g->klen += n + 1;
    return off;
}

/* The field a key names, or -1.  By length first: called for every
 * member of every parsed line. */
static int field_of(const char *k, size_t n)
{
#define IS(lit) (memcmp(k, lit, sizeof lit - 1) == 0)
    switch (n) {
    case 2: return IS("id") ? CORE_F_ID : -1;
    case 3: return IS("ref") ? CORE_F_REF : -1;
    case 4:
        return IS("data")   ? CORE_F_DATA
               : IS("name") ? CORE_F_NAME
               : IS("type") ? CORE_F_TYPE
               : IS("step") ? CORE_F_STEP
               : IS("done") ? CORE_F_DONE
                            : -1;
    case 6: return IS("callId") ? CORE_F_CALL_ID : -1;
    case 7: return IS("content") ? CORE_F_CONTENT : -1;
    case 9:
        return IS("timestamp")   ? CORE_F_TIMESTAMP
               : IS("contextId") ? CORE_F_CONTEXT_ID
               : IS("formatted") ? CORE_F_FORMATTED
                                 : -1;
    case 11: return IS("contextType") ? CORE_F_CONTEXT_TYPE : -1;
    default: return -1;
    }
#undef IS
}

/* Append a member (value stolen). */
static void push(gather *g, plist *l, const char *key, size_t klen,
                 json_t *value)
{
    l->v = core_grow_inline(l->v, l->small, &l->cap, l->n + 1, sizeof *l->v);
    pending *m = &l->v[l->n++];
    m->off = keep(g, key, klen);
    m->len = klen;
    m->field = field_of(key, klen);
    m->value = value;
    m->str = 0;
}

/* The last member of l named by field f, or NULL. */
static const pending *find(const plist *l, core_field f)
{
    for (size_t i = l->n; i-- > 0;)
        if (l->v[i].field == (int)f)
            return &l->v[i];
    return NULL;
}

/* A member's string value (borrowed), or NULL when it is absent or not a
 * string. */
static const char *str_of(const gather *g, const pending *m)
{
    if (m == NULL)
        return NULL;
    return m->str ? g->keys + m->soff : json_string_value(m->value);
}

static size_t str_len(const pending *m)
{
    return m->str ? m->slen : json_string_length(m->value);
}

/* Does the reader read this field as a C string (no jansson value)? */
static int scalar_string(int f)
{
    return f == CORE_F_REF || f == CORE_F_ID || f == CORE_F_CONTEXT_ID ||
           f == CORE_F_CONTEXT_TYPE;
}

/* Read one member (its key at k, kn; the ':' read) into l, the value
 * nested depth deep.  Returns 0 or -1 (error in ps). */
static int take(core_json_parser *ps, gather *g, plist *l, const char *k,
                size_t kn, int depth)
{
    size_t at = g->klen;
    /* copy the key first: reading the value may reuse its buffer */
    push(g, l, k, kn, NULL);
    pending *m = &l->v[l->n - 1];
    if (scalar_string(m->field) && core_json_peek(ps) == '"') {
        const char *sv;
        size_t sn;
        if (core_json_string(ps, &sv, &sn) == 0) {
            m->soff = keep(g, sv, sn);
            m->slen = sn;
            m->str = 1;
            return 0;
        }
    } else if ((m->value = core_json_value(ps, depth)) != NULL) {
        return 0;
    }
    l->n--;
    g->klen = at;
    return -1;
}

/* Walk the members of the object at the cursor into l, their values
 * nested depth deep.  Returns 0 or -1 (error in ps). */
static int walk(core_json_parser *ps, gather *g, plist *l, int depth)
{
    const char *k;
    size_t kn;
    int r;
    if (core_json_open(ps) != 0)
        return -1;
    while ((r = core_json_member(ps, &k, &kn)) == 1)
        if (take(ps, g, l, k, kn, depth) != 0)
            return -1;
    return r;
}

/* ---- the line ------------------------------------------------------------ */

typedef enum { SHAPE_OK, SHAPE_NOT_OBJECT, SHAPE_LOG_NOT_OBJECT } shape;

/* Walk one line into g: the top-level members, and those of "log" when
 * it is an object.  Returns 0 (with *has_log, *sh) or -1 (JSON error in
 * err). */
static int walk_line(const char *line, size_t len, gather *g,
                     core_json_error *err, int *has_log, shape *sh)
{
    core_json_parser ps;
    core_json_start(&ps, line, len, err);
    *has_log = 0;
    *sh = SHAPE_OK;
    int c = core_json_peek(&ps), rc = -1;
    if (c == '[') {
        json_t *v = core_json_value(&ps, 1);
        json_decref(v);
        *sh = SHAPE_NOT_OBJECT;
        rc = v ? core_json_end(&ps) : -1;
    } else if (c == '{') {
        const char *k;
        size_t kn;
        int r;
        core_json_open(&ps);
        while ((r = core_json_member(&ps, &k, &kn)) == 1) {
            if (kn == 3 && memcmp(k, "log", 3) == 0) {
                /* the last "log" counts, as in a parsed object */
                *has_log = 1;
                plist_drop(&g->log);
                *sh = SHAPE_OK;
                if (core_json_peek(&ps) == '{') {
                    if (walk(&ps, g, &g->log, 3) != 0)
                        break;
                } else {
                    json_t *v = core_json_value(&ps, 2);
                    if (v == NULL)
                        break;
                    json_decref(v);
                    *sh = SHAPE_LOG_NOT_OBJECT;
                }
                continue;
            }
            if (take(&ps, g, &g->top, k, kn, 2) != 0)
                break;
        }
        rc = r == 0 ? core_json_end(&ps) : -1;
    } else {
        err->column = (size_t)(ps.p - line) + 1;
        strcpy(err->text, "'[' or '{' expected");
    }
    core_json_stop(&ps);
    return rc;
}

static int event_fail(core_strbuf *why, const char *msg)
{
    core_strbuf_puts(why, msg);
    return SYNTH_EINVAL;
}

/* Check the walked line and fill ev.  Returns SYNTH_OK, or SYNTH_EINVAL
 * with the reason in why. */
static int event_fill(core_event *ev, gather *g, int has_log, core_strbuf *why)
{
    plist *log = has_log ? &g->log : &g->top;
    const pending *cid = find(&g->top, CORE_F_CONTEXT_ID);
    if (cid == NULL && has_log)
        cid = find(log, CORE_F_CONTEXT_ID);
    if (str_of(g, cid) == NULL || str_len(cid) == 0)
        return event_fail(why, "missing \"contextId\"");
    const pending *ctype = find(&g->top, CORE_F_CONTEXT_TYPE);
    if (ctype == NULL && has_log)
        ctype = find(log, CORE_F_CONTEXT_TYPE);
    if (str_of(g, ctype) == NULL)
        ctype = NULL;
    const char *ref = str_of(g, find(log, CORE_F_REF));
    if (ref == NULL)
        return event_fail(why, "missing \"ref\" in the log object");
    const char *id = str_of(g, find(log, CORE_F_ID));
    core_ref r = ref_from_name(ref);
    if (id == NULL && r != CORE_REF_STEP && r != CORE_REF_UNKNOWN) {
        core_strbuf_printf(why, "\"%s\" log without \"id\"", ref);
        return SYNTH_EINVAL;
    }
    if (r == CORE_REF_ACTION_RESULT &&
        str_of(g, find(log, CORE_F_CALL_ID)) == NULL)
        return event_fail(why, "missing \"callId\" in an action_result");
    const pending *done = find(&g->top, CORE_F_DONE);
    if (done == NULL && has_log)
        done = find(log, CORE_F_DONE);
    ev->done = done == NULL ? 1 : json_is_true(done->value);

    /* One block: the log's members, then their keys and strings, then
     * the envelope's context strings (its other members are dropped). */
    size_t bytes = 0;
    for (size_t i = 0; i < log->n; i++)
        bytes += log->v[i].len + 1 + (log->v[i].str ? log->v[i].slen + 1 : 0);
    int cid_out = has_log && cid == find(&g->top, CORE_F_CONTEXT_ID);
    int ctype_out = has_log && ctype && ctype == find(&g->top, CORE_F_CONTEXT_TYPE);
    bytes += (cid_out ? str_len(cid) + 1 : 0) +
             (ctype_out ? str_len(ctype) + 1 : 0);
    ev->log = core_malloc(log->n * sizeof *ev->log + bytes + 1);
    char *kp = (char *)(ev->log + log->n);
    for (size_t i = 0; i < log->n; i++) {
        const pending *p = &log->v[i];
        core_member *m = &ev->log[i];
        m->key = kp;
        m->key_len = p->len;
        memcpy(kp, g->keys + p->off, p->len + 1);
        kp += p->len + 1;
        m->value = p->value;
        m->str = NULL;
        m->str_len = 0;
        if (p->str) {
            m->str = kp;
            m->str_len = p->slen;
            memcpy(kp, g->keys + p->soff, p->slen + 1);
            kp += p->slen + 1;
        }
        if (p->field >= 0 && p->value)
            ev->field[p->field] = p->value;
        /* the reader's own strings, where the sessionizer reads them */
        if (p == cid)
            ev->context_id = m->str;
        if (p == ctype)
            ev->context_type = m->str;
        if (p->field == CORE_F_REF)
            ev->ref_name = m->str;
        if (p->field == CORE_F_ID)
            ev->id = m->str;
    }
    if (cid_out) {
        memcpy(kp, str_of(g, cid), str_len(cid) + 1);
        ev->context_id = kp;
        kp += str_len(cid) + 1;
    }
    if (ctype_out) {
        memcpy(kp, str_of(g, ctype), str_len(ctype) + 1);
        ev->context_type = kp;
    }
    ev->nlog = log->n;
    log->n = 0; /* the values are ev's now */
    ev->ref = r;
    return SYNTH_OK;
}

/* Parse text into ev; *utf8 is set when the JSON failed on invalid
 * UTF-8 (the caller may repair and retry). */
static int event_parse(const char *text, size_t len, core_event *ev,
                       core_strbuf *why, int *utf8)
{
    gather g;
    gather_init(&g);
    core_json_error err;
    int has_log;
    shape sh;
    int rc;
    *utf8 = 0;
    if (walk_line(text, len, &g, &err, &has_log, &sh) != 0) {
        *utf8 = err.utf8;
        core_strbuf_printf(why, "invalid JSON at column %zu: %s", err.column,
                           err.text);
        rc = SYNTH_EINVAL;
    } else if (sh == SHAPE_NOT_OBJECT) {
        rc = event_fail(why, "line is not a JSON object");
    } else if (sh == SHAPE_LOG_NOT_OBJECT) {
        rc = event_fail(why, "\"log\" is not an object");
    } else {
        rc = event_fill(ev, &g, has_log, why);
    }
    gather_free(&g);
    return rc;
}

int core_event_parse(const char *line, size_t len, core_event *ev,
                     core_strbuf *why)
{
    memset(ev, 0, sizeof *ev);
    int utf8;
    size_t mark = why->len;
    int rc = event_parse(line, len, ev, why, &utf8);
    if (rc != SYNTH_OK && utf8) {
        /* Keep the line: replace the broken bytes and count the repair. */
        size_t fixed_len;
        char *fixed = core_utf8_repair(line, len, &fixed_len);
        why->len = mark;
        if (why->data)
            why->data[mark] = '\0';
        rc = event_parse(fixed, fixed_len, ev, why, &utf8);
        core_free(fixed);
        ev->repaired = rc == SYNTH_OK;
    }
    if (rc != SYNTH_OK)
        core_event_clear(ev);
    ev->bytes = len;
    return rc;
}

json_t *core_event_log(const core_event *ev)
{
    json_t *log = json_object();
    for (size_t i = 0; i < ev->nlog; i++) {
        const core_member *m = &ev->log[i];
        json_object_setn_new_nocheck(
            log, m->key, m->key_len,
            m->value ? json_incref(m->value)
                     : json_stringn_nocheck(m->str, m->str_len));
    }
    return log;
}

void core_event_clear(core_event *ev)
{
    if (ev == NULL)
        return;
    for (size_t i = 0; i < ev->nlog; i++)
        json_decref(ev->log[i].value);
    core_free(ev->log);
    memset(ev, 0, sizeof *ev);
}
