/*
 * integration.c -- the real synthhost binary on real input.
 *
 * The example log is checked against an oracle computed here from the raw
 * lines, independently of the core: which runs have a user input and a
 * final answer, which texts were final and which were superseded partials.
 * tests/cases/<name>/ holds small logs as data: synth.conf, input.jsonl,
 * expect/<format>.jsonl (the exact output), optional `exit` and `stderr`
 * (lines that must appear).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oracle.h"
#include "testutil.h"

static char *host(void) { return tu_fmt("%s/synthhost", tu_build()); }
static char *example(void)
{
    return tu_fmt("%s/examples/agent-log.jsonl", tu_root());
}
static char *default_conf(void)
{
    return tu_fmt("%s/conf/synth.conf", tu_root());
}

/* Run synthhost with up to 8 arguments (NULL-terminated). */
static int run(char **err, char **out, const char *in, ...)
{
    char *argv[12];
    int n = 0;
    argv[n++] = host();
    va_list ap;
    va_start(ap, in);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 11)
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    int rc = tu_run(argv, in, out, err);
    free(argv[0]);
    return rc;
}

static const char *context_id(json_t *it_record)
{
    return oracle_context_of(
        json_string_value(json_object_get(it_record, "context")));
}

/* Load <dir>/<format>-*.jsonl (exactly one) and check its sidecar. */
static json_t *load_format(const char *dir, const char *format)
{
    json_t *meta = NULL;
    json_t *records = tu_load_format(dir, format, &meta);
    if (records == NULL)
        fail_msg("no single %s-*.jsonl of JSON lines in %s", format, dir);
    if (meta) {
        assert_int_equal(json_array_size(meta), json_array_size(records));
        size_t i;
        json_t *m;
        json_array_foreach(meta, i, m) {
            assert_int_equal(json_integer_value(json_object_get(m, "line")),
                             i + 1);
            assert_true(json_is_string(json_object_get(m, "session")));
        }
    }
    json_decref(meta);
    return records;
}

/* ---- the example log ------------------------------------------------------ */

static void check_no_superseded_text(const oracle *o, const char *text)
{
    if (json_object_get(o->partials, text))
        fail_msg("superseded partial text in a record: %s", text);
}

/* A config like conf/synth.conf without privacy: records must carry the
 * log's exact texts for the oracle to find them. */
static char *plain_conf(const char *dir)
{
    char *path = tu_fmt("%s/plain.conf", dir);
    char *text = tu_fmt(
        "input = \"%s/examples/agent-log.jsonl\";\nsidecar = true;\n"
        "formats = [\"instruction-tuning\", \"conversation\", "
        "\"reasoning-chains\", \"action-sequences\", \"episodes\", "
        "\"grpo\"];\n",
        tu_root());
    tu_write(path, text);
    free(text);
    return path;
}

