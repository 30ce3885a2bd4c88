/*
 * install.c -- the SDK as a third party lives it.  `make test` installs
 * into a scratch DESTDIR (SYNTH_DESTDIR, PREFIX SYNTH_PREFIX) and runs
 * this: every installed file is there; the SDK examples, copied from the
 * installed share/ directory, build out of tree with nothing but
 * pkg-config and the installed header; the installed synthhost loads them
 * from a plugin dir and their records, drops and scores come out; then
 * `make uninstall` removes it all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

static const char *destdir(void) { return getenv("SYNTH_DESTDIR"); }
static const char *prefix(void) { return getenv("SYNTH_PREFIX"); }

/* <destdir><prefix>/<rel>, owned. */
static char *installed(const char *rel)
{
    return tu_fmt("%s%s/%s", destdir(), prefix(), rel);
}

static void must_exist(const char *rel)
{
    char *p = installed(rel);
    struct stat st;
    if (stat(p, &st) != 0)
        fail_msg("not installed: %s", p);
    free(p);
}

static void test_installed_files(void **state)
{
    (void)state;
    static const char *const files[] = {
        "bin/synthhost",
        "lib/synthhost/plugins/formatter-instruction-tuning.so",
        "lib/synthhost/plugins/formatter-conversation.so",
        "include/synthhost/synth_plugin.h",
        "include/synthhost/synth_session.h",
        "include/synthhost/synth_quality.h",
        "include/synthhost/synth_hash.h",
        "include/synthhost/synth_pii.h",
        "include/synthhost/synth_options.h",
        "lib/pkgconfig/synth-plugin.pc",
        "share/synthhost/conf/synth.conf",
        "share/synthhost/examples/agent-log.jsonl",
        "share/synthhost/README.md",
        "share/synthhost/examples/formatter-chatml/chatml.c",
        "share/synthhost/examples/formatter-chatml/Makefile",
        "share/synthhost/examples/filter-keywords/Makefile",
        "share/synthhost/examples/scorer-length/Makefile",
        "share/man/man1/synthhost.1",
        "share/man/man3/synth_plugin.3",
        NULL};
    for (size_t i = 0; files[i]; i++)
        must_exist(files[i]);
    char *pc = installed("lib/pkgconfig/synth-plugin.pc");
    char *text = tu_read(pc);
    char *want = tu_fmt("prefix=%s\n", prefix());
    assert_non_null(strstr(text, want));
    assert_non_null(strstr(text, "Version: 0.1.0"));
    /* what the optional helpers need comes with the flags */
    assert_non_null(strstr(text, "Requires: jansson libpcre2-8\n"));
    assert_non_null(strstr(text, "-pthread"));
    free(want);
    free(text);
    free(pc);
}

static char *work; /* the third party's directory */

/* Build one example with its own Makefile against the installed SDK. */
static void build_example(const char *name)
{
    char *src = installed("share/synthhost/examples");
    char *cmd = tu_fmt(
        "cp -r '%s/%s' '%s/' && "
        "PKG_CONFIG_PATH='%s%s/lib/pkgconfig' PKG_CONFIG_SYSROOT_DIR='%s' "
        "make -s -C '%s/%s' >'%s/%s.log' 2>&1",
        src, name, work, destdir(), prefix(), destdir(), work, name, work,
        name);
    if (system(cmd) != 0) {
        char *log = tu_fmt("%s/%s.log", work, name);
        char *out = tu_read(log);
        fail_msg("building %s failed:\n%s", name, out ? out : "");
    }
    free(cmd);
    free(src);
}

