/*
 * live_crash.c -- exactly once across kill -9 in mode = "realtime".  A
 * generated log is written to a followed file in chunks cut anywhere
 * (half lines too) while synthhost follows it; after each chunk the
 * process is killed with SIGKILL at a random moment and started again
 * (20 times).
 * Sessions close by event-time rules only (max_turns, max_open evictions,
 * idle gaps; no wall-clock idle timeout), so the records do not depend on
 * timing: at the end, one file per format must hold exactly the records
 * of a batch run over the whole log, none lost and none twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define KILLS 20

static const char *const formats[] = {"instruction-tuning", "conversation",
                                      "reasoning-chains", "action-sequences",
                                      "episodes", "grpo", NULL};
#define FORMATS "formats = [\"instruction-tuning\", \"conversation\", " \
                "\"reasoning-chains\", \"action-sequences\", \"episodes\", " \
                "\"grpo\"];\n"

static char *dir, *host, *full;
static size_t full_len;
static size_t counts[8]; /* records per format of the last comparison */

/* Sorted lines of the one <format>-*.jsonl in out. */
static char *records_of(const char *out, const char *format)
{
    char *text = tu_sorted_records(out, format);
    if (text == NULL)
        fail_msg("%s: not exactly one %s-*.jsonl", out, format);
    return text;
}

static pid_t launch(const char *conf)
{
    char *argv[] = {host, "-c", (char *)conf, NULL};
    return tu_spawn(argv, NULL, NULL);
}

static void append_bytes(const char *path, const char *p, size_t n)
{
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* Where the checkpoint says the run has read the followed file to. */
static long long checkpointed_read(const char *out)
{
    char *path = tu_fmt("%s/.synthhost-live.json", out);
    json_t *j = json_load_file(path, 0, NULL);
    free(path);
    long long end = json_integer_value(json_object_get(
        json_array_get(json_object_get(j, "files"), 0), "read"));
    json_decref(j);
    return end;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    free(dir);
    free(host);
    free(full);
    dir = host = full = NULL;
    return 0;
}

/* Kill a live run KILLS times while log (a path) is appended to the file
 * it follows, then compare every format with a batch run; rules: the
 * session and plugin settings of both. */
static void kill_while_following(const char *log, const char *rules)
{
    dir = tu_tmpdir();
    host = tu_fmt("%s/synthhost", tu_build());
    full = tu_read(log);
    full_len = strlen(full);
    /* the reference: a batch run over the whole log, same rules */
    char *bconf = tu_fmt("%s/batch.conf", dir);
    char *text = tu_fmt("input = \"%s\";\nplugin_dir = \"%s/plugins\";\n"
                        FORMATS "%s", log, tu_build(), rules);
    tu_write(bconf, text);
    free(text);
    char *ref = tu_fmt("%s/ref", dir);
    char *bargv[] = {host, "-q", "-c", bconf, "-o", ref, NULL};
    char *berr = NULL;
    if (tu_run(bargv, NULL, NULL, &berr) != 0)
        fail_msg("batch run: %s", berr);
    free(berr);

    char *conf = tu_fmt("%s/live.conf", dir);
    text = tu_fmt("mode = \"realtime\";\ninput = \"agent.jsonl\";\n"
                  "output_dir = \"out\";\nplugin_dir = \"%s/plugins\";\n"
                  "control = \"ctl.sock\";\npoll_ms = 10;\n" FORMATS "%s",
                  tu_build(), rules);
    tu_write(conf, text);
    free(text);
    char *agent = tu_fmt("%s/agent.jsonl", dir);
    char *out = tu_fmt("%s/out", dir);
    append_bytes(agent, "", 0);
    /* chunk sizes and kill moments: a new draw each run, printed first so
     * any failure below can be repeated with SYNTH_TEST_SEED */
    const char *given = getenv("SYNTH_TEST_SEED");
    unsigned seed = given ? (unsigned)strtoul(given, NULL, 10)
                          : (unsigned)time(NULL) ^ (unsigned)getpid();
    print_message("live_crash: seed %u (SYNTH_TEST_SEED=%u repeats it)\n",
                  seed, seed);
    srand(seed);
    size_t at = 0;
    for (int k = 0; k < KILLS; k++) {
        pid_t pid = launch(conf);
        usleep(50000 + (useconds_t)(rand() % 100000));
        /* a chunk cut anywhere: the last line may stay half-written */
        size_t n = full_len / KILLS + (size_t)(rand() % 4096);
        if (k == KILLS - 1 || at + n > full_len)
            n = full_len - at;
        append_bytes(agent, full + at, n);
        at += n;
        usleep((useconds_t)(rand() % 150000));
        kill(pid, SIGKILL);
        assert_int_equal(tu_wait(pid), 128 + SIGKILL);
    }
    assert_int_equal(at, full_len);
    /* the last run reads to the end, then SIGTERM flushes what is open;
     * it is up (signals handled) once its control socket is there */
    char *sock = tu_fmt("%s/ctl.sock", dir);
    unlink(sock);
    pid_t pid = launch(conf);
    struct stat st;
    for (int i = 0; i < 500 && stat(sock, &st) != 0; i++)
        usleep(10000);
    for (int i = 0; i < 2000 && checkpointed_read(out) < (long long)full_len; i++)
        usleep(10000);
    assert_int_equal(checkpointed_read(out), (long long)full_len);
    kill(pid, SIGTERM);
    assert_int_equal(tu_wait(pid), 0);

    for (int f = 0; formats[f]; f++) {
        char *want = records_of(ref, formats[f]);
        char *got = records_of(out, formats[f]);
        size_t nw = 0, ng = 0;
        for (const char *p = want; *p; p++)
            nw += *p == '\n';
        for (const char *p = got; *p; p++)
            ng += *p == '\n';
        counts[f] = nw;
        if (strcmp(got, want) != 0) {
            fail_msg("%s: %zu records after %d kills, the batch run has %zu "
                     "(or they differ); seed %u", formats[f], ng, KILLS, nw,
                     seed);
        }
        free(got);
        free(want);
    }
    free(sock);
    free(out);
    free(agent);
    free(conf);
    free(ref);
    free(bconf);
}

/* A generated log: 99 agents at once, so with small caps sessions are
 * cut, evicted and written all the time. */
static void test_generated_log(void **state)
{
    (void)state;
    char *tmp = tu_tmpdir();
    char *log = tu_fmt("%s/gen.jsonl", tmp);
    char *gen = tu_fmt("%s/genlog", tu_build());
    char *argv[] = {gen, "--bytes", "2M", "--seed", "5", "-o", log, NULL};
    assert_int_equal(tu_run(argv, NULL, NULL, NULL), 0);
    kill_while_following(log, "session = { idle_timeout_ms = 0; max_turns = 3; "
                              "max_open = 48; };\n");
    assert_true(counts[0] > 100); /* instruction-tuning */
    tu_rmrf(tmp);
    free(gen);
    free(log);
    free(tmp);
}

/* The example log: its repeated prompts make grpo groups that wait for
 * members across the kills (state saved with the checkpoint). */
static void test_example_log_with_grpo(void **state)
{
    (void)state;
    char *log = tu_fmt("%s/examples/agent-log.jsonl", tu_root());
    kill_while_following(log, "session = { idle_timeout_ms = 0; max_turns = 2; "
                              "max_open = 12; };\n");
    assert_true(counts[0] > 50); /* instruction-tuning */
    assert_true(counts[5] > 5);  /* grpo groups */
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_generated_log, teardown),
        cmocka_unit_test_teardown(test_example_log_with_grpo, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