static void test_example_log(void **state)
{
    (void)state;
    char *out = tu_tmpdir(), *conf = plain_conf(out), *log = example();
    char *err = NULL;
    int rc = run(&err, NULL, NULL, "-c", conf, "-o", out, NULL);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    assert_non_null(strstr(err, "read 2165 lines (619737 bytes): 0 bad"));
    /* threads = 2 by default: the summary says where the CPU went */
    double rd, ss, pl;
    const char *cpu = strstr(err, "cpu: ");
    assert_non_null(cpu);
    assert_int_equal(sscanf(cpu, "cpu: %lf s reading and parsing, %lf s "
                                 "sessions and privacy, %lf s formatters",
                            &rd, &ss, &pl),
                     3);
    /* a thread's share can round to 0.00 s on a fast machine: each is a
     * number of seconds, and together no more than the run's own CPU */
    assert_true(rd >= 0 && ss >= 0 && pl >= 0);
    assert_true(rd + ss + pl < 60.0);
    /* a dataset and a sidecar per format, the config and the checkpoint
     * state, nothing else: no temporary file */
    assert_int_equal(tu_count_entries(out), 2 * 6 + 2);
    char *state_path = tu_fmt("%s/.synthhost-state.json", out);
    json_t *st = json_load_file(state_path, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(
                         json_array_get(json_object_get(st, "runs"), 0),
                         "files")),
                     6);
    json_decref(st);
    free(state_path);

    oracle o;
    oracle_build(&o, log);
    json_t *it = load_format(out, "instruction-tuning");
    /* one record per answered run */
    assert_int_equal(json_array_size(it), json_array_size(o.answered));
    assert_true(json_array_size(it) > 0);
    json_t *seen = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(it, i, r) {
        assert_int_equal(json_object_size(r), 4);
        const char *ins = json_string_value(json_object_get(r, "instruction"));
        const char *resp = json_string_value(json_object_get(r, "response"));
        assert_non_null(ins);
        assert_non_null(resp);
        assert_string_equal(
            json_string_value(json_object_get(r, "system")),
            "You are a helpful AI assistant agent.");
        /* the same (context, input, output) triple is an answered run */
        if (oracle_find_run(&o, context_id(r), ins, resp) == NULL)
            fail_msg("record %zu is no answered run: %s / %s", i, ins, resp);
        check_no_superseded_text(&o, resp);
        char *want_ctx = tu_fmt("Context: %.*s, ID: %s",
                                (int)strcspn(context_id(r), ":"),
                                context_id(r), context_id(r));
        assert_string_equal(json_string_value(json_object_get(r, "context")),
                            want_ctx);
        free(want_ctx);
        json_object_set_new(seen, context_id(r), json_true());
    }
    /* every context with an input and an answer yields a record */
    assert_true(json_equal(seen, o.contexts));

    json_t *conv = load_format(out, "conversation");
    assert_int_equal(json_array_size(conv), json_object_size(o.contexts));
    size_t pairs_total = 0;
    json_array_foreach(conv, i, r) {
        assert_int_equal(json_object_size(r), 2);
        json_t *msgs = json_object_get(r, "messages");
        size_t n = json_array_size(msgs);
        assert_true(n >= 2 && n % 2 == 0);
        size_t k;
        json_t *m;
        json_array_foreach(msgs, k, m) {
            assert_int_equal(json_object_size(m), 2);
            assert_string_equal(json_string_value(json_object_get(m, "role")),
                                k % 2 ? "assistant" : "user");
            const char *c = json_string_value(json_object_get(m, "content"));
            assert_non_null(c);
            check_no_superseded_text(&o, c);
            if (k % 2)
                assert_non_null(json_object_get(o.finals, c));
        }
        size_t pairs = n / 2;
        pairs_total += pairs;
        char *want = tu_fmt("Conversation with %zu user message%s and %zu "
                            "assistant response%s",
                            pairs, pairs == 1 ? "" : "s", pairs,
                            pairs == 1 ? "" : "s");
        assert_string_equal(json_string_value(json_object_get(r, "summary")),
                            want);
        free(want);
    }
    assert_int_equal(pairs_total, json_array_size(o.answered));
    json_decref(seen);
    json_decref(it);
    json_decref(conv);
    oracle_free(&o);
    tu_rmrf(out);
    free(out);
    free(conf);
    free(log);
    free(err);
}

/* conf/synth.conf as shipped (privacy on): no e-mail, phone, card or key
 * of the example log reaches any file, sidecars included. */
static void test_demo_config_leaks_no_pii(void **state)
{
    (void)state;
    char *out = tu_tmpdir(), *conf = default_conf();
    assert_int_equal(run(NULL, NULL, NULL, "-q", "-c", conf, "-o", out, NULL),
                     0);
    static const char *const pii[] = {
        "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\\.[A-Za-z]{2,}",
        "\\(?555\\)?[-. ][0-9]{3}[-. ][0-9]{4}",
        "4111[ -]?1111", "sk-abc123", "ghp_[A-Za-z0-9]{8}", NULL};
    DIR *d = opendir(out);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = tu_fmt("%s/%s", out, e->d_name);
        char *text = tu_read(path);
        for (int i = 0; pii[i]; i++) {
            regex_t re;
            assert_int_equal(regcomp(&re, pii[i], REG_EXTENDED | REG_NOSUB), 0);
            if (regexec(&re, text, 0, NULL, 0) == 0)
                fail_msg("%s matches %s", e->d_name, pii[i]);
            regfree(&re);
        }
        free(text);
        free(path);
        files++;
    }
    closedir(d);
    assert_int_equal(files, 12);
    tu_rmrf(out);
    free(out);
    free(conf);
}

/* Break some lines of the example: the other sessions' records must be
 * exactly those of a clean run, and the broken lines must be reported. */
