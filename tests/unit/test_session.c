/* test_session.c -- the sessionizer: upserts, joins, turns, closing rules,
 * and the fixture's documented counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "reader.h"
#include "session.h"
#include "synth_plugin.h"
#include "testutil.h"

/* Closed sessions, in closing order: [{"why": n, "session": {...}}]. */
static json_t *closed;

static void sink(json_t *session, core_close_reason why, void *user)
{
    (void)user;
    json_array_append_new(closed, json_pack("{s:i, s:o}", "why", (int)why,
                                            "session", session));
}

static const core_session_limits no_limits = {0, 0, 0, 0, 0, 0};

/* Add one line written with ' for " (readable test data). */
static void add_line(core_sessionizer *z, const char *line)
{
    char *l = strdup(line);
    for (char *c = l; *c; c++)
        if (*c == '\'')
            *c = '"';
    core_event ev;
    core_strbuf why = {0};
    if (core_event_parse(l, strlen(l), &ev, &why) != SYNTH_OK)
        fail_msg("test line %s: %s", line, core_strbuf_str(&why));
    core_sessionizer_add(z, &ev);
    core_event_clear(&ev);
    core_strbuf_free(&why);
    free(l);
}

/* A new sessionizer whose sessions go to `closed` (emptied). */
static core_sessionizer *sessionizer(const core_session_limits *lim)
{
    json_decref(closed);
    closed = json_array();
    return core_sessionizer_new(lim, sink, NULL);
}

/* Feed lines and flush. */
static core_session_stats feed(const char *const *lines,
                               const core_session_limits *lim)
{
    core_sessionizer *z = sessionizer(lim);
    for (size_t i = 0; lines[i]; i++)
        add_line(z, lines[i]);
    core_sessionizer_flush(z);
    core_session_stats st = *core_sessionizer_stats(z);
    core_sessionizer_free(z);
    return st;
}

static json_t *session_at(size_t i)
{
    return json_object_get(json_array_get(closed, i), "session");
}

static json_t *turn_at(json_t *session, size_t i)
{
    return json_array_get(json_object_get(session, "turns"), i);
}

static const char *str_at(json_t *obj, const char *path)
{
    /* "a.b.c" */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = obj;
    for (char *save, *k = strtok_r(buf, ".", &save); k;
         k = strtok_r(NULL, ".", &save))
        v = json_object_get(v, k);
    return json_string_value(v);
}

#define CTX "{'contextId':'cli:ann','contextType':'cli','log':"

static void test_upsert_last_version_wins(void **state)
{
    (void)state;
    static const char *const log[] = {
        CTX "{'ref':'run','id':'r1','timestamp':100},'done':true}",
        CTX "{'ref':'input','id':'i1','content':'hi','timestamp':99},'done':true}",
        CTX "{'ref':'thought','id':'t1','content':'','timestamp':101},'done':false}",
        CTX "{'ref':'thought','id':'t1','content':'I thi','timestamp':101},'done':false}",
        CTX "{'ref':'thought','id':'t1','content':'I think so','timestamp':101},'done':true}",
        /* a late, stale partial must not overwrite the final text */
        CTX "{'ref':'thought','id':'t1','content':'I thi','timestamp':101},'done':false}",
        CTX "{'ref':'output','id':'o1','name':'text','content':'Hel','timestamp':105},'done':false}",
        CTX "{'ref':'output','id':'o1','name':'text','content':'Hello!','data':'Hello!','timestamp':105},'done':true}",
        NULL};
    feed(log, &no_limits);
    assert_int_equal(json_array_size(closed), 1);
    json_t *turn = turn_at(session_at(0), 0);
    json_t *thoughts = json_object_get(turn, "thoughts");
    assert_int_equal(json_array_size(thoughts), 1);
    assert_string_equal(str_at(json_array_get(thoughts, 0), "text"),
                        "I think so");
    assert_true(json_is_true(
        json_object_get(json_array_get(thoughts, 0), "complete")));
    json_t *out = json_array_get(json_object_get(turn, "outputs"), 0);
    assert_string_equal(str_at(out, "text"), "Hello!");
    assert_string_equal(str_at(out, "status"), "final");
    /* input before run in time, after it in the file: one turn */
    assert_int_equal(json_array_size(json_object_get(session_at(0), "turns")),
                     1);
    assert_string_equal(str_at(turn, "id"), "r1");
    assert_string_equal(str_at(turn, "input.text"), "hi");
    assert_int_equal(json_integer_value(json_object_get(turn, "start")), 99);
    assert_int_equal(json_integer_value(json_object_get(turn, "end")), 105);
    /* seq follows first appearance */
    assert_true(json_integer_value(json_object_get(
                    json_array_get(thoughts, 0), "seq")) <
                json_integer_value(json_object_get(out, "seq")));
}

