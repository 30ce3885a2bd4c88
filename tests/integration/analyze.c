/*
 * analyze.c -- `synthhost analyze` and its HTML report on real files: the
 * demo's output (every field of the JSON), a file with planted defects
 * (each reported with its line), broken lines, and the report rendered in
 * headless Chromium (no console error, the overall score and one chart per
 * format in the DOM; a screenshot is kept in the build directory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static char *out_dir;   /* the demo's datasets */
static char *files[8];  /* their paths */
static int nfiles;

static int setup(void **state)
{
    (void)state;
    out_dir = tu_tmpdir();
    char *host = tu_fmt("%s/synthhost", tu_build());
    char *conf = tu_fmt("%s/conf/synth.conf", tu_root());
    char *argv[] = {host, "-q", "-c", conf, "-o", out_dir, NULL};
    if (tu_run(argv, NULL, NULL, NULL) != 0)
        abort();
    static const char *const formats[] = {"instruction-tuning", "conversation",
                                          "reasoning-chains", "action-sequences",
                                          "episodes", "grpo", NULL};
    for (int i = 0; formats[i]; i++) {
        char *prefix = tu_fmt("%s-", formats[i]);
        files[nfiles++] = tu_find(out_dir, prefix, ".jsonl");
        free(prefix);
    }
    free(conf);
    free(host);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < nfiles; i++)
        free(files[i]);
    tu_rmrf(out_dir);
    free(out_dir);
    return 0;
}

/* Run analyze on the given files; returns the parsed JSON (stdout). */
static json_t *analyze(char **err, const char *html, char *const *paths,
                       int n)
{
    char *argv[16];
    int k = 0;
    argv[k++] = tu_fmt("%s/synthhost", tu_build());
    argv[k++] = "analyze";
    if (html) {
        argv[k++] = "--html";
        argv[k++] = (char *)html;
    }
    for (int i = 0; i < n; i++)
        argv[k++] = paths[i];
    argv[k] = NULL;
    char *out = NULL;
    int rc = tu_run(argv, NULL, &out, err);
    if (rc != 0)
        fail_msg("analyze exit %d: %s", rc, err ? *err : "");
    json_t *r = json_loads(out, 0, NULL);
    if (r == NULL)
        fail_msg("analyze printed no JSON: %s", out);
    free(out);
    free(argv[0]);
    return r;
}

static int count_lines(const char *path)
{
    char *t = tu_read(path);
    int n = 0;
    for (char *p = t; *p; p++)
        n += *p == '\n';
    free(t);
    return n;
}

static void assert_unit(json_t *r, const char *key)
{
    json_t *v = json_object_get(r, key);
    if (!json_is_number(v) || json_number_value(v) < 0 ||
        json_number_value(v) > 1)
        fail_msg("%s is not a number in [0,1]", key);
}