static void test_corrupted_log(void **state)
{
    (void)state;
    static const int broken[] = {5, 700, 1500, 2165};
    char *dir = tu_tmpdir(), *conf = default_conf(), *log = example();
    char *clean_out = tu_fmt("%s/clean", dir), *bad_out = tu_fmt("%s/bad", dir);
    char *bad_log = tu_fmt("%s/agent-log-broken.jsonl", dir);
    json_t *lines = json_array();
    {
        char *text = tu_read(log);
        FILE *f = fopen(bad_log, "w");
        char *save = NULL;
        int no = 0;
        for (char *l = strtok_r(text, "\n", &save); l;
             l = strtok_r(NULL, "\n", &save)) {
            no++;
            json_array_append_new(lines, json_loads(l, 0, NULL));
            int hit = 0;
            for (size_t b = 0; b < sizeof broken / sizeof broken[0]; b++)
                hit |= broken[b] == no;
            if (hit && no % 2)
                fprintf(f, "%.*s\n", (int)(strlen(l) / 2), l); /* cut */
            else if (hit)
                fprintf(f, "\x01\x02 not json at all\n");
            else
                fprintf(f, "%s\n", l);
        }
        fclose(f);
        free(text);
    }
    char *err = NULL;
    assert_int_equal(run(NULL, NULL, NULL, "-c", conf, "-o", clean_out, NULL),
                     0);
    int rc = run(&err, NULL, NULL, "-c", conf, "-i", bad_log, "-o", bad_out,
                 NULL);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    json_t *hurt = json_object(); /* contexts that lost a line */
    for (size_t b = 0; b < sizeof broken / sizeof broken[0]; b++) {
        char *want = tu_fmt("warning: %s:%d: ", bad_log, broken[b]);
        if (strstr(err, want) == NULL)
            fail_msg("stderr lacks \"%s\": %s", want, err);
        free(want);
        json_object_set_new(
            hurt,
            json_string_value(json_object_get(
                json_array_get(lines, (size_t)broken[b] - 1), "contextId")),
            json_true());
    }
    assert_non_null(strstr(err, "4 bad"));
    assert_int_equal(tu_count_entries(bad_out), 2 * 6 + 1);
    json_t *clean = load_format(clean_out, "instruction-tuning");
    json_t *bad = load_format(bad_out, "instruction-tuning");
    /* every clean record of an unhurt context is in the broken run */
    size_t i, kept = 0;
    json_t *r;
    json_array_foreach(clean, i, r) {
        if (json_object_get(hurt, context_id(r)))
            continue;
        int found = 0;
        size_t k;
        json_t *b;
        json_array_foreach(bad, k, b) found |= json_equal(r, b);
        if (!found)
            fail_msg("record lost: %s", json_dumps(r, JSON_COMPACT));
        kept++;
    }
    assert_true(kept > 0);
    assert_true(json_array_size(bad) >= kept);
    json_decref(clean);
    json_decref(bad);
    json_decref(hurt);
    json_decref(lines);
    tu_rmrf(dir);
    free(dir);
    free(conf);
    free(log);
    free(clean_out);
    free(bad_out);
    free(bad_log);
    free(err);
}

static void test_config_error_writes_nothing(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *conf = tu_fmt("%s/bad.conf", dir);
    char *log = example();
    char *text = tu_fmt("input = \"%s\";\n\nformats = [\"conversation\",\n"
                        "  \"instrction-tuning\"];\n",
                        log);
    tu_write(conf, text);
    char *out = tu_fmt("%s/out", dir);
    char *err = NULL;
    assert_int_equal(run(&err, NULL, NULL, "-c", conf, "-o", out, NULL), 2);
    char *want = tu_fmt("synthhost: error: %s:3: unknown format "
                        "\"instrction-tuning\"; did you mean "
                        "\"instruction-tuning\"?",
                        conf);
    if (strstr(err, want) == NULL)
        fail_msg("stderr lacks \"%s\": %s", want, err);
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0); /* not even the directory */
    free(want);
    free(err);
    free(text);
    free(out);
    free(log);
    free(conf);
    tu_rmrf(dir);
    free(dir);
}

/* A config with errors of the core and of plugins, one in the group of a
 * plugin no format uses: every error is said in one run, each once, and
 * nothing is written -- no output directory, no pseudonym key. */
static void test_every_config_error_at_once(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *conf = tu_fmt("%s/bad.conf", dir), *log = example();
    char *text = tu_fmt(
        "input = \"%s\";\n"
        "formats = [\"instruction-tuning\"];\n"
        "batch_size = \"many\";\n"
        "plugins = { grpo = { group_sise = 2; };\n"
        "            instruction-tuning = { sytem = \"x\"; }; };\n"
        "privacy = { anonymize_users = true; key_file = \"new.key\"; };\n",
        log);
    tu_write(conf, text);
    char *out = tu_fmt("%s/out", dir), *err = NULL;
    assert_int_equal(run(&err, NULL, NULL, "-c", conf, "-o", out, NULL), 2);
    static const char *const want[] = {
        ":3: \"batch_size\" must be an integer, not a string",
        ":4: unknown option \"group_sise\" for plugin \"grpo\"; did you "
        "mean \"group_size\"?",
        ":5: unknown option \"sytem\" for plugin \"instruction-tuning\"; "
        "did you mean \"system\"?",
        NULL};
    for (int i = 0; want[i]; i++) {
        const char *at = strstr(err, want[i]);
        if (at == NULL)
            fail_msg("stderr lacks \"%s\": %s", want[i], err);
        if (strstr(at + 1, want[i]) != NULL)
            fail_msg("\"%s\" said twice: %s", want[i], err);
    }
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0);
    char *key = tu_fmt("%s/new.key", dir);
    assert_int_not_equal(stat(key, &st), 0);
    free(key);
    free(err);
    free(out);
    free(text);
    free(log);
    free(conf);
    tu_rmrf(dir);
    free(dir);
}

