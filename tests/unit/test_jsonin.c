/* test_jsonin.c -- core_json_parse against json_loadb: on every input the
 * two must agree, after the reader's UTF-8 repair, on whether the line is
 * kept and on the value built (compared as serialised text, so key order
 * and repeated keys count).  Inputs: the edge cases in
 * tests/jsonin/edge.jsonl, every line of the example log, and
 * seeded mutations of those lines (cut, bytes replaced, inserted,
 * deleted).  The reader (core_event_parse), which walks lines with it,
 * is held to the reader it replaced on the same inputs, and the writer's
 * serialiser (jsonout.h) to json_dumps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "jsonin.h"
#include "jsonout.h"
#include "reader.h"
#include "synth_plugin.h"
#include "testutil.h"
#include "text.h"

/* "kept: <text>" / "repaired: <text>" / "refused" for one parser. */
static char *describe(json_t *v, int repaired)
{
    if (v == NULL)
        return core_strdup("refused");
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
                                   JSON_REAL_PRECISION(17));
    char *out = tu_fmt("%s: %s", repaired ? "repaired" : "kept", text);
    free(text);
    json_decref(v);
    return out;
}

static char *with_jansson(const char *s, size_t n)
{
    json_error_t err;
    json_t *v = json_loadb(s, n, 0, &err);
    int repaired = 0;
    if (v == NULL && json_error_code(&err) == json_error_invalid_utf8) {
        size_t fn;
        char *fixed = core_utf8_repair(s, n, &fn);
        v = json_loadb(fixed, fn, 0, &err);
        core_free(fixed);
        repaired = 1;
    }
    return describe(v, repaired);
}

static char *with_ours(const char *s, size_t n)
{
    core_json_error err;
    json_t *v = core_json_parse(s, n, &err);
    int repaired = 0;
    if (v == NULL) {
        /* a refusal always says what and where */
        assert_true(err.text[0] != '\0');
        assert_true(err.column >= 1 && err.column <= n + 1);
    }
    if (v == NULL && err.utf8) {
        size_t fn;
        char *fixed = core_utf8_repair(s, n, &fn);
        v = core_json_parse(fixed, fn, &err);
        core_free(fixed);
        repaired = 1;
    }
    return describe(v, repaired);
}

typedef struct {
    unsigned kept, refused;
} tally;

/* Two descriptions (both freed here) of what became of input s: fails
 * the test, showing the input, when they differ; counts the outcome. */
static void same(const char *where, const char *s, size_t n, char *want,
                 char *got, tally *t)
{
    if (strcmp(want, got) != 0)
        fail_msg("%s: disagreement on %.*s\n reference: %.300s\n ours:      %.300s",
                 where, (int)(n > 300 ? 300 : n), s, want, got);
    if (strcmp(want, "refused") == 0)
        t->refused++;
    else
        t->kept++;
    free(want);
    free(got);
}

/* Both parsers on one input. */
static void agree(const char *s, size_t n, const char *where, tally *t)
{
    same(where, s, n, with_jansson(s, n), with_ours(s, n), t);
}

/* ---- the reader on top of it -------------------------------------------
 *
 * core_event_parse walks the line without building the envelope and log
 * objects.  The reference here is the reader as it was: json_loadb, then
 * the envelope rules on the tree.  Both are described as text (kept or
 * not, context, type, ref, id, done, the log object) and must agree. */

static char *describe_event(int kept, const char *cid, const char *ctype,
                            const char *ref, const char *id, int done,
                            json_t *log)
{
    if (!kept)
        return core_strdup("refused");
    char *text = json_dumps(log, JSON_COMPACT | JSON_REAL_PRECISION(17));
    char *out = tu_fmt("ctx=%s type=%s ref=%s id=%s done=%d log=%s", cid,
                       ctype ? ctype : "-", ref, id ? id : "-", done, text);
    free(text);
    return out;
}

static char *event_reference(const char *s, size_t n)
{
    json_error_t err;
    json_t *root = json_loadb(s, n, 0, &err);
    if (root == NULL && json_error_code(&err) == json_error_invalid_utf8) {
        size_t fn;
        char *fixed = core_utf8_repair(s, n, &fn);
        root = json_loadb(fixed, fn, 0, &err);
        core_free(fixed);
    }
    char *out = NULL;
    json_t *log = json_object_get(root, "log"), *outer = root;
    if (!json_is_object(root) || (log && !json_is_object(log)))
        goto refused;
    if (log == NULL)
        log = root;
    json_t *cid = json_object_get(outer, "contextId");
    if (cid == NULL)
        cid = json_object_get(log, "contextId");
    json_t *ctype = json_object_get(outer, "contextType");
    if (ctype == NULL)
        ctype = json_object_get(log, "contextType");
    json_t *ref = json_object_get(log, "ref"), *id = json_object_get(log, "id");
    json_t *done = json_object_get(outer, "done");
    if (done == NULL && outer != log)
        done = json_object_get(log, "done");
    if (!json_is_string(cid) || json_string_length(cid) == 0 ||
        !json_is_string(ref))
        goto refused;
    const char *r = json_string_value(ref);
    int needs_id = strcmp(r, "step") != 0 &&
                   (!strcmp(r, "input") || !strcmp(r, "output") ||
                    !strcmp(r, "thought") || !strcmp(r, "action_call") ||
                    !strcmp(r, "action_result") || !strcmp(r, "event") ||
                    !strcmp(r, "run"));
    if ((needs_id && !json_is_string(id)) ||
        (!strcmp(r, "action_result") &&
         !json_is_string(json_object_get(log, "callId"))))
        goto refused;
    out = describe_event(1, json_string_value(cid),
                         json_is_string(ctype) ? json_string_value(ctype) : NULL,
                         r, json_is_string(id) ? json_string_value(id) : NULL,
                         done == NULL ? 1 : json_is_true(done), log);
refused:
    json_decref(root);
    return out ? out : core_strdup("refused");
}

