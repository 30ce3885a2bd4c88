/*
 * cases.c -- tests as data, as jq.test does: every folder of tests/cases/
 * is one test, run on the real binary.
 *
 *   synth.conf       run as `synthhost -c synth.conf -o OUT`; its input is
 *                    a real log (paths relative to the case folder)
 *   expect/          every file the run publishes, by format, exactly:
 *                    <format>.jsonl and, with sidecar = true,
 *                    <format>.jsonl.meta; an output file with no
 *                    expectation fails the case too
 *   stderr           (optional) lines that must each appear on stderr
 *   exit             (optional) the exit status; default 0; with 2 (a
 *                    config error) not even the output directory may exist
 *
 * `make test UPDATE=1` (SYNTH_UPDATE=1) writes what each run published
 * into expect/ instead of comparing: review the change with git diff.
 * The exit status and stderr are still checked then.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

/* The expectation name of a published file, "<format>.jsonl[.meta]",
 * owned; NULL for anything else (hidden state files). */
static char *expect_name(const char *file)
{
    if (file[0] == '.')
        return NULL;
    /* <format>-YYYYMMDDTHHMMSSZ[-N].jsonl[.meta] */
    for (const char *p = strchr(file, '-'); p; p = strchr(p + 1, '-')) {
        int stamp = strlen(p) > 17 && p[9] == 'T' && p[16] == 'Z';
        for (int i = 1; stamp && i <= 15; i++)
            if (i != 9 && !isdigit((unsigned char)p[i]))
                stamp = 0;
        if (!stamp)
            continue;
        const char *ext = strstr(p, ".jsonl");
        return ext ? tu_fmt("%.*s%s", (int)(p - file), file, ext) : NULL;
    }
    return NULL;
}

/* Compare (or, updating, write) every file the run published. */
static void check_outputs(const char *name, const char *cdir, const char *out,
                          int update)
{
    char *expect = tu_fmt("%s/expect", cdir);
    if (update) {
        char *cmd = tu_fmt("rm -rf '%s' && mkdir -p '%s'", expect, expect);
        assert_int_equal(system(cmd), 0);
        free(cmd);
    }
    int matched = 0;
    DIR *d = opendir(out);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char *key = expect_name(e->d_name);
        if (key == NULL)
            continue;
        char *got_path = tu_fmt("%s/%s", out, e->d_name);
        char *want_path = tu_fmt("%s/%s", expect, key);
        char *got = tu_read(got_path);
        if (update) {
            tu_write(want_path, got);
        } else {
            char *want = tu_read(want_path);
            if (want == NULL)
                fail_msg("case %s: %s was published, expect/%s is missing "
                         "(make test UPDATE=1 writes it)",
                         name, e->d_name, key);
            if (strcmp(got, want) != 0)
                fail_msg("case %s: %s differs.\n--- want\n%s--- got\n%s", name,
                         key, want, got);
            free(want);
        }
        matched++;
        free(got);
        free(want_path);
        free(got_path);
        free(key);
    }
    if (d)
        closedir(d);
    /* and nothing expected is missing */
    d = opendir(expect);
    int expected = 0;
    while (d && (e = readdir(d)) != NULL)
        expected += e->d_name[0] != '.';
    if (d)
        closedir(d);
    if (expected != matched)
        fail_msg("case %s: %d files expected, %d published", name, expected,
                 matched);
    free(expect);
}

static void run_case(void **state)
{
    const char *name = *state;
    int update = getenv("SYNTH_UPDATE") && strcmp(getenv("SYNTH_UPDATE"), "1") == 0;
    char *cdir = tu_fmt("%s/tests/cases/%s", tu_root(), name);
    char *conf = tu_fmt("%s/synth.conf", cdir);
    char *dir = tu_tmpdir(), *out = tu_fmt("%s/out", dir);
    char *host = tu_fmt("%s/synthhost", tu_build());
    char *argv[] = {host, "-c", conf, "-o", out, NULL};
    char *err = NULL;
    int rc = tu_run(argv, NULL, NULL, &err);
    char *exit_path = tu_fmt("%s/exit", cdir);
    char *want_exit = tu_read(exit_path);
    int want = want_exit ? atoi(want_exit) : 0;
    if (rc != want)
        fail_msg("case %s: exit %d, want %d: %s", name, rc, want, err);
    char *stderr_path = tu_fmt("%s/stderr", cdir);
    char *want_err = tu_read(stderr_path);
    char *save = NULL;
    for (char *l = want_err ? strtok_r(want_err, "\n", &save) : NULL; l;
         l = strtok_r(NULL, "\n", &save))
        if (strstr(err, l) == NULL)
            fail_msg("case %s: stderr lacks \"%s\":\n%s", name, l, err);
    struct stat st;
    if (want == 2 && stat(out, &st) == 0)
        fail_msg("case %s: a config error, yet %s was made", name, out);
    check_outputs(name, cdir, out, update);
    free(want_err);
    free(stderr_path);
    free(want_exit);
    free(exit_path);
    free(err);
    free(host);
    tu_rmrf(dir);
    free(dir);
    free(out);
    free(conf);
    free(cdir);
}

int main(void)
{
    char *dir = tu_fmt("%s/tests/cases", tu_root());
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        fprintf(stderr, "cases: cannot read %s\n", dir);
        return 1;
    }
    struct CMUnitTest *tests = calloc((size_t)n + 1, sizeof *tests);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (names[i]->d_name[0] != '.') {
            /* one test per case, named after it */
            tests[k].name = names[i]->d_name;
            tests[k].test_func = run_case;
            tests[k].initial_state = names[i]->d_name;
            k++;
        }
    }
    int rc = _cmocka_run_group_tests("cases", tests, k, NULL, NULL);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(tests);
    free(dir);
    return rc;
}