/* Exactly once across runs: the same inputs and config again write
 * nothing ("already processed"); once the outputs are deleted, the run is
 * done again and writes them anew. */
static void test_done_runs_once_until_deleted(void **state)
{
    (void)state;
    char *out = tu_tmpdir(), *conf = plain_conf(out), *err = NULL;
    assert_int_equal(run(&err, NULL, NULL, "-c", conf, "-o", out, NULL), 0);
    char *first = tu_format_file(out, "instruction-tuning");
    assert_non_null(first);
    free(err);
    err = NULL;
    int files = tu_count_entries(out);
    assert_int_equal(run(&err, NULL, NULL, "-c", conf, "-o", out, NULL), 0);
    assert_non_null(strstr(err, "already processed with this config; "
                                "nothing to do"));
    assert_int_equal(tu_count_entries(out), files); /* nothing new */
    free(err);
    err = NULL;
    /* delete one output: the run is not done any more */
    assert_int_equal(unlink(first), 0);
    assert_int_equal(run(&err, NULL, NULL, "-c", conf, "-o", out, NULL), 0);
    assert_null(strstr(err, "nothing to do"));
    assert_non_null(strstr(err, "wrote 85 instruction-tuning records"));
    char *again = tu_format_file(out, "instruction-tuning");
    assert_non_null(again);
    free(again);
    free(first);
    free(err);
    free(conf);
    tu_rmrf(out);
    free(out);
}

/* -i given twice reads both files in order, as the config's input list
 * does (the case inputs-list holds what that list gives); -h and -V are
 * --help and --version. */