static void test_result_before_final_call(void **state)
{
    (void)state;
    static const char *const log[] = {
        CTX "{'ref':'run','id':'r1','timestamp':1},'done':true}",
        CTX "{'ref':'step','id':'s1','step':1,'timestamp':1},'done':true}",
        CTX "{'ref':'action_call','id':'c1','name':'get_weather','content':'{','timestamp':2},'done':false}",
        CTX "{'ref':'action_result','id':'res1','callId':'c1','name':'get_weather','data':{'tempC':11},'timestamp':3},'done':true}",
        CTX "{'ref':'action_call','id':'c1','name':'get_weather','content':'{}','data':{'city':'Berlin'},'timestamp':2},'done':true}",
        /* a result for a call that never appears */
        CTX "{'ref':'action_result','id':'res2','callId':'c9','name':'calculate','data':{'error':{'name':'RangeError','message':'bad'}},'timestamp':4},'done':true}",
        NULL};
    core_session_stats st = feed(log, &no_limits);
    json_t *actions = json_object_get(turn_at(session_at(0), 0), "actions");
    assert_int_equal(json_array_size(actions), 2);
    json_t *a = json_array_get(actions, 0);
    assert_string_equal(str_at(a, "name"), "get_weather");
    assert_string_equal(str_at(a, "status"), "ok");
    assert_string_equal(str_at(a, "arguments.city"), "Berlin");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(a, "result"), "tempC")),
                     11);
    assert_int_equal(json_integer_value(json_object_get(a, "step")), 1);
    json_t *b = json_array_get(actions, 1);
    assert_string_equal(str_at(b, "name"), "calculate");
    assert_string_equal(str_at(b, "status"), "error");
    assert_string_equal(str_at(b, "error.name"), "RangeError");
    assert_int_equal(st.orphans, 1);
}

static void test_error_events_join(void **state)
{
    (void)state;
    static const char *const log[] = {
        CTX "{'ref':'input','id':'i1','content':{'user':'kim','text':'mail him'},'timestamp':1},'done':true}",
        CTX "{'ref':'action_call','id':'c1','name':'send_email','content':'\\n```json\\n{\\'to\\':\\'a@b.c\\'}\\n```\\n','timestamp':2},'done':true}",
        CTX "{'ref':'event','id':'e1','name':'error','data':{'ref':{'ref':'action_call','id':'c1','name':'send_email'},'error':{'name':'NotFoundError','message':'Invalid action name'}},'timestamp':3},'done':true}",
        CTX "{'ref':'output','id':'o1','name':'support:reply','content':'{\\'content\\': \\'cut','timestamp':4},'done':false}",
        CTX "{'ref':'event','id':'e2','name':'error','data':{'ref':{'ref':'output','id':'o1','data':'x'},'error':{'name':'ParsingError','message':'Unterminated'}},'timestamp':5},'done':true}",
        NULL};
    feed(log, &no_limits);
    json_t *turn = turn_at(session_at(0), 0);
    /* no runs in this log: the input starts the turn and names it */
    assert_string_equal(str_at(turn, "id"), "i1");
    assert_string_equal(str_at(turn, "input.text"), "mail him");
    assert_string_equal(str_at(turn, "input.user"), "kim");
    json_t *a = json_array_get(json_object_get(turn, "actions"), 0);
    assert_string_equal(str_at(a, "status"), "error");
    assert_string_equal(str_at(a, "error.name"), "NotFoundError");
    assert_string_equal(str_at(a, "arguments.to"), "a@b.c"); /* fenced */
    json_t *o = json_array_get(json_object_get(turn, "outputs"), 0);
    assert_string_equal(str_at(o, "status"), "rejected");
    assert_string_equal(str_at(o, "error.message"), "Unterminated");
    assert_int_equal(json_array_size(json_object_get(turn, "events")), 2);
}

