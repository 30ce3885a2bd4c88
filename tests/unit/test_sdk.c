/* test_sdk.c -- the SDK's header-only helpers on their own: the output
 * that answers a turn (synth_session.h), the options filled into a
 * struct (synth_options.h, through a real plugin's option table and the
 * host's getters), and the session's redaction tally (synth_pii.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "synth_chat.h"
#include "synth_options.h"
#include "synth_pii.h"
#include "synth_session.h"
#include "testutil.h"

/* A turn of the session model with outputs (text, status) in order. */
static json_t *turn_with(const char *const *outputs, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i += 2)
        json_array_append_new(list, json_pack("{s:s, s:s}", "text",
                                              outputs[i], "status",
                                              outputs[i + 1]));
    return json_pack("{s:o}", "outputs", list);
}

/* The answer of a turn is its last final, non-blank output: an agent that
 * says "On it" and then answers is paired with the answer. */
static void test_final_output_is_the_last(void **state)
{
    (void)state;
    static const char *const two[] = {"On it, give me a sec.", "final",
                                      "It is 11 degrees in Berlin.", "final"};
    json_t *t = turn_with(two, 4);
    assert_string_equal(synth_str(synth_turn_final_output(t), "text"),
                        "It is 11 degrees in Berlin.");
    json_decref(t);
    static const char *const rejected_last[] = {"Here you go.", "final",
                                                "{bad", "rejected",
                                                "   ", "final"};
    t = turn_with(rejected_last, 6);
    assert_string_equal(synth_str(synth_turn_final_output(t), "text"),
                        "Here you go.");
    json_decref(t);
    static const char *const none[] = {"It is 11", "partial"};
    t = turn_with(none, 2);
    assert_null(synth_turn_final_output(t));
    json_decref(t);
}

/* synth_pii_tally adds to the session's "redacted", creating it. */
static void test_tally(void **state)
{
    (void)state;
    json_t *s = json_object();
    synth_pii_tally(s, "email", 2);
    synth_pii_tally(s, "email", 3);
    synth_pii_tally(s, "user", 1);
    json_t *want = json_pack("{s:{s:i, s:i}}", "redacted", "email", 5, "user", 1);
    assert_true(json_equal(s, want));
    json_decref(want);
    json_decref(s);
}

/* A fake host whose getters answer from a JSON object of values, so
 * synth_options_fill is tested on what it reads and where it puts it. */
static json_t *values;
static int get(const char *name, int type, json_t **v)
{
    (void)type;
    *v = json_object_get(values, name);
    return *v ? SYNTH_OK : SYNTH_ENOTFOUND;
}
static int opt_bool(synth_ctx *c, const char *n, int *o)
{ (void)c; json_t *v; int rc = get(n, 0, &v); if (!rc) *o = json_is_true(v); return rc; }
static int opt_int(synth_ctx *c, const char *n, long long *o)
{ (void)c; json_t *v; int rc = get(n, 0, &v); if (!rc) *o = json_integer_value(v); return rc; }
static int opt_float(synth_ctx *c, const char *n, double *o)
{ (void)c; json_t *v; int rc = get(n, 0, &v); if (!rc) *o = json_number_value(v); return rc; }
static int opt_string(synth_ctx *c, const char *n, const char **o)
{ (void)c; json_t *v; int rc = get(n, 0, &v); if (!rc) *o = json_string_value(v); return rc; }
static int opt_json(synth_ctx *c, const char *n, json_t **o)
{ (void)c; json_t *v; int rc = get(n, 0, &v); if (!rc) *o = v; return rc; }
static int error(synth_ctx *c, int code, const char *fmt, ...)
{ (void)c; (void)fmt; return code; }

typedef struct {
    int flag;
    long long count;
    double ratio;
    const char *name;
    json_t *list;
    const char *unset;
} cfg_t;

