/*
 * formats.c -- every seed format, capture switch and filter, on the real
 * binary and the example log, checked field by field against the oracle
 * (tests/oracle.c) computed from the raw lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatcheck.h"
#include "oracle.h"
#include "testutil.h"

static oracle O;

static int setup(void **state)
{
    (void)state;
    char *log = tu_fmt("%s/examples/agent-log.jsonl", tu_root());
    oracle_build(&O, log);
    free(log);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    oracle_free(&O);
    return 0;
}

/* One run of synthhost on the example log with `body` as the rest of the
 * config.  Returns the output directory (owned); the run must exit 0. */
static char *run_with(const char *body)
{
    char *dir = tu_tmpdir();
    char *conf = tu_fmt("%s/t.conf", dir);
    char *text = tu_fmt("input = \"%s/examples/agent-log.jsonl\";\n"
                        "sidecar = true;\n%s",
                        tu_root(), body);
    tu_write(conf, text);
    char *out = tu_fmt("%s/out", dir);
    char *host = tu_fmt("%s/synthhost", tu_build());
    char *argv[] = {host, "-c", conf, "-o", out, NULL};
    char *err = NULL;
    int rc = tu_run(argv, NULL, NULL, &err);
    if (rc != 0)
        fail_msg("exit %d for config:\n%s\n%s", rc, text, err);
    free(err);
    free(host);
    free(text);
    free(conf);
    free(dir);
    return out;
}

/* The records of one format (and their sidecar lines in *meta). */
static json_t *records(const char *out, const char *format, json_t **meta)
{
    json_t *r = tu_load_format(out, format, meta);
    if (r == NULL)
        fail_msg("no single %s-*.jsonl of JSON lines in %s", format, out);
    if (meta)
        assert_int_equal(json_array_size(*meta), json_array_size(r));
    return r;
}

/* Remove the run's directory (out's parent) and free out. */
static void done_with(char *out)
{
    *strrchr(out, '/') = '\0';
    tu_rmrf(out);
    free(out);
}

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *session_of(json_t *meta, size_t i)
{
    return str(json_array_get(meta, i), "session");
}

static void assert_keys(json_t *rec, const char *const *keys)
{
    size_t n = 0;
    for (; keys[n]; n++)
        if (json_object_get(rec, keys[n]) == NULL)
            fail_msg("record lacks \"%s\": %s", keys[n],
                     json_dumps(rec, JSON_COMPACT));
    assert_int_equal(json_object_size(rec), n);
}

/* ---- formats ---------------------------------------------------------------- */

static void test_reasoning_chains(void **state)
{
    (void)state;
    char *out = run_with("formats = [\"reasoning-chains\"];\n");
    json_t *meta, *recs = records(out, "reasoning-chains", &meta);
    static const char *const keys[] = {"problem", "reasoning", "conclusion",
                                       NULL};
    assert_true(json_array_size(recs) > 0);
    size_t i, errors = 0;
    json_t *r;
    json_array_foreach(recs, i, r) {
        assert_keys(r, keys);
        json_t *run = oracle_find_run(&O, session_of(meta, i),
                                      str(r, "problem"), str(r, "conclusion"));
        if (run == NULL)
            fail_msg("record %zu matches no answered run", i);
        /* thoughts: the final texts, in order, each once; calls between
         * them where the agent made them */
        json_t *thoughts = json_array(), *calls = json_array();
        json_t *order = json_array();
        size_t k;
        json_t *step;
        json_array_foreach(json_object_get(r, "reasoning"), k, step) {
            assert_int_equal(json_integer_value(json_object_get(step, "step")),
                             k + 1);
            if (json_object_get(step, "thought")) {
                assert_int_equal(json_object_size(step), 2);
                json_array_append(thoughts, json_object_get(step, "thought"));
                json_array_append_new(order, json_pack("{s:O}", "thought",
                                                       json_object_get(
                                                           step, "thought")));
                if (json_object_get(O.partials, str(step, "thought")))
                    fail_msg("superseded thought: %s", str(step, "thought"));
            } else {
                assert_int_equal(json_object_size(step), 3);
                const char *call = str(step, "action");
                const char *result = str(step, "result");
                assert_non_null(call);
                assert_non_null(result);
                assert_non_null(strchr(call, '('));
                assert_int_equal(call[strlen(call) - 1], ')');
                json_array_append_new(calls,
                                      json_stringn(call, strcspn(call, "(")));
                json_array_append_new(
                    order, json_pack("{s:s%}", "call", call,
                                     strcspn(call, "(")));
                errors += strncmp(result, "Error: ", 7) == 0;
            }
        }
        if (!json_equal(thoughts, json_object_get(run, "thoughts")))
            fail_msg("record %zu thoughts %s, want %s", i,
                     json_dumps(thoughts, 0),
                     json_dumps(json_object_get(run, "thoughts"), 0));
        /* calls: the run's calls, in order, by name */
        json_t *want = json_array(), *id;
        json_array_foreach(json_object_get(run, "actions"), k, id) {
            json_array_append(want, json_object_get(json_object_get(
                                        O.calls, json_string_value(id)),
                                                    "name"));
        }
        assert_true(json_equal(calls, want));
        if (!json_equal(order, json_object_get(run, "steps")))
            fail_msg("record %zu order %s, want %s", i, json_dumps(order, 0),
                     json_dumps(json_object_get(run, "steps"), 0));
        json_decref(order);
        json_decref(want);
        json_decref(thoughts);
        json_decref(calls);
    }
    assert_true(errors > 0); /* failed calls appear, as errors */
    json_decref(recs);
    json_decref(meta);
    done_with(out);
}