static void test_unknown_and_duplicates(void **state)
{
    (void)state;
    static const char *const log[] = {
        CTX "{'ref':'run','id':'r1','timestamp':1},'done':true}",
        CTX "{'ref':'input','id':'i1','content':'a','timestamp':1},'done':true}",
        CTX "{'ref':'input','id':'i1','content':'a','timestamp':1},'done':true}",
        CTX "{'ref':'telemetry','cpu':9},'done':true}",
        CTX "{'ref':'run','id':'r2','timestamp':9},'done':true}",
        CTX "{'ref':'input','id':'i2','content':'b','timestamp':9},'done':true}",
        NULL};
    core_session_stats st = feed(log, &no_limits);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(st.events[CORE_REF_UNKNOWN], 1);
    json_t *s = session_at(0);
    assert_int_equal(json_array_size(json_object_get(s, "turns")), 2);
    json_t *other = json_object_get(turn_at(s, 0), "other");
    assert_int_equal(json_array_size(other), 1);
    assert_string_equal(str_at(json_array_get(other, 0), "ref"), "telemetry");
    assert_string_equal(str_at(turn_at(s, 1), "input.text"), "b");
    assert_string_equal(str_at(s, "type"), "cli");
}

#define ENV(ctx, rest) "{'contextId':'" ctx "','log':" rest ",'done':true}"

static void test_idle_gap_closes(void **state)
{
    (void)state;
    /* a:x is active at t=0; b:y then runs 300 events an hour later. */
    const char *lines[310];
    size_t n = 0;
    lines[n++] = ENV("a:x", "{'ref':'run','id':'ra','timestamp':0}");
    char *made[300];
    for (int i = 0; i < 300; i++) {
        made[i] = tu_fmt(ENV("b:y", "{'ref':'event','id':'e%d','name':'tick',"
                                    "'timestamp':%d}"),
                         i, 3600000 + i);
        lines[n++] = made[i];
    }
    lines[n] = NULL;
    core_session_limits lim = {60000, 0, 0, 0, 0, 0};
    core_session_stats st = feed(lines, &lim);
    for (int i = 0; i < 300; i++)
        free(made[i]);
    assert_int_equal(st.closed[CORE_CLOSE_IDLE], 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(closed, 0), "why")),
                     CORE_CLOSE_IDLE);
    assert_string_equal(str_at(session_at(0), "id"), "a:x");
    assert_string_equal(str_at(session_at(0), "type"), "a"); /* derived */
    assert_int_equal(st.closed[CORE_CLOSE_END], 1);
}

static void test_caps(void **state)
{
    (void)state;
    static const char *const log[] = {
        ENV("c:1", "{'ref':'run','id':'r1','timestamp':1}"),
        ENV("c:2", "{'ref':'run','id':'q1','timestamp':1}"),
        ENV("c:1", "{'ref':'run','id':'r2','timestamp':2}"),
        ENV("c:1", "{'ref':'run','id':'r3','timestamp':3}"),
        ENV("c:3", "{'ref':'run','id':'z1','timestamp':3}"),
        NULL};
    /* two turns per part, two sessions open at once */
    core_session_limits lim = {0, 2, 0, 2, 0, 0};
    core_session_stats st = feed(log, &lim);
    /* c:1 part 0 (r1, r2) closes at r3 (cap); c:2 is evicted when c:3
     * opens; then c:1 part 1 and c:3 close at the end. */
    assert_int_equal(st.closed[CORE_CLOSE_CAP], 1);
    assert_int_equal(st.closed[CORE_CLOSE_EVICT], 1);
    assert_int_equal(st.closed[CORE_CLOSE_END], 2);
    assert_int_equal(st.sessions, 4);
    assert_int_equal(st.open_peak, 3);
    json_t *first = session_at(0);
    assert_string_equal(str_at(first, "id"), "c:1");
    assert_int_equal(json_array_size(json_object_get(first, "turns")), 2);
    assert_string_equal(str_at(session_at(1), "id"), "c:2");
    int saw_part1 = 0;
    for (size_t i = 0; i < json_array_size(closed); i++) {
        json_t *s = session_at(i);
        if (json_integer_value(json_object_get(s, "part")) == 1) {
            saw_part1 = 1;
            assert_string_equal(str_at(s, "id"), "c:1");
            assert_string_equal(str_at(turn_at(s, 0), "id"), "r3");
        }
    }
    assert_true(saw_part1);
}