static void test_demo_output(void **state)
{
    (void)state;
    char *err = NULL;
    json_t *r = analyze(&err, NULL, files, nfiles);
    assert_unit(r, "overallScore");
    assert_unit(r, "diversity");
    assert_unit(r, "completeness");
    assert_unit(r, "consistency");
    assert_unit(r, "quality");
    /* quality is the mean of the scores the run gave its records, read
     * from the sidecars the run wrote (the analysis rescored them) */
    double sum = 0;
    size_t scored = 0;
    for (int i = 0; i < nfiles; i++) {
        char *mp = tu_fmt("%s.meta", files[i]);
        json_t *meta = tu_load_jsonl(mp);
        size_t k;
        json_t *m;
        json_array_foreach(meta, k, m) {
            if (json_is_number(json_object_get(m, "score"))) {
                sum += json_number_value(json_object_get(m, "score"));
                scored++;
            }
        }
        json_decref(meta);
        free(mp);
    }
    assert_true(scored > 300);
    double q = json_number_value(json_object_get(r, "quality"));
    assert_true(fabs(q - sum / (double)scored) < 0.0006);
    /* overallScore as docs/quality.md defines it from its parts */
    double want = 0.5 * (sum / (double)scored) +
                  0.2 * json_number_value(json_object_get(r, "completeness")) +
                  0.15 * json_number_value(json_object_get(r, "diversity")) +
                  0.15 * json_number_value(json_object_get(r, "consistency"));
    assert_true(fabs(json_number_value(json_object_get(r, "overallScore")) -
                     want) < 0.002);
    json_t *by = json_object_get(r, "byFormat");
    assert_int_equal(json_object_size(by), 6);
    json_t *stats = json_object_get(r, "stats");
    json_t *records = json_object_get(stats, "records");
    for (int i = 0; i < nfiles; i++) {
        const char *base = strrchr(files[i], '/') + 1;
        const char *k;
        json_t *v;
        int found = 0;
        json_object_foreach(records, k, v) {
            if (strncmp(base, k, strlen(k)) == 0 && base[strlen(k)] == '-') {
                assert_int_equal(json_integer_value(v), count_lines(files[i]));
                found = 1;
                assert_unit(by, k);
                json_t *l = json_object_get(json_object_get(stats, "lengths"), k);
                assert_true(json_number_value(json_object_get(l, "median")) > 0);
                assert_true(json_number_value(json_object_get(l, "p95")) >=
                            json_number_value(json_object_get(l, "median")));
            }
        }
        assert_true(found);
    }
    /* the sidecars name the 35 sessions (HyperLogLog, exact at this size) */
    assert_int_equal(json_integer_value(json_object_get(stats, "contexts")), 35);
    /* turns per conversation, from the conversation scorer */
    json_t *turns = json_object_get(json_object_get(stats, "distributions"),
                                    "conversation.turns");
    assert_int_equal(json_integer_value(json_object_get(turns, "count")),
                     json_integer_value(json_object_get(records, "conversation")));
    /* action usage and success rates: the actions scorer's counters
     * action.<name>.calls and .ok, as a table */
    json_t *actions = json_object_get(json_object_get(stats, "tables"), "action");
    assert_true(json_object_size(actions) >= 7);
    const char *k;
    json_t *a;
    json_object_foreach(actions, k, a) {
        double calls = (double)json_integer_value(json_object_get(a, "calls"));
        double ok = (double)json_integer_value(json_object_get(a, "ok"));
        assert_true(calls >= ok && calls > 0);
        assert_true(fabs(json_number_value(json_object_get(a, "success_rate")) -
                         ok / calls) < 0.001);
    }
    /* issues: code, count, examples with file and line */
    json_t *issues = json_object_get(r, "issues");
    assert_true(json_array_size(issues) > 0);
    size_t i;
    json_t *is;
    json_array_foreach(issues, i, is) {
        assert_true(json_integer_value(json_object_get(is, "count")) > 0);
        json_t *ex = json_array_get(json_object_get(is, "examples"), 0);
        assert_non_null(json_string_value(json_object_get(ex, "file")));
        assert_true(json_integer_value(json_object_get(ex, "line")) >= 1);
    }
    assert_non_null(strstr(err, "analysis: overall"));
    json_decref(r);
    free(err);
}

/* A file of our own, no format in its name: the format is recognised by
 * the fields; each planted defect is reported at its line. */
