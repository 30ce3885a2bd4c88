/* test_scorers.c -- every scorer plugin on hand-written records, as data:
 * tests/scorers/<format>.jsonl holds {"name", "record", "score", "issues"}
 * lines (a good record, bad ones, an edge case); each record goes through
 * the real plugins, in file order (so a later copy is a duplicate). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "instance.h"
#include "synth_plugin.h"
#include "synth_quality.h"
#include "testutil.h"

static int by_string(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a),
                  json_string_value(*(json_t *const *)b));
}

/* The distinct issue codes of a list, sorted, as a JSON array. */
static json_t *codes(json_t *issues)
{
    json_t *set = json_object(), *v;
    size_t i;
    json_array_foreach(issues, i, v) {
        json_t *c = json_object_get(v, "code");
        json_object_set(set, json_string_value(c ? c : v), json_true());
    }
    size_t n = json_object_size(set), k = 0;
    json_t **list = calloc(n + 1, sizeof *list);
    const char *key;
    json_object_foreach(set, key, v) list[k++] = json_string(key);
    qsort(list, n, sizeof *list, by_string);
    json_t *out = json_array();
    for (k = 0; k < n; k++)
        json_array_append_new(out, list[k]);
    free(list);
    json_decref(set);
    return out;
}

static void run_file(const char *format, const char *path)
{
    core_registry reg;
    core_strbuf why = {0};
    char *dir = tu_fmt("%s/plugins", tu_build());
    assert_int_equal(core_registry_load(&reg, dir, 0, &why), SYNTH_OK);
    core_config cfg;
    core_config_defaults(&cfg);
    core_metrics metrics;
    core_metrics_init(&metrics);
    core_stage scorers = {0};
    for (size_t i = 0; i < reg.n; i++) {
        core_instance *inst;
        if (!reg.plugins[i].dl || reg.plugins[i].desc.kind != SYNTH_KIND_SCORER)
            continue;
        assert_int_equal(
            core_instance_new(&reg.plugins[i], &cfg, &metrics, &inst), SYNTH_OK);
        scorers.v = realloc(scorers.v, (scorers.n + 1) * sizeof *scorers.v);
        scorers.v[scorers.n++] = inst;
    }
    json_t *cases = tu_load_jsonl(path);
    assert_non_null(cases);
    assert_true(json_array_size(cases) >= 2);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        double score = -1;
        json_t *issues = NULL;
        assert_int_equal(core_score_record(&scorers, format,
                                           json_object_get(c, "record"), 0,
                                           &score, &issues),
                         SYNTH_OK);
        double want = json_number_value(json_object_get(c, "score"));
        json_t *got = codes(issues), *expect = codes(json_object_get(c, "issues"));
        if (fabs(score - want) > 1e-6 || !json_equal(got, expect))
            fail_msg("%s / %s: score %.4f issues %s; want %.4f %s", format,
                     name, score, json_dumps(got, JSON_COMPACT), want,
                     json_dumps(expect, JSON_COMPACT));
        json_decref(got);
        json_decref(expect);
        json_decref(issues);
    }
    json_decref(cases);
    for (i = 0; i < scorers.n; i++)
        core_instance_free(scorers.v[i]);
    free(scorers.v);
    core_metrics_free(&metrics);
    core_config_free(&cfg);
    core_registry_free(&reg);
    core_strbuf_free(&why);
    free(dir);
}

static void test_scorer_cases(void **state)
{
    (void)state;
    char *dir = tu_fmt("%s/tests/scorers", tu_root());
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 7 || strcmp(e->d_name + n - 6, ".jsonl") != 0)
            continue;
        char *format = strndup(e->d_name, n - 6);
        char *path = tu_fmt("%s/%s", dir, e->d_name);
        print_message("scorer cases %s\n", format);
        run_file(format, path);
        free(path);
        free(format);
        files++;
    }
    closedir(d);
    free(dir);
    assert_int_equal(files, 6);
}

/* ---- one definition of personal data ----------------------------------------
 *
 * The scorers' pii_residual check and the redact plugin share the SDK's
 * detector table (synth_pii.h).  Promised: a redacted string never scores
 * as leaking, and a string the redactor changes (it held personal data)
 * never scores clean.  Checked against the real redact plugin, loaded
 * with dlopen and run with every detector, on hand-picked edges, every
 * string of the example log and random strings. */