static void test_action_sequences(void **state)
{
    (void)state;
    char *out = run_with("formats = [\"action-sequences\"];\n");
    json_t *meta, *recs = records(out, "action-sequences", &meta);
    static const char *const keys[] = {"situation", "actions", "outcome",
                                       NULL};
    static const char *const akeys[] = {"name", "arguments", "result",
                                        "timestamp", "success", NULL};
    size_t i, failed = 0, n = 0;
    json_t *r;
    json_array_foreach(recs, i, r) {
        assert_keys(r, keys);
        assert_non_null(json_object_get(O.finals, str(r, "outcome")));
        json_t *ids = json_object_get(
            json_object_get(json_array_get(meta, i), "lineage"), "actions");
        json_t *actions = json_object_get(r, "actions");
        assert_true(json_array_size(actions) > 0);
        assert_int_equal(json_array_size(ids), json_array_size(actions));
        size_t k;
        json_t *a;
        json_array_foreach(actions, k, a) {
            assert_keys(a, akeys);
            json_t *call = json_object_get(
                O.calls, json_string_value(json_array_get(ids, k)));
            assert_non_null(call);
            assert_string_equal(str(a, "name"), str(call, "name"));
            assert_int_equal(json_is_true(json_object_get(a, "success")),
                             json_is_true(json_object_get(call, "ok")));
            assert_true(json_is_integer(json_object_get(a, "timestamp")));
            if (!json_is_true(json_object_get(a, "success"))) {
                /* the error is in result */
                json_t *res = json_object_get(a, "result");
                assert_non_null(str(res, "name"));
                assert_non_null(str(res, "message"));
                failed++;
            }
            n++;
        }
    }
    assert_true(failed > 0 && failed < n);
    json_decref(recs);
    json_decref(meta);
    done_with(out);
}

static void test_episodes(void **state)
{
    (void)state;
    char *out = run_with("formats = [\"episodes\"];\n");
    json_t *meta, *recs = records(out, "episodes", &meta);
    static const char *const keys[] = {"episodeId", "observation", "thoughts",
                                       "actions", "result", "success",
                                       "duration", NULL};
    /* one episode per context that had a user input */
    assert_int_equal(json_array_size(recs), json_object_size(O.context_info));
    size_t i, ok = 0;
    json_t *r;
    json_array_foreach(recs, i, r) {
        assert_keys(r, keys);
        const char *id = str(r, "episodeId");
        assert_string_equal(id, session_of(meta, i));
        json_t *info = json_object_get(O.context_info, id);
        assert_non_null(info);
        assert_int_equal(json_integer_value(json_object_get(r, "duration")),
                         json_integer_value(json_object_get(info, "end")) -
                             json_integer_value(json_object_get(info, "start")));
        assert_int_equal(json_is_true(json_object_get(r, "success")),
                         !json_is_true(json_object_get(info, "failed")));
        assert_true(json_equal(json_object_get(r, "thoughts"),
                               json_object_get(info, "thoughts")));
        ok += json_is_true(json_object_get(r, "success"));
    }
    assert_true(ok > 0 && ok < json_array_size(recs));
    json_decref(recs);
    json_decref(meta);
    done_with(out);
}