static void test_repeated_inputs_and_short_options(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *out = tu_fmt("%s/out", dir), *err = NULL;
    char *conf = tu_fmt("%s/tests/cases/inputs-list/synth.conf", tu_root());
    char *a = tu_fmt("%s/tests/cases/late-partial/input.jsonl", tu_root());
    char *b = tu_fmt("%s/tests/cases/object-content/input.jsonl", tu_root());
    assert_int_equal(run(&err, NULL, NULL, "-c", conf, "-i", a, "-i", b, "-o",
                         out, NULL),
                     0);
    char *got_path = tu_format_file(out, "instruction-tuning");
    char *want_path = tu_fmt("%s/tests/cases/inputs-list/expect/"
                             "instruction-tuning.jsonl", tu_root());
    char *got = tu_read(got_path), *want = tu_read(want_path);
    assert_string_equal(got, want);
    free(got);
    free(want);
    free(got_path);
    free(want_path);
    free(err);
    char *o1 = NULL, *o2 = NULL;
    assert_int_equal(run(NULL, &o1, NULL, "-V", NULL), 0);
    assert_int_equal(run(NULL, &o2, NULL, "--version", NULL), 0);
    assert_string_equal(o1, o2);
    free(o1);
    free(o2);
    assert_int_equal(run(NULL, &o1, NULL, "-h", NULL), 0);
    assert_non_null(strstr(o1, "usage: synthhost -c FILE"));
    free(o1);
    free(a);
    free(b);
    free(conf);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

/* checkpoint = false: no record of finished runs, so the same run again
 * writes its files again (under the next free names). */
static void test_checkpoint_off_runs_again(void **state)
{
    (void)state;
    char *out = tu_tmpdir(), *conf = tu_fmt("%s/c.conf", out);
    char *text = tu_fmt("input = \"%s/tests/inputs/daydreams-subset.jsonl\";\n"
                        "formats = [\"instruction-tuning\"];\n"
                        "checkpoint = false;\n", tu_root());
    tu_write(conf, text);
    char *err = NULL;
    assert_int_equal(run(&err, NULL, NULL, "-c", conf, "-o", out, NULL), 0);
    free(err);
    assert_int_equal(run(&err, NULL, NULL, "-c", conf, "-o", out, NULL), 0);
    assert_null(strstr(err, "nothing to do"));
    free(err);
    char *state_path = tu_fmt("%s/.synthhost-state.json", out);
    struct stat st;
    assert_int_not_equal(stat(state_path, &st), 0);
    /* two datasets now: c.conf and two instruction-tuning files */
    assert_int_equal(tu_count_entries(out), 3);
    free(state_path);
    free(text);
    free(conf);
    tu_rmrf(out);
    free(out);
}

/* A plugin callback that fails: the run goes on, publishes its files
 * (the failed calls' records are discarded), says why, and exits 1. */
static void test_failing_callback_exits_1(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *plugins = tu_fmt("%s/plugins", dir);
    char *cmd = tu_fmt("mkdir -m 755 '%s' && cp '%s/tests/plugins/good.so' "
                       "'%s/plugins/formatter-instruction-tuning.so' '%s/'",
                       plugins, tu_build(), tu_build(), plugins);
    assert_int_equal(system(cmd), 0);
    char *conf = tu_fmt("%s/c.conf", dir);
    char *text = tu_fmt("input = \"%s/tests/inputs/daydreams-subset.jsonl\";\n"
                        "plugin_dir = \"plugins\";\n"
                        "formats = [\"testplug\", \"instruction-tuning\"];\n"
                        "plugins = { testplug = { fail_every = 2; }; };\n",
                        tu_root());
    tu_write(conf, text);
    char *out = tu_fmt("%s/out", dir), *err = NULL;
    assert_int_equal(run(&err, NULL, NULL, "-c", conf, "-o", out, NULL), 1);
    assert_non_null(strstr(err, "plugin testplug: session failed: failing "
                                "session 2 on purpose"));
    assert_non_null(strstr(err, "5 plugin calls failed"));
    /* published all the same: 10 sessions, every second one failed */
    json_t *recs = tu_load_format(out, "testplug", NULL);
    assert_int_equal(json_array_size(recs), 5);
    json_decref(recs);
    recs = tu_load_format(out, "instruction-tuning", NULL);
    assert_int_equal(json_array_size(recs), 24);
    json_decref(recs);
    free(err);
    free(out);
    free(text);
    free(conf);
    free(cmd);
    free(plugins);
    tu_rmrf(dir);
    free(dir);
}

/* Lines in the files matching a shell pattern. */
static int lines_in(const char *pattern)
{
    char *cmd = tu_fmt("cat %s 2>/dev/null | wc -l", pattern);
    FILE *f = popen(cmd, "r");
    int n = -1;
    if (fscanf(f, "%d", &n) != 1)
        n = -1;
    pclose(f);
    free(cmd);
    return n;
}

/* batch_size: while a batch run reads a pipe, its (temporary) output
 * grows a whole batch at a time; at the end the partial batch is written
 * too, and the published file holds every record.  The log is generated
 * (4 MB): lines reach the sessions a window (1 MB) at a time. */
static void test_batch_size_batches(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *h = host();
    char *conf = tu_fmt("%s/batch.conf", dir);
    /* max_open: sessions close while the input still streams */
    char *text = tu_fmt("plugin_dir = \"%s/plugins\";\n"
                        "formats = [\"instruction-tuning\"];\nbatch_size = 4;\n"
                        "session = { max_open = 16; };\n", tu_build());
    tu_write(conf, text);
    free(text);
    char *out = tu_fmt("%s/out", dir);
    char *argv[] = {h, "-q", "-c", conf, "-i", "-", "-o", out, NULL};
    int in;
    pid_t pid = tu_spawn(argv, &in, NULL);
    char *log = tu_fmt("%s/big.jsonl", dir);
    char *gen = tu_fmt("%s/genlog", tu_build());
    char *gargv[] = {gen, "--bytes", "4M", "--seed", "3", "-o", log, NULL};
    assert_int_equal(tu_run(gargv, NULL, NULL, NULL), 0);
    free(gen);
    text = tu_read(log);
    size_t len = strlen(text), at = 0;
    char *tmp = tu_fmt("'%s'/.instruction-tuning-*.tmp", out);
    int seen = 0, last = 0;
    for (int part = 1; part < 5; part++) {
        size_t to = len * (size_t)part / 5;
        while (text[to] != '\n')
            to++;
        assert_int_equal(write(in, text + at, to + 1 - at), (ssize_t)(to + 1 - at));
        at = to + 1;
        usleep(300000);
        int n = lines_in(tmp);
        if (n % 4 != 0)
            fail_msg("%d records in the temporary file: not whole batches of 4", n);
        assert_true(n >= last);
        seen += n > 0;
        last = n;
    }
    assert_true(seen > 0); /* batches appeared before the end */
    assert_int_equal(write(in, text + at, len - at), (ssize_t)(len - at));
    close(in);
    assert_int_equal(tu_wait(pid), 0);
    char *final = tu_fmt("'%s'/instruction-tuning-*.jsonl", out);
    int total = lines_in(final);
    assert_true(total > last);
    assert_int_equal(lines_in(tmp), 0); /* no temporary file left */
    free(final);
    free(tmp);
    free(text);
    free(log);
    free(out);
    free(conf);
    free(h);
    tu_rmrf(dir);
    free(dir);
}

/* SIGINT while reading a pipe: exit 1, nothing published, no temp file. */
static void test_interrupted_run_publishes_nothing(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *conf = default_conf(), *h = host();
    char *out = tu_fmt("%s/out", dir);
    char *err_path = tu_fmt("%s/err", dir);
    char *argv[] = {h, "-c", conf, "-i", "-", "-o", out, NULL};
    int in;
    pid_t pid = tu_spawn(argv, &in, err_path);
    char *log = example();
    char *text = tu_read(log);
    size_t half = strlen(text) / 2;
    while (text[half] != '\n')
        half++;
    assert_int_equal(write(in, text, half + 1), (ssize_t)(half + 1));
    /* wait until the temporary files exist (the run is under way) */
    for (int i = 0; i < 200 && tu_count_entries(out) < 2; i++)
        usleep(10000);
    assert_true(tu_count_entries(out) >= 2);
    usleep(100000);
    kill(pid, SIGINT);
    int rc = tu_wait(pid);
    close(in);
    assert_int_equal(rc, 1);
    assert_int_equal(tu_count_entries(out), 0);
    char *err = tu_read(err_path);
    assert_non_null(strstr(err, "interrupted: no output file was published"));
    free(err);
    free(text);
    free(log);
    free(err_path);
    free(out);
    free(h);
    free(conf);
    tu_rmrf(dir);
    free(dir);
}

static void test_stdin_matches_file(void **state)
{
    (void)state;
    char *dir = tu_tmpdir(), *conf = default_conf(), *log = example();
    char *a = tu_fmt("%s/a", dir), *b = tu_fmt("%s/b", dir);
    assert_int_equal(run(NULL, NULL, NULL, "-c", conf, "-o", a, NULL), 0);
    assert_int_equal(run(NULL, NULL, log, "-q", "-c", conf, "-i", "-", "-o",
                         b, NULL),
                     0);
    const char *formats[] = {"instruction-tuning", "conversation"};
    for (int f = 0; f < 2; f++) {
        json_t *x = load_format(a, formats[f]), *y = load_format(b, formats[f]);
        assert_true(json_equal(x, y));
        json_decref(x);
        json_decref(y);
    }
    free(a);
    free(b);
    free(log);
    free(conf);
    tu_rmrf(dir);
    free(dir);
}

/* Threads and the prescan change how fast, never what: every output
 * file is the same, byte for byte, with threads = 1 or 2 and with or
 * without skipping superseded partials, on the example log and on a
 * generated one (all six formats, every privacy plugin, one key). */
static void test_same_output_any_threads(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *gen = tu_fmt("%s/genlog", tu_build());
    char *big = tu_fmt("%s/gen.jsonl", dir);
    char *argv[] = {gen, "--bytes", "3M", "--seed", "7", "-o", big, NULL};
    assert_int_equal(tu_run(argv, NULL, NULL, NULL), 0);
    char *logs[2] = {example(), big};
    static const struct {
        int threads, skip;
    } runs[] = {{1, 0}, {1, 1}, {2, 0}, {2, 1}};
    for (int l = 0; l < 2; l++) {
        char *first = NULL;
        for (int r = 0; r < 4; r++) {
            char *conf = tu_fmt("%s/t%d.conf", dir, r);
            char *text = tu_fmt(
                "input = \"%s\";\nsidecar = true;\nthreads = %d;\n"
                "skip_superseded = %s;\nformats = [\"instruction-tuning\", "
                "\"conversation\", \"reasoning-chains\", "
                "\"action-sequences\", \"episodes\", \"grpo\"];\n"
                "privacy = { detectors = [\"email\", \"phone\", "
                "\"credit_card\", \"ip\", \"api_key\", "
                "\"url_credentials\"]; anonymize_users = true; "
                "key_file = \"%s/k.key\"; };\n",
                logs[l], runs[r].threads, runs[r].skip ? "true" : "false",
                dir);
            tu_write(conf, text);
            char *out = tu_fmt("%s/out-%d-%d", dir, l, r);
            assert_int_equal(run(NULL, NULL, NULL, "-q", "-c", conf, "-o", out,
                                 NULL),
                             0);
            /* the files, in name order, concatenated */
            char *cmd = tu_fmt("cd '%s' && for f in $(ls); do echo \"== "
                               "${f%%%%-2*}\"; cat \"$f\"; done > ../all-%d-%d",
                               out, l, r);
            assert_int_equal(system(cmd), 0);
            char *all_path = tu_fmt("%s/all-%d-%d", dir, l, r);
            char *all = tu_read(all_path);
            assert_true(strlen(all) > 1000);
            if (first == NULL)
                first = all;
            else {
                if (strcmp(first, all) != 0)
                    fail_msg("log %d: run %d (threads %d, skip %d) differs",
                             l, r, runs[r].threads, runs[r].skip);
                free(all);
            }
            free(all_path);
            free(cmd);
            free(out);
            free(text);
            free(conf);
        }
        free(first);
    }
    free(logs[0]);
    free(big);
    free(gen);
    tu_rmrf(dir);
    free(dir);
}

static void test_cli(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL, *conf = default_conf();
    assert_int_equal(run(&err, &out, NULL, "--version", NULL), 0);
    assert_string_equal(out, "synthhost 0.1.0 (plugin ABI 1.2)\n");
    free(out);
    free(err);
    assert_int_equal(run(&err, &out, NULL, "--help", NULL), 0);
    assert_non_null(strstr(out, "usage: synthhost -c FILE"));
    free(out);
    free(err);
    assert_int_equal(run(&err, &out, NULL, "--frobnicate", NULL), 2);
    assert_non_null(strstr(err, "unknown option --frobnicate"));
    free(out);
    free(err);
    assert_int_equal(run(&err, &out, NULL, NULL), 2);
    assert_non_null(strstr(err, "no config: pass -c FILE"));
    free(out);
    free(err);
    assert_int_equal(run(&err, &out, NULL, "-c", "/nonexistent.conf", NULL),
                     2);
    assert_non_null(strstr(err, "/nonexistent.conf: cannot read"));
    free(out);
    free(err);
    assert_int_equal(run(&err, &out, NULL, "plugins", NULL), 0);
    assert_non_null(strstr(out, "instruction-tuning  (formatter 1.0.0, ABI "
                                "1.2)"));
    assert_non_null(strstr(out, "conversation  (formatter 1.0.0, ABI 1.2)"));
    assert_non_null(strstr(out, "system"));
    assert_non_null(strstr(out, "default: You are a helpful AI assistant "
                                "agent."));
    free(out);
    free(err);
    assert_int_equal(run(&err, &out, NULL, "plugins", "conversation", NULL),
                     0);
    assert_null(strstr(out, "instruction-tuning"));
    assert_non_null(strstr(out, "conversation"));
    free(out);
    free(err);
    /* refused plugins are listed with the reason */
    char *tp = tu_fmt("%s/tests/plugins", tu_build());
    assert_int_equal(run(&err, &out, NULL, "plugins", "-p", tp, NULL), 0);
    assert_non_null(strstr(out, "abi-major.so\n    refused: built for plugin "
                                "ABI 2.2, but this host speaks ABI 1.2"));
    assert_non_null(strstr(out, "no-entry.so\n    refused: no "
                                "synth_plugin_init() entry point"));
    /* the plugin built against the frozen 1.0 header loads (first) */
    assert_non_null(strstr(out, "testplug  (formatter 9.9.9, ABI 1.0)"));
    free(tp);
    free(out);
    free(err);
    assert_int_equal(run(&err, &out, NULL, "plugins", "nosuch", NULL), 2);
    assert_non_null(strstr(err, "no plugin named \"nosuch\""));
    free(out);
    free(err);
    free(conf);
}

/* A name taken by a stray file, even only by its sidecar, is skipped:
 * the run publishes under the next free name with its sidecar beside
 * it, and leaves every stray as it was. */
static void test_taken_names_skipped(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *out = tu_fmt("%s/out", dir);
    assert_int_equal(mkdir(out, 0777), 0);
    int strays = tu_plant_strays(out, "instruction-tuning", ".meta", 60);
    char *conf = tu_fmt("%s/c.conf", dir);
    char *text = tu_fmt("input = \"%s/examples/agent-log.jsonl\";\n"
                        "sidecar = true;\nformats = [\"instruction-tuning\"];\n",
                        tu_root());
    tu_write(conf, text);
    char *err = NULL;
    if (run(&err, NULL, NULL, "-c", conf, "-o", out, NULL) != 0)
        fail_msg("the run failed: %s", err);
    char *wrong = tu_check_strays_skipped(out, "instruction-tuning", strays);
    if (wrong)
        fail_msg("%s", wrong);
    free(err);
    free(text);
    free(conf);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

/* The run's stderr as the README quotes it: the output directory shown
 * as synthetic-data, the time in file names as <time>, without the lines
 * that vary from machine to machine (cpu) or that the README leaves out
 * for width (action counts).  Returns an owned string. */
static char *as_quoted(const char *err, const char *out)
{
    size_t ol = strlen(out);
    char *buf = tu_fmt("%s", "");
    const char *line = err;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *l = tu_fmt("%.*s", (int)len, line);
        if (!strstr(l, "synthhost: cpu: ") && !strstr(l, "synthhost: action: ")) {
            char *at = strstr(l, out);
            if (at) {
                /* .../<format>-20261203T203243Z.jsonl */
                char *stamp = strstr(at + ol, "-20");
                char *fixed = tu_fmt("%.*ssynthetic-data%.*s-<time>%s",
                                     (int)(at - l), l,
                                     (int)(stamp - (at + ol)), at + ol,
                                     stamp ? strchr(stamp, '.') : "");
                free(l);
                l = fixed;
            }
            char *next = tu_fmt("%s%s\n", buf, l);
            free(buf);
            buf = next;
        }
        free(l);
        line += len + (nl != NULL);
    }
    return buf;
}

/* The README's quote of the demo run is what the demo run prints: the
 * quote cannot go stale. */
static void test_readme_quotes_the_demo(void **state)
{
    (void)state;
    char *out = tu_tmpdir(), *conf = default_conf(), *err = NULL;
    char *outdir = tu_fmt("%s/out", out);
    assert_int_equal(run(&err, NULL, NULL, "-c", conf, "-o", outdir, NULL), 0);
    char *got = as_quoted(err, outdir);
    char *readme_path = tu_fmt("%s/README.md", tu_root());
    char *readme = tu_read(readme_path);
    assert_non_null(readme);
    const char *b = strstr(readme, "<!-- demo-output:begin -->\n```\n");
    const char *e = strstr(readme, "```\n<!-- demo-output:end -->");
    assert_non_null(b);
    assert_non_null(e);
    b += strlen("<!-- demo-output:begin -->\n```\n");
    char *want = tu_fmt("%.*s", (int)(e - b), b);
    if (strcmp(got, want) != 0)
        fail_msg("README.md's demo output is stale; a run prints:\n%s", got);
    free(want);
    free(readme);
    free(readme_path);
    free(got);
    free(err);
    free(outdir);
    free(conf);
    tu_rmrf(out);
    free(out);
}

/* Run synthhost on the example log under a terminal (script(1) gives it
 * one), with extra (may be "") on its command line; returns what the
 * terminal showed (owned). */
static char *on_terminal(const char *out, const char *extra)
{
    char *h = host(), *conf = default_conf();
    char *cmd = tu_fmt("SYNTH_PROGRESS_MS=0 '%s' -c '%s' -o '%s' %s", h, conf,
                       out, extra);
    char *argv[] = {"/usr/bin/script", "-qfec", cmd, "/dev/null", NULL};
    char *screen = NULL;
    assert_int_equal(tu_run(argv, NULL, &screen, NULL), 0);
    free(cmd);
    free(conf);
    free(h);
    return screen;
}

/* On a terminal a run shows how far it is, in place, and erases it
 * before the summary; with -q, or when stderr is not a terminal, never. */
static void test_progress_on_terminal_only(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *out = tu_fmt("%s/a", dir), *quiet_out = tu_fmt("%s/b", dir);
    char *screen = on_terminal(out, "");
    /* 2165 lines: drawn at lines 1024 and 2048, of the log's 0.6 MB */
    const char *first = strstr(screen, "\rsynthhost: ");
    assert_non_null(first);
    assert_non_null(strstr(first, " of 0.6 MB ("));
    assert_non_null(strstr(first, " MB/s, "));
    assert_non_null(strstr(first, " records, "));
    /* erased (carriage return, erase line) before the summary */
    const char *summary = strstr(screen, "synthhost: read 2165 lines");
    assert_non_null(summary);
    assert_true(summary - screen >= 4 && strncmp(summary - 4, "\r\033[K", 4) == 0);
    char *quiet = on_terminal(quiet_out, "-q");
    assert_null(strstr(quiet, "MB/s"));
    char *err = NULL, *conf = default_conf(), *plain_out = tu_fmt("%s/c", dir);
    setenv("SYNTH_PROGRESS_MS", "0", 1); /* it would draw at every chance */
    assert_int_equal(run(&err, NULL, NULL, "-c", conf, "-o", plain_out, NULL), 0);
    unsetenv("SYNTH_PROGRESS_MS");
    assert_null(strstr(err, "MB/s"));
    assert_null(strchr(err, '\r'));
    free(err);
    free(conf);
    free(plain_out);
    free(quiet);
    free(screen);
    free(out);
    free(quiet_out);
    tu_rmrf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_log),
        cmocka_unit_test(test_readme_quotes_the_demo),
        cmocka_unit_test(test_progress_on_terminal_only),
        cmocka_unit_test(test_demo_config_leaks_no_pii),
        cmocka_unit_test(test_corrupted_log),
        cmocka_unit_test(test_config_error_writes_nothing),
        cmocka_unit_test(test_every_config_error_at_once),
        cmocka_unit_test(test_done_runs_once_until_deleted),
        cmocka_unit_test(test_repeated_inputs_and_short_options),
        cmocka_unit_test(test_checkpoint_off_runs_again),
        cmocka_unit_test(test_failing_callback_exits_1),
        cmocka_unit_test(test_interrupted_run_publishes_nothing),
        cmocka_unit_test(test_batch_size_batches),
        cmocka_unit_test(test_stdin_matches_file),
        cmocka_unit_test(test_same_output_any_threads),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_taken_names_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