typedef struct {
    core_registry reg;
    core_config cfg;
    core_metrics counters;
    core_instance *redact;
    synth_pii_matcher m;
    pcre2_match_data *md;
    unsigned leaks, clean;
} pii_fixture;

/* Redact every string of the array strings (borrowed) through the real
 * plugin; returns the redacted copy (new reference). */
static json_t *redacted(pii_fixture *fx, json_t *strings)
{
    json_t *session = json_pack("{s:s, s:O}", "id", "s", "data", strings);
    json_t *copy = json_deep_copy(session);
    synth_ctx ctx;
    core_ctx_init(&ctx, fx->redact, CORE_CALL_SESSION);
    assert_int_equal(core_instance_call(fx->redact, &ctx, copy), SYNTH_OK);
    core_ctx_release(&ctx);
    json_t *out = json_incref(json_object_get(copy, "data"));
    json_decref(copy);
    json_decref(session);
    return out;
}

static int flagged(pii_fixture *fx, const char *s)
{
    return synth_pii_first(&fx->m, fx->md, s, strlen(s)) != -1;
}

/* Check the promises on a batch of strings (borrowed). */
static void pii_agree(pii_fixture *fx, json_t *strings)
{
    json_t *after = redacted(fx, strings);
    size_t i;
    json_t *v;
    json_array_foreach(strings, i, v) {
        const char *was = json_string_value(v);
        const char *now = json_string_value(json_array_get(after, i));
        int changed = strcmp(was, now) != 0;
        if (flagged(fx, now))
            fail_msg("redacted, still scored as leaking: \"%s\" -> \"%s\"",
                     was, now);
        if (changed != flagged(fx, was))
            fail_msg("\"%s\": the redactor %s it, the scorer calls it %s", was,
                     changed ? "changed" : "kept",
                     flagged(fx, was) ? "leaking" : "clean");
        if (changed)
            fx->leaks++;
        else
            fx->clean++;
    }
    json_decref(after);
}

/* Every string inside v, appended to out. */
static void strings_of(json_t *v, json_t *out)
{
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_string(v))
        json_array_append(out, v);
    json_array_foreach(v, i, x) strings_of(x, out);
    json_object_foreach(v, k, x) strings_of(x, out);
}