static void test_grpo(void **state)
{
    (void)state;
    char *out = run_with("formats = [\"grpo\"];\n");
    json_t *recs = records(out, "grpo", NULL);
    static const char *const keys[] = {"prompt", "responses", "system",
                                       "context", "comparisons", NULL};
    static const char *const rkeys[] = {"text", "score", "rank", "success",
                                        "model", "metadata", NULL};
    assert_true(json_array_size(recs) > 0);
    size_t i, comparisons = 0;
    json_t *r;
    json_array_foreach(recs, i, r) {
        assert_keys(r, keys);
        json_t *resp = json_object_get(r, "responses");
        assert_true(json_array_size(resp) >= 2 && json_array_size(resp) <= 4);
        /* every response of a group says something else */
        for (size_t a = 0; a < json_array_size(resp); a++)
            for (size_t b = a + 1; b < json_array_size(resp); b++)
                assert_string_not_equal(str(json_array_get(resp, a), "text"),
                                        str(json_array_get(resp, b), "text"));
        double prev = 2;
        size_t k;
        json_t *x;
        json_array_foreach(resp, k, x) {
            assert_keys(x, rkeys);
            double s = json_number_value(json_object_get(x, "score"));
            assert_true(s >= 0 && s <= 1 && s <= prev);
            prev = s;
            assert_int_equal(json_integer_value(json_object_get(x, "rank")),
                             k + 1);
            assert_string_equal(str(x, "model"), "agent");
            assert_non_null(str(json_object_get(x, "metadata"), "outputId"));
            if (json_is_true(json_object_get(x, "success")))
                assert_non_null(json_object_get(O.finals, str(x, "text")));
        }
        json_array_foreach(json_object_get(r, "comparisons"), k, x) {
            json_int_t p = json_integer_value(json_object_get(x, "preferred"));
            json_int_t q = json_integer_value(json_object_get(x, "rejected"));
            double sp = json_number_value(json_object_get(
                json_array_get(resp, (size_t)p), "score"));
            double sq = json_number_value(json_object_get(
                json_array_get(resp, (size_t)q), "score"));
            assert_true(p < q && sp > sq);
            double c = json_number_value(json_object_get(x, "confidence"));
            assert_true(fabs(c - (0.5 + (sp - sq) / 2)) < 0.0011);
            comparisons++;
        }
        /* complete: one comparison for every pair with a score gap */
        size_t gaps = 0, n = json_array_size(resp);
        for (size_t a = 0; a < n; a++)
            for (size_t b = a + 1; b < n; b++)
                gaps += json_number_value(json_object_get(
                            json_array_get(resp, a), "score")) >
                        json_number_value(json_object_get(
                            json_array_get(resp, b), "score"));
        assert_int_equal(json_array_size(json_object_get(r, "comparisons")),
                         gaps);
    }
    assert_true(comparisons > 0);
    json_decref(recs);
    done_with(out);
}

static void test_custom(void **state)
{
    (void)state;
    char *out = run_with(
        "formats = [\"custom\"];\n"
        "plugins = { custom = { template = {\n"
        "  prompt = \"$input.text\"; answer = \"A: ${output.text}\";\n"
        "  tools = \"$actions.names\"; steps = \"$turn.steps\";\n"
        "  price = \"$$5\"; nested = (\"$session.type\", 7); }; }; };\n");
    json_t *recs = records(out, "custom", NULL);
    /* a record per answered turn with actions: an empty $actions.names
     * skips the turn */
    size_t want = 0, i;
    json_t *run, *r;
    json_array_foreach(O.answered, i, run) {
        want += json_array_size(json_object_get(run, "actions")) > 0;
    }
    assert_int_equal(json_array_size(recs), want);
    json_array_foreach(recs, i, r) {
        assert_int_equal(json_object_size(r), 6);
        assert_int_equal(strncmp(str(r, "answer"), "A: ", 3), 0);
        assert_non_null(json_object_get(O.finals, str(r, "answer") + 3));
        assert_true(json_array_size(json_object_get(r, "tools")) > 0);
        assert_true(json_integer_value(json_object_get(r, "steps")) >= 1);
        assert_string_equal(str(r, "price"), "$5");
        json_t *nested = json_object_get(r, "nested");
        assert_true(json_is_string(json_array_get(nested, 0)));
        assert_int_equal(json_integer_value(json_array_get(nested, 1)), 7);
    }
    json_decref(recs);
    done_with(out);
}

/* The trainer-ready chat formats: every record keeps its loader's rules
 * (tests/chatcheck.c), one per session with an answered turn (as many as
 * conversation's), and the agent's tool use shows: parallel calls, failed
 * calls with their errors, model-fault calls at weight 0 (OpenAI) or left
 * out (HF). */
/* dataset_info.json in out has the entry of format's file, whose
 * columns are fields of every record (recs) and whose tags are the roles
 * the records use: LLaMA-Factory can load the file by the entry's name. */
