/* test_config.c -- synth.conf validation: every error names file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "synth_plugin.h"
#include "testutil.h"

/* Bad configs, as data: the text, and what stderr must contain (":N:" is
 * the line).  Every one must fail to load. */
static const struct {
    const char *conf, *want;
} bad[] = {
    {"formats = [\"a\"];\nbogus = 1;\n", ":2: unknown key \"bogus\""},
    {"formats = [\"a\"];\nformat = [\"b\"];\n",
     ":2: unknown key \"format\"; did you mean \"formats\"?"},
    {"formats = [\"a\"];\n\nbatch_size = \"x\";\n",
     ":3: \"batch_size\" must be an integer, not a string"},
    {"formats = [\"a\"];\nbatch_size = 0;\n",
     ":2: \"batch_size\" must be at least 1, not 0"},
    {"formats = [\"a\"];\nenabled = 1;\n",
     ":2: \"enabled\" must be true or false, not an integer"},
    {"formats = [];\n", ":1: \"formats\" is empty"},
    {"enabled = true;\n", "no \"formats\""},
    {"formats = [\"a\"];\ninput = (\"x.jsonl\",\n  3);\n",
     ":3: \"input\" must hold strings only"},
    {"formats = [\"a\"];\nsession = { idle_gap = 5; };\n",
     ":2: unknown key \"idle_gap\" in session; did you mean \"idle_gap_ms\"?"},
    {"formats = [\"a\"];\nsession = { max_open = -1; };\n",
     ":2: \"max_open\" must be at least 0"},
    {"formats = [\"a\"];\nlisten = 5;\n",
     ":2: \"listen\" must be a string, not an integer"},
    {"formats = [\"a\"];\nmode = \"fast\";\n", ":2: unknown mode \"fast\""},
    {"formats = [\"a\"];\nfilters = 3;\n",
     ":2: \"filters\" must be a group { ... }"},
    {"formats = [\"a\"];\noutput_dir = ;\n", ":2: syntax error"},
};

static void test_bad_configs(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *path = tu_fmt("%s/synth.conf", dir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_write(path, bad[i].conf);
        core_config c;
        tu_stderr_begin();
        int rc = core_config_load(&c, path);
        char *err = tu_stderr_end();
        core_config_free(&c);
        if (rc != SYNTH_ECONFIG)
            fail_msg("config %zu loaded: %s", i, bad[i].conf);
        if (strstr(err, bad[i].want) == NULL || strstr(err, path) == NULL)
            fail_msg("config %zu: stderr \"%s\" lacks \"%s\" or the path", i,
                     err, bad[i].want);
        if (strncmp(err, "synthhost: error: ", 18) != 0)
            fail_msg("config %zu: not an error line: %s", i, err);
        free(err);
    }
    tu_rmrf(dir);
    free(path);
    free(dir);
}

static void test_several_errors_reported(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *path = tu_fmt("%s/s.conf", dir);
    tu_write(path, "formats = [\"a\"];\nbogus = 1;\nbatch_size = true;\n");
    core_config c;
    tu_stderr_begin();
    assert_int_equal(core_config_load(&c, path), SYNTH_ECONFIG);
    char *err = tu_stderr_end();
    assert_int_equal(c.errors, 2);
    assert_non_null(strstr(err, ":2: unknown key"));
    assert_non_null(strstr(err, ":3: \"batch_size\""));
    free(err);
    core_config_free(&c);
    tu_rmrf(dir);
    free(path);
    free(dir);
}

static void test_good_config(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *path = tu_fmt("%s/good.conf", dir);
    tu_write(path, "enabled = false;\ninput = [\"logs/a.jsonl\", \"/abs/b\", "
                   "\"-\"];\noutput_dir = \"out\";\nformats = [\"x\", \"y\"];\n"
                   "batch_size = 7;\nsidecar = true;\nmax_line_bytes = 4096;\n"
                   "session = { idle_gap_ms = 5; max_turns = 2; max_bytes = 9;"
                   " max_open = 3; };\n"
                   "capture = { conversations = false; };\n");
    core_config c;
    assert_int_equal(core_config_load(&c, path), SYNTH_OK);
    assert_int_equal(c.enabled, 0);
    assert_int_equal(c.ninputs, 3);
    char *want = tu_fmt("%s/logs/a.jsonl", dir);
    assert_string_equal(c.inputs[0], want); /* relative to the config */
    free(want);
    assert_string_equal(c.inputs[1], "/abs/b");
    assert_string_equal(c.inputs[2], "-");
    want = tu_fmt("%s/out", dir);
    assert_string_equal(c.output_dir, want);
    free(want);
    assert_null(c.plugin_dir);
    assert_int_equal(c.nformats, 2);
    assert_string_equal(c.formats[1], "y");
    assert_int_equal(c.batch_size, 7);
    assert_int_equal(c.sidecar, 1);
    assert_int_equal(c.max_line_bytes, 4096);
    assert_int_equal(c.limits.idle_gap_ms, 5);
    assert_int_equal(c.limits.max_turns, 2);
    assert_int_equal(c.limits.max_bytes, 9);
    assert_int_equal(c.limits.max_open, 3);
    assert_non_null(core_config_section(&c, "capture"));
    core_config_free(&c);
    tu_rmrf(dir);
    free(path);
    free(dir);
}

static void test_missing_file(void **state)
{
    (void)state;
    core_config c;
    tu_stderr_begin();
    assert_int_equal(core_config_load(&c, "/nonexistent/synth.conf"),
                     SYNTH_ECONFIG);
    char *err = tu_stderr_end();
    assert_non_null(strstr(err, "/nonexistent/synth.conf: cannot read"));
    free(err);
    core_config_free(&c);
}

static void test_suggest(void **state)
{
    (void)state;
    static const char *const names[] = {"instruction-tuning", "conversation",
                                        NULL};
    assert_string_equal(core_config_suggest("instrction-tuning", names),
                        "instruction-tuning");
    assert_string_equal(core_config_suggest("conversatoin", names),
                        "conversation");
    assert_null(core_config_suggest("grpo", names));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_several_errors_reported),
        cmocka_unit_test(test_good_config),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_suggest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
