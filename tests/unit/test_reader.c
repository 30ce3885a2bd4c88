/* test_reader.c -- the line reader, the event parser and text extraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "reader.h"
#include "synth_plugin.h"
#include "testutil.h"
#include "text.h"

static int parse(const char *line, core_event *ev, core_strbuf *why)
{
    core_strbuf_reset(why);
    return core_event_parse(line, strlen(line), ev, why);
}

static void test_envelope(void **state)
{
    (void)state;
    core_strbuf why = {0};
    core_event ev;
    assert_int_equal(
        parse("{\"contextId\":\"cli:raj\",\"contextType\":\"cli\",\"log\":"
              "{\"ref\":\"thought\",\"id\":\"t1\",\"content\":\"hm\"},"
              "\"done\":false}",
              &ev, &why),
        SYNTH_OK);
    assert_string_equal(ev.context_id, "cli:raj");
    assert_string_equal(ev.context_type, "cli");
    assert_int_equal(ev.ref, CORE_REF_THOUGHT);
    assert_string_equal(ev.id, "t1");
    assert_int_equal(ev.done, 0);
    assert_int_equal(ev.repaired, 0);
    core_event_clear(&ev);
    core_strbuf_free(&why);
}

static void test_bare_log(void **state)
{
    (void)state;
    core_strbuf why = {0};
    core_event ev;
    assert_int_equal(parse("{\"contextId\":\"support:T-1\",\"ref\":\"input\","
                           "\"id\":\"i1\",\"content\":\"help\"}",
                           &ev, &why),
                     SYNTH_OK);
    assert_string_equal(ev.context_id, "support:T-1");
    assert_null(ev.context_type); /* derived later from the id */
    assert_int_equal(ev.ref, CORE_REF_INPUT);
    assert_int_equal(ev.done, 1); /* absent done: the line is final */
    /* the log is the line itself: its members are all there */
    assert_int_equal(ev.nlog, 4);
    assert_string_equal(json_string_value(ev.field[CORE_F_CONTENT]), "help");
    core_event_clear(&ev);
    core_strbuf_free(&why);
}

/* Broken lines, as data: the line and a part of the reason. */
static const struct {
    const char *line, *why;
} broken[] = {
    {"{\"contextId\":\"a\",\"log\":{\"ref\":", "invalid JSON at column"},
    {"[1,2]", "not a JSON object"},
    {"\"text\"", "invalid JSON"},
    {"{\"log\":{\"ref\":\"input\",\"id\":\"x\"}}", "missing \"contextId\""},
    {"{\"contextId\":\"a\",\"log\":7}", "\"log\" is not an object"},
    {"{\"contextId\":\"a\",\"log\":{\"id\":\"x\"}}", "missing \"ref\""},
    {"{\"contextId\":\"a\",\"log\":{\"ref\":\"thought\"}}",
     "\"thought\" log without \"id\""},
    {"{\"contextId\":\"a\",\"log\":{\"ref\":\"action_result\",\"id\":\"r\"}}",
     "missing \"callId\""},
    {"{\"contextId\":\"\",\"log\":{\"ref\":\"run\",\"id\":\"r\"}}",
     "missing \"contextId\""},
};

static void test_broken_lines(void **state)
{
    (void)state;
    core_strbuf why = {0};
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        core_event ev;
        assert_int_equal(parse(broken[i].line, &ev, &why), SYNTH_EINVAL);
        assert_null(ev.log);
        assert_null(ev.context_id);
        if (strstr(core_strbuf_str(&why), broken[i].why) == NULL)
            fail_msg("line %zu: reason \"%s\" lacks \"%s\"", i,
                     core_strbuf_str(&why), broken[i].why);
    }
    core_strbuf_free(&why);
}

static void test_unknown_ref_kept(void **state)
{
    (void)state;
    core_strbuf why = {0};
    core_event ev;
    assert_int_equal(parse("{\"contextId\":\"a:b\",\"log\":{\"ref\":"
                           "\"telemetry\",\"cpu\":3}}",
                           &ev, &why),
                     SYNTH_OK);
    assert_int_equal(ev.ref, CORE_REF_UNKNOWN);
    assert_string_equal(ev.ref_name, "telemetry");
    core_event_clear(&ev);
    core_strbuf_free(&why);
}

static void test_invalid_utf8_repaired(void **state)
{
    (void)state;
    core_strbuf why = {0};
    core_event ev;
    assert_int_equal(parse("{\"contextId\":\"a:b\",\"log\":{\"ref\":\"input\","
                           "\"id\":\"i\",\"content\":\"caf\xe9!\"}}",
                           &ev, &why),
                     SYNTH_OK);
    assert_int_equal(ev.repaired, 1);
    assert_string_equal(
        json_string_value(ev.field[CORE_F_CONTENT]),
        "caf\xEF\xBF\xBD!");
    core_event_clear(&ev);
    core_strbuf_free(&why);
}