/* ---- open turns ------------------------------------------------------ */

/* Turn n of ctx begins at ts: its run and its input "question n". */
static void turn_begin(core_sessionizer *z, const char *ctx, int n, int ts)
{
    char *run = tu_fmt("{'contextId':'%s','log':{'ref':'run','id':'r%s%d',"
                       "'timestamp':%d},'done':true}", ctx, ctx, n, ts);
    char *input = tu_fmt("{'contextId':'%s','log':{'ref':'input','id':"
                         "'i%s%d','content':'question %d','timestamp':%d},"
                         "'done':true}", ctx, ctx, n, n, ts);
    add_line(z, run);
    add_line(z, input);
    free(run);
    free(input);
}

/* Turn n of ctx gets its final answer "answer n" at ts. */
static void turn_answer(core_sessionizer *z, const char *ctx, int n, int ts)
{
    char *out = tu_fmt("{'contextId':'%s','log':{'ref':'output','id':'o%s%d',"
                       "'name':'text','content':'answer %d','data':"
                       "'answer %d','timestamp':%d},'done':true}",
                       ctx, ctx, n, n, n, ts);
    add_line(z, out);
    free(out);
}

/* 300 events of another context, stamped from..to: the event clock
 * advances and the idle scan (every 256 events) runs. */
static void ticks(core_sessionizer *z, int from, int to)
{
    for (int i = 0; i < 300; i++) {
        char *l = tu_fmt("{'contextId':'z:clock','log':{'ref':'event','id':"
                         "'t%d-%d','name':'tick','timestamp':%d},'done':true}",
                         from, i, from + (to - from) * i / 299);
        add_line(z, l);
        free(l);
    }
}

/* The closed sessions of ctx, in closing order (borrowed). */
static json_t *closed_of(const char *ctx, json_t **why, size_t nwhy)
{
    static json_t *found;
    json_decref(found);
    found = json_array();
    size_t i, k = 0;
    json_t *c;
    json_array_foreach(closed, i, c) {
        json_t *s = json_object_get(c, "session");
        if (strcmp(str_at(s, "id"), ctx) != 0)
            continue;
        json_array_append(found, s);
        if (k < nwhy)
            why[k++] = json_object_get(c, "why");
    }
    return found;
}

/* The turn's input text and its first output's status. */
static void assert_answered(json_t *turn, const char *question,
                            const char *answer)
{
    assert_non_null(turn);
    assert_string_equal(str_at(turn, "input.text"), question);
    json_t *out = json_array_get(json_object_get(turn, "outputs"), 0);
    assert_non_null(out);
    assert_string_equal(str_at(out, "status"), "final");
    assert_string_equal(str_at(out, "text"), answer);
}

static void test_open_turn_outlasts_idle_gap(void **state)
{
    (void)state;
    /* idle after 1 s of event time, open turns after 5 s */
    core_session_limits lim = {1000, 0, 0, 0, 0, 5000};
    core_sessionizer *z = sessionizer(&lim);
    turn_begin(z, "a:1", 1, 0);   /* waits 3 s for a tool */
    turn_begin(z, "b:1", 1, 0);   /* answered at once */
    turn_answer(z, "b:1", 1, 0);
    /* c:1 says something and calls a tool in step 1: the agent runs
     * step 2 with the result, so the turn is not answered yet */
    turn_begin(z, "c:1", 1, 0);
    add_line(z, ENV("c:1", "{'ref':'step','id':'c1s1','step':1,'timestamp':0}"));
    turn_answer(z, "c:1", 1, 0);
    add_line(z, ENV("c:1", "{'ref':'action_call','id':'c1a','name':'lookup',"
                           "'content':'{}','data':{},'timestamp':0}"));
    add_line(z, ENV("c:1", "{'ref':'action_result','id':'c1r','callId':'c1a',"
                           "'name':'lookup','data':{'ok':1},'timestamp':1}"));
    ticks(z, 1, 3000);
    turn_answer(z, "a:1", 1, 3001);
    add_line(z, ENV("c:1", "{'ref':'step','id':'c1s2','step':2,'timestamp':3001}"));
    core_sessionizer_flush(z);
    assert_int_equal(json_array_size(closed_of("c:1", NULL, 0)), 1);
    json_t *why[2] = {0};
    json_t *a = closed_of("a:1", why, 2);
    assert_int_equal(json_array_size(a), 1);     /* one part, whole */
    assert_int_equal(json_integer_value(why[0]), CORE_CLOSE_END);
    assert_answered(turn_at(json_array_get(a, 0), 0), "question 1",
                    "answer 1");
    json_t *b = closed_of("b:1", why, 1);
    assert_int_equal(json_array_size(b), 1);
    assert_int_equal(json_integer_value(why[0]), CORE_CLOSE_IDLE);
    assert_int_equal(core_sessionizer_stats(z)->open_turns_cut, 0);
    core_sessionizer_free(z);
}

