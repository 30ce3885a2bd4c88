/* test_loader.c -- loading plugins with dlopen: ABI and trust checks,
 * option tables, option validation against the config, and the host API
 * seen from a real plugin (tests/plugins/testplug.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "instance.h"
#include "options.h"
#include "synth_plugin.h"
#include "testutil.h"

static char *plugin_path(const char *file)
{
    return tu_fmt("%s/tests/plugins/%s", tu_build(), file);
}

/* Each test plugin variant, the code the loader returns and a part of its
 * reason. */
static const struct {
    const char *file;
    int rc;
    const char *why;
} variants[] = {
    {"good.so", SYNTH_OK, NULL},
    {"small-struct.so", SYNTH_OK, NULL},
    {"abi-1.0.so", SYNTH_OK, NULL}, /* built against the frozen 1.0 header */
    {"abi-1.1.so", SYNTH_OK, NULL}, /* and the frozen 1.1 one */
    {"abi-major.so", SYNTH_EABI,
     "built for plugin ABI 2.2, but this host speaks ABI 1.2 (major version "
     "differs)"},
    {"abi-newer.so", SYNTH_EABI,
     "built for plugin ABI 1.99, but this host speaks ABI 1.2 (plugin is "
     "newer: upgrade synthhost)"},
    {"no-entry.so", SYNTH_ENOTFOUND, "no synth_plugin_init() entry point"},
    {"too-small.so", SYNTH_EABI, "descriptor is 16 bytes"},
    {"init-fails.so", SYNTH_EPLUGIN, "synth_plugin_init() failed"},
    {"bad-default.so", SYNTH_EINVAL,
     "option \"count\": default \"many\" is not a valid int"},
    {"bad-name.so", SYNTH_EINVAL, "bad plugin name \"Bad Name\""},
    {"bad-info.so", SYNTH_EINVAL,
     "plugin \"bad-info\": dataset_info is not a JSON object"},
};

static void test_variants(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        core_registry r;
        memset(&r, 0, sizeof r);
        char *path = plugin_path(variants[i].file);
        int rc = core_registry_add(&r, path);
        if (rc != variants[i].rc)
            fail_msg("%s: rc %d, want %d (%s)", variants[i].file, rc,
                     variants[i].rc, r.plugins[0].refused);
        assert_int_equal(r.n, 1);
        if (variants[i].why == NULL) {
            assert_null(r.plugins[0].refused);
            assert_non_null(r.plugins[0].dl);
        } else {
            assert_null(r.plugins[0].dl);
            if (strstr(r.plugins[0].refused, variants[i].why) == NULL)
                fail_msg("%s: \"%s\" lacks \"%s\"", variants[i].file,
                         r.plugins[0].refused, variants[i].why);
        }
        core_registry_free(&r);
        free(path);
    }
}

static char *copy_plugin(const char *dir, const char *name, mode_t mode)
{
    char *src = plugin_path("good.so");
    char *dst = tu_fmt("%s/%s", dir, name);
    char *cmd = tu_fmt("cp '%s' '%s'", src, dst);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(chmod(dst, mode), 0);
    free(cmd);
    free(src);
    return dst;
}

static void test_untrusted_files_refused(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *path = copy_plugin(dir, "open.so", 0666);
    core_registry r;
    memset(&r, 0, sizeof r);
    assert_int_equal(core_registry_add(&r, path), SYNTH_EIO);
    assert_non_null(strstr(r.plugins[0].refused, "writable by every user"));
    core_registry_free(&r);
    /* group-writable for a group that is not ours */
    if (geteuid() == 0 && chmod(path, 0664) == 0 &&
        chown(path, (uid_t)-1, 54321) == 0) {
        memset(&r, 0, sizeof r);
        assert_int_equal(core_registry_add(&r, path), SYNTH_EIO);
        assert_non_null(strstr(r.plugins[0].refused, "writable by group"));
        core_registry_free(&r);
    }
    /* a plugin dir anyone can write to is refused whole */
    assert_int_equal(chmod(dir, 0777), 0);
    core_strbuf why = {0};
    assert_int_equal(core_registry_load(&r, dir, 0, &why), SYNTH_EIO);
    assert_non_null(strstr(core_strbuf_str(&why), "writable by every user"));
    core_strbuf_free(&why);
    core_registry_free(&r);
    tu_rmrf(dir);
    free(path);
    free(dir);
}