static void check_dataset_info(const char *out, const char *format,
                               const char *formatting, json_t *recs)
{
    char *path = tu_fmt("%s/dataset_info.json", out);
    json_t *info = json_load_file(path, 0, NULL);
    free(path);
    char *file = tu_format_file(out, format);
    assert_non_null(info);
    assert_non_null(file);
    const char *base = strrchr(file, '/') + 1;
    char *name = tu_fmt("%.*s", (int)(strlen(base) - 6), base);
    json_t *entry = json_object_get(info, name);
    if (entry == NULL)
        fail_msg("dataset_info.json has no \"%s\"", name);
    assert_string_equal(str(entry, "file_name"), base);
    assert_string_equal(str(entry, "formatting"), formatting);
    const char *col;
    json_t *field, *r;
    size_t i;
    json_object_foreach(json_object_get(entry, "columns"), col, field)
        json_array_foreach(recs, i, r)
            if (json_object_get(r, json_string_value(field)) == NULL)
                fail_msg("%s column %s: record %zu has no \"%s\"", format, col,
                         i + 1, json_string_value(field));
    json_t *tags = json_object_get(entry, "tags");
    json_array_foreach(recs, i, r) {
        size_t k;
        json_t *t;
        json_array_foreach(json_object_get(r, "conversations"), k, t) {
            const char *from = str(t, str(tags, "role_tag"));
            assert_non_null(from);
            assert_true(strcmp(from, str(tags, "user_tag")) == 0 ||
                        strcmp(from, str(tags, "assistant_tag")) == 0 ||
                        strcmp(from, str(tags, "observation_tag")) == 0 ||
                        strcmp(from, str(tags, "function_tag")) == 0);
            assert_true(json_is_string(json_object_get(t, str(tags,
                                                              "content_tag"))));
        }
    }
    free(name);
    free(file);
    json_decref(info);
}

static void test_chat_formats(void **state)
{
    (void)state;
    char *out = run_with("formats = [\"openai-chat\", \"chat-messages\", "
                         "\"sharegpt\", \"conversation\", \"alpaca\", "
                         "\"instruction-tuning\"];\n");
    json_t *conv = records(out, "conversation", NULL);
    static const struct {
        const char *format;
        chat_dialect dialect;
    } formats[] = {{"openai-chat", CHAT_OPENAI}, {"chat-messages", CHAT_HF}};
    for (int f = 0; f < 2; f++) {
        json_t *recs = records(out, formats[f].format, NULL);
        assert_int_equal(json_array_size(recs), json_array_size(conv));
        size_t i, k, parallel = 0, errors = 0, weight0 = 0, calls = 0;
        json_t *r, *m;
        json_array_foreach(recs, i, r) {
            char *why = chat_check(r, formats[f].dialect);
            if (why)
                fail_msg("%s record %zu: %s", formats[f].format, i + 1, why);
            json_array_foreach(json_object_get(r, "messages"), k, m) {
                size_t nc = json_array_size(json_object_get(m, "tool_calls"));
                calls += nc;
                parallel += nc > 1;
                weight0 += json_object_get(m, "weight") &&
                           json_integer_value(json_object_get(m, "weight")) == 0;
                errors += str(m, "content") &&
                          strncmp(str(m, "content"), "{\"error\":", 9) == 0;
            }
        }
        assert_true(calls > 50 && parallel > 0 && errors > 5);
        if (formats[f].dialect == CHAT_OPENAI)
            assert_true(weight0 > 0);
        else
            assert_int_equal(weight0, 0);
        json_decref(recs);
    }
    /* sharegpt: LLaMA-Factory's rules, a record per conversation too */
    json_t *sg = records(out, "sharegpt", NULL);
    assert_int_equal(json_array_size(sg), json_array_size(conv));
    size_t i, calls = 0;
    json_t *r, *t;
    json_array_foreach(sg, i, r) {
        char *why = sharegpt_check(r);
        if (why)
            fail_msg("sharegpt record %zu: %s", i + 1, why);
        size_t k;
        json_array_foreach(json_object_get(r, "conversations"), k, t)
            calls += strcmp(str(t, "from"), "function_call") == 0;
    }
    assert_true(calls > 30);
    check_dataset_info(out, "sharegpt", "sharegpt", sg);
    json_decref(sg);
    /* alpaca: a record per answered turn (as instruction-tuning), its
     * history the session's earlier exchanges, each a non-empty pair */
    json_t *al = records(out, "alpaca", NULL);
    json_t *it = records(out, "instruction-tuning", NULL);
    assert_int_equal(json_array_size(al), json_array_size(it));
    size_t with_history = 0;
    json_array_foreach(al, i, r) {
        assert_string_equal(str(r, "instruction"),
                            str(json_array_get(it, i), "instruction"));
        assert_string_equal(str(r, "output"),
                            str(json_array_get(it, i), "response"));
        size_t k;
        json_array_foreach(json_object_get(r, "history"), k, t) {
            assert_int_equal(json_array_size(t), 2);
            assert_true(json_string_length(json_array_get(t, 0)) > 0 &&
                        json_string_length(json_array_get(t, 1)) > 0);
        }
        with_history += json_array_size(json_object_get(r, "history")) > 0;
    }
    assert_true(with_history > 0 && with_history < json_array_size(al));
    check_dataset_info(out, "alpaca", "alpaca", al);
    json_decref(al);
    json_decref(it);
    json_decref(conv);
    done_with(out);
}

