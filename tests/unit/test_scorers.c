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

#include <regex.h>

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

/* ---- the residual-PII check against the regex it replaced ---------------- */

/* Does the POSIX regex find PII in s?  (The oracle.) */
static int regex_says(const regex_t *re, const char *s)
{
    return regexec(re, s, 0, NULL, 0) == 0;
}

static void pii_agree(const regex_t *re, const char *s, unsigned *hits)
{
    int want = regex_says(re, s), got = synth_q_pii_text(s, strlen(s));
    if (want != got)
        fail_msg("PII check disagrees with the regex on \"%s\": regex %d, "
                 "ours %d", s, want, got);
    *hits += (unsigned)want;
}

/* Every string inside v. */
static void pii_agree_json(const regex_t *re, json_t *v, unsigned *hits,
                           unsigned *n)
{
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_string(v)) {
        pii_agree(re, json_string_value(v), hits);
        ++*n;
    }
    json_array_foreach(v, i, x) pii_agree_json(re, x, hits, n);
    json_object_foreach(v, k, x) pii_agree_json(re, x, hits, n);
}

static void test_pii_matcher(void **state)
{
    (void)state;
    regex_t re;
    assert_int_equal(regcomp(&re, SYNTH_Q_PII_PATTERN, REG_EXTENDED | REG_NOSUB), 0);
    unsigned hits = 0, n = 0;
    /* hand-picked edges */
    static const char *const cases[] = {
        "", "a@b.cc", "a@b.c", "@b.cc", ".@b.cc", "a@.cc", "a@b..cc", "a@b.c.dd",
        "x a-b@c-d.e1.fg y", "a@b.1c", "a@b.c1", "mail me: bob@example.com!",
        "555 123 4567", "555-123-4567", "(555) 123-4567", "555) 123-4567",
        "1555 123 4567", "555 1234 567", "555 123 456", "555 123 45678",
        "555.123.4567", "555_123_4567", "55 123 4567", "5555 123 4567x",
        "4111 1111 1111 1111", "4111-1111-1111-1111", "4111.1111.1111.1111",
        "41111 1111 1111 1111", "4111 1111 1111 111", "4111 1111 1111 11112",
        "sk-abcdefghijklmnop", "sk-abcdefghijklmno", "sk-abc_def-ghi_jklmn",
        "AKIA0123456789ABCDEF", "AKIA0123456789ABCDE", "AKIA0123456789abcdef",
        "ghp_012345678901234567890123456789", "ghp_01234567890123456789012345678",
        "ghx_012345678901234567890123456789", "gho_ABCDEFGHIJKLMNOPQRSTUVWXYZabcd",
        "caf\xc3\xa9 555 123 4567", "\xe2\x82\xac@b.cc", "a@b\xc3\xa9.cc",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        pii_agree(&re, cases[i], &hits);
    /* every string of the example log */
    char *path = tu_fmt("%s/examples/agent-log.jsonl", tu_root());
    json_t *lines = tu_load_jsonl(path);
    free(path);
    assert_non_null(lines);
    pii_agree_json(&re, lines, &hits, &n);
    json_decref(lines);
    assert_true(n > 1000);
    /* random strings over the characters the patterns care about */
    static const char alphabet[] = "0123456789 .-()@_%+skAKIAghpousr_aZz9";
    unsigned long long seed = 7;
    char buf[64];
    for (int k = 0; k < 200000; k++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t len = (size_t)(seed >> 58);
        for (size_t j = 0; j < len; j++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[j] = alphabet[(seed >> 33) % (sizeof alphabet - 1)];
        }
        buf[len] = '\0';
        pii_agree(&re, buf, &hits);
    }
    regfree(&re);
    assert_true(hits > 1000); /* both answers happen */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scorer_cases),
        cmocka_unit_test(test_pii_matcher),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
