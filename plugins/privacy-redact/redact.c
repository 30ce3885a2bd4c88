/*
 * redact -- replaces sensitive text in every string of a session (input
 * and output text, thoughts, action arguments and results, event data,
 * raw content; object keys are left alone) before any formatter sees it.
 *
 *   privacy = {
 *     detectors = ["email", "phone", "credit_card", "ip", "api_key",
 *                  "url_credentials"];
 *     redact_patterns = ["\\bORD-\\d+\\b"];      # PCRE2, UTF-8
 *     replacements = { email = "<email>"; };     # default [EMAIL] ...
 *   };
 *
 * Detectors run first, in a fixed order (URL credentials before e-mail,
 * so user:pass@host is not mistaken for an address; cards before phones),
 * then the patterns in config order.  Cards must pass the Luhn check and
 * IP addresses must parse, so order numbers and versions survive.
 *
 * Every pattern is compiled (and JIT-compiled) once.  A match limit and a
 * depth limit bound the work per string: when a limit is hit the whole
 * string is replaced by limit_token -- never passed on unredacted -- and
 * counted as redacted.limit.  Counts per kind go to the run summary
 * (redacted.<kind>) and to the session's "redacted" object, which the host
 * copies into the sidecar; the redacted text itself is never logged.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "synth_plugin.h"
#include "synth_session.h"

#include <arpa/inet.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>

static const synth_host_api *host;

typedef int (*validator)(const char *s, size_t n);

/* Luhn check over the digits of s (13 to 19 of them). */
static int luhn_ok(const char *s, size_t n)
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

/* A real IPv4 or IPv6 address. */
static int ip_ok(const char *s, size_t n)
{
    char buf[64];
    unsigned char addr[16];
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(strchr(buf, ':') ? AF_INET6 : AF_INET, buf, addr) == 1;
}

/* What a string holds that the detectors need: most strings are prose,
 * and one pass over them that counts a few characters rules out most
 * detectors before any pattern runs (each check below is a necessary
 * condition of its pattern, so nothing it rules out could match). */
typedef struct {
    size_t digits, dots, colons;
    int at, plus, scheme, key;
} features;

/* What each byte may start or end (0 for most): a table, so the common
 * byte costs one lookup.  Key prefixes are caught by their rarer bytes:
 * the '-' of "sk-", "xox?-", "glpat-"; the '_' of "sk_", "gh?_",
 * "github_pat_"; the 'K' of "AKIA", the 'S' of "ASIA", the 'z' of
 * "AIza". */
enum { B_DIGIT = 1, B_DOT, B_AT, B_PLUS, B_COLON, B_DASH, B_UNDER, B_K, B_S, B_Z };

static const unsigned char byte_kind[256] = {
    ['0'] = B_DIGIT, ['1'] = B_DIGIT, ['2'] = B_DIGIT, ['3'] = B_DIGIT,
    ['4'] = B_DIGIT, ['5'] = B_DIGIT, ['6'] = B_DIGIT, ['7'] = B_DIGIT,
    ['8'] = B_DIGIT, ['9'] = B_DIGIT, ['.'] = B_DOT,   ['@'] = B_AT,
    ['+'] = B_PLUS,  [':'] = B_COLON, ['-'] = B_DASH,  ['_'] = B_UNDER,
    ['K'] = B_K,     ['S'] = B_S,     ['z'] = B_Z,
};

/* Does s[i - back .. i) spell word? */
static int before(const char *s, size_t i, const char *word, size_t back)
{
    return i >= back && memcmp(s + i - back, word, back) == 0;
}