/* dataset_info.json: what is there is kept (another dataset, an earlier
 * run); a file that is not a JSON object is left alone, with a warning,
 * and the datasets are written all the same. */
static void test_dataset_info_merged(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char *out = tu_fmt("%s/out", dir), *conf = tu_fmt("%s/t.conf", dir);
    char *info = tu_fmt("%s/dataset_info.json", out);
    char *host = tu_fmt("%s/synthhost", tu_build());
    char *cmd = tu_fmt("mkdir -p %s", out);
    assert_int_equal(system(cmd), 0);
    tu_write(info, "{\"mine\": {\"file_name\": \"mine.json\"}}");
    static const char *const formats[] = {"sharegpt", "alpaca"};
    for (int run = 0; run < 2; run++) {
        char *text = tu_fmt("input = \"%s/examples/agent-log.jsonl\";\n"
                            "formats = [\"%s\"];\n",
                            tu_root(), formats[run]);
        tu_write(conf, text);
        char *argv[] = {host, "-c", conf, "-o", out, NULL};
        char *err = NULL;
        assert_int_equal(tu_run(argv, NULL, NULL, &err), 0);
        char *file = tu_format_file(out, formats[run]);
        assert_non_null(file);
        if (run == 0) {
            json_t *v = json_load_file(info, 0, NULL);
            assert_string_equal(str(json_object_get(v, "mine"), "file_name"),
                                "mine.json");
            assert_int_equal(json_object_size(v), 2);
            json_decref(v);
            tu_write(info, "[\"not\", \"an object\"]");
        } else {
            assert_non_null(strstr(err, "dataset_info.json is not a JSON "
                                        "object; not updated"));
            char *kept = tu_read(info);
            assert_string_equal(kept, "[\"not\", \"an object\"]");
            free(kept);
        }
        free(file);
        free(err);
        free(text);
    }
    free(cmd);
    free(host);
    free(info);
    free(conf);
    free(out);
    tu_rmrf(dir);
    free(dir);
}

/* The preference formats: every record keeps its trainer's rules
 * (tests/chatcheck.c); dpo has both sources, openai-dpo only the text
 * pairs, kto two labelled records per pair. */
static void test_preference_formats(void **state)
{
    (void)state;
    char *out = run_with("formats = [\"dpo\", \"openai-dpo\", \"kto\"];\n");
    static const struct {
        const char *format;
        pref_format kind;
    } formats[] = {{"dpo", PREF_DPO},
                   {"openai-dpo", PREF_OPENAI_DPO},
                   {"kto", PREF_KTO}};
    size_t counts[3];
    for (int f = 0; f < 3; f++) {
        json_t *meta, *recs = records(out, formats[f].format, &meta);
        size_t i, retries = 0, trues = 0, scores = 0;
        json_t *r;
        json_array_foreach(recs, i, r) {
            char *why = pref_check(r, formats[f].kind);
            if (why)
                fail_msg("%s record %zu: %s", formats[f].format, i + 1, why);
            json_t *lineage = json_object_get(json_array_get(meta, i),
                                              "lineage");
            retries += strcmp(str(lineage, "source"), "retry") == 0;
            if (strcmp(str(lineage, "source"), "scores") == 0) {
                /* across sessions, apart by the default margin at least */
                scores++;
                assert_true(json_real_value(json_object_get(
                                lineage, "margin")) >= 0.2);
                assert_true(json_array_size(json_object_get(
                                lineage, "sessions")) >= 2);
            }
            trues += json_is_true(json_object_get(r, "label"));
        }
        counts[f] = json_array_size(recs);
        if (formats[f].kind == PREF_OPENAI_DPO)
            assert_int_equal(retries, 0);
        else
            assert_true(retries > 0 && retries < counts[f]);
        if (formats[f].kind == PREF_KTO)
            assert_int_equal(trues * 2, counts[f]);
        assert_true(scores > 0);
        json_decref(recs);
        json_decref(meta);
    }
    assert_true(counts[0] > counts[1] && counts[1] > 0);
    assert_int_equal(counts[2], 2 * counts[0]);
    done_with(out);
}