static void test_planted_defects(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *path = tu_fmt("%s/my-data.jsonl", dir);
    const char *good = "{\"instruction\":\"What is the capital of France?\","
                       "\"response\":\"The capital of France is Paris.\","
                       "\"system\":\"s\",\"context\":\"c\"}";
    char *text = tu_fmt(
        "%s\n"
        "{\"instruction\":\"Where is Rome?\",\"response\":\"\",\"system\":\"s\","
        "\"context\":\"c\"}\n"
        "{\"instruction\":\"Capital of Chad?\",\"response\":\"I'm sorry, but I "
        "don't know the answer to that.\",\"system\":\"s\",\"context\":\"c\"}\n"
        "%s\n"
        "{\"instruction\":\"Who handles refunds?\",\"response\":\"Write to "
        "refunds@example.com and they will help.\",\"system\":\"s\","
        "\"context\":\"c\"}\n"
        "{\"instruction\": \"cut off\n"
        "{\"instruction\":\"How far is the moon?\",\"response\":\"About 384,400 "
        "km from Earth on average.\",\"system\":\"s\",\"context\":\"c\"}\n",
        good, good);
    tu_write(path, text);
    char *err = NULL;
    char *paths[] = {path};
    json_t *r = analyze(&err, NULL, paths, 1);
    static const struct {
        const char *code;
        int line;
    } want[] = {{"empty_response", 2},
                {"refusal", 3},
                {"duplicate", 4},
                {"pii_residual", 5}};
    for (size_t w = 0; w < 4; w++) {
        size_t i;
        json_t *is;
        int found = 0;
        json_array_foreach(json_object_get(r, "issues"), i, is) {
            if (strcmp(json_string_value(json_object_get(is, "code")),
                       want[w].code) != 0)
                continue;
            json_t *ex = json_array_get(json_object_get(is, "examples"), 0);
            assert_string_equal(json_string_value(json_object_get(ex, "file")),
                                path);
            assert_int_equal(json_integer_value(json_object_get(ex, "line")),
                             want[w].line);
            found = 1;
        }
        if (!found)
            fail_msg("issue %s not reported", want[w].code);
    }
    json_t *stats = json_object_get(r, "stats");
    assert_int_equal(json_integer_value(json_object_get(stats, "bad_lines")), 1);
    assert_int_equal(json_integer_value(json_object_get(stats, "duplicates")), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(stats, "records"), "instruction-tuning")),
                     6);
    char *where = tu_fmt("%s:6: ", path);
    assert_non_null(strstr(err, where));
    free(where);
    json_decref(r);
    free(err);
    free(text);
    free(path);
    tu_rmrf(dir);
    free(dir);
}

static int have_chromium(void)
{
    return access("/usr/bin/chromium", X_OK) == 0;
}

static void test_html_report_in_chromium(void **state)
{
    (void)state;
    char *html = tu_fmt("%s/report.html", out_dir);
    char *err = NULL;
    json_t *r = analyze(&err, html, files, nfiles);
    char *page = tu_read(html);
    assert_non_null(page);
    /* self-contained: nothing fetched from anywhere */
    assert_null(strstr(page, "<link"));
    assert_null(strstr(page, " src="));
    assert_null(strstr(page, "http://"));
    assert_null(strstr(page, "https://"));
    if (!have_chromium()) {
        free(page);
        free(err);
        free(html);
        json_decref(r);
        skip(); /* scripts/install-deps.sh --ci installs it */
    }
    char *profile = tu_tmpdir();
    char *shot = tu_fmt("%s/tests/report.png", tu_build());
    char *url = tu_fmt("file://%s", html);
    char *prof_arg = tu_fmt("--user-data-dir=%s", profile);
    char *shot_arg = tu_fmt("--screenshot=%s", shot);
    char *common[] = {"/usr/bin/chromium", "--headless", "--no-sandbox",
                      "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking",
                      "--disable-component-update", "--disable-sync",
                      "--enable-logging=stderr", "--v=0", prof_arg, NULL};
    char *argv[20];
    int k = 0;
    for (; common[k]; k++)
        argv[k] = common[k];
    argv[k] = "--dump-dom";
    argv[k + 1] = url;
    argv[k + 2] = NULL;
    char *dom = NULL, *log = NULL;
    assert_int_equal(tu_run(argv, NULL, &dom, &log), 0);
    /* the inline script ran: the page rendered without a script error */
    assert_non_null(strstr(dom, "data-rendered=\"1\""));
    if (strstr(log, "Uncaught") || strstr(log, "CONSOLE(") )
        fail_msg("console output from the report:\n%s", log);
    char *score = tu_fmt("id=\"overall-score\" data-value=\"%.3f\"",
                         json_number_value(json_object_get(r, "overallScore")));
    assert_non_null(strstr(dom, score));
    int charts = 0;
    for (const char *p = dom; (p = strstr(p, "class=\"chart score-chart\"")); p++)
        charts++;
    assert_int_equal(charts, 6);
    /* keep a picture of it next to the build */
    argv[k] = "--window-size=1280,2400";
    argv[k + 1] = shot_arg;
    argv[k + 2] = url;
    argv[k + 3] = NULL;
    assert_int_equal(tu_run(argv, NULL, NULL, NULL), 0);
    assert_true(access(shot, R_OK) == 0);
    print_message("report screenshot: %s\n", shot);
    free(score);
    free(dom);
    free(log);
    free(url);
    free(prof_arg);
    free(shot_arg);
    free(shot);
    tu_rmrf(profile);
    free(profile);
    free(page);
    free(err);
    free(html);
    json_decref(r);
}