static void scan_features(const char *s, size_t n, features *f)
{
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < n; i++) {
        switch (byte_kind[(unsigned char)s[i]]) {
        case 0: break;
        case B_DIGIT: f->digits++; break;
        case B_DOT: f->dots++; break;
        case B_AT: f->at = 1; break;
        case B_PLUS: f->plus = 1; break;
        case B_COLON:
            f->colons++;
            if (i + 2 < n && s[i + 1] == '/' && s[i + 2] == '/')
                f->scheme = 1;
            break;
        case B_DASH: /* sk- xox?- glpat- */
            if (before(s, i, "sk", 2) || (i >= 4 && before(s, i - 1, "xox", 3)) ||
                before(s, i, "glpat", 5))
                f->key = 1;
            break;
        case B_UNDER: /* sk_ gh?_ github_pat_ */
            if (before(s, i, "sk", 2) || (i >= 3 && before(s, i - 1, "gh", 2)) ||
                before(s, i, "github", 6))
                f->key = 1;
            break;
        case B_K: /* AKIA */
        case B_S: /* ASIA */
            if (i >= 1 && s[i - 1] == 'A' && i + 2 < n && s[i + 1] == 'I' &&
                s[i + 2] == 'A')
                f->key = 1;
            break;
        case B_Z: /* AIza */
            if (before(s, i, "AI", 2) && i + 1 < n && s[i + 1] == 'a')
                f->key = 1;
            break;
        }
    }
}

static int may_url_credentials(const features *f) { return f->scheme && f->at; }
static int may_api_key(const features *f) { return f->key; }
/* \d(?:[ -]?\d){12,18}: 13 digits at least */
static int may_credit_card(const features *f) { return f->digits >= 13; }
static int may_email(const features *f) { return f->at; }
/* 10 digits, or '+' and 5 */
static int may_phone(const features *f)
{
    return f->digits >= 10 || (f->plus && f->digits >= 5);
}
/* a dotted quad, or two colons */
static int may_ip(const features *f)
{
    return (f->digits >= 4 && f->dots >= 3) || f->colons >= 2;
}

static const struct {
    const char *kind, *pattern, *token;
    validator valid;
    int (*possible)(const features *);
} DETECTORS[] = {
    {"url_credentials", "(?<=://)[^\\s/:@]+:[^\\s/@]+(?=@)",
     "[URL_CREDENTIALS]", NULL, may_url_credentials},
    {"api_key",
     "(?<![\\w-])(?:sk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{16,}|"
     "sk_(?:live|test)_[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|"
     "gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|"
     "xox[abprse]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|"
     "glpat-[A-Za-z0-9_-]{20,})",
     "[API_KEY]", NULL, may_api_key},
    {"credit_card", "(?<![\\d-])\\d(?:[ -]?\\d){12,18}(?!\\d)",
     "[CREDIT_CARD]", luhn_ok, may_credit_card},
    {"email",
     "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}",
     "[EMAIL]", NULL, may_email},
    {"phone",
     "(?<![\\w+])(?:(?:\\+?\\d{1,3}[ .-])?(?:\\(\\d{3}\\) ?|\\d{3}[ .-])"
     "\\d{3}[ .-]\\d{4}|\\+\\d{1,3}(?:[ .-]\\d{2,5}){2,4})(?!\\w)",
     "[PHONE]", NULL, may_phone},
    {"ip",
     "(?<![\\w.:])(?:\\d{1,3}(?:\\.\\d{1,3}){3}|"
     "[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\\w:]|\\.\\d)",
     "[IP]", ip_ok, may_ip},
};
#define NDETECTORS (sizeof DETECTORS / sizeof DETECTORS[0])

typedef struct {
    pcre2_code *code;     /* owned */
    const char *kind;     /* static or "pattern" */
    char counter[48];     /* "redacted.<kind>" */
    const char *token;    /* borrowed from the options or static */
    validator valid;
    int (*possible)(const features *); /* NULL: always try */
} rule;

typedef struct {
    rule *rules;          /* owned */
    size_t n;
    pcre2_match_context *mctx; /* owned; read-only after create */
    const char *limit_token;
} redact_state;