/* ---- capture switches ---------------------------------------------------------- */

static void test_capture_switches(void **state)
{
    (void)state;
    char *out = run_with(
        "formats = [\"reasoning-chains\", \"episodes\", \"action-sequences\","
        " \"instruction-tuning\"];\n"
        "capture = { reasoning = false; actions = false; conversations = "
        "false; };\n");
    /* no thoughts anywhere, no actions anywhere */
    json_t *rc = records(out, "reasoning-chains", NULL);
    assert_int_equal(json_array_size(rc), 0); /* nothing left to chain */
    json_t *ep = records(out, "episodes", NULL);
    assert_true(json_array_size(ep) > 0);
    size_t i;
    json_t *r;
    json_array_foreach(ep, i, r) {
        assert_int_equal(json_array_size(json_object_get(r, "thoughts")), 0);
        assert_int_equal(json_array_size(json_object_get(r, "actions")), 0);
    }
    json_t *as = records(out, "action-sequences", NULL);
    assert_int_equal(json_array_size(as), 0);
    json_t *it = records(out, "instruction-tuning", NULL);
    assert_int_equal(json_array_size(it), 0);
    json_decref(rc);
    json_decref(ep);
    json_decref(as);
    json_decref(it);
    done_with(out);

    out = run_with("formats = [\"reasoning-chains\"];\n"
                   "capture = { reasoning = false; };\n");
    rc = records(out, "reasoning-chains", NULL);
    assert_true(json_array_size(rc) > 0);
    json_array_foreach(rc, i, r) {
        size_t k;
        json_t *step;
        json_array_foreach(json_object_get(r, "reasoning"), k, step) {
            assert_null(json_object_get(step, "thought"));
        }
    }
    json_decref(rc);
    done_with(out);
}

/* ---- filters -------------------------------------------------------------------- */

static void test_filter_contexts(void **state)
{
    (void)state;
    static const struct {
        const char *patterns, *type;
    } cases[] = {{"[\"cli\"]", "cli"},
                 {"[\"discord.*\"]", "discord.channel"},
                 {"[\"support:T-1*\"]", "support"}};
    for (size_t c = 0; c < 3; c++) {
        char *body = tu_fmt("formats = [\"instruction-tuning\", "
                            "\"episodes\"];\nfilters = { contexts = %s; };\n",
                            cases[c].patterns);
        char *out = run_with(body);
        json_t *it = records(out, "instruction-tuning", NULL);
        json_t *ep = records(out, "episodes", NULL);
        size_t want = 0, i;
        json_t *run, *r;
        json_array_foreach(O.answered, i, run) {
            const char *ctx = str(run, "context");
            want += strncmp(ctx, cases[c].type, strlen(cases[c].type)) == 0 &&
                    ctx[strlen(cases[c].type)] == ':' &&
                    (c != 2 || strncmp(ctx, "support:T-1", 11) == 0);
        }
        assert_true(want > 0);
        assert_int_equal(json_array_size(it), want);
        json_array_foreach(it, i, r) {
            char *prefix = tu_fmt("Context: %s, ID: ", cases[c].type);
            assert_int_equal(strncmp(str(r, "context"), prefix, strlen(prefix)),
                             0);
            free(prefix);
        }
        json_array_foreach(ep, i, r) {
            const char *id = str(r, "episodeId");
            assert_int_equal(strncmp(id, cases[c].type, strlen(cases[c].type)),
                             0);
        }
        json_decref(it);
        json_decref(ep);
        done_with(out);
        free(body);
    }
}

static void test_filter_successful_only(void **state)
{
    (void)state;
    char *out = run_with("formats = [\"action-sequences\", \"episodes\", "
                         "\"instruction-tuning\"];\n"
                         "filters = { successful_only = true; };\n");
    json_t *as = records(out, "action-sequences", NULL);
    json_t *ep = records(out, "episodes", NULL);
    json_t *it = records(out, "instruction-tuning", NULL);
    assert_true(json_array_size(as) > 0);
    size_t i, k;
    json_t *r, *a;
    json_array_foreach(as, i, r) {
        json_array_foreach(json_object_get(r, "actions"), k, a) {
            assert_true(json_is_true(json_object_get(a, "success")));
        }
    }
    size_t clean = 0;
    const char *key;
    json_t *info;
    json_object_foreach(O.context_info, key, info) {
        clean += !json_is_true(json_object_get(info, "failed"));
    }
    assert_int_equal(json_array_size(ep), clean);
    json_array_foreach(ep, i, r) {
        assert_true(json_is_true(json_object_get(r, "success")));
    }
    json_array_foreach(it, i, r) {
        json_t *ci = json_object_get(O.context_info,
                                     oracle_context_of(str(r, "context")));
        assert_false(json_is_true(json_object_get(ci, "failed")));
    }
    json_decref(as);
    json_decref(ep);
    json_decref(it);
    done_with(out);
}