static void test_options_fill(void **state)
{
    (void)state;
    static const synth_option table[] = {
        {"flag", SYNTH_OPT_BOOL, 0, "false", ""},
        {"count", SYNTH_OPT_INT, 0, "1", ""},
        {"ratio", SYNTH_OPT_FLOAT, 0, "0.5", ""},
        {"name", SYNTH_OPT_STRING, 0, "x", ""},
        {"list", SYNTH_OPT_LIST, 0, "[]", ""},
        {"unset", SYNTH_OPT_STRING, 0, NULL, ""},
        {NULL, 0, 0, NULL, NULL}};
    static const synth_option_field fields[] = {
        SYNTH_FIELD(cfg_t, flag, "flag"),   SYNTH_FIELD(cfg_t, count, "count"),
        SYNTH_FIELD(cfg_t, ratio, "ratio"), SYNTH_FIELD(cfg_t, name, "name"),
        SYNTH_FIELD(cfg_t, list, "list"),   SYNTH_FIELD(cfg_t, unset, "unset"),
        SYNTH_FIELD_END};
    synth_host_api host = {.opt_bool = opt_bool, .opt_int = opt_int,
                           .opt_float = opt_float, .opt_string = opt_string,
                           .opt_json = opt_json, .error = error};
    values = json_pack("{s:b, s:i, s:f, s:s, s:[s]}", "flag", 1, "count", 42,
                       "ratio", 0.25, "name", "grpo", "list", "a");
    cfg_t c = {.unset = "kept"};
    assert_int_equal(synth_options_fill(&host, NULL, table, fields, &c),
                     SYNTH_OK);
    assert_int_equal(c.flag, 1);
    assert_int_equal(c.count, 42);
    assert_true(c.ratio == 0.25);
    assert_string_equal(c.name, "grpo");
    assert_string_equal(json_string_value(json_array_get(c.list, 0)), "a");
    assert_string_equal(c.unset, "kept"); /* unset, no default: untouched */
    /* a field naming no option of the table is the plugin's bug */
    static const synth_option_field typo[] = {SYNTH_FIELD(cfg_t, count, "cuont"),
                                              SYNTH_FIELD_END};
    assert_int_equal(synth_options_fill(&host, NULL, table, typo, &c),
                     SYNTH_ENOTFOUND);
    json_decref(values);
}

/* A turn of the session model with these actions (a JSON array). */
static json_t *turn_acting(const char *actions)
{
    json_t *t = json_pack("{s:s, s:{s:s}, s:o, s:[{s:s, s:s}]}", "id", "r1",
                          "input", "text", "weather in Rome and Oslo?",
                          "actions", json_loads(actions, 0, NULL), "outputs",
                          "text", "Rome 20, Oslo 2.", "status", "final");
    assert_non_null(json_object_get(t, "actions"));
    return t;
}

/* The chat form of a turn: parallel calls share a message, each call is
 * answered in order, a failed call shows its error, a model-fault call
 * goes into a message of its own, an invented tool and a pending call are
 * left out, ids count through the record. */
static void test_chat_turn(void **state)
{
    (void)state;
    json_t *t = turn_acting(
        "[{\"step\": 1, \"name\": \"get_weather\", \"status\": \"ok\","
        "  \"arguments\": {\"city\": \"Rome\"}, \"result\": {\"tempC\": 20}},"
        " {\"step\": 1, \"name\": \"get_weather\", \"status\": \"error\","
        "  \"arguments\": {\"city\": \"Oslo\"},"
        "  \"error\": {\"name\": \"TimeoutError\", \"message\": \"slow\"}},"
        " {\"step\": 1, \"name\": \"get_weather\", \"status\": \"error\","
        "  \"arguments\": null, \"content\": \"{city: Oslo\","
        "  \"error\": {\"name\": \"ParsingError\", \"message\": \"bad\"}},"
        " {\"step\": 1, \"name\": \"teleport\", \"status\": \"error\","
        "  \"arguments\": {}, \"error\": {\"name\": \"NotFoundError\"}},"
        " {\"step\": 2, \"name\": \"get_weather\", \"status\": \"ok\","
        "  \"arguments\": {\"city\": \"Oslo\"}, \"result\": {\"tempC\": 2}},"
        " {\"step\": 2, \"name\": \"get_weather\", \"status\": \"pending\","
        "  \"arguments\": {\"city\": \"Bergen\"}}]");
    json_t *msgs = json_array();
    unsigned next = 1;
    size_t invented = 0;
    assert_int_equal(synth_chat_turn(msgs, t, &next, &invented), 1);
    assert_int_equal(invented, 1);
    /* user; step 1: the model-fault call alone, then Rome and Oslo
     * together; step 2: the retry; the answer */
    static const char *const roles[] = {"user", "assistant", "tool",
                                        "assistant", "tool", "tool",
                                        "assistant", "tool", "assistant"};
    assert_int_equal(json_array_size(msgs), 9);
    for (size_t i = 0; i < 9; i++)
        assert_string_equal(synth_str(json_array_get(msgs, i), "role"),
                            roles[i]);
    json_t *fault = json_array_get(msgs, 1), *both = json_array_get(msgs, 3);
    assert_true(json_is_true(json_object_get(fault, "model_fault")));
    assert_false(json_is_true(json_object_get(both, "model_fault")));
    assert_int_equal(json_array_size(json_object_get(both, "calls")), 2);
    /* ids: call00001 (the fault), call00002/3 (the pair), call00004 */
    assert_string_equal(synth_str(json_array_get(msgs, 2), "call_id"),
                        "call00001");
    assert_string_equal(synth_str(json_array_get(msgs, 5), "call_id"),
                        "call00003");
    assert_string_equal(synth_str(json_array_get(msgs, 7), "call_id"),
                        "call00004");
    assert_int_equal(next, 5);
    /* the failed call's result is its error */
    json_t *err = json_object_get(json_object_get(json_array_get(msgs, 5),
                                                  "content"), "error");
    assert_string_equal(synth_str(err, "type"), "TimeoutError");
    assert_string_equal(synth_str(err, "message"), "slow");
    /* a turn without a final answer gives nothing */
    json_object_set_new(t, "outputs", json_array());
    size_t before = json_array_size(msgs);
    assert_int_equal(synth_chat_turn(msgs, t, &next, &invented), 0);
    assert_int_equal(json_array_size(msgs), before);
    json_decref(msgs);
    json_decref(t);
}

