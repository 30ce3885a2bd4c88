/* test_written.c -- the live checkpoint's entry for a written session:
 * to JSON and back, the positional form older checkpoints wrote, and what
 * is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "alloc.h"
#include "checkpoint_live.h"
#include "synth_plugin.h"

static void test_round_trip(void **state)
{
    (void)state;
    core_written w = {"discord.channel:42", {2, 1000, 5000, 3}, 1};
    json_t *j = core_written_to_json(&w);
    json_t *want = json_pack("{s:s, s:i, s:i, s:i, s:i, s:b}", "context",
                             "discord.channel:42", "src", 2, "first", 1000,
                             "last", 5000, "part", 3, "cap", 1);
    assert_true(json_equal(j, want));
    core_written back;
    assert_int_equal(core_written_from_json(j, &back), SYNTH_OK);
    assert_string_equal(back.context, w.context);
    assert_int_equal(back.o.src, 2);
    assert_int_equal(back.o.first, 1000);
    assert_int_equal(back.o.last, 5000);
    assert_int_equal(back.o.part, 3);
    assert_int_equal(back.cap, 1);
    core_free(back.context);
    json_decref(want);
    json_decref(j);
}

/* Checkpoints of version 0.1 kept [context, src, first, last, part, cap]:
 * a restart after an upgrade still replays them. */
static void test_positional_form(void **state)
{
    (void)state;
    json_t *j = json_loads("[\"cli:sam\", 1, 10, 99, 0, false]", 0, NULL);
    core_written w;
    assert_int_equal(core_written_from_json(j, &w), SYNTH_OK);
    assert_string_equal(w.context, "cli:sam");
    assert_int_equal(w.o.src, 1);
    assert_int_equal(w.o.first, 10);
    assert_int_equal(w.o.last, 99);
    assert_int_equal(w.cap, 0);
    core_free(w.context);
    json_decref(j);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"src\": 1, \"first\": 1, \"last\": 2}",          /* no context */
        "{\"context\": \"cli:a\", \"src\": 0, \"last\": 2}", /* socket: not
                                                               replayable */
        "[1, 2, 3]", "\"cli:a\"", "null"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        core_written w = {NULL, {0, 0, 0, 0}, 0};
        assert_int_equal(core_written_from_json(j, &w), SYNTH_EINVAL);
        assert_null(w.context);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_positional_form),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
