/*
 * crash.c -- exactly once across kill -9.  A generated log is run
 * cleanly once for reference; then, 20 times over, synthhost is killed
 * with SIGKILL at a random moment of a run and started again with the
 * same arguments: the output directory must end up with one file per
 * format holding exactly the reference's records, and no leftovers.  Two
 * more runs are killed in the middle of publishing (SYNTH_TEST_CRASH) and
 * must be rolled forward.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define ITERATIONS 20

static const char *const formats[] = {"instruction-tuning", "conversation",
                                      "reasoning-chains", "action-sequences",
                                      "episodes", "grpo", NULL};
static char *dir, *conf, *log_path, *host;
static char *reference[8]; /* sorted records per format */
static double clean_seconds;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sorted lines of the one <format>-*.jsonl in out (fails when there is
 * not exactly one). */
static char *records_of(const char *out, const char *format)
{
    char *text = tu_sorted_records(out, format);
    if (text == NULL)
        fail_msg("%s: not exactly one %s-*.jsonl", out, format);
    return text;
}

/* Start a run into out; crash: a SYNTH_TEST_CRASH point, or NULL. */
static pid_t launch(const char *out, const char *crash)
{
    if (crash)
        setenv("SYNTH_TEST_CRASH", crash, 1);
    char *argv[] = {host, "-q", "-c", conf, "-o", (char *)out, NULL};
    pid_t pid = tu_spawn(argv, NULL, NULL);
    unsetenv("SYNTH_TEST_CRASH");
    return pid;
}

static int setup(void **state)
{
    (void)state;
    dir = tu_tmpdir();
    log_path = tu_fmt("%s/big.jsonl", dir);
    host = tu_fmt("%s/synthhost", tu_build());
    char *gen = tu_fmt("%s/genlog", tu_build());
    char *argv[] = {gen, "--bytes", "4M", "--seed", "11", "-o", log_path, NULL};
    if (tu_run(argv, NULL, NULL, NULL) != 0)
        abort();
    conf = tu_fmt("%s/crash.conf", dir);
    char *text = tu_fmt(
        "input = \"big.jsonl\";\nplugin_dir = \"%s/plugins\";\nsidecar = true;\n"
        "formats = [\"instruction-tuning\", \"conversation\", "
        "\"reasoning-chains\", \"action-sequences\", \"episodes\", \"grpo\"];\n"
        "privacy = { detectors = [\"email\", \"phone\"]; };\n",
        tu_build());
    tu_write(conf, text);
    char *ref = tu_fmt("%s/ref", dir);
    double t0 = now();
    if (tu_wait(launch(ref, NULL)) != 0)
        abort();
    clean_seconds = now() - t0;
    for (int f = 0; formats[f]; f++)
        reference[f] = records_of(ref, formats[f]);
    free(ref);
    free(text);
    free(gen);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int f = 0; formats[f]; f++)
        free(reference[f]);
    tu_rmrf(dir);
    free(dir);
    free(conf);
    free(log_path);
    free(host);
    return 0;
}

/* The directory holds each format once, with the reference's records,
 * and nothing half-done. */
static void check_exactly_once(const char *out, int iteration)
{
    for (int f = 0; formats[f]; f++) {
        char *got = records_of(out, formats[f]);
        if (strcmp(got, reference[f]) != 0)
            fail_msg("iteration %d: %s records differ from the clean run",
                     iteration, formats[f]);
        free(got);
    }
    DIR *d = opendir(out);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if ((n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0) ||
            strcmp(e->d_name, ".synthhost-publish.json") == 0)
            fail_msg("iteration %d: leftover %s", iteration, e->d_name);
    }
    closedir(d);
}

static void test_kill_at_random_moments(void **state)
{
    (void)state;
    srand(42);
    int killed = 0;
    for (int i = 0; i < ITERATIONS; i++) {
        char *out = tu_fmt("%s/run-%d", dir, i);
        /* anywhere from the start to a little past the end of a run */
        useconds_t delay = (useconds_t)((double)rand() / RAND_MAX *
                                        clean_seconds * 1.1 * 1e6);
        pid_t pid = launch(out, NULL);
        usleep(delay);
        kill(pid, SIGKILL);
        killed += tu_wait(pid) == 128 + SIGKILL;
        /* the same command again, to the end */
        assert_int_equal(tu_wait(launch(out, NULL)), 0);
        check_exactly_once(out, i);
        /* and once more: nothing is written twice */
        assert_int_equal(tu_wait(launch(out, NULL)), 0);
        check_exactly_once(out, i);
        tu_rmrf(out);
        free(out);
    }
    print_message("%d runs of %d were killed before they ended (a clean run "
                  "takes %.2f s)\n", killed, ITERATIONS, clean_seconds);
    assert_true(killed >= ITERATIONS / 2);
}

static void test_kill_while_publishing(void **state)
{
    (void)state;
    static const char *const points[] = {"publish:1", "publish:4", NULL};
    for (int i = 0; points[i]; i++) {
        char *out = tu_fmt("%s/publish-%d", dir, i);
        assert_int_equal(tu_wait(launch(out, points[i])), 128 + SIGKILL);
        /* some files are published, the rest are still temporary */
        assert_true(tu_count_entries(out) > 0);
        assert_int_equal(tu_wait(launch(out, NULL)), 0);
        check_exactly_once(out, 100 + i);
        tu_rmrf(out);
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_at_random_moments),
        cmocka_unit_test(test_kill_while_publishing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
