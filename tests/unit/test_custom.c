/* test_custom.c -- the custom formatter's templates rendered on a
 * session that has every kind of value, through the real plugin loaded
 * with dlopen (the templates it refuses, with their lines, are tests as
 * data: tests/cases/custom-bad-*). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "instance.h"
#include "synth_plugin.h"
#include "testutil.h"

typedef struct {
    char *dir;
    core_registry reg;
    core_config cfg;
    core_metrics counters;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    fx->dir = tu_tmpdir();
    char *so = tu_fmt("%s/plugins/formatter-custom.so", tu_build());
    assert_int_equal(core_registry_add(&fx->reg, so), SYNTH_OK);
    free(so);
    core_metrics_init(&fx->counters);
    *state = fx;
    return 0;
}

static int teardown(void **state)
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

/* An instance for `plugin_body` (inside plugins.custom), or NULL with the
 * errors in *err. */
static core_instance *instance(fixture *fx, const char *plugin_body,
                               char **err)
{
    char *path = tu_fmt("%s/c.conf", fx->dir);
    char *text = tu_fmt("formats = [\"custom\"];\nplugins = { custom = {\n%s"
                        "}; };\n",
                        plugin_body);
    tu_write(path, text);
    core_config_free(&fx->cfg);
    core_instance *inst = NULL;
    tu_stderr_begin();
    if (core_config_load(&fx->cfg, path) != SYNTH_OK ||
        core_instance_new(&fx->reg.plugins[0], &fx->cfg, &fx->counters,
                          &inst) != SYNTH_OK)
        inst = NULL;
    char *e = tu_stderr_end();
    if (err)
        *err = e;
    else
        free(e);
    free(text);
    free(path);
    return inst;
}

/* The templates the config check refuses are tests/cases/custom-bad-*. */

/* A session of two turns: the first answered with an action, the second
 * unanswered. */
static json_t *session(void)
{
    return json_loads(
        "{\"id\":\"cli:ann\",\"type\":\"cli\",\"part\":0,\"start\":100,"
        "\"end\":190,\"turns\":["
        "{\"id\":\"r1\",\"start\":100,\"end\":150,\"steps\":2,"
        "\"input\":{\"id\":\"i1\",\"text\":\"hi\",\"user\":\"ann\"},"
        "\"thoughts\":[{\"id\":\"t1\",\"seq\":1,\"text\":\"think\"},"
        "{\"id\":\"t2\",\"seq\":3,\"text\":\"more\"}],"
        "\"actions\":[{\"id\":\"c1\",\"seq\":2,\"name\":\"calc\","
        "\"arguments\":{\"x\":1},\"status\":\"ok\",\"result\":2,"
        "\"timestamp\":120}],"
        "\"outputs\":[{\"id\":\"o1\",\"seq\":4,\"name\":\"text\","
        "\"text\":\"hello\",\"status\":\"final\",\"timestamp\":150}],"
        "\"events\":[],\"other\":[]},"
        "{\"id\":\"r2\",\"start\":180,\"end\":190,\"steps\":1,"
        "\"input\":{\"id\":\"i2\",\"text\":\"and?\"},\"thoughts\":[],"
        "\"actions\":[],\"outputs\":[],\"events\":[],\"other\":[]}]}",
        0, NULL);
}

static json_t *render(core_instance *inst)
{
    json_t *s = session();
    synth_ctx ctx;
    core_ctx_init(&ctx, inst, CORE_CALL_SESSION);
    assert_int_equal(core_instance_call(inst, &ctx, s), SYNTH_OK);
    json_t *out = json_array();
    for (size_t i = 0; i < ctx.nrecords; i++)
        json_array_append(out, ctx.records[i].json);
    core_ctx_release(&ctx);
    json_decref(s);
    return out;
}

static void test_render_turns(void **state)
{
    fixture *fx = *state;
    core_instance *inst = instance(
        fx,
        "template = {\n"
        "  q = \"Q: $input.text.\";\n"
        "  a = \"$output.text\";\n"
        "  who = \"${input.user}!\";\n"
        "  cost = \"$$5 and $5\";\n"
        "  calls = \"$actions\";\n"
        "  why = \"$thoughts.text\";\n"
        "  took = \"$turn.duration\";\n"
        "  ok = \"$turn.success\";\n"
        "  deep = { ctx = \"$session.context\"; n = (\"$turn.steps\", 3); };\n"
        "};\n",
        NULL);
    assert_non_null(inst);
    json_t *recs = render(inst);
    /* the unanswered turn has no $output.text: skipped */
    assert_int_equal(json_array_size(recs), 1);
    char *diff = tu_json_mismatch(
        json_array_get(recs, 0),
        "{\"q\":\"Q: hi.\",\"a\":\"hello\",\"who\":\"ann!\","
        "\"cost\":\"$5 and $5\",\"calls\":[{\"name\":\"calc\",\"arguments\":"
        "{\"x\":1},\"result\":2,\"timestamp\":120,\"success\":true}],"
        "\"why\":\"think\\nmore\",\"took\":50,\"ok\":true,"
        "\"deep\":{\"ctx\":\"Context: cli, ID: cli:ann\",\"n\":[2,3]}}");
    if (diff)
        fail_msg("%s", diff);
    json_decref(recs);
    core_instance_free(inst);

    /* allow_missing: the unanswered turn too, with null */
    inst = instance(fx,
                    "allow_missing = true;\n"
                    "template = { q = \"$input.text\"; a = \"$output.text\";"
                    " s = \"<${output.text}>\"; };\n",
                    NULL);
    recs = render(inst);
    assert_int_equal(json_array_size(recs), 2);
    json_t *second = json_array_get(recs, 1);
    assert_string_equal(json_string_value(json_object_get(second, "q")),
                        "and?");
    assert_true(json_is_null(json_object_get(second, "a")));
    assert_string_equal(json_string_value(json_object_get(second, "s")), "<>");
    json_decref(recs);
    core_instance_free(inst);
}

static void test_render_session(void **state)
{
    fixture *fx = *state;
    core_instance *inst = instance(
        fx,
        "unit = \"session\";\n"
        "template = { chat = \"$messages\"; pairs = \"$turns\"; "
        "tools = \"$actions.names\"; took = \"$session.duration\"; "
        "ok = \"$session.success\"; };\n",
        NULL);
    assert_non_null(inst);
    json_t *recs = render(inst);
    assert_int_equal(json_array_size(recs), 1);
    char *diff = tu_json_mismatch(
        json_array_get(recs, 0),
        "{\"chat\":[{\"role\":\"user\",\"content\":\"hi\"},"
        "{\"role\":\"assistant\",\"content\":\"hello\"}],"
        "\"pairs\":[{\"input\":\"hi\",\"output\":\"hello\"}],"
        "\"tools\":[\"calc\"],\"took\":90,\"ok\":false}");
    if (diff)
        fail_msg("%s", diff);
    json_decref(recs);
    core_instance_free(inst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_render_turns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_session, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