static const synth_option redact_options[] = {
    {"detectors", SYNTH_OPT_LIST, 0, "[]",
     "built-in detectors: email, phone, credit_card, ip, api_key, "
     "url_credentials"},
    {"redact_patterns", SYNTH_OPT_LIST, 0, "[]",
     "PCRE2 patterns whose matches are replaced by redact_token"},
    {"replacements", SYNTH_OPT_JSON, 0, NULL,
     "group of detector -> replacement token, e.g. { email = \"<e>\"; }"},
    {"redact_token", SYNTH_OPT_STRING, 0, "[REDACTED]",
     "what replaces a redact_patterns match"},
    {"limit_token", SYNTH_OPT_STRING, 0, "[REDACTED: LIMIT]",
     "what replaces a whole string when a match limit is hit"},
    {"match_limit", SYNTH_OPT_INT, 0, "1000000",
     "PCRE2 match limit per string and pattern"},
    {"depth_limit", SYNTH_OPT_INT, 0, "10000",
     "PCRE2 depth limit per string and pattern"},
    {NULL, 0, 0, NULL, NULL}};

static void redact_destroy(void *instance)
{
    redact_state *st = instance;
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->n; i++)
        pcre2_code_free(st->rules[i].code);
    free(st->rules);
    pcre2_match_context_free(st->mctx);
    free(st);
}

/* Compile one rule; on a bad pattern report it at the option's line. */
static int add_rule(redact_state *st, synth_ctx *ctx, const char *kind,
                    const char *pattern, const char *token, validator valid,
                    int (*possible)(const features *), const char *option,
                    int index)
{
    int err;
    PCRE2_SIZE offset;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                     PCRE2_UTF, &err, &offset, NULL);
    if (code == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return host->opt_error(ctx, option, index,
                               "invalid pattern at offset %zu: %s",
                               (size_t)offset, (const char *)msg);
    }
    /* JIT when it can (else interpreted).  SYNTH_NO_JIT=1 turns it off for
     * valgrind, which cannot follow JIT code and reports false errors. */
    if (getenv("SYNTH_NO_JIT") == NULL)
        pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    rule *r = &st->rules[st->n++];
    r->code = code;
    r->kind = kind;
    snprintf(r->counter, sizeof r->counter, "redacted.%s", kind);
    r->token = token;
    r->valid = valid;
    r->possible = possible;
    return SYNTH_OK;
}