static void test_lines(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *path = tu_fmt("%s/in.jsonl", dir);
    /* CRLF, an empty line, a 40-byte line over the 16-byte limit, and a
     * last line without a newline. */
    tu_write(path, "one\r\n\nshort\n0123456789012345678901234567890123456789\n"
                   "after\nlast");
    core_lines l;
    assert_int_equal(core_lines_open(&l, path, 16), SYNTH_OK);
    const char *s;
    size_t n;
    static const struct {
        int rc;
        const char *text;
        unsigned long long no;
    } want[] = {{SYNTH_OK, "one", 1},   {SYNTH_OK, "", 2},
                {SYNTH_OK, "short", 3}, {SYNTH_ELIMIT, NULL, 4},
                {SYNTH_OK, "after", 5}, {SYNTH_OK, "last", 6}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(core_lines_next(&l, &s, &n), want[i].rc);
        assert_int_equal(l.line_no, want[i].no);
        if (want[i].text) {
            assert_int_equal(n, strlen(want[i].text));
            assert_memory_equal(s, want[i].text, n);
        }
    }
    assert_int_equal(core_lines_next(&l, &s, &n), SYNTH_ENOTFOUND);
    assert_int_equal(l.offset, 63); /* every byte of the file */
    core_lines_close(&l);
    assert_int_equal(core_lines_open(&l, "/nonexistent/x", 16), SYNTH_EIO);
    core_lines_close(&l);
    tu_rmrf(dir);
    free(path);
    free(dir);
}

/* Text extraction, as data: content JSON -> expected text (NULL: none). */
static const struct {
    const char *content, *text, *user;
} texts[] = {
    {"\"plain\"", "plain", NULL},
    {"{\"user\":\"0xnull\",\"text\":\"gm\"}", "gm", "0xnull"},
    {"\"{\\\"content\\\":\\\"from json\\\"}\"", "from json", NULL},
    {"\"{not json}\"", "{not json}", NULL},
    /* a JSON output cut mid-stream keeps the text it had */
    {"\"{\\\"content\\\": \\\"Opened items can\"", "Opened items can", NULL},
    {"\"{\\\"content\\\":\\\"line\\\\nnext \\\\u00e\"", "line\nnext ", NULL},
    {"\"{\\\"a\\\":1}\"", "{\"a\":1}", NULL},
    {"[{\"type\":\"text\",\"text\":\"a\"},{\"text\":\"b\"}]", "a\nb", NULL},
    {"{\"content\":{\"text\":\"deep\"}}", "deep", NULL},
    {"{\"author\":{\"name\":\"kim\"},\"message\":\"yo\"}", "yo", "kim"},
    {"null", NULL, NULL},
    {"{\"n\":1}", NULL, NULL},
    {"42", "42", NULL},
};

static void test_text_of(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        json_t *c = json_loads(texts[i].content, JSON_DECODE_ANY, NULL);
        assert_non_null(c);
        json_t *t = core_text_of(c);
        json_t *u = core_user_of(c);
        if (texts[i].text == NULL)
            assert_null(t);
        else
            assert_string_equal(json_string_value(t), texts[i].text);
        if (texts[i].user == NULL)
            assert_null(u);
        else
            assert_string_equal(json_string_value(u), texts[i].user);
        json_decref(t);
        json_decref(u);
        json_decref(c);
    }
}

static void test_parse_lenient(void **state)
{
    (void)state;
    const char *fenced = "\n```json\n{\"to\":\"a@b.c\"}\n```\n";
    json_t *v = core_parse_lenient(fenced, strlen(fenced));
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "to")), "a@b.c");
    json_decref(v);
    const char *pretty = "{\n  \"expression\": [\"2 ^ 10\"]\n}";
    v = core_parse_lenient(pretty, strlen(pretty));
    assert_true(json_is_array(json_object_get(v, "expression")));
    json_decref(v);
    assert_null(core_parse_lenient("{\"a\":", 5));
    assert_null(core_parse_lenient("   ", 3));
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(core_utf8_valid("caf\xc3\xa9", 5));
    assert_false(core_utf8_valid("\xc0\xaf", 2));       /* overlong */
    assert_false(core_utf8_valid("\xed\xa0\x80", 3));   /* surrogate */
    assert_false(core_utf8_valid("\xe2\x82", 2));       /* truncated */
    size_t n;
    char *r = core_utf8_repair("a\xffz", 3, &n);
    assert_int_equal(n, 5);
    assert_string_equal(r, "a\xEF\xBF\xBDz");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_bare_log),
        cmocka_unit_test(test_broken_lines),
        cmocka_unit_test(test_unknown_ref_kept),
        cmocka_unit_test(test_invalid_utf8_repaired),
        cmocka_unit_test(test_lines),
        cmocka_unit_test(test_text_of),
        cmocka_unit_test(test_parse_lenient),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
