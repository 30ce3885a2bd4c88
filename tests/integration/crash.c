/*
 * crash.c -- exactly once across kill -9.  A generated log is run
 * cleanly once for reference; then, 20 times over, synthhost kills itself
 * with SIGKILL after reading a chosen line (SYNTH_TEST_CRASH=line:N, the
 * lines drawn from a seeded generator, so every run dies where it means
 * to whatever the machine's load) and is started again with the same
 * arguments: the output directory must end up with one file per format
 * holding exactly the reference's records, and no leftovers.  More runs
 * are killed in the middle of publishing (SYNTH_TEST_CRASH=publish:N):
 * the files linked so far are published, the rest still temporary, and
 * the next run rolls the publish forward.
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
static unsigned long long log_lines;

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
    if (tu_wait(launch(ref, NULL)) != 0)
        abort();
    char *lines = tu_read(log_path);
    for (const char *c = lines; *c; c++)
        log_lines += *c == '\n';
    free(lines);
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

static void test_kill_at_chosen_lines(void **state)
{
    (void)state;
    unsigned long long seed = 42;
    for (int i = 0; i < ITERATIONS; i++) {
        char *out = tu_fmt("%s/run-%d", dir, i);
        /* a multiple of 1024 lines (where the run checks), anywhere in
         * the log */
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        unsigned long long line = ((seed >> 33) % (log_lines / 1024) + 1) * 1024;
        char *point = tu_fmt("line:%llu", line);
        int rc = tu_wait(launch(out, point));
        if (rc != 128 + SIGKILL)
            fail_msg("iteration %d (seed 42, %s): exit %d, not killed", i,
                     point, rc);
        /* the same command again, to the end */
        rc = tu_wait(launch(out, NULL));
        if (rc != 0)
            fail_msg("iteration %d (seed 42, %s): the rerun exited %d", i,
                     point, rc);
        check_exactly_once(out, i);
        /* and once more: nothing is written twice */
        assert_int_equal(tu_wait(launch(out, NULL)), 0);
        check_exactly_once(out, i);
        tu_rmrf(out);
        free(out);
        free(point);
    }
}

/* Entries of out whose names end in suffix, hidden ones (temporary
 * files) or not. */
static int count_named(const char *out, int hidden, const char *suffix)
{
    DIR *d = opendir(out);
    struct dirent *e;
    int n = 0;
    size_t sl = strlen(suffix);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if ((e->d_name[0] == '.') == hidden && l > sl &&
            strcmp(e->d_name + l - sl, suffix) == 0)
            n++;
    }
    closedir(d);
    return n;
}

static void test_kill_while_publishing(void **state)
{
    (void)state;
    static const int points[] = {1, 4, 5};
    for (int i = 0; i < 3; i++) {
        char *out = tu_fmt("%s/publish-%d", dir, i);
        char *point = tu_fmt("publish:%d", points[i]);
        assert_int_equal(tu_wait(launch(out, point)), 128 + SIGKILL);
        free(point);
        /* the first N formats are published (with their sidecars), the
         * other six less N are still temporary */
        assert_int_equal(count_named(out, 0, ".jsonl"), points[i]);
        assert_int_equal(count_named(out, 0, ".jsonl.meta"), points[i]);
        assert_int_equal(count_named(out, 1, ".tmp"), 2 * (6 - points[i]));
        assert_int_equal(tu_wait(launch(out, NULL)), 0);
        check_exactly_once(out, 100 + i);
        tu_rmrf(out);
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_at_chosen_lines),
        cmocka_unit_test(test_kill_while_publishing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
