/*
 * synth_quality.h -- header-only helpers for scorer plugins: a score that
 * problems multiply down, the text checks every format shares (empty,
 * too short, refusal, error text leaking into an answer, echo of the
 * prompt, U+FFFD, residual personal data) and an exact-duplicate set.
 * Issue codes are stable: scripts and the HTML report key on them.
 *
 * Optional, like synth_session.h: inlined into the plugin, no ABI.  It
 * includes synth_pii.h, so a plugin using it links PCRE2 (the
 * synth-plugin pkg-config file says so).
 */
#ifndef SYNTH_QUALITY_H
#define SYNTH_QUALITY_H

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth_hash.h"
#include "synth_pii.h"
#include "synth_plugin.h"

/* ---- the score ---------------------------------------------------------- */

typedef struct synth_q {
    const synth_host_api *host;  /* borrowed */
    synth_ctx *ctx;              /* borrowed: the record() call */
    double score;                /* starts at 1 */
} synth_q;

static inline void synth_q_init(synth_q *q, const synth_host_api *host,
                                synth_ctx *ctx)
{
    q->host = host;
    q->ctx = ctx;
    q->score = 1.0;
}

/* Record a problem: the score is multiplied by factor (0..1) and the issue
 * (stable snake_case code, printf message) is attached to the record. */