static char *event_ours(const char *s, size_t n)
{
    core_event ev;
    core_strbuf why = {0};
    int kept = core_event_parse(s, n, &ev, &why) == SYNTH_OK;
    if (!kept)
        assert_true(why.len > 0); /* a refusal says why */
    json_t *log = kept ? core_event_log(&ev) : NULL;
    char *out = describe_event(kept, ev.context_id, ev.context_type,
                               ev.ref_name, ev.id, ev.done, log);
    json_decref(log);
    core_event_clear(&ev);
    core_strbuf_free(&why);
    return out;
}

static void agree_event(const char *s, size_t n, unsigned no, void *user)
{
    char where[48];
    snprintf(where, sizeof where, "reader, line %u", no);
    same(where, s, n, event_reference(s, n), event_ours(s, n), user);
}

/* Call fn on every line of path (bytes as they are, no "\n"). */
static void each_line(const char *path,
                      void (*fn)(const char *, size_t, unsigned, void *),
                      void *user)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *text = NULL;
    size_t cap = 0, len = 0, got;
    do {
        core_grow((void **)&text, &cap, len + 65536, 1);
        got = fread(text + len, 1, cap - len, f);
        len += got;
    } while (got > 0);
    fclose(f);
    unsigned no = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        fn(text + at, n, ++no, user);
        at += n + 1;
    }
    core_free(text);
}

/* The writer's serialiser must give json_dumps' text (compact, reals
 * with 15 digits) for every value parsed. */
static void same_text(const char *s, size_t n, unsigned no)
{
    json_t *v = json_loadb(s, n, 0, NULL);
    if (v == NULL)
        return;
    char *want = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15));
    core_strbuf got = {0};
    core_json_append(&got, v);
    if (strcmp(want, core_strbuf_str(&got)) != 0)
        fail_msg("line %u: core_json_append gives %.200s\n json_dumps gives %.200s",
                 no, core_strbuf_str(&got), want);
    free(want);
    core_strbuf_free(&got);
    json_decref(v);
}

static void check_line(const char *s, size_t n, unsigned no, void *user)
{
    char where[32];
    snprintf(where, sizeof where, "line %u", no);
    agree(s, n, where, user);
    same_text(s, n, no);
}

static void test_edge_cases(void **state)
{
    (void)state;
    tally t = {0, 0};
    char *path = tu_fmt("%s/tests/jsonin/edge.jsonl", tu_root());
    each_line(path, check_line, &t);
    free(path);
    assert_true(t.kept >= 30);
    assert_true(t.refused >= 50);
}

static void test_example_log(void **state)
{
    (void)state;
    tally t = {0, 0};
    char *path = tu_fmt("%s/examples/agent-log.jsonl", tu_root());
    each_line(path, check_line, &t);
    free(path);
    assert_true(t.kept > 500);
    assert_int_equal(t.refused, 0);
}

/* ---- mutations ---------------------------------------------------------- */

typedef struct {
    unsigned long long seed;
    tally t, events;
} mutator;

static unsigned next(mutator *m, unsigned below)
{
    m->seed = m->seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((m->seed >> 33) % below);
}

/* The bytes that matter to a JSON parser and to UTF-8. */
static const char interesting[] = "\"\\{}[],:0-1e.tnu\x01\x1f \x80\xbf\xc3\xe2\xed\xf0\xff";

static void mutate_line(const char *s, size_t n, unsigned no, void *user)
{
    mutator *m = user;
    char *buf = core_malloc(n + 8);
    for (int round = 0; round < 12; round++) {
        size_t len = n;
        memcpy(buf, s, n);
        unsigned at = len ? next(m, (unsigned)len) : 0;
        char b = interesting[next(m, sizeof interesting - 1)];
        switch (next(m, 4)) {
        case 0: len = at; break;                  /* cut */
        case 1: if (len) buf[at] = b; break;      /* replace */
        case 2:                                   /* insert */
            memmove(buf + at + 1, buf + at, len - at);
            buf[at] = b;
            len++;
            break;
        default:                                  /* delete */
            if (len) {
                memmove(buf + at, buf + at + 1, len - at - 1);
                len--;
            }
        }
        char where[64];
        snprintf(where, sizeof where, "mutation %d of line %u", round, no);
        agree(buf, len, where, &m->t);
        agree_event(buf, len, no, &m->events);
    }
    core_free(buf);
}

static void test_reader_lines(void **state)
{
    (void)state;
    tally t = {0, 0};
    char *path = tu_fmt("%s/examples/agent-log.jsonl", tu_root());
    each_line(path, agree_event, &t);
    free(path);
    path = tu_fmt("%s/tests/jsonin/events.jsonl", tu_root());
    each_line(path, agree_event, &t);
    free(path);
    assert_true(t.kept > 500);
    assert_true(t.refused >= 10);
}

static void test_mutations(void **state)
{
    (void)state;
    mutator m = {.seed = 42};
    char *path = tu_fmt("%s/examples/agent-log.jsonl", tu_root());
    each_line(path, mutate_line, &m);
    free(path);
    path = tu_fmt("%s/tests/jsonin/edge.jsonl", tu_root());
    each_line(path, mutate_line, &m);
    free(path);
    /* both outcomes happen, many times */
    assert_true(m.t.kept > 1000);
    assert_true(m.t.refused > 1000);
    assert_true(m.events.kept > 1000);
    assert_true(m.events.refused > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_example_log),
        cmocka_unit_test(test_reader_lines),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