static void test_scan_and_duplicate_names(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    assert_int_equal(chmod(dir, 0755), 0);
    char *a = copy_plugin(dir, "a.so", 0755);
    char *b = copy_plugin(dir, "b.so", 0755);
    char *txt = tu_fmt("%s/readme.txt", dir);
    tu_write(txt, "not a plugin");
    core_registry r;
    core_strbuf why = {0};
    assert_int_equal(core_registry_load(&r, dir, 0, &why), SYNTH_OK);
    assert_int_equal(r.n, 2); /* only *.so files, sorted */
    assert_null(r.plugins[0].refused);
    assert_non_null(strstr(r.plugins[1].refused,
                           "plugin name \"testplug\" is already taken"));
    assert_non_null(core_registry_find(&r, SYNTH_KIND_FORMATTER, "testplug"));
    assert_null(core_registry_find(&r, SYNTH_KIND_SCORER, "testplug"));
    core_registry_free(&r);
    core_strbuf_free(&why);
    tu_rmrf(dir);
    free(a);
    free(b);
    free(txt);
    free(dir);
}

/* ---- options -------------------------------------------------------------- */

typedef struct {
    char *dir;
    core_config cfg;
    core_registry reg;
    core_metrics counters;
} fixture;

/* Load one test plugin variant into a fresh fixture. */
static int fx_open(void **state, const char *file)
{
    fixture *fx = calloc(1, sizeof *fx);
    fx->dir = tu_tmpdir();
    char *path = plugin_path(file);
    assert_int_equal(core_registry_add(&fx->reg, path), SYNTH_OK);
    free(path);
    core_metrics_init(&fx->counters);
    *state = fx;
    return 0;
}

static int fx_setup(void **state) { return fx_open(state, "good.so"); }
static int fx_setup_frozen(void **state) { return fx_open(state, "abi-1.0.so"); }
static int fx_setup_small(void **state)
{
    return fx_open(state, "small-struct.so");
}