static inline void synth_q_issue(synth_q *q, double factor, const char *code,
                                 const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline void synth_q_issue(synth_q *q, double factor, const char *code,
                                 const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    q->score *= factor;
    q->host->issue(q->ctx, code, "%s", msg);
}

/* Hand the score to the host.  Returns what host->score returns. */
static inline int synth_q_finish(synth_q *q)
{
    double s = q->score < 0 ? 0 : q->score > 1 ? 1 : q->score;
    return q->host->score(q->ctx, s);
}

/* ---- text checks ---------------------------------------------------------- */

/* Characters (code points) of a UTF-8 string. */
static inline size_t synth_q_chars(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A lower-cased (ASCII) copy of s, malloc'd; NULL when out of memory. */
static inline char *synth_q_lower(const char *s)
{
    size_t n = strlen(s);
    char *l = malloc(n + 1);
    if (l == NULL)
        return NULL;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        l[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    return l;
}

/* Does the lower-cased text contain one of the (lower-case) phrases? */
static inline int synth_q_any_lower(const char *lower,
                                    const char *const *phrases)
{
    for (size_t i = 0; phrases[i]; i++)
        if (strstr(lower, phrases[i]))
            return 1;
    return 0;
}

/* Phrases of an answer that does not answer. */
static const char *const synth_q_refusals[] = {
    "i don't know", "i do not know", "i'm not sure how", "i am not sure how",
    "i cannot help", "i can't help", "i'm unable to", "i am unable to",
    "as an ai", "sorry, i can't", "sorry, i cannot", "i'm sorry, but i",
    "i have no idea", NULL};

/* Machinery that should never reach a user-facing answer. */
static const char *const synth_q_error_texts[] = {
    "traceback (most recent call last)", "exception:", "error:",
    "notfounderror", "typeerror", "referenceerror", "parsingerror",
    "[object object]", "undefined is not", "etimedout", "econnrefused",
    "stack trace", "internal server error", NULL};

/* Compare ignoring case and surrounding white space. */
static inline int synth_q_same_text(const char *a, const char *b)
{
    while (*a && isspace((unsigned char)*a))
        a++;
    while (*b && isspace((unsigned char)*b))
        b++;
    size_t la = strlen(a), lb = strlen(b);
    while (la && isspace((unsigned char)a[la - 1]))
        la--;
    while (lb && isspace((unsigned char)b[lb - 1]))
        lb--;
    if (la != lb)
        return 0;
    for (size_t i = 0; i < la; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* Check one text field: `field` names it in issue codes (empty_<field>,
 * short_<field>).  prompt (may be NULL) is what an answer must not echo;
 * answer != 0 turns on the checks for answers (refusal, error_leak, echo).
 * Returns 0 when the text is missing or blank (later checks skipped), 1
 * otherwise. */
static inline int synth_q_text(synth_q *q, const char *field, const char *text,
                               const char *prompt, size_t min_chars,
                               int answer)
{
    char code[64];
    const char *p = text;
    while (p && *p && isspace((unsigned char)*p))
        p++;
    if (p == NULL || *p == '\0') {
        snprintf(code, sizeof code, "empty_%s", field);
        synth_q_issue(q, 0.1, code, "%s is %s", field,
                      text ? "empty or white space" : "missing");
        return 0;
    }
    size_t chars = synth_q_chars(text);
    if (chars < min_chars) {
        snprintf(code, sizeof code, "short_%s", field);
        synth_q_issue(q, 0.7, code, "%s has %zu characters (fewer than %zu)",
                      field, chars, min_chars);
    }
    if (strstr(text, "\xEF\xBF\xBD"))
        synth_q_issue(q, 0.6, "replacement_char",
                      "%s contains U+FFFD: text was not valid UTF-8", field);
    if (!answer)
        return 1;
    char *lower = synth_q_lower(text); /* once, for every phrase */
    if (lower && synth_q_any_lower(lower, synth_q_refusals))
        synth_q_issue(q, 0.4, "refusal", "%s declines or does not know",
                      field);
    if (lower && synth_q_any_lower(lower, synth_q_error_texts))
        synth_q_issue(q, 0.5, "error_leak",
                      "%s shows error text to the user", field);
    free(lower);
    if (prompt && synth_q_same_text(text, prompt))
        synth_q_issue(q, 0.2, "echo", "%s repeats the prompt", field);
    return 1;
}

/* ---- residual personal data ------------------------------------------------ */

/* Does any string inside v hold what the redactor's detectors replace
 * (synth_pii.h: the same table, so a redacted record scores clean and a
 * leak never does)?  Returns the first detector's index, -1 when none,
 * -2 when a string hit a match limit (the redactor would have replaced it
 * whole). */
static inline int synth_q_pii_find(const synth_pii_matcher *m,
                                   pcre2_match_data *md, json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    int found = -1;
    if (json_is_string(v))
        return synth_pii_first(m, md, json_string_value(v),
                               json_string_length(v));
    if (json_is_array(v))
        json_array_foreach(v, i, x) if ((found = synth_q_pii_find(m, md, x)) != -1)
            return found;
    if (json_is_object(v))
        json_object_foreach(v, k, x) if ((found = synth_q_pii_find(m, md, x)) != -1)
            return found;
    return -1;
}

static inline void synth_q_pii(synth_q *q, const synth_pii_matcher *m,
                               json_t *record)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int d = md ? synth_q_pii_find(m, md, record) : -1;
    pcre2_match_data_free(md);
    if (d >= 0)
        synth_q_issue(q, 0.3, "pii_residual", "looks like personal data: %s",
                      synth_pii_detectors[d].kind);
    else if (d == -2)
        synth_q_issue(q, 0.3, "pii_residual",
                      "a string too costly to check for personal data");
}

/* ---- exact duplicates ----------------------------------------------------------- */

/* The hashes of the records seen lately, in constant memory, safe to
 * share between threads.  Two tables of a fixed size: hashes go into the
 * current one until it is half full; then it becomes the previous one
 * (the one before is cleared and takes its place).  A record is a
 * duplicate when its hash is in either, so the set remembers at least the
 * last `limit` records (up to twice as many) in 32 bytes x limit, however
 * long the run: memory must not grow with the input, and a set that grew
 * with the records was also what made long runs slower (cache misses). */
typedef struct synth_q_seen {
    pthread_mutex_t lock;
    uint64_t *cur, *old;  /* owned: cap slots each; 0 = empty */
    size_t cap, n;        /* n: hashes in cur */
} synth_q_seen;

static inline int synth_q_seen_init(synth_q_seen *s, size_t limit)
{
    s->cap = 16;
    while (s->cap < 2 * limit)
        s->cap *= 2;
    /* calloc: pages are only touched as hashes land on them */
    s->cur = calloc(s->cap, sizeof *s->cur);
    s->old = calloc(s->cap, sizeof *s->old);
    s->n = 0;
    pthread_mutex_init(&s->lock, NULL);
    return s->cur && s->old ? 0 : -1;
}

static inline void synth_q_seen_free(synth_q_seen *s)
{
    free(s->cur);
    free(s->old);
    s->cur = s->old = NULL;
    pthread_mutex_destroy(&s->lock);
}

/* Is h in table t (cap slots, linear probing)? *slot gets where it is or
 * the empty slot where it would go. */
static inline int synth_q_seen_find(const uint64_t *t, size_t cap, uint64_t h,
                                    size_t *slot)
{
    size_t mask = cap - 1, i = (size_t)h & mask;
    while (t[i] != 0 && t[i] != h)
        i = (i + 1) & mask;
    *slot = i;
    return t[i] == h;
}

/* A 64-bit hash of a JSON value, the same whatever the order of object
 * keys (members are combined with an order-free sum). */
static inline uint64_t synth_q_hash_json(const json_t *v)
{
    uint64_t h;
    size_t i;
    const char *k;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        h = 0x6f626a;
        json_object_foreach((json_t *)v, k, x) {
            uint64_t m = synth_hash64(k, strlen(k)) * 0x9E3779B97F4A7C15ULL;
            h += (m ^ synth_q_hash_json(x)) * 0xff51afd7ed558ccdULL;
        }
        return h;
    case JSON_ARRAY:
        h = 0x617272;
        json_array_foreach((json_t *)v, i, x) h =
            (h ^ synth_q_hash_json(x)) * 1099511628211ULL + i;
        return h;
    case JSON_STRING:
        return synth_hash64(json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return (uint64_t)json_integer_value(v) * 0xc4ceb9fe1a85ec53ULL + 1;
    case JSON_REAL: {
        double d = json_real_value(v);
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return bits * 0xc4ceb9fe1a85ec53ULL + 2;
    }
    case JSON_TRUE: return 3;
    case JSON_FALSE: return 4;
    default: return 5;
    }
}

/* Returns 1 when the record (by its value, whatever its key order) was
 * seen lately, 0 when it is new (and remembers it). */
static inline int synth_q_seen_add(synth_q_seen *s, json_t *record)
{
    uint64_t h = synth_q_hash_json(record);
    if (h == 0)
        h = 1;
    size_t i;
    pthread_mutex_lock(&s->lock);
    int dup = synth_q_seen_find(s->cur, s->cap, h, &i) ||
              synth_q_seen_find(s->old, s->cap, h, &(size_t){0});
    if (!dup) {
        if (s->n * 2 >= s->cap) { /* half full: a new generation */
            uint64_t *t = s->old;
            s->old = s->cur;
            s->cur = t;
            memset(s->cur, 0, s->cap * sizeof *s->cur);
            s->n = 0;
            synth_q_seen_find(s->cur, s->cap, h, &i);
        }
        s->cur[i] = h;
        s->n++;
    }
    pthread_mutex_unlock(&s->lock);
    return dup;
}

static inline void synth_q_duplicate(synth_q *q, synth_q_seen *seen,
                                     json_t *record)
{
    /* a candidate scored for a formatter is not written: not remembered */
    if (SYNTH_HAS_FIELD(q->host, synth_host_api, is_probe) &&
        q->host->is_probe(q->ctx))
        return;
    if (synth_q_seen_add(seen, record))
        synth_q_issue(q, 0.3, "duplicate",
                      "the same record was already written");
}

/* ---- what every scorer instance holds ------------------------------------ */

/* The options every scorer built on these helpers declares (put
 * SYNTH_Q_OPTIONS first in its option table). */
#define SYNTH_Q_OPTIONS                                                    \
    {"min_chars", SYNTH_OPT_INT, 0, "20",                                  \
     "answers shorter than this get short_<field>"},                      \
    {"dedup_capacity", SYNTH_OPT_INT, 0, "32768",                          \
     "duplicates are found among at least this many latest records "      \
     "(32 bytes each, allocated once)"}

typedef struct synth_q_base {
    synth_q_seen seen;    /* owned */
    synth_pii_matcher pii; /* owned */
    long long min_chars;
} synth_q_base;

/* Read SYNTH_Q_OPTIONS and set up b.  Returns SYNTH_OK or an error
 * already described through host->error/opt_error. */
static inline int synth_q_base_create(const synth_host_api *host,
                                      synth_ctx *ctx, synth_q_base *b)
{
    long long cap;
    if (host->opt_int(ctx, "min_chars", &b->min_chars) != SYNTH_OK ||
        host->opt_int(ctx, "dedup_capacity", &cap) != SYNTH_OK)
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read options");
    if (cap < 1 || b->min_chars < 0)
        return host->opt_error(ctx, cap < 1 ? "dedup_capacity" : "min_chars",
                               -1, "must be positive");
    if (synth_q_seen_init(&b->seen, (size_t)cap) != 0)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    if (synth_pii_matcher_init(&b->pii) != 0) {
        synth_q_seen_free(&b->seen);
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    }
    return SYNTH_OK;
}

static inline void synth_q_base_destroy(synth_q_base *b)
{
    if (b == NULL)
        return;
    synth_q_seen_free(&b->seen);
    synth_pii_matcher_free(&b->pii);
}

/* The checks every record gets: residual PII and duplicates. */
static inline void synth_q_common(synth_q *q, synth_q_base *b, json_t *record)
{
    synth_q_pii(q, &b->pii, record);
    synth_q_duplicate(q, &b->seen, record);
}

/* Define create/destroy for a scorer whose instance is a bare
 * synth_q_base (most are). */
#define SYNTH_Q_LIFECYCLE(prefix, host_var)                                \
    static int prefix##_create(synth_ctx *ctx, void **instance)            \
    {                                                                      \
        synth_q_base *b = calloc(1, sizeof *b);                            \
        if (b == NULL)                                                     \
            return host_var->error(ctx, SYNTH_ENOMEM, "out of memory");    \
        int rc = synth_q_base_create(host_var, ctx, b);                    \
        if (rc != SYNTH_OK) {                                              \
            free(b);                                                       \
            return rc;                                                     \
        }                                                                  \
        *instance = b;                                                     \
        return SYNTH_OK;                                                   \
    }                                                                      \
    static void prefix##_destroy(void *instance)                           \
    {                                                                      \
        synth_q_base_destroy(instance);                                    \
        free(instance);                                                    \
    }

#endif