/* Schemas inferred per tool: types of the keys seen, required = keys of
 * every successful call; invented tools learn nothing. */
static void test_chat_schema(void **state)
{
    (void)state;
    json_t *st = json_object();
    static const char *const calls[] = {
        "{\"name\": \"search\", \"status\": \"ok\", \"arguments\": {\"q\": \"a\", \"n\": 3}}",
        "{\"name\": \"search\", \"status\": \"ok\", \"arguments\": {\"q\": \"b\"}}",
        "{\"name\": \"search\", \"status\": \"error\", \"arguments\": {\"q\": 1}}",
        "{\"name\": \"fly\", \"status\": \"error\", \"arguments\": {},"
        " \"error\": {\"name\": \"NotFoundError\"}}"};
    for (size_t i = 0; i < 4; i++) {
        json_t *a = json_loads(calls[i], 0, NULL);
        synth_chat_learn(st, a);
        json_decref(a);
    }
    json_t *def = synth_chat_tool(st, "search");
    json_t *want = json_loads(
        "{\"type\": \"function\", \"function\": {\"name\": \"search\","
        " \"parameters\": {\"type\": \"object\", \"properties\":"
        " {\"q\": {\"type\": \"string\"}, \"n\": {\"type\": \"integer\"}}, \"required\": [\"q\"]}}}",
        0, NULL);
    if (!json_equal(def, want))
        fail_msg("inferred %s", json_dumps(def, JSON_COMPACT));
    assert_null(synth_chat_tool(st, "fly"));
    json_decref(want);
    json_decref(def);
    json_decref(st);
}

/* The pairs of a turn: a failed call and the later successful call of
 * the same tool with other arguments; a retry of the very same call (a
 * timeout) is no choice and gives no pair; a rejected output against the
 * answer. */
static void test_chat_pairs(void **state)
{
    (void)state;
    json_t *t = turn_acting(
        "[{\"step\": 1, \"name\": \"get_weather\", \"status\": \"error\","
        "  \"arguments\": {\"town\": \"Rome\"},"
        "  \"error\": {\"name\": \"ValidationError\", \"message\": \"city?\"}},"
        " {\"step\": 2, \"name\": \"get_weather\", \"status\": \"ok\","
        "  \"arguments\": {\"city\": \"Rome\"}, \"result\": {\"tempC\": 20}},"
        " {\"step\": 3, \"name\": \"get_time\", \"status\": \"error\","
        "  \"arguments\": {\"tz\": \"CET\"},"
        "  \"error\": {\"name\": \"TimeoutError\", \"message\": \"slow\"}},"
        " {\"step\": 4, \"name\": \"get_time\", \"status\": \"ok\","
        "  \"arguments\": {\"tz\": \"CET\"}, \"result\": \"12:00\"}]");
    json_array_append_new(json_object_get(t, "outputs"),
                          json_pack("{s:s, s:s}", "text", "Rome is warm",
                                    "status", "rejected"));
    json_t *pairs = json_array(), *history = json_array();
    unsigned next = 1;
    size_t invented = 0;
    assert_int_equal(synth_chat_turn_pairs(pairs, history, t,
                                           SYNTH_CHAT_RETRIES |
                                               SYNTH_CHAT_REJECTED_OUTPUTS,
                                           &next, &invented),
                     2);
    json_t *retry = json_array_get(pairs, 0), *rej = json_array_get(pairs, 1);
    assert_string_equal(synth_str(retry, "source"), "retry");
    /* at the failed call: the prompt is the user's input alone */
    assert_int_equal(json_array_size(json_object_get(retry, "prompt")), 1);
    json_t *chosen_call = json_array_get(
        json_object_get(json_object_get(retry, "chosen"), "calls"), 0);
    assert_string_equal(synth_str(json_object_get(chosen_call, "arguments"),
                                  "city"),
                        "Rome");
    assert_string_equal(synth_str(rej, "source"), "rejected_output");
    assert_string_equal(synth_str(json_object_get(rej, "rejected"), "content"),
                        "Rome is warm");
    /* the turn joined the history the next turn's prompts start from */
    assert_true(json_array_size(history) > 4);
    json_decref(history);
    json_decref(pairs);
    json_decref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_final_output_is_the_last),
        cmocka_unit_test(test_tally),
        cmocka_unit_test(test_options_fill),
        cmocka_unit_test(test_chat_turn),
        cmocka_unit_test(test_chat_schema),
        cmocka_unit_test(test_chat_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