static int redact_create(synth_ctx *ctx, void **instance)
{
    json_t *detectors, *patterns, *replacements = NULL;
    const char *redact_token;
    long long match_limit, depth_limit;
    redact_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    if (host->opt_json(ctx, "detectors", &detectors) != SYNTH_OK ||
        host->opt_json(ctx, "redact_patterns", &patterns) != SYNTH_OK ||
        host->opt_string(ctx, "redact_token", &redact_token) != SYNTH_OK ||
        host->opt_string(ctx, "limit_token", &st->limit_token) != SYNTH_OK ||
        host->opt_int(ctx, "match_limit", &match_limit) != SYNTH_OK ||
        host->opt_int(ctx, "depth_limit", &depth_limit) != SYNTH_OK) {
        free(st);
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read options");
    }
    host->opt_json(ctx, "replacements", &replacements); /* may be unset */
    int rc = SYNTH_OK;
    if (replacements && !json_is_object(replacements))
        rc = host->opt_error(ctx, "replacements", -1,
                             "must be a group: { email = \"[EMAIL]\"; }");
    const char *k;
    json_t *v;
    int idx = 0;
    json_object_foreach(replacements, k, v) {
        size_t d = 0;
        while (d < NDETECTORS && strcmp(DETECTORS[d].kind, k) != 0)
            d++;
        if (rc == SYNTH_OK && (d == NDETECTORS || !json_is_string(v)))
            rc = host->opt_error(ctx, "replacements", idx,
                                 "\"%s\" is not a detector with a string "
                                 "token",
                                 k);
        idx++;
    }
    st->rules = calloc(NDETECTORS + json_array_size(patterns) + 1,
                       sizeof *st->rules);
    st->mctx = pcre2_match_context_create(NULL);
    if (st->rules == NULL || st->mctx == NULL)
        rc = host->error(ctx, SYNTH_ENOMEM, "out of memory");
    /* Detectors in their fixed order, whatever the config's order. */
    for (size_t d = 0; rc == SYNTH_OK && d < NDETECTORS; d++) {
        size_t i;
        json_t *name;
        json_array_foreach(detectors, i, name) {
            if (strcmp(json_string_value(name), DETECTORS[d].kind) != 0)
                continue;
            const char *token = json_string_value(
                json_object_get(replacements, DETECTORS[d].kind));
            rc = add_rule(st, ctx, DETECTORS[d].kind, DETECTORS[d].pattern,
                          token ? token : DETECTORS[d].token,
                          DETECTORS[d].valid, DETECTORS[d].possible,
                          "detectors", (int)i);
            break;
        }
    }
    size_t i;
    json_t *name;
    json_array_foreach(detectors, i, name) {
        size_t d = 0;
        while (d < NDETECTORS &&
               strcmp(DETECTORS[d].kind, json_string_value(name)) != 0)
            d++;
        if (rc == SYNTH_OK && d == NDETECTORS)
            rc = host->opt_error(ctx, "detectors", (int)i,
                                 "unknown detector \"%s\" (known: email, "
                                 "phone, credit_card, ip, api_key, "
                                 "url_credentials)",
                                 json_string_value(name));
    }
    json_array_foreach(patterns, i, v) {
        if (rc == SYNTH_OK)
            rc = add_rule(st, ctx, "pattern", json_string_value(v),
                          redact_token, NULL, NULL, "redact_patterns",
                          (int)i);
    }
    if (rc == SYNTH_OK && (match_limit < 1 || depth_limit < 1))
        rc = host->opt_error(ctx, match_limit < 1 ? "match_limit"
                                                  : "depth_limit",
                             -1, "must be positive");
    if (rc != SYNTH_OK) {
        redact_destroy(st);
        return rc;
    }
    pcre2_set_match_limit(st->mctx, (uint32_t)match_limit);
    pcre2_set_depth_limit(st->mctx, (uint32_t)depth_limit);
    *instance = st;
    return SYNTH_OK;
}

/* ---- rewriting strings -------------------------------------------------- */

/* What one session call counts. */
typedef struct {
    pcre2_match_data *md;   /* owned by the call */
    long long *counts;      /* per rule */
    long long limits;       /* strings dropped at a limit */
    int oom;
} pass;

/* Apply rule r to s[0..n): returns 1 and fills out when something was
 * replaced, 0 when nothing matched, -1 when a limit was hit. */
static int apply(const rule *r, const redact_state *st, pass *p,
                 const char *s, size_t n, synth_buf *out)
{
    size_t at = 0, copied = 0;
    int replaced = 0;
    while (at <= n) {
        int rc = pcre2_match(r->code, (PCRE2_SPTR)s, n, at,
                             PCRE2_NO_UTF_CHECK, p->md, st->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0)
            return -1; /* match or depth limit, or worse: drop */
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
        size_t b = ov[0], e = ov[1];
        if (e == b) { /* empty match: step over one character */
            at = e + 1;
            while (at < n && ((unsigned char)s[at] & 0xC0) == 0x80)
                at++;
            continue;
        }
        if (r->valid == NULL || r->valid(s + b, e - b)) {
            synth_buf_add(out, s + copied, b - copied);
            synth_buf_add(out, r->token, strlen(r->token));
            copied = e;
            replaced++;
            p->counts[r - st->rules]++;
        }
        at = e;
    }
    if (replaced)
        synth_buf_add(out, s + copied, n - copied);
    return replaced ? 1 : 0;
}

