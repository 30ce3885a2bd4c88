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
 * Detectors run first, in the fixed order of the SDK's table
 * (sdk/synth_pii.h, which the scorers' pii_residual check shares), then
 * the patterns in config order.  Cards must pass the Luhn check and IP
 * addresses must parse, so order numbers and versions survive.
 *
 * Every pattern is compiled (and JIT-compiled) once.  A match limit and a
 * depth limit bound the work per string: when a limit is hit the whole
 * string is replaced by limit_token -- never passed on unredacted -- and
 * counted as redacted.limit.  Counts per kind go to the run summary
 * (redacted.<kind>) and to the session's "redacted" object, which the host
 * copies into the sidecar; the redacted text itself is never logged.
 */
#include "synth_options.h"
#include "synth_pii.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdio.h>
#include <stdlib.h>

static const synth_host_api *host;

typedef int (*validator)(const char *s, size_t n);
typedef int (*precheck)(const synth_pii_features *f);

typedef struct {
    pcre2_code *code;     /* owned */
    const char *kind;     /* static or "pattern" */
    char counter[48];     /* "redacted.<kind>" */
    const char *token;    /* borrowed from the options or static */
    validator valid;
    precheck possible;    /* NULL: always try */
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
                    precheck possible, const char *option, int index)
{
    int err;
    size_t offset;
    pcre2_code *code = synth_pii_compile(pattern, &err, &offset);
    if (code == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return host->opt_error(ctx, option, index,
                               "invalid pattern at offset %zu: %s",
                               offset, (const char *)msg);
    }
    rule *r = &st->rules[st->n++];
    r->code = code;
    r->kind = kind;
    snprintf(r->counter, sizeof r->counter, "redacted.%s", kind);
    r->token = token;
    r->valid = valid;
    r->possible = possible;
    return SYNTH_OK;
}

/* The options, as synth_options_fill reads them (all borrowed). */
typedef struct {
    json_t *detectors, *patterns, *replacements;
    const char *redact_token, *limit_token;
    long long match_limit, depth_limit;
} redact_opts;

static const synth_option_field redact_fields[] = {
    SYNTH_FIELD(redact_opts, detectors, "detectors"),
    SYNTH_FIELD(redact_opts, patterns, "redact_patterns"),
    SYNTH_FIELD(redact_opts, replacements, "replacements"),
    SYNTH_FIELD(redact_opts, redact_token, "redact_token"),
    SYNTH_FIELD(redact_opts, limit_token, "limit_token"),
    SYNTH_FIELD(redact_opts, match_limit, "match_limit"),
    SYNTH_FIELD(redact_opts, depth_limit, "depth_limit"),
    SYNTH_FIELD_END};

static int redact_create(synth_ctx *ctx, void **instance)
{
    redact_opts o = {0}; /* replacements stays NULL when unset */
    int filled = synth_options_fill(host, ctx, redact_options, redact_fields, &o);
    if (filled != SYNTH_OK)
        return filled;
    json_t *detectors = o.detectors, *patterns = o.patterns,
           *replacements = o.replacements;
    const char *redact_token = o.redact_token;
    long long match_limit = o.match_limit, depth_limit = o.depth_limit;
    redact_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    st->limit_token = o.limit_token;
    int rc = SYNTH_OK;
    if (replacements && !json_is_object(replacements))
        rc = host->opt_error(ctx, "replacements", -1,
                             "must be a group: { email = \"[EMAIL]\"; }");
    const char *k;
    json_t *v;
    int idx = 0;
    json_object_foreach(replacements, k, v) {
        if (rc == SYNTH_OK && (synth_pii_find_kind(k) < 0 || !json_is_string(v)))
            rc = host->opt_error(ctx, "replacements", idx,
                                 "\"%s\" is not a detector with a string "
                                 "token",
                                 k);
        idx++;
    }
    st->rules = calloc(SYNTH_PII_NDETECTORS + json_array_size(patterns) + 1,
                       sizeof *st->rules);
    st->mctx = pcre2_match_context_create(NULL);
    if (st->rules == NULL || st->mctx == NULL)
        rc = host->error(ctx, SYNTH_ENOMEM, "out of memory");
    /* Detectors in their fixed order, whatever the config's order. */
    for (size_t d = 0; rc == SYNTH_OK && d < SYNTH_PII_NDETECTORS; d++) {
        size_t i;
        json_t *name;
        json_array_foreach(detectors, i, name) {
            if (strcmp(json_string_value(name), synth_pii_detectors[d].kind) != 0)
                continue;
            const char *token = json_string_value(
                json_object_get(replacements, synth_pii_detectors[d].kind));
            rc = add_rule(st, ctx, synth_pii_detectors[d].kind, synth_pii_detectors[d].pattern,
                          token ? token : synth_pii_detectors[d].token,
                          synth_pii_detectors[d].valid, synth_pii_detectors[d].possible,
                          "detectors", (int)i);
            break;
        }
    }
    size_t i;
    json_t *name;
    json_array_foreach(detectors, i, name) {
        if (rc == SYNTH_OK && synth_pii_find_kind(json_string_value(name)) < 0)
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
    size_t at = 0, copied = 0, b, e;
    int replaced = 0, rc;
    while ((rc = synth_pii_next(r->code, r->valid, p->md, st->mctx, s, n, &at,
                                &b, &e)) > 0) {
        synth_buf_add(out, s + copied, b - copied);
        synth_buf_add(out, r->token, strlen(r->token));
        copied = e;
        replaced++;
        p->counts[r - st->rules]++;
    }
    if (rc < 0)
        return -1; /* match or depth limit, or worse: drop */
    if (replaced)
        synth_buf_add(out, s + copied, n - copied);
    return replaced ? 1 : 0;
}

static void redact_string(const redact_state *st, pass *p, json_t *str)
{
    const char *s = json_string_value(str);
    size_t n = json_string_length(str);
    char *owned = NULL;
    synth_pii_features f;
    synth_pii_scan(s, n, &f);
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
            synth_pii_scan(s, n, &f); /* a token may hold anything */
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
    for (size_t i = 0; i < st->n; i++) {
        if (p.counts[i] == 0)
            continue;
        host->count(ctx, st->rules[i].counter, p.counts[i]);
        synth_pii_tally(session, st->rules[i].kind, p.counts[i]);
    }
    if (p.limits) {
        host->count(ctx, "redacted.limit", p.limits);
        synth_pii_tally(session, "limit", p.limits);
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
    .flags = SYNTH_PLUGIN_FIRST, /* see SYNTH_PLUGIN_FIRST in synth_plugin.h */
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