/* Run `synthhost analyze` with extra arguments (NULL-terminated) on the
 * instruction-tuning file; returns the JSON and stderr in *err. */
static json_t *analyze_with(char **err, ...)
{
    char *argv[16];
    int k = 0;
    argv[k++] = tu_fmt("%s/synthhost", tu_build());
    argv[k++] = "analyze";
    va_list ap;
    va_start(ap, err);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && k < 14)
        argv[k++] = (char *)a;
    va_end(ap);
    argv[k++] = files[0];
    argv[k] = NULL;
    char *out = NULL;
    assert_int_equal(tu_run(argv, NULL, &out, err), 0);
    json_t *r = json_loads(out, 0, NULL);
    assert_non_null(r);
    free(out);
    free(argv[0]);
    return r;
}

/* The count of one issue code in an analysis (0 when absent). */
static json_int_t issue_count(json_t *r, const char *code)
{
    size_t i;
    json_t *is;
    json_array_foreach(json_object_get(r, "issues"), i, is)
        if (strcmp(json_string_value(json_object_get(is, "code")), code) == 0)
            return json_integer_value(json_object_get(is, "count"));
    return 0;
}

/* analyze -c takes the scorers' options from a config, -p the plugins
 * from another directory (none: nothing scores, quality is null), -q
 * leaves stderr to errors. */
static void test_analyze_options(void **state)
{
    (void)state;
    char *err = NULL;
    json_t *plain = analyze_with(&err, NULL);
    assert_non_null(strstr(err, "synthhost: analysis: overall"));
    free(err);
    char *conf = tu_fmt("%s/strict.conf", out_dir);
    tu_write(conf, "formats = [\"instruction-tuning\"];\n"
                   "plugins = { score-instruction-tuning = { min_chars = 200; "
                   "}; };\n");
    json_t *strict = analyze_with(&err, "-q", "-c", conf, NULL);
    assert_string_equal(err, "");
    free(err);
    assert_true(issue_count(strict, "short_response") >
                issue_count(plain, "short_response"));
    assert_true(json_number_value(json_object_get(strict, "quality")) <
                json_number_value(json_object_get(plain, "quality")));
    char *empty = tu_fmt("%s/no-plugins", out_dir);
    assert_int_equal(mkdir(empty, 0755), 0);
    json_t *none = analyze_with(&err, "-q", "-p", empty, NULL);
    free(err);
    assert_true(json_is_null(json_object_get(none, "quality")));
    assert_int_equal(issue_count(none, "short_response"), 0);
    json_decref(none);
    json_decref(strict);
    json_decref(plain);
    free(empty);
    free(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_output),
        cmocka_unit_test(test_planted_defects),
        cmocka_unit_test(test_html_report_in_chromium),
        cmocka_unit_test(test_analyze_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