static void redact_string(const redact_state *st, pass *p, json_t *str)
{
    const char *s = json_string_value(str);
    size_t n = json_string_length(str);
    char *owned = NULL;
    features f;
    scan_features(s, n, &f);
    for (size_t i = 0; i < st->n; i++) {
        if (st->rules[i].possible && !st->rules[i].possible(&f))
            continue;
        synth_buf out = {NULL, 0, 0, 0};
        int rc = apply(&st->rules[i], st, p, s, n, &out);
        if (rc < 0) {
            free(out.s);
            free(owned);
            json_string_set(str, st->limit_token);
            p->limits++;
            return;
        }
        if (rc > 0) {
            if (out.oom) {
                free(out.s);
                free(owned);
                json_string_set(str, st->limit_token); /* never leak */
                p->oom = 1;
                return;
            }
            free(owned);
            owned = out.s;
            s = owned;
            n = out.len;
            scan_features(s, n, &f); /* a token may hold anything */
        }
    }
    if (owned) {
        json_string_setn(str, owned, n);
        free(owned);
    }
}

static void redact_value(const redact_state *st, pass *p, json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_STRING:
        redact_string(st, p, v);
        break;
    case JSON_ARRAY:
        json_array_foreach(v, i, x) redact_value(st, p, x);
        break;
    case JSON_OBJECT:
        json_object_foreach(v, k, x) redact_value(st, p, x);
        break;
    default:
        break;
    }
}

/* The session's structure: every value but the "id" of the session, of
 * its turns and of their elements (context ids are pseudonymised by the
 * anonymize plugin; element ids are UUIDs that a 19-digit snowflake or a
 * card-like number must not turn into [CREDIT_CARD]). */
static void redact_members(const redact_state *st, pass *p, json_t *obj,
                           int depth)
{
    const char *k;
    json_t *x;
    json_object_foreach(obj, k, x) {
        if (strcmp(k, "id") == 0)
            continue;
        if (depth < 2 && json_is_array(x) &&
            (strcmp(k, "turns") == 0 || depth == 1)) {
            size_t i;
            json_t *el;
            json_array_foreach(x, i, el) {
                if (json_is_object(el))
                    redact_members(st, p, el, depth + 1);
                else
                    redact_value(st, p, el);
            }
        } else if (depth == 1 && strcmp(k, "input") == 0 &&
                   json_is_object(x)) {
            redact_members(st, p, x, 2);
        } else {
            redact_value(st, p, x);
        }
    }
}

static int redact_session(void *instance, synth_ctx *ctx, json_t *session)
{
    const redact_state *st = instance;
    pass p = {pcre2_match_data_create(1, NULL),
              calloc(st->n + 1, sizeof(long long)), 0, 0};
    if (p.md == NULL || p.counts == NULL) {
        pcre2_match_data_free(p.md);
        free(p.counts);
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    }
    redact_members(st, &p, session, 0);
    /* counts per kind: the run summary and the session's "redacted" */
    json_t *tally = json_object_get(session, "redacted");
    if (!json_is_object(tally)) {
        tally = json_object();
        json_object_set_new(session, "redacted", tally);
    }
    for (size_t i = 0; i < st->n; i++) {
        if (p.counts[i] == 0)
            continue;
        host->count(ctx, st->rules[i].counter, p.counts[i]);
        json_t *was = json_object_get(tally, st->rules[i].kind);
        json_object_set_new(tally, st->rules[i].kind,
                            json_integer(json_integer_value(was) +
                                         p.counts[i]));
    }
    if (p.limits) {
        host->count(ctx, "redacted.limit", p.limits);
        json_object_set_new(tally, "limit",
                            json_integer(json_integer_value(json_object_get(
                                             tally, "limit")) +
                                         p.limits));
    }
    pcre2_match_data_free(p.md);
    free(p.counts);
    if (p.oom)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory while redacting");
    return SYNTH_OK;
}

static const synth_plugin redact_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_PRIVACY,
    .name = "redact",
    .version = "1.0.0",
    .description = "replaces e-mails, phones, cards, IPs, API keys, URL "
                   "credentials and custom PCRE2 patterns in every string",
    .options = redact_options,
    .create = redact_create,
    .destroy = redact_destroy,
    .session = redact_session,
};

SYNTH_PLUGIN_ENTRY(redact_plugin, host)