static void test_open_turn_carried_after_timeout(void **state)
{
    (void)state;
    core_session_limits lim = {1000, 0, 0, 0, 0, 2000};
    core_sessionizer *z = sessionizer(&lim);
    turn_begin(z, "a:1", 1, 0);
    ticks(z, 1, 6000);               /* longer than the open-turn timeout */
    turn_answer(z, "a:1", 1, 6001);
    core_sessionizer_flush(z);
    json_t *why[2] = {0};
    json_t *a = closed_of("a:1", why, 2);
    assert_int_equal(json_array_size(a), 2);
    assert_int_equal(json_integer_value(why[0]), CORE_CLOSE_IDLE);
    json_t *cut = turn_at(json_array_get(a, 0), 0);
    assert_int_equal(json_array_size(json_object_get(cut, "outputs")), 0);
    /* the next part carries the turn's id and input: the answer has its
     * instruction */
    json_t *next = json_array_get(a, 1);
    assert_int_equal(json_integer_value(json_object_get(next, "part")), 1);
    assert_int_equal(json_array_size(json_object_get(next, "turns")), 1);
    json_t *turn = turn_at(next, 0);
    assert_answered(turn, "question 1", "answer 1");
    assert_string_equal(str_at(turn, "id"), "ra:11");
    assert_true(json_is_true(json_object_get(turn, "continued")));
    assert_int_equal(core_sessionizer_stats(z)->open_turns_cut, 1);
    assert_int_equal(core_sessionizer_stats(z)->open_turns_carried, 1);
    core_sessionizer_free(z);
}

static void test_open_turn_wall_clock_and_cut(void **state)
{
    (void)state;
    /* live: idle after 200 ms of wall clock, open turns after 1 s */
    core_session_limits lim = {0, 0, 0, 0, 200, 1000};
    core_sessionizer *z = sessionizer(&lim);
    core_sessionizer_set_now(z, 0);
    turn_begin(z, "a:1", 1, 0);
    turn_begin(z, "b:1", 1, 0);
    turn_answer(z, "b:1", 1, 0);
    core_sessionizer_set_now(z, 500);
    assert_int_equal(core_sessionizer_close_stale(z, 200), 1); /* b:1 */
    assert_int_equal(core_sessionizer_open(z), 1);
    core_sessionizer_set_now(z, 900);
    assert_int_equal(core_sessionizer_close_stale(z, 200), 0);
    core_sessionizer_set_now(z, 1500);
    assert_int_equal(core_sessionizer_close_stale(z, 200), 1); /* a:1 */
    /* a live `process` cuts c:1's open turn; its answer comes after */
    turn_begin(z, "c:1", 1, 1500);
    core_sessionizer_cut(z);
    assert_int_equal(core_sessionizer_open(z), 0);
    turn_answer(z, "c:1", 1, 1600);
    core_sessionizer_flush(z);
    json_t *why[2] = {0};
    json_t *c = closed_of("c:1", why, 2);
    assert_int_equal(json_array_size(c), 2);
    assert_answered(turn_at(json_array_get(c, 1), 0), "question 1",
                    "answer 1");
    /* the end of the input carries nothing */
    assert_int_equal(core_sessionizer_stats(z)->open_turns_carried, 2);
    core_sessionizer_free(z);
}