static void test_pii_one_definition(void **state)
{
    (void)state;
    pii_fixture fx;
    memset(&fx, 0, sizeof fx);
    char *so = tu_fmt("%s/plugins/privacy-redact.so", tu_build());
    assert_int_equal(core_registry_add(&fx.reg, so), SYNTH_OK);
    free(so);
    char *dir = tu_tmpdir(), *conf = tu_fmt("%s/p.conf", dir);
    tu_write(conf, "formats = [\"conversation\"];\nprivacy = { detectors = [\"email\", \"phone\", "
                   "\"credit_card\", \"ip\", \"api_key\", "
                   "\"url_credentials\"]; };\n");
    assert_int_equal(core_config_load(&fx.cfg, conf), SYNTH_OK);
    core_metrics_init(&fx.counters);
    assert_int_equal(core_instance_new(&fx.reg.plugins[0], &fx.cfg,
                                       &fx.counters, &fx.redact),
                     SYNTH_OK);
    assert_int_equal(synth_pii_matcher_init(&fx.m), 0);
    fx.md = pcre2_match_data_create(1, NULL);
    /* hand-picked edges */
    static const char *const cases[] = {
        "", "a@b.cc", "a@b.c", "@b.cc", ".@b.cc", "a@.cc", "a@b..cc", "a@b.c.dd",
        "x a-b@c-d.e1.fg y", "a@b.1c", "mail me: bob@example.com!",
        "555 123 4567", "555-123-4567", "(555) 123-4567", "+44 20 7946 0958",
        "555 1234 567", "555 123 456", "555.123.4567", "555_123_4567",
        "4111 1111 1111 1111", "4111-1111-1111-1111", "4111 1111 1111 1112",
        "order 1234 5678 9012 3456", "sk-abcdefghijklmnop", "sk-abcdefghijklmno",
        "AKIA0123456789ABCDEF", "AKIA0123456789ABCDE",
        "ghp_012345678901234567890123456789", "xoxb-1234567890-abcdef",
        "glpat-abcdefghijklmnopqrstu", "AIzaSyA1234567890abcdefghijklmnopqrstu",
        "server 10.1.2.3 answered", "version 1.2.3.4.5", "999.1.1.1",
        "fe80::1 is link-local", "https://user:pa55@host.example/x",
        "caf\xc3\xa9 555 123 4567", "\xe2\x82\xac@b.cc",
    };
    json_t *batch = json_array();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        json_array_append_new(batch, json_string(cases[i]));
    pii_agree(&fx, batch);
    json_decref(batch);
    assert_true(fx.leaks >= 15 && fx.clean >= 10);
    /* what each detector is for, as the docs promise it */
    static const struct {
        const char *text, *kind; /* kind NULL: clean */
    } verdicts[] = {
        {"call +44 20 7946 0958 today", "phone"},
        {"555-123-4567", "phone"},
        {"(555) 432-1190", "phone"},
        {"4111 1111 1111 1111", "credit_card"},
        {"4111 1111 1111 1112", NULL},      /* fails Luhn */
        {"order 1234 5678 9012 3456", NULL}, /* fails Luhn */
        {"server 10.1.2.3 answered", "ip"},
        {"fe80::1 is link-local", "ip"},
        {"version 999.1.1.1", NULL},        /* no address */
        {"write to bob@example.com", "email"},
        {"ghp_4Kx9QmZ2pL7vN3bT8wR1yH6cF0dJ5sA2eU9i", "api_key"},
        {"https://user:pa55@host.example/x", "url_credentials"},
        {"nothing personal here", NULL},
    };
    for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++) {
        const char *t = verdicts[i].text;
        int d = synth_pii_first(&fx.m, fx.md, t, strlen(t));
        const char *got = d >= 0 ? synth_pii_detectors[d].kind : NULL;
        if ((got == NULL) != (verdicts[i].kind == NULL) ||
            (got && strcmp(got, verdicts[i].kind) != 0))
            fail_msg("\"%s\": found %s, want %s", t, got ? got : "nothing",
                     verdicts[i].kind ? verdicts[i].kind : "nothing");
    }
    /* a float's long fraction is no card number (the redactor once made
     * "168.90000000000001" into "168.[CREDIT_CARD]") */
    assert_false(flagged(&fx, "amount 168.90000000000001 USD"));
    assert_true(flagged(&fx, "card 4111 1111 1111 1111 ok"));
    /* every string of the example log */
    char *path = tu_fmt("%s/examples/agent-log.jsonl", tu_root());
    json_t *lines = tu_load_jsonl(path);
    free(path);
    assert_non_null(lines);
    batch = json_array();
    strings_of(lines, batch);
    json_decref(lines);
    assert_true(json_array_size(batch) > 1000);
    pii_agree(&fx, batch);
    json_decref(batch);
    /* random strings over the characters the patterns care about (the
     * seed is fixed: a failure names its string) */
    static const char alphabet[] = "0123456789 .-:()@_%+/skAKIAghpoxzZ9";
    unsigned long long seed = 7;
    char buf[64];
    batch = json_array();
    for (int k = 0; k < 50000; k++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t len = (size_t)(seed >> 58);
        for (size_t j = 0; j < len; j++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[j] = alphabet[(seed >> 33) % (sizeof alphabet - 1)];
        }
        buf[len] = '\0';
        json_array_append_new(batch, json_string(buf));
    }
    pii_agree(&fx, batch);
    json_decref(batch);
    assert_true(fx.leaks > 100); /* both answers happen */
    pcre2_match_data_free(fx.md);
    synth_pii_matcher_free(&fx.m);
    core_instance_free(fx.redact);
    core_metrics_free(&fx.counters);
    core_config_free(&fx.cfg);
    core_registry_free(&fx.reg);
    tu_rmrf(dir);
    free(dir);
    free(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scorer_cases),
        cmocka_unit_test(test_pii_one_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