static void test_examples_out_of_tree(void **state)
{
    (void)state;
    work = tu_tmpdir();
    build_example("formatter-chatml");
    build_example("filter-keywords");
    build_example("scorer-length");
    /* a plugin dir of our own: the bundled plugins plus ours */
    char *plugins = tu_fmt("%s/plugins", work);
    char *bundled = installed("lib/synthhost/plugins");
    char *cmd = tu_fmt("mkdir -m 755 '%s' && cp '%s'/*.so '%s/' && "
                       "cp '%s'/*-*/*.so '%s/'",
                       plugins, bundled, plugins, work, plugins);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char *log = installed("share/synthhost/examples/agent-log.jsonl");
    char *conf = tu_fmt("%s/mine.conf", work);
    char *text = tu_fmt(
        "input = \"%s\";\nplugin_dir = \"plugins\";\n"
        "formats = [\"chatml\", \"instruction-tuning\"];\n"
        "filters = { keywords = [\"weather\", \"temperature\"]; };\n"
        "plugins = { chatml = { system = \"Be brief.\"; };\n"
        "            length = { target = 400; minimum = 150; }; };\n"
        "sidecar = true;\n",
        log);
    tu_write(conf, text);
    char *out = tu_fmt("%s/out", work);
    char *host = installed("bin/synthhost");
    char *argv[] = {host, "-c", conf, "-o", out, NULL};
    char *err = NULL;
    int rc = tu_run(argv, NULL, NULL, &err);
    if (rc != 0)
        fail_msg("exit %d: %s", rc, err);
    assert_non_null(strstr(err, "keywords: no keyword in any input"));

    char *path = tu_find(out, "chatml-", ".jsonl");
    assert_non_null(path);
    json_t *docs = tu_load_jsonl(path);
    assert_true(json_array_size(docs) > 0);
    size_t i;
    json_t *d;
    json_array_foreach(docs, i, d) {
        const char *t = json_string_value(json_object_get(d, "text"));
        assert_non_null(t);
        assert_int_equal(strncmp(t, "<|im_start|>system\nBe brief.<|im_end|>\n"
                                    "<|im_start|>user\n",
                                 54),
                         0);
        assert_non_null(strstr(t, "<|im_start|>assistant\n"));
        /* the keyword filter let only weather sessions through */
        if (!strstr(t, "weather") && !strstr(t, "temperature") &&
            !strstr(t, "Weather") && !strstr(t, "Temperature"))
            fail_msg("document %zu mentions no keyword: %s", i, t);
    }
    /* the scorer scored every record of every format */
    char *meta_path = tu_fmt("%s.meta", path);
    json_t *meta = tu_load_jsonl(meta_path);
    assert_int_equal(json_array_size(meta), json_array_size(docs));
    json_t *m;
    json_array_foreach(meta, i, m) {
        json_t *score = json_object_get(m, "score");
        assert_true(json_is_real(score));
        assert_true(json_real_value(score) >= 0 && json_real_value(score) <= 1);
    }
    char *it_path = tu_find(out, "instruction-tuning-", ".jsonl");
    char *it_meta_path = tu_fmt("%s.meta", it_path);
    json_t *it_meta = tu_load_jsonl(it_meta_path);
    size_t short_seen = 0, pii_seen = 0;
    json_array_foreach(it_meta, i, m) {
        assert_true(json_is_real(json_object_get(m, "score")));
        size_t k;
        json_t *issue;
        json_array_foreach(json_object_get(m, "issues"), k, issue) {
            /* the bundled scorers raise theirs; ours says short_record,
             * and pii_residual through the installed synth_quality.h */
            if (strcmp(json_string_value(json_object_get(issue, "by")),
                       "length") != 0)
                continue;
            const char *code =
                json_string_value(json_object_get(issue, "code"));
            if (strcmp(code, "short_record") == 0)
                short_seen++;
            else if (strcmp(code, "pii_residual") == 0)
                pii_seen++;
            else
                fail_msg("length raised %s", code);
        }
    }
    /* some records are under 150 characters, not all */
    assert_true(short_seen > 0);
    assert_true(short_seen < json_array_size(it_meta));
    /* the example log holds e-mails and phone numbers, unredacted here */
    assert_true(pii_seen > 0);
    json_decref(it_meta);
    json_decref(meta);
    json_decref(docs);
    free(it_meta_path);
    free(it_path);
    free(meta_path);
    free(path);
    free(err);
    free(host);
    free(out);
    free(text);
    free(conf);
    free(log);
    free(bundled);
    free(plugins);
    tu_rmrf(work);
    free(work);
}

static void test_plugins_listing(void **state)
{
    (void)state;
    char *host = installed("bin/synthhost");
    char *argv[] = {host, "plugins", NULL};
    char *out = NULL;
    assert_int_equal(tu_run(argv, NULL, &out, NULL), 0);
    /* the installed binary finds ../lib/synthhost/plugins by itself */
    char *dir = installed("lib/synthhost/plugins");
    assert_non_null(strstr(out, dir));
    assert_non_null(strstr(out, "instruction-tuning  (formatter 1.0.0, ABI 1.2)"));
    free(dir);
    free(out);
    free(host);
}

static void test_uninstall(void **state)
{
    (void)state;
    char *cmd = tu_fmt("make -s -C '%s' uninstall DESTDIR='%s' PREFIX='%s' "
                       ">/dev/null",
                       tu_root(), destdir(), prefix());
    assert_int_equal(system(cmd), 0);
    free(cmd);
    static const char *const gone[] = {
        "bin/synthhost", "lib/synthhost", "include/synthhost",
        "lib/pkgconfig/synth-plugin.pc", "share/synthhost",
        "share/man/man1/synthhost.1", NULL};
    for (size_t i = 0; gone[i]; i++) {
        char *p = installed(gone[i]);
        struct stat st;
        if (stat(p, &st) == 0)
            fail_msg("still there after uninstall: %s", p);
        free(p);
    }
}

int main(void)
{
    if (destdir() == NULL || prefix() == NULL) {
        fprintf(stderr, "install: run me from `make test` (needs "
                        "SYNTH_DESTDIR and SYNTH_PREFIX)\n");
        return 2;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_installed_files),
        cmocka_unit_test(test_plugins_listing),
        cmocka_unit_test(test_examples_out_of_tree),
        cmocka_unit_test(test_uninstall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