static void test_eviction_spares_open_turns(void **state)
{
    (void)state;
    core_session_limits lim = {0, 0, 0, 2, 0, 0};
    core_sessionizer *z = sessionizer(&lim);
    turn_begin(z, "a:1", 1, 0);      /* least recent, waiting */
    turn_begin(z, "b:1", 1, 1);
    turn_answer(z, "b:1", 1, 2);
    turn_begin(z, "c:1", 1, 3);      /* a third: one must go */
    json_t *first = json_array_get(closed, 0);
    assert_non_null(first);
    assert_string_equal(str_at(json_object_get(first, "session"), "id"),
                        "b:1");
    assert_int_equal(json_integer_value(json_object_get(first, "why")),
                     CORE_CLOSE_EVICT);
    core_sessionizer_flush(z);
    core_sessionizer_free(z);
}

/* examples/README.md (the capture's notes) documents its counts; the
 * sessionizer must agree. */
static void test_fixture_counts(void **state)
{
    (void)state;
    char *path = tu_fmt("%s/examples/agent-log.jsonl", tu_root());
    core_lines in;
    assert_int_equal(core_lines_open(&in, path, 1 << 20), SYNTH_OK);
    json_decref(closed);
    closed = json_array();
    core_session_limits lim = {1800000, 256, 16 << 20, 1000, 0, 0};
    core_sessionizer *z = core_sessionizer_new(&lim, sink, NULL);
    core_strbuf why = {0};
    const char *line;
    size_t len;
    while (core_lines_next(&in, &line, &len) == SYNTH_OK) {
        core_event ev;
        assert_int_equal(core_event_parse(line, len, &ev, &why), SYNTH_OK);
        core_sessionizer_add(z, &ev);
        core_event_clear(&ev);
    }
    core_sessionizer_flush(z);
    const core_session_stats *st = core_sessionizer_stats(z);
    assert_int_equal(st->sessions, 35);
    assert_int_equal(st->turns, 93);
    assert_int_equal(st->duplicates, 0);
    size_t thoughts = 0, actions = 0, ok = 0, err = 0, pending = 0;
    size_t outputs = 0, final = 0, rejected = 0, inputs = 0, steps = 0;
    for (size_t i = 0; i < json_array_size(closed); i++) {
        size_t t;
        json_t *turn;
        json_array_foreach(json_object_get(session_at(i), "turns"), t, turn) {
            inputs += !json_is_null(json_object_get(turn, "input"));
            steps += (size_t)json_integer_value(json_object_get(turn, "steps"));
            thoughts += json_array_size(json_object_get(turn, "thoughts"));
            size_t k;
            json_t *el;
            json_array_foreach(json_object_get(turn, "actions"), k, el) {
                actions++;
                const char *s = str_at(el, "status");
                ok += strcmp(s, "ok") == 0;
                err += strcmp(s, "error") == 0;
                pending += strcmp(s, "pending") == 0;
            }
            json_array_foreach(json_object_get(turn, "outputs"), k, el) {
                outputs++;
                final += strcmp(str_at(el, "status"), "final") == 0;
                rejected += strcmp(str_at(el, "status"), "rejected") == 0;
            }
        }
    }
    assert_int_equal(inputs, 93);
    assert_int_equal(steps, 181);
    assert_int_equal(thoughts, 178);
    assert_int_equal(actions, 92);
    /* 80 results, 9 of them errors; 12 calls failed by an error event */
    assert_int_equal(ok, 71);
    assert_int_equal(err, 21);
    assert_int_equal(pending, 0);
    assert_int_equal(outputs, 91);
    assert_int_equal(final, 85);
    assert_int_equal(rejected, 6);
    core_sessionizer_free(z);
    core_strbuf_free(&why);
    core_lines_close(&in);
    free(path);
}

static int teardown(void **state)
{
    (void)state;
    json_decref(closed);
    closed = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upsert_last_version_wins),
        cmocka_unit_test(test_result_before_final_call),
        cmocka_unit_test(test_error_events_join),
        cmocka_unit_test(test_unknown_and_duplicates),
        cmocka_unit_test(test_idle_gap_closes),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_open_turn_outlasts_idle_gap),
        cmocka_unit_test(test_open_turn_carried_after_timeout),
        cmocka_unit_test(test_open_turn_wall_clock_and_cut),
        cmocka_unit_test(test_eviction_spares_open_turns),
        cmocka_unit_test(test_fixture_counts),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