static void test_filter_conversation_length(void **state)
{
    (void)state;
    static const struct {
        int min, max;
    } cases[] = {{3, 0}, {0, 1}, {2, 3}};
    for (size_t c = 0; c < 3; c++) {
        char *body = tu_fmt("formats = [\"conversation\"];\nfilters = { "
                            "min_conversation_length = %d; "
                            "max_conversation_length = %d; };\n",
                            cases[c].min, cases[c].max);
        char *out = run_with(body);
        json_t *conv = records(out, "conversation", NULL);
        /* answered runs per context, from the oracle */
        json_t *per = json_object();
        size_t i;
        json_t *run, *r;
        json_array_foreach(O.answered, i, run) {
            const char *ctx = str(run, "context");
            json_object_set_new(per, ctx,
                                json_integer(json_integer_value(json_object_get(
                                                 per, ctx)) +
                                             1));
        }
        size_t want = 0;
        const char *k;
        json_t *n;
        json_object_foreach(per, k, n) {
            json_int_t v = json_integer_value(n);
            want += v >= cases[c].min && (cases[c].max == 0 || v <= cases[c].max);
        }
        assert_true(want > 0);
        assert_int_equal(json_array_size(conv), want);
        json_array_foreach(conv, i, r) {
            size_t pairs = json_array_size(json_object_get(r, "messages")) / 2;
            assert_true((int)pairs >= cases[c].min);
            assert_true(cases[c].max == 0 || (int)pairs <= cases[c].max);
        }
        json_decref(per);
        json_decref(conv);
        done_with(out);
        free(body);
    }
}

static void test_filter_actions(void **state)
{
    (void)state;
    char *out = run_with("formats = [\"action-sequences\", "
                         "\"reasoning-chains\", \"instruction-tuning\"];\n"
                         "filters = { actions = [\"web_search\", "
                         "\"calculate\"]; };\n");
    json_t *as = records(out, "action-sequences", NULL);
    json_t *rc = records(out, "reasoning-chains", NULL);
    json_t *it = records(out, "instruction-tuning", NULL);
    assert_true(json_array_size(as) > 0 && json_array_size(rc) > 0);
    size_t i, k;
    json_t *r, *a;
    json_array_foreach(as, i, r) {
        json_array_foreach(json_object_get(r, "actions"), k, a) {
            const char *n = str(a, "name");
            assert_true(strcmp(n, "web_search") == 0 ||
                        strcmp(n, "calculate") == 0);
        }
    }
    json_array_foreach(rc, i, r) {
        json_array_foreach(json_object_get(r, "reasoning"), k, a) {
            const char *call = str(a, "action");
            if (call)
                assert_true(strncmp(call, "web_search(", 11) == 0 ||
                            strncmp(call, "calculate(", 10) == 0);
        }
    }
    /* instruction-tuning records only from sessions that call one */
    json_array_foreach(it, i, r) {
        const char *ctx = oracle_context_of(str(r, "context"));
        int uses = 0;
        size_t j;
        json_t *run, *id;
        json_array_foreach(O.runs, j, run) {
            if (strcmp(str(run, "context"), ctx) != 0)
                continue;
            json_array_foreach(json_object_get(run, "actions"), k, id) {
                const char *n = str(json_object_get(O.calls,
                                                    json_string_value(id)),
                                    "name");
                uses |= strcmp(n, "web_search") == 0 ||
                        strcmp(n, "calculate") == 0;
            }
        }
        assert_true(uses);
    }
    json_decref(as);
    json_decref(rc);
    json_decref(it);
    done_with(out);
}

/* ---- shipped use-case configs ------------------------------------------------- */

/* Count the files of dir whose names end in suffix. */
static int count_suffix(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name), sl = strlen(suffix);
        n += len > sl && strcmp(e->d_name + len - sl, suffix) == 0;
    }
    if (d)
        closedir(d);
    return n;
}

/* What the records of a shipped example config must show (conf file
 * name, format): NULL when there is nothing in particular. */
