/*
 * synth_pii.h -- what personal data is, defined once: the detector table
 * that the redact privacy plugin replaces and that the scorers'
 * pii_residual check (synth_quality.h) looks for, so a redacted dataset
 * never scores as leaking and a leak never scores clean.
 *
 * Header-only and optional, like synth_session.h: inlined into the
 * plugin, no ABI.  It needs PCRE2 (8-bit): link the plugin with
 * `pkg-config --libs libpcre2-8` (the synth-plugin pkg-config file
 * requires it).
 *
 * A detector is a PCRE2 pattern (UTF mode), the token that replaces a
 * match, an optional validator a match must pass (Luhn for cards, a real
 * address for IPs, so order numbers and versions survive), and a cheap
 * necessary condition on a string's features that rules most prose out
 * before any pattern runs.  The table's order is the order redaction
 * applies them in: URL credentials before e-mail (user:pass@host is not an
 * address), keys before cards, cards before phones.
 */
#ifndef SYNTH_PII_H
#define SYNTH_PII_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <arpa/inet.h>
#include <jansson.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

/* ---- validators ------------------------------------------------------------ */

/* Luhn check over the digits of s[0..n) (13 to 19 of them).  Returns 1
 * when it passes, else 0. */
static inline int synth_pii_luhn(const char *s, size_t n)
{
    int sum = 0, digits = 0;
    for (size_t i = n; i > 0; i--) {
        char c = s[i - 1];
        if (c < '0' || c > '9')
            continue;
        int d = c - '0';
        if (digits++ % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return digits >= 13 && digits <= 19 && sum % 10 == 0;
}

/* Is s[0..n) a real IPv4 or IPv6 address?  Returns 1 or 0. */
static inline int synth_pii_ip(const char *s, size_t n)
{
    char buf[64];
    unsigned char addr[16];
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(strchr(buf, ':') ? AF_INET6 : AF_INET, buf, addr) == 1;
}

/* ---- features: what rules a detector out cheaply ------------------------- */

/* What a string holds that the detectors need: most strings are prose,
 * and one pass that counts a few characters rules out most detectors
 * before any pattern runs (each check is a necessary condition of its
 * pattern, so nothing it rules out could match). */
typedef struct synth_pii_features {
    size_t digits, dots, colons;
    int at, plus, scheme, key;
} synth_pii_features;

/* What each byte may start or end (0 for most): a table, so the common
 * byte costs one lookup.  Key prefixes are caught by their rarer bytes:
 * the '-' of "sk-", "xox?-", "glpat-"; the '_' of "sk_", "gh?_",
 * "github_pat_"; the 'K' of "AKIA", the 'S' of "ASIA", the 'z' of
 * "AIza". */
enum { SYNTH_PII_B_DIGIT = 1, SYNTH_PII_B_DOT, SYNTH_PII_B_AT,
       SYNTH_PII_B_PLUS, SYNTH_PII_B_COLON, SYNTH_PII_B_DASH,
       SYNTH_PII_B_UNDER, SYNTH_PII_B_K, SYNTH_PII_B_S, SYNTH_PII_B_Z };

static const unsigned char synth_pii_byte_kind[256] = {
    ['0'] = SYNTH_PII_B_DIGIT, ['1'] = SYNTH_PII_B_DIGIT,
    ['2'] = SYNTH_PII_B_DIGIT, ['3'] = SYNTH_PII_B_DIGIT,
    ['4'] = SYNTH_PII_B_DIGIT, ['5'] = SYNTH_PII_B_DIGIT,
    ['6'] = SYNTH_PII_B_DIGIT, ['7'] = SYNTH_PII_B_DIGIT,
    ['8'] = SYNTH_PII_B_DIGIT, ['9'] = SYNTH_PII_B_DIGIT,
    ['.'] = SYNTH_PII_B_DOT,   ['@'] = SYNTH_PII_B_AT,
    ['+'] = SYNTH_PII_B_PLUS,  [':'] = SYNTH_PII_B_COLON,
    ['-'] = SYNTH_PII_B_DASH,  ['_'] = SYNTH_PII_B_UNDER,
    ['K'] = SYNTH_PII_B_K,     ['S'] = SYNTH_PII_B_S,
    ['z'] = SYNTH_PII_B_Z,
};

/* Does s[i - back .. i) spell word? */
static inline int synth_pii_before(const char *s, size_t i, const char *word,
                                   size_t back)
{
    return i >= back && memcmp(s + i - back, word, back) == 0;
}

/* Fill f with the features of s[0..n). */
static inline void synth_pii_scan(const char *s, size_t n,
                                  synth_pii_features *f)
{
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < n; i++) {
        switch (synth_pii_byte_kind[(unsigned char)s[i]]) {
        case 0: break;
        case SYNTH_PII_B_DIGIT: f->digits++; break;
        case SYNTH_PII_B_DOT: f->dots++; break;
        case SYNTH_PII_B_AT: f->at = 1; break;
        case SYNTH_PII_B_PLUS: f->plus = 1; break;
        case SYNTH_PII_B_COLON:
            f->colons++;
            if (i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/')
                f->scheme = 1;
            break;
        case SYNTH_PII_B_DASH: /* sk- xox?- glpat- */
            if (synth_pii_before(s, i, "sk", 2) ||
                (i >= 4 && synth_pii_before(s, i - 1, "xox", 3)) ||
                synth_pii_before(s, i, "glpat", 5))
                f->key = 1;
            break;
        case SYNTH_PII_B_UNDER: /* sk_ gh?_ github_pat_ */
            if (synth_pii_before(s, i, "sk", 2) ||
                (i >= 3 && synth_pii_before(s, i - 1, "gh", 2)) ||
                synth_pii_before(s, i, "github", 6))
                f->key = 1;
            break;
        case SYNTH_PII_B_K: /* AKIA */
        case SYNTH_PII_B_S: /* ASIA */
            if (i >= 1 && s[i - 1] == 'A' && i + 2 < n && s[i + 1] == 'I' &&
                s[i + 2] == 'A')
                f->key = 1;
            break;
        case SYNTH_PII_B_Z: /* AIza */
            if (synth_pii_before(s, i, "AI", 2) && i + 1 < n && s[i + 1] == 'a')
                f->key = 1;
            break;
        }
    }
}

static inline int synth_pii_may_url_credentials(const synth_pii_features *f)
{
    return f->scheme && f->at;
}
static inline int synth_pii_may_api_key(const synth_pii_features *f)
{
    return f->key;
}
/* \d(?:[ -]?\d){12,18}: 13 digits at least */
static inline int synth_pii_may_credit_card(const synth_pii_features *f)
{
    return f->digits >= 13;
}
static inline int synth_pii_may_email(const synth_pii_features *f)
{
    return f->at;
}
/* 10 digits, or '+' and 5 */
static inline int synth_pii_may_phone(const synth_pii_features *f)
{
    return f->digits >= 10 || (f->plus && f->digits >= 5);
}
/* a dotted quad, or two colons */
static inline int synth_pii_may_ip(const synth_pii_features *f)
{
    return (f->digits >= 4 && f->dots >= 3) || f->colons >= 2;
}

/* ---- the table --------------------------------------------------------------- */

typedef struct synth_pii_detector {
    const char *kind;     /* "email": the option value and counter name */
    const char *pattern;  /* PCRE2, UTF mode */
    const char *token;    /* what replaces a match by default */
    int (*valid)(const char *s, size_t n);  /* NULL: every match counts */
    int (*possible)(const synth_pii_features *f);
} synth_pii_detector;

static const synth_pii_detector synth_pii_detectors[] = {
    {"url_credentials", "(?<=://)[^\\s/:@]+:[^\\s/@]+(?=@)",
     "[URL_CREDENTIALS]", NULL, synth_pii_may_url_credentials},
    {"api_key",
     "(?<![\\w-])(?:sk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{16,}|"
     "sk_(?:live|test)_[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|"
     "gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|"
     "xox[abprse]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|"
     "glpat-[A-Za-z0-9_-]{20,})",
     "[API_KEY]", NULL, synth_pii_may_api_key},
    {"credit_card", "(?<![\\d-])(?<!\\d\\.)\\d(?:[ -]?\\d){12,18}(?!\\d)",
     "[CREDIT_CARD]", synth_pii_luhn, synth_pii_may_credit_card},
    {"email",
     "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}",
     "[EMAIL]", NULL, synth_pii_may_email},
    {"phone",
     "(?<![\\w+])(?:(?:\\+?\\d{1,3}[ .-])?(?:\\(\\d{3}\\) ?|\\d{3}[ .-])"
     "\\d{3}[ .-]\\d{4}|\\+\\d{1,3}(?:[ .-]\\d{2,5}){2,4})(?!\\w)",
     "[PHONE]", NULL, synth_pii_may_phone},
    {"ip",
     "(?<![\\w.:])(?:\\d{1,3}(?:\\.\\d{1,3}){3}|"
     "[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\\w:]|\\.\\d)",
     "[IP]", synth_pii_ip, synth_pii_may_ip},
};
#define SYNTH_PII_NDETECTORS \
    (sizeof synth_pii_detectors / sizeof synth_pii_detectors[0])

/* The index of the detector called kind, or -1. */
static inline int synth_pii_find_kind(const char *kind)
{
    for (size_t d = 0; kind && d < SYNTH_PII_NDETECTORS; d++)
        if (strcmp(synth_pii_detectors[d].kind, kind) == 0)
            return (int)d;
    return -1;
}

/* ---- compiling and matching ------------------------------------------------ */

/* Compile pattern (UTF mode; JIT unless SYNTH_NO_JIT is set, for valgrind,
 * which cannot follow JIT code).  Returns the code (free it with
 * pcre2_code_free), or NULL with the error and its offset. */
static inline pcre2_code *synth_pii_compile(const char *pattern, int *err,
                                            size_t *offset)
{
    PCRE2_SIZE off = 0;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern,
                                     PCRE2_ZERO_TERMINATED, PCRE2_UTF, err,
                                     &off, NULL);
    *offset = (size_t)off;
    if (code && getenv("SYNTH_NO_JIT") == NULL)
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    return code;
}

/* The next match of code in s[0..n) at or after *at that valid accepts
 * (valid may be NULL).  Returns 1 with the match in [*b, *e) and *at past
 * it, 0 when there is none, -1 when a match or depth limit of mctx was
 * hit (the caller cannot tell the string is clean). */
static inline int synth_pii_next(const pcre2_code *code,
                                 int (*valid)(const char *, size_t),
                                 pcre2_match_data *md,
                                 pcre2_match_context *mctx, const char *s,
                                 size_t n, size_t *at, size_t *b, size_t *e)
{
    while (*at <= n) {
        int rc = pcre2_match(code, (PCRE2_SPTR)s, n, *at, PCRE2_NO_UTF_CHECK,
                             md, mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            return 0;
        if (rc < 0)
            return -1;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        *b = ov[0];
        *e = ov[1];
        if (*e == *b) { /* empty match: step over one character */
            *at = *e + 1;
            while (*at < n && ((unsigned char)s[*at] & 0xC0) == 0x80)
                ++*at;
            continue;
        }
        *at = *e;
        if (valid == NULL || valid(s + *b, *e - *b))
            return 1;
    }
    return 0;
}

/* Every detector compiled, for looking (the scorers): read-only after
 * init, so several threads may use one at once, each with match data of
 * its own (pcre2_match_data_create(1, NULL)). */
typedef struct synth_pii_matcher {
    pcre2_code *code[SYNTH_PII_NDETECTORS];   /* owned */
    pcre2_match_context *mctx;                /* owned */
} synth_pii_matcher;

/* Free what m owns; NULL-safe. */
static inline void synth_pii_matcher_free(synth_pii_matcher *m)
{
    if (m == NULL)
        return;
    for (size_t d = 0; d < SYNTH_PII_NDETECTORS; d++)
        pcre2_code_free(m->code[d]);
    pcre2_match_context_free(m->mctx);
    memset(m, 0, sizeof *m);
}

/* Compile every detector into m.  Returns 0, or -1 (out of memory: the
 * table's patterns are known good). */
static inline int synth_pii_matcher_init(synth_pii_matcher *m)
{
    memset(m, 0, sizeof *m);
    m->mctx = pcre2_match_context_create(NULL);
    for (size_t d = 0; m->mctx && d < SYNTH_PII_NDETECTORS; d++) {
        int err;
        size_t off;
        m->code[d] = synth_pii_compile(synth_pii_detectors[d].pattern, &err,
                                       &off);
        if (m->code[d] == NULL)
            break;
    }
    if (m->mctx == NULL || m->code[SYNTH_PII_NDETECTORS - 1] == NULL) {
        synth_pii_matcher_free(m);
        return -1;
    }
    /* the redactor's defaults: a string past them is replaced whole */
    pcre2_set_match_limit(m->mctx, 1000000);
    pcre2_set_depth_limit(m->mctx, 10000);
    return 0;
}

/* The first detector (table order) with a valid match in s[0..n), using
 * md (one per thread).  Returns its index, -1 when the string is clean,
 * or -2 when a limit was hit (redaction would have replaced it whole). */
static inline int synth_pii_first(const synth_pii_matcher *m,
                                  pcre2_match_data *md, const char *s,
                                  size_t n)
{
    synth_pii_features f;
    synth_pii_scan(s, n, &f);
    for (size_t d = 0; d < SYNTH_PII_NDETECTORS; d++) {
        if (!synth_pii_detectors[d].possible(&f))
            continue;
        size_t at = 0, b, e;
        int rc = synth_pii_next(m->code[d], synth_pii_detectors[d].valid, md,
                                m->mctx, s, n, &at, &b, &e);
        if (rc != 0)
            return rc > 0 ? (int)d : -2;
    }
    return -1;
}

/* ---- the session's tally ------------------------------------------------------ */

/* Add n to session.redacted[kind]: what privacy plugins replaced in a
 * session, per kind, which the host copies into the sidecar.  Creates the
 * object when the session has none. */
static inline void synth_pii_tally(json_t *session, const char *kind,
                                   long long n)
{
    json_t *tally = json_object_get(session, "redacted");
    if (!json_is_object(tally)) {
        tally = json_object();
        json_object_set_new(session, "redacted", tally);
    }
    json_object_set_new(tally, kind,
                        json_integer(json_integer_value(
                                         json_object_get(tally, kind)) +
                                     n));
}

#endif