static int fx_teardown(void **state)
{
    fixture *fx = *state;
    core_config_free(&fx->cfg);
    core_registry_free(&fx->reg);
    core_metrics_free(&fx->counters);
    tu_rmrf(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* Load conf text; returns the instance of testplug, or NULL with the
 * errors in *err (owned). */
static core_instance *fx_instance(fixture *fx, const char *conf, char **err)
{
    char *path = tu_fmt("%s/t.conf", fx->dir);
    tu_write(path, conf);
    free(path);
    path = tu_fmt("%s/t.conf", fx->dir);
    core_config_free(&fx->cfg);
    tu_stderr_begin();
    core_instance *inst = NULL;
    if (core_config_load(&fx->cfg, path) == SYNTH_OK &&
        core_registry_check_config(&fx->reg, &fx->cfg) == SYNTH_OK &&
        core_instance_new(&fx->reg.plugins[0], &fx->cfg, &fx->counters,
                          &inst) != SYNTH_OK)
        inst = NULL;
    char *text = tu_stderr_end();
    if (err)
        *err = text;
    else
        free(text);
    free(path);
    return inst;
}

/* An instance with every option at its default. */
static core_instance *fx_default_instance(fixture *fx)
{
    core_config_free(&fx->cfg);
    core_config_defaults(&fx->cfg);
    core_instance *inst = NULL;
    assert_int_equal(core_instance_new(&fx->reg.plugins[0], &fx->cfg,
                                       &fx->counters, &inst),
                     SYNTH_OK);
    return inst;
}

/* Run one session through inst; returns the emitted record (owned). */
static json_t *fx_session(core_instance *inst)
{
    json_t *session = json_pack("{s:s, s:[{}, {}]}", "id", "cli:x", "turns");
    synth_ctx ctx;
    core_ctx_init(&ctx, inst, CORE_CALL_SESSION);
    assert_int_equal(core_instance_call(inst, &ctx, session), SYNTH_OK);
    assert_int_equal(ctx.nrecords, 1);
    json_t *rec = json_incref(ctx.records[0].json);
    assert_string_equal(ctx.records[0].format, "testplug");
    core_ctx_release(&ctx);
    json_decref(session);
    return rec;
}

static void test_option_defaults(void **state)
{
    fixture *fx = *state;
    core_instance *inst = fx_instance(fx, "formats = [\"testplug\"];\n", NULL);
    assert_non_null(inst);
    json_t *rec = fx_session(inst);
    char *diff = tu_json_mismatch(
        rec,
        "{\"flag\":false,\"count\":3,\"ratio\":0.5,\"label\":\"plain\","
        "\"names\":[\"a\"],\"shape\":null,\"wrong_type\":true,"
        "\"unknown\":true,\"label_set\":0,\"session\":\"cli:x\",\"turns\":2,"
        "\"score_refused\":true}");
    if (diff)
        fail_msg("record %s", diff);
    json_t *n = json_object_get(fx->counters.values, "testplug.sessions");
    assert_int_equal(json_integer_value(n), 1);
    json_decref(rec);
    core_instance_free(inst);
}

static void test_option_values(void **state)
{
    fixture *fx = *state;
    core_instance *inst = fx_instance(
        fx,
        "formats = [\"testplug\"];\n"
        "capture = { flag = true; count = 1; };\n"
        "plugins = { testplug = { count = 7; ratio = 2; label = \"L\";\n"
        "  names = [\"x\", \"y\"]; shape = { a = 1; b = (\"c\", 2); }; }; };\n",
        NULL);
    assert_non_null(inst);
    json_t *rec = fx_session(inst);
    /* capture routes to formatters; plugins.<name> wins over it */
    assert_true(json_is_true(json_object_get(rec, "flag")));
    assert_int_equal(json_integer_value(json_object_get(rec, "count")), 7);
    assert_true(json_real_value(json_object_get(rec, "ratio")) == 2.0);
    assert_string_equal(json_string_value(json_object_get(rec, "label")), "L");
    json_t *want = json_loads("{\"a\":1,\"b\":[\"c\",2]}", 0, NULL);
    assert_true(json_equal(json_object_get(rec, "shape"), want));
    assert_int_equal(json_array_size(json_object_get(rec, "names")), 2);
    assert_int_equal(json_integer_value(json_object_get(rec, "label_set")), 1);
    json_decref(want);
    json_decref(rec);
    core_instance_free(inst);
}

/* Option errors, as data: the config and what stderr must say. */
static const struct {
    const char *conf, *want;
} option_errors[] = {
    {"formats = [\"testplug\"];\nplugins = { testplug = {\n  count = \"x\"; "
     "}; };\n",
     ":3: option \"count\" of plugin \"testplug\" must be an integer, not a "
     "string"},
    {"formats = [\"testplug\"];\nplugins = { testplug = {\n  colour = 1; }; "
     "};\n",
     ":3: unknown option \"colour\" for plugin \"testplug\" (known: flag, "
     "count, ratio, label, names, shape, reject, fail_every)"},
    {"formats = [\"testplug\"];\nplugins = { testplug = { names = (\"a\", 1); "
     "}; };\n",
     ":2: option \"names\" of plugin \"testplug\" must be a list of strings"},
    {"formats = [\"testplug\"];\nplugins = { testplug = {\n\n  reject = "
     "\"no\"; }; };\n",
     ":4: plugin \"testplug\", option \"reject\": rejected: no"},
    {"formats = [\"testplug\"];\ncapture = {\n  flg = true; };\n",
     ":3: unknown capture option \"flg\"; did you mean \"flag\"?"},
    {"formats = [\"testplug\"];\nplugins = {\n  nosuch = { }; };\n",
     ":3: unknown plugin \"nosuch\" (known: testplug)"},
    {"formats = [\"testplug\"];\nfilters = {\n  contexts = [\"cli\"]; };\n",
     ":3: unknown filters option \"contexts\" (known: none)"},
};

static void test_option_errors(void **state)
{
    fixture *fx = *state;
    for (size_t i = 0; i < sizeof option_errors / sizeof option_errors[0];
         i++) {
        char *err = NULL;
        core_instance *inst = fx_instance(fx, option_errors[i].conf, &err);
        if (inst != NULL)
            fail_msg("config %zu accepted", i);
        if (strstr(err, option_errors[i].want) == NULL)
            fail_msg("config %zu: \"%s\" lacks \"%s\"", i, err,
                     option_errors[i].want);
        free(err);
    }
}

/* A plugin built against the frozen 1.0 header works, not only loads. */
static void test_frozen_1_0_plugin_works(void **state)
{
    fixture *fx = *state;
    core_instance *inst = fx_default_instance(fx);
    json_t *rec = fx_session(inst);
    assert_string_equal(json_string_value(json_object_get(rec, "session")),
                        "cli:x");
    assert_int_equal(json_integer_value(json_object_get(rec, "count")), 3);
    json_decref(rec);
    core_instance_free(inst);
}

/* small-struct.so ends its descriptor before `flush`, whose pointer would
 * abort: the host must treat it as absent and never call it. */
static void test_absent_fields_never_read(void **state)
{
    fixture *fx = *state;
    assert_null(fx->reg.plugins[0].desc.flush);
    assert_non_null(fx->reg.plugins[0].desc.session);
    core_instance *inst = fx_default_instance(fx);
    synth_ctx ctx;
    core_ctx_init(&ctx, inst, CORE_CALL_FLUSH);
    assert_int_equal(core_instance_call(inst, &ctx, NULL), SYNTH_OK);
    core_ctx_release(&ctx);
    core_instance_free(inst);
}

/* skip_session (ABI 1.2): a formatter's session() only, a snake_case
 * code, kept with its message for the pipeline to count and trace. */
static void test_skip_session_rules(void **state)
{
    fixture *fx = *state;
    core_instance *inst = fx_default_instance(fx);
    synth_ctx ctx;
    core_ctx_init(&ctx, inst, CORE_CALL_SESSION);
    assert_int_equal(core_host_api.skip_session(&ctx, "no_answer", "%d of %d",
                                                0, 2),
                     SYNTH_OK);
    assert_int_equal(core_host_api.skip_session(&ctx, "No Answer", "x"),
                     SYNTH_EINVAL);
    assert_int_equal(core_host_api.skip_session(&ctx, "", "x"), SYNTH_EINVAL);
    assert_int_equal(json_array_size(ctx.skips), 1);
    json_t *s = json_array_get(ctx.skips, 0);
    assert_string_equal(json_string_value(json_object_get(s, "code")),
                        "no_answer");
    assert_string_equal(json_string_value(json_object_get(s, "message")),
                        "0 of 2");
    core_ctx_release(&ctx);
    core_ctx_init(&ctx, inst, CORE_CALL_FLUSH);
    assert_int_equal(core_host_api.skip_session(&ctx, "no_answer", "x"),
                     SYNTH_ESTATE);
    assert_null(ctx.skips);
    core_ctx_release(&ctx);
    core_instance_free(inst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_variants),
        cmocka_unit_test(test_untrusted_files_refused),
        cmocka_unit_test(test_scan_and_duplicate_names),
        cmocka_unit_test_setup_teardown(test_absent_fields_never_read,
                                        fx_setup_small, fx_teardown),
        cmocka_unit_test_setup_teardown(test_frozen_1_0_plugin_works,
                                        fx_setup_frozen, fx_teardown),
        cmocka_unit_test_setup_teardown(test_option_defaults, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_option_values, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_option_errors, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_skip_session_rules, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