static const char *example_problem(const char *conf, const char *format,
                                   json_t *recs)
{
    size_t i, k;
    json_t *r, *x;
    if (strcmp(conf, "reasoning-models.conf") == 0)
        /* its contexts filter names none of the example log (said in it) */
        return json_array_size(recs) == 0 ? NULL : "records from a context "
                                                   "the filter excludes";
    if (json_array_size(recs) == 0)
        return "no record";
    json_array_foreach(recs, i, r) {
        char *text = json_dumps(r, JSON_COMPACT);
        int pii = strstr(text, "@example.") != NULL;
        free(text);
        if (strcmp(conf, "privacy.conf") == 0 && pii)
            return "an e-mail address survived";
        if (strcmp(conf, "action-patterns.conf") == 0 &&
            strcmp(format, "action-sequences") == 0) {
            json_array_foreach(json_object_get(r, "actions"), k, x)
                if (!json_is_true(json_object_get(x, "success")))
                    return "a failed action despite successful_only";
        }
        if (strcmp(conf, "personal-assistant.conf") == 0 &&
            strcmp(format, "conversation") == 0) {
            size_t users = 0;
            json_array_foreach(json_object_get(r, "messages"), k, x)
                users += strcmp(str(x, "role"), "user") == 0;
            if (users < 2)
                return "a conversation shorter than min_conversation_length";
        }
        if (strcmp(format, "custom") == 0) {
            static const char *const keys[] = {"prompt", "answer", "tools",
                                               "meta", NULL};
            for (int j = 0; keys[j]; j++)
                if (json_object_get(r, keys[j]) == NULL)
                    return "a record without a field of the template";
        }
        if (strcmp(format, "grpo") == 0 &&
            json_array_size(json_object_get(r, "responses")) < 2)
            return "a group under min_group_size";
    }
    return NULL;
}

/* Each config in conf/examples runs as shipped and writes one file per
 * format.  They run from a copy of the tree's layout in a scratch
 * directory, so a key file they create lands there, not in the source. */
static void test_example_configs(void **state)
{
    (void)state;
    char *scratch = tu_tmpdir();
    char *cmd = tu_fmt("mkdir -p '%s/conf/examples' '%s/examples' && "
                       "cp '%s'/conf/examples/*.conf '%s/conf/examples/' && "
                       "cp '%s/examples/agent-log.jsonl' '%s/examples/'",
                       scratch, scratch, tu_root(), scratch, tu_root(),
                       scratch);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char *dir = tu_fmt("%s/conf/examples", scratch);
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    int ran = 0;
    for (int i = 0; i < n; i++) {
        const char *f = names[i]->d_name;
        size_t len = strlen(f);
        if (len > 5 && strcmp(f + len - 5, ".conf") == 0) {
            char *conf = tu_fmt("%s/%s", dir, f);
            config_t cfg;
            config_init(&cfg);
            assert_int_equal(config_read_file(&cfg, conf), CONFIG_TRUE);
            config_setting_t *formats = config_lookup(&cfg, "formats");
            assert_non_null(formats);
            char *out = tu_tmpdir();
            char *host = tu_fmt("%s/synthhost", tu_build());
            char *argv[] = {host, "-q", "-c", conf, "-o", out, NULL};
            char *err = NULL;
            if (tu_run(argv, NULL, NULL, &err) != 0)
                fail_msg("%s failed: %s", f, err);
            /* one file per format, and no other dataset */
            for (int k = 0; k < config_setting_length(formats); k++) {
                char *prefix = tu_fmt(
                    "%s-", config_setting_get_string_elem(formats, k));
                char *path = tu_find(out, prefix, ".jsonl");
                if (path == NULL)
                    fail_msg("%s wrote no %s file", f, prefix);
                json_t *recs = tu_load_jsonl(path);
                assert_non_null(recs);
                const char *problem = example_problem(
                    f, config_setting_get_string_elem(formats, k), recs);
                if (problem)
                    fail_msg("%s, %s: %s", f, prefix, problem);
                json_decref(recs);
                free(path);
                free(prefix);
            }
            assert_int_equal(count_suffix(out, ".jsonl"),
                             config_setting_length(formats));
            config_destroy(&cfg);
            tu_rmrf(out);
            free(out);
            free(err);
            free(host);
            free(conf);
            ran++;
        }
        free(names[i]);
    }
    free(names);
    free(dir);
    tu_rmrf(scratch);
    free(scratch);
    assert_true(ran >= 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reasoning_chains),
        cmocka_unit_test(test_action_sequences),
        cmocka_unit_test(test_episodes),
        cmocka_unit_test(test_grpo),
        cmocka_unit_test(test_custom),
        cmocka_unit_test(test_chat_formats),
        cmocka_unit_test(test_dataset_info_merged),
        cmocka_unit_test(test_preference_formats),
        cmocka_unit_test(test_capture_switches),
        cmocka_unit_test(test_filter_contexts),
        cmocka_unit_test(test_filter_successful_only),
        cmocka_unit_test(test_filter_conversation_length),
        cmocka_unit_test(test_filter_actions),
        cmocka_unit_test(test_example_configs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
