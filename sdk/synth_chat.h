/*
 * synth_chat.h -- one chat form of a session for every trainer dialect:
 * messages, tool calls with stable ids, tool results or errors, and the
 * tool definitions the calls need.  The trainer-ready formatters
 * (openai-chat, chat-messages, ...) build it once with these helpers and
 * only write it out in their own shape.
 *
 * Header-only and optional, like synth_session.h: no ABI.
 *
 * The chat form is a JSON array of messages:
 *
 *   {"role": "user", "content": text}
 *   {"role": "assistant", "content": null,
 *    "calls": [{"id": "call00001", "name", "arguments": {...}}],
 *    "model_fault": true|false}
 *   {"role": "tool", "call_id": "call00001", "name", "ok": true|false,
 *    "content": the result (any JSON), or {"error": {"type", "message"}}}
 *   {"role": "assistant", "content": the turn's final answer}
 *
 * A turn gives its user input, then for each step of the model the calls
 * it made in that step (parallel calls share one assistant message) each
 * followed by its tool message, then the final answer.  Calls that failed
 * by the model's own fault (arguments that do not parse to an object, or
 * an error named ParsingError / ValidationError) are split from the rest
 * of their step into an assistant message of their own with
 * "model_fault": true, so a writer can keep them as context without
 * training on them; a tool that ran and failed is the environment's
 * fault and stays (the model should learn to recover).  A call to a tool
 * that does not exist (NotFoundError: the model invented the name) is
 * left out with its result: a trainer refuses a call to a name missing
 * from `tools`.  A turn without an input or a final answer is no
 * coherent exchange and gives nothing.
 */
#ifndef SYNTH_CHAT_H
#define SYNTH_CHAT_H

#include <stdio.h>
#include <string.h>

#include "synth_groups.h"
#include "synth_session.h"

/* v as text (new reference): itself when a string, else its compact JSON
 * -- what a dialect writes where a loader wants a string. */
static inline json_t *synth_chat_text(const json_t *v)
{
    if (json_is_string(v))
        return json_incref((json_t *)v);
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *s = json_string(t ? t : "null");
    free(t);
    return s;
}

/* The error name of a failed action (borrowed), or NULL. */
static inline const char *synth_chat_error_name(const json_t *action)
{
    return synth_str(json_object_get(action, "error"), "name");
}

/* 1 when the model invented the tool (NotFoundError), else 0. */
static inline int synth_chat_invented(const json_t *action)
{
    const char *e = synth_chat_error_name(action);
    return e && strcmp(e, "NotFoundError") == 0;
}

/* 1 when the call failed by the model's fault: a failed call whose
 * arguments are not a JSON object, or a parsing / validation error; 0
 * otherwise (a call that ran is never the model's fault). */
static inline int synth_chat_model_fault(const json_t *action)
{
    const char *status = synth_str(action, "status");
    if (status && strcmp(status, "ok") == 0)
        return 0;
    if (!json_is_object(json_object_get(action, "arguments")))
        return 1;
    const char *e = synth_chat_error_name(action);
    return e && (strcmp(e, "ParsingError") == 0 ||
                 strcmp(e, "ValidationError") == 0);
}

/* The id of the n-th call of a record (n from 1): "call" and five digits,
 * exactly 9 ASCII letters and digits (Mistral's templates refuse any
 * other), unique within a record and the same in every run. */
static inline void synth_chat_call_id(char out[10], unsigned n)
{
    snprintf(out, 10, "call%05u", n % 100000u);
}

/* The content of a call's tool message: its result, or its error as
 * {"error": {"type", "message"}} (new reference). */
static inline json_t *synth_chat_tool_content(const json_t *action)
{
    const char *status = synth_str(action, "status");
    json_t *err = json_object_get(action, "error");
    if ((status && strcmp(status, "error") == 0) || json_is_object(err)) {
        const char *type = synth_str(err, "name");
        const char *msg = synth_str(err, "message");
        return json_pack("{s:{s:s, s:s}}", "error", "type",
                         type ? type : "Error", "message",
                         msg ? msg : "the call failed");
    }
    json_t *r = json_object_get(action, "result");
    return r ? json_incref(r) : json_null();
}

/* Append the assistant message of calls (borrowed actions of one step;
 * n of them) and their tool messages to msgs; *next numbers the calls. */
static inline void synth_chat_calls(json_t *msgs, json_t *const *calls,
                                    size_t n, int fault, unsigned *next)
{
    if (n == 0)
        return;
    json_t *list = json_array(), *tools = json_array();
    for (size_t i = 0; i < n; i++) {
        char id[10];
        synth_chat_call_id(id, (*next)++);
        json_t *args = json_object_get(calls[i], "arguments");
        json_array_append_new(
            list, json_pack("{s:s, s:O, s:o}", "id", id, "name",
                            json_object_get(calls[i], "name"), "arguments",
                            json_is_object(args) ? json_incref(args)
                                                 : json_object()));
        const char *status = synth_str(calls[i], "status");
        json_array_append_new(
            tools, json_pack("{s:s, s:s, s:O, s:b, s:o}", "role", "tool",
                             "call_id", id, "name",
                             json_object_get(calls[i], "name"), "ok",
                             status && strcmp(status, "ok") == 0, "content",
                             synth_chat_tool_content(calls[i])));
    }
    json_array_append_new(msgs,
                          json_pack("{s:s, s:n, s:o, s:b}", "role", "assistant",
                                    "content", "calls", list, "model_fault",
                                    fault));
    json_array_extend(msgs, tools);
    json_decref(tools);
}

/* Append the chat form of turn (borrowed) to msgs: user, steps of calls
 * with their results, the final answer.  *next numbers the calls of the
 * record (start at 1).  Returns 1 when the turn was appended, 0 when it
 * is no coherent exchange (no input or no final answer; msgs untouched).
 * *invented counts the calls left out as invented. */
static inline int synth_chat_turn(json_t *msgs, const json_t *turn,
                                  unsigned *next, size_t *invented)
{
    const char *input = synth_turn_input_text(turn);
    json_t *answer = synth_turn_final_output(turn);
    if (input == NULL || answer == NULL)
        return 0;
    json_array_append_new(msgs, json_pack("{s:s, s:O}", "role", "user",
                                          "content",
                                          json_object_get(json_object_get(
                                              turn, "input"), "text")));
    json_t *actions = json_object_get(turn, "actions");
    size_t n = json_array_size(actions), i = 0;
    json_t **good = calloc(n + 1, sizeof *good);
    json_t **bad = calloc(n + 1, sizeof *bad);
    while (good && bad && i < n) {
        /* one step's calls, in the order of the log */
        json_t *step = json_object_get(json_array_get(actions, i), "step");
        size_t ng = 0, nb = 0;
        for (; i < n; i++) {
            json_t *a = json_array_get(actions, i);
            if (!json_equal(json_object_get(a, "step"), step))
                break;
            const char *status = synth_str(a, "status");
            if (synth_chat_invented(a)) {
                ++*invented;
            } else if (status && strcmp(status, "pending") == 0) {
                continue; /* never answered: no result to show */
            } else if (synth_chat_model_fault(a)) {
                bad[nb++] = a;
            } else {
                good[ng++] = a;
            }
        }
        synth_chat_calls(msgs, bad, nb, 1, next);
        synth_chat_calls(msgs, good, ng, 0, next);
    }
    free(good);
    free(bad);
    json_array_append_new(msgs, json_pack("{s:s, s:O}", "role", "assistant",
                                          "content",
                                          json_object_get(answer, "text")));
    return 1;
}

/* ---- tool definitions ------------------------------------------------------
 *
 * A tool's JSON Schema is inferred from the arguments of its calls (not
 * the invented ones): every key seen gets the JSON type of its values
 * ("string", "integer", "number", "boolean", "object", "array"; a key
 * successful calls gave two types gets none; a failed call only adds
 * keys, since a wrong type is often why it failed), and "required" lists
 * the keys present
 * in every successful call (none before one succeeded).  The state is one
 * object per tool name, so it stays small however long the run: {name:
 * {"calls": successful calls, "properties": {key: type|null}, "counts":
 * {key: successful calls that had it}}}. */

/* The JSON Schema type name of v. */
static inline const char *synth_chat_type(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    default: return "null";
    }
}

/* Learn from one call (borrowed) into state (an object, see above). */
static inline void synth_chat_learn(json_t *state, const json_t *action)
{
    const char *name = synth_str(action, "name");
    const char *status = synth_str(action, "status");
    json_t *args = json_object_get(action, "arguments");
    if (name == NULL || synth_chat_invented(action) || !json_is_object(args))
        return;
    int ok = status && strcmp(status, "ok") == 0;
    json_t *t = json_object_get(state, name);
    if (t == NULL) {
        t = json_pack("{s:i, s:{}, s:{}}", "calls", 0, "properties",
                      "counts");
        json_object_set_new(state, name, t);
    }
    json_object_set_new(t, "calls", json_integer(json_integer_value(
                                        json_object_get(t, "calls")) + ok));
    json_t *props = json_object_get(t, "properties");
    json_t *counts = json_object_get(t, "counts");
    const char *k;
    json_t *v;
    json_object_foreach(args, k, v) {
        const char *type = synth_chat_type(v);
        json_t *had = json_object_get(props, k);
        if (had == NULL)
            json_object_set_new(props, k, json_string(type));
        else if (ok && json_is_string(had) &&
                 strcmp(json_string_value(had), type) != 0)
            json_object_set_new(props, k, json_null()); /* mixed: no type */
        json_object_set_new(counts, k, json_integer(json_integer_value(
                                           json_object_get(counts, k)) + ok));
    }
}

/* The OpenAI function definition of tool name from state (new
 * reference), or NULL when the state has never seen it called:
 *   {"type": "function", "function": {"name",
 *    "parameters": {"type": "object", "properties", "required"}}}
 * (no description: the log has none to give). */
static inline json_t *synth_chat_tool(const json_t *state, const char *name)
{
    json_t *t = json_object_get(state, name);
    if (t == NULL)
        return NULL;
    json_int_t calls = json_integer_value(json_object_get(t, "calls"));
    json_t *props = json_object(), *required = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(t, "properties"), k, v) {
        json_object_set_new(props, k, json_is_string(v)
                                          ? json_pack("{s:O}", "type", v)
                                          : json_object());
        if (calls > 0 &&
            json_integer_value(json_object_get(json_object_get(t, "counts"),
                                               k)) == calls)
            json_array_append_new(required, json_string(k));
    }
    return json_pack("{s:s, s:{s:s, s:{s:s, s:o, s:o}}}", "type",
                     "function", "function", "name", name, "parameters",
                     "type", "object", "properties", props, "required",
                     required);
}

/* The definitions of the tools that the chat-form messages msgs
 * (borrowed) call, each once in first-call order (new reference): from
 * defined (a tools_file, may be NULL) when it names the tool, else
 * inferred from state, else (a tool never seen with object arguments)
 * one without parameters.  Every name a record calls is in its tools:
 * loaders refuse a call to a name missing from them. */
static inline json_t *synth_chat_tools_of(const json_t *msgs, json_t *state,
                                          const json_t *defined)
{
    json_t *tools = json_array(), *named = json_object();
    size_t i, k;
    json_t *m, *a;
    json_array_foreach(msgs, i, m) {
        json_array_foreach(json_object_get(m, "calls"), k, a) {
            const char *name = synth_str(a, "name");
            if (name == NULL || json_object_get(named, name))
                continue;
            json_t *def = json_incref(json_object_get(defined, name));
            if (def == NULL)
                def = synth_chat_tool(state, name);
            if (def == NULL)
                def = json_pack("{s:s, s:{s:s, s:{s:s, s:{}}}}", "type",
                                "function", "function", "name", name,
                                "parameters", "type", "object",
                                "properties");
            json_object_set_new(named, name, json_true());
            json_array_append_new(tools, def);
        }
    }
    json_decref(named);
    return tools;
}

/* ---- writing a message in a dialect ----------------------------------------- */

/* How synth_chat_openai weighs assistant messages. */
enum { SYNTH_CHAT_NO_WEIGHT = 0,   /* no "weight" (DPO inputs) */
       SYNTH_CHAT_WEIGHT_ALL = 1,  /* "weight": 1 on every one */
       SYNTH_CHAT_WEIGHT_FAULTS = 2 /* 0 on model-fault calls, else 1 */ };

/* One chat-form message (borrowed) in a trainer's shape (new reference):
 * OpenAI's (openai: arguments as JSON text, assistant messages weighed
 * as weights says, SYNTH_CHAT_*WEIGHT*) or the Hugging Face chat-template
 * one (arguments as objects, tool results named, no weight).  Tool
 * results are text either way. */
static inline json_t *synth_chat_message(const json_t *m, int openai,
                                         int weights)
{
    const char *role = synth_str(m, "role");
    json_t *out = synth_set(json_object(), "role", json_string(role));
    if (strcmp(role, "tool") == 0) {
        synth_set_ref(out, "tool_call_id", json_object_get(m, "call_id"));
        if (!openai)
            synth_set_ref(out, "name", json_object_get(m, "name"));
        return synth_set(out, "content",
                         synth_chat_text(json_object_get(m, "content")));
    }
    synth_set_ref(out, "content", json_object_get(m, "content"));
    json_t *calls = json_object_get(m, "calls");
    if (calls) {
        json_t *list = json_array();
        size_t i;
        json_t *c;
        json_array_foreach(calls, i, c) {
            json_t *args = json_object_get(c, "arguments");
            json_array_append_new(
                list, json_pack("{s:O, s:s, s:{s:O, s:o}}", "id",
                                json_object_get(c, "id"), "type", "function",
                                "function", "name", json_object_get(c, "name"),
                                "arguments",
                                openai ? synth_chat_text(args)
                                       : json_incref(args)));
        }
        synth_set(out, "tool_calls", list);
    }
    if (openai && weights != SYNTH_CHAT_NO_WEIGHT &&
        strcmp(role, "assistant") == 0)
        synth_set(out, "weight",
                  json_integer(weights == SYNTH_CHAT_WEIGHT_FAULTS &&
                                       json_is_true(json_object_get(
                                           m, "model_fault"))
                                   ? 0
                                   : 1));
    return out;
}

static inline json_t *synth_chat_openai(const json_t *m, int weights)
{
    return synth_chat_message(m, 1, weights);
}

static inline json_t *synth_chat_hf(const json_t *m)
{
    return synth_chat_message(m, 0, SYNTH_CHAT_NO_WEIGHT);
}

/* msgs (chat form, borrowed) without the model-fault calls and their
 * results, for the dialects that have no weight to keep them as context
 * (new reference; the messages shared). */
static inline json_t *synth_chat_without_faults(const json_t *msgs)
{
    json_t *out = json_array();
    int skipping = 0; /* the tool messages of a left-out call */
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        int tool = strcmp(synth_str(m, "role"), "tool") == 0;
        if (tool && skipping)
            continue;
        skipping = json_is_true(json_object_get(m, "model_fault"));
        if (!skipping)
            json_array_append(out, m);
    }
    return out;
}

/* Append the system message (when system is not blank) and then msgs
 * (chat form, borrowed) written by synth_chat_message to out.  Returns
 * out. */
static inline json_t *synth_chat_messages(json_t *out, const char *system,
                                          const json_t *msgs, int openai,
                                          int weights)
{
    if (!synth_blank(system))
        json_array_append_new(out, json_pack("{s:s, s:s}", "role", "system",
                                             "content", system));
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
        json_array_append_new(out, synth_chat_message(m, openai, weights));
    return out;
}

/* ---- a session in the chat form ------------------------------------------- */

/* A session (borrowed) as one record's chat form, learning its calls into
 * state first.  defined (borrowed, may be NULL) maps a tool name to its
 * definition from the user's tools_file, which wins over inference.
 * Returns a new object {"messages": [...], "tools": [definitions of the
 * tools called, in first-call order], "parallel": bool (a step made more
 * than one call), "turns": [ids of the turns used], "invented": n,
 * "skipped": turns left out}, or NULL when no turn is a coherent exchange;
 * *why then says why as a code: "no_input" (no turn has a user input) or
 * "no_answer" (none that has one has a final answer). */
static inline json_t *synth_chat_session(const json_t *session, json_t *state,
                                         const json_t *defined,
                                         const char **why)
{
    size_t i, k;
    json_t *turn, *a;
    json_array_foreach(json_object_get(session, "turns"), i, turn)
        json_array_foreach(json_object_get(turn, "actions"), k, a)
            synth_chat_learn(state, a);
    json_t *msgs = json_array(), *turns = json_array();
    unsigned next = 1;
    size_t invented = 0, skipped = 0, inputs = 0;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        inputs += synth_turn_input_text(turn) != NULL;
        if (synth_chat_turn(msgs, turn, &next, &invented))
            json_array_append(turns, json_object_get(turn, "id"));
        else
            skipped++;
    }
    if (json_array_size(turns) == 0) {
        *why = inputs ? "no_answer" : "no_input";
        json_decref(msgs);
        json_decref(turns);
        return NULL;
    }
    json_t *tools = synth_chat_tools_of(msgs, state, defined);
    int parallel = 0;
    json_t *m;
    json_array_foreach(msgs, i, m)
        parallel |= json_array_size(json_object_get(m, "calls")) > 1;
    json_t *r = json_pack("{s:o, s:o, s:b, s:o, s:I, s:I}", "messages", msgs,
                          "tools", tools, "parallel", parallel, "turns", turns,
                          "invented", (json_int_t)invented, "skipped",
                          (json_int_t)skipped);
    return r;
}

/* ---- preference pairs -------------------------------------------------------
 *
 * Where a log shows the agent choosing, and which choice was better:
 *  "retry": a call that failed and a later call of the same tool in the
 *    same turn that succeeded with other arguments (the model's own
 *    correction): at the failed call's assistant message, chosen is the
 *    later call, rejected the failed one;
 *  "rejected_output": an output the framework rejected (its schema) and
 *    the turn's final answer: at the answer, chosen is the answer,
 *    rejected the rejected text, when they differ;
 *  "scores": final answers to the same prompt (normalised) across
 *    sessions, scored as grpo scores them (synth_groups.h): the best
 *    against each other whose score is lower by min_margin or more
 *    (and lower at all: equal scores say nothing).  The
 *    prompt is the user's input alone (the answers come from different
 *    conversations), chosen and rejected the two answers' texts.
 * The prompt is the conversation up to the choice point (the session's
 * earlier turns, the user's input, the calls and results so far): it
 * never ends with an assistant message.  chosen and rejected are single
 * assistant messages of the chat form and never the same. */

enum {
    SYNTH_CHAT_RETRIES = 1,
    SYNTH_CHAT_REJECTED_OUTPUTS = 2,
    SYNTH_CHAT_SCORES = 4
};

/* The calls of an assistant message as [[name, arguments]...] (new
 * reference): what it chose, without the ids. */
static inline json_t *synth_chat_choice(const json_t *m)
{
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(m, "calls"), i, c)
        json_array_append_new(out, json_pack("[O, O]", json_object_get(c, "name"),
                                             json_object_get(c, "arguments")));
    return out;
}

/* Append a pair to pairs: the prompt is history plus msgs[0..upto). */
static inline void synth_chat_pair(json_t *pairs, const char *source,
                                   const json_t *history, const json_t *msgs,
                                   size_t upto, json_t *chosen,
                                   json_t *rejected)
{
    json_t *prompt = json_array();
    json_array_extend(prompt, (json_t *)history);
    for (size_t k = 0; k < upto; k++)
        json_array_append(prompt, json_array_get(msgs, k));
    json_array_append_new(pairs, json_pack("{s:s, s:o, s:O, s:O}", "source",
                                           source, "prompt", prompt, "chosen",
                                           chosen, "rejected", rejected));
}

/* 1 when the tool messages after msgs[i] (an assistant message with
 * calls) hold a result of name with ok as given. */
static inline int synth_chat_result(const json_t *msgs, size_t i,
                                    const char *name, int ok)
{
    json_t *t;
    for (size_t k = i + 1; (t = json_array_get(msgs, k)) != NULL &&
                           strcmp(synth_str(t, "role"), "tool") == 0;
         k++)
        if (strcmp(synth_str(t, "name"), name) == 0 &&
            json_is_true(json_object_get(t, "ok")) == ok)
            return 1;
    return 0;
}

/* The pairs of turn (borrowed) after history (the chat form of the
 * session's earlier turns, which the turn is then appended to), from the
 * sources asked (SYNTH_CHAT_RETRIES | SYNTH_CHAT_REJECTED_OUTPUTS);
 * appended to pairs.  *next numbers the calls, *invented counts the
 * invented calls left out.  Returns how many pairs were added. */
static inline size_t synth_chat_turn_pairs(json_t *pairs, json_t *history,
                                           const json_t *turn, int sources,
                                           unsigned *next, size_t *invented)
{
    size_t before = json_array_size(pairs);
    json_t *msgs = json_array();
    if (!synth_chat_turn(msgs, turn, next, invented)) {
        json_decref(msgs);
        return 0;
    }
    size_t n = json_array_size(msgs), i, j, k;
    json_t *m, *c;
    for (i = 0; (sources & SYNTH_CHAT_RETRIES) && i < n; i++) {
        m = json_array_get(msgs, i);
        int found = 0;
        json_array_foreach(json_object_get(m, "calls"), k, c) {
            const char *name = synth_str(c, "name");
            if (found || !synth_chat_result(msgs, i, name, 0))
                continue;
            for (j = i + 1; j < n && !found; j++) {
                json_t *later = json_array_get(msgs, j);
                size_t l;
                json_t *lc;
                json_array_foreach(json_object_get(later, "calls"), l, lc) {
                    if (strcmp(synth_str(lc, "name"), name) != 0 ||
                        !synth_chat_result(msgs, j, name, 1))
                        continue;
                    json_t *a = synth_chat_choice(m), *b = synth_chat_choice(later);
                    if (!json_equal(a, b)) {
                        synth_chat_pair(pairs, "retry", history, msgs, i, later,
                                        m);
                        found = 1;
                    }
                    json_decref(a);
                    json_decref(b);
                    break;
                }
            }
        }
    }
    json_t *answer = json_array_get(msgs, n - 1), *o;
    json_t *seen = json_object();
    json_array_foreach(json_object_get(turn, "outputs"), i, o) {
        const char *text = synth_str(o, "text"), *status = synth_str(o, "status");
        if (!(sources & SYNTH_CHAT_REJECTED_OUTPUTS) || status == NULL ||
            strcmp(status, "rejected") != 0 || synth_blank(text) ||
            strcmp(text, synth_str(answer, "content")) == 0 ||
            json_object_get(seen, text))
            continue;
        json_object_set_new(seen, text, json_true());
        json_t *rejected = json_pack("{s:s, s:s}", "role", "assistant",
                                     "content", text);
        synth_chat_pair(pairs, "rejected_output", history, msgs, n - 1, answer,
                        rejected);
        json_decref(rejected);
    }
    json_decref(seen);
    json_array_extend(history, msgs);
    json_decref(msgs);
    return json_array_size(pairs) - before;
}

/* Every pair of a session (borrowed), learning its calls into state
 * first (see synth_chat_session): a new array of {"source", "prompt",
 * "chosen", "rejected", "tools" (the definitions of every tool the
 * three call), "turn": the turn's id}. */
static inline json_t *synth_chat_session_pairs(const json_t *session,
                                               json_t *state,
                                               const json_t *defined,
                                               int sources)
{
    size_t i, k;
    json_t *turn, *a;
    json_array_foreach(json_object_get(session, "turns"), i, turn)
        json_array_foreach(json_object_get(turn, "actions"), k, a)
            synth_chat_learn(state, a);
    json_t *pairs = json_array(), *history = json_array();
    unsigned next = 1;
    size_t invented = 0;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        size_t from = json_array_size(pairs);
        synth_chat_turn_pairs(pairs, history, turn, sources, &next, &invented);
        for (k = from; k < json_array_size(pairs); k++) {
            json_t *p = json_array_get(pairs, k);
            json_t *all = json_array();
            json_array_extend(all, json_object_get(p, "prompt"));
            json_array_append(all, json_object_get(p, "chosen"));
            json_array_append(all, json_object_get(p, "rejected"));
            json_object_set_new(p, "tools",
                                synth_chat_tools_of(all, state, defined));
            json_object_set(p, "turn", json_object_get(turn, "id"));
            json_decref(all);
        }
    }
    json_decref(history);
    return pairs;
}

/* Read a tools file in the OpenAI `tools` shape ([{"type": "function",
 * "function": {"name", ...}}]) into {name: definition} (new reference), or
 * NULL with *why (a line of text) when it cannot be read or is not that
 * shape. */
static inline json_t *synth_chat_tools_file(const char *path, char *why,
                                            size_t wl)
{
    json_error_t err;
    json_t *list = json_load_file(path, 0, &err);
    if (list == NULL) {
        snprintf(why, wl, "%s:%d: %s", path, err.line, err.text);
        return NULL;
    }
    json_t *out = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(list, i, t) {
        const char *name = synth_str(json_object_get(t, "function"), "name");
        if (name == NULL || !json_is_string(json_object_get(t, "type"))) {
            snprintf(why, wl, "%s: entry %zu is not {\"type\": \"function\", "
                              "\"function\": {\"name\", ...}}",
                     path, i);
            json_decref(out);
            json_decref(list);
            return NULL;
        }
        json_object_set(out, name, t);
    }
    if (!json_is_array(list)) {
        snprintf(why, wl, "%s: not a JSON array of tools", path);
        json_decref(out);
        out = NULL;
    }
    json_decref(list);
    return out;
}

/* ---- what every chat formatter holds -------------------------------------- */

/* The options every formatter built on these helpers declares (put
 * SYNTH_CHAT_OPTIONS first in its option table). */
/* The preference formats' options (after SYNTH_CHAT_OPTIONS). */
#define SYNTH_CHAT_PAIR_OPTIONS                                            \
    {"retries", SYNTH_OPT_BOOL, 0, "true",                                 \
     "pairs from a failed call and the later call that succeeded"},        \
    {"rejected_outputs", SYNTH_OPT_BOOL, 0, "true",                        \
     "pairs from an output the framework rejected and the final answer"},  \
    {"scores", SYNTH_OPT_BOOL, 0, "true",                                  \
     "pairs of answers to the same prompt whose scores differ"},           \
    {"min_margin", SYNTH_OPT_FLOAT, 0, "0.2",                              \
     "scores: the least score gap between chosen and rejected"},           \
    {"scorer_format", SYNTH_OPT_STRING, 0, "instruction-tuning",           \
     "scores: score answers with the scorers of this format"},             \
    {"group_size", SYNTH_OPT_INT, 0, "4",                                  \
     "scores: pair a prompt's answers as soon as it has this many"},       \
    {"max_pending", SYNTH_OPT_INT, 0, "2000",                              \
     "scores: prompts held at once; the oldest goes out first"}


#define SYNTH_CHAT_OPTIONS                                                 \
    {"conversations", SYNTH_OPT_BOOL, 0, "true",                           \
     "capture switch: false writes no records"},                           \
    {"system", SYNTH_OPT_STRING, 0, "You are a helpful AI assistant agent.", \
     "system message of every record (\"\": none)"},                       \
    {"weight_model_errors", SYNTH_OPT_BOOL, 0, "true",                     \
     "calls that failed by the model's fault get weight 0"},               \
    {"tools_file", SYNTH_OPT_PATH, 0, NULL,                                \
     "tool definitions (OpenAI tools JSON) that win over inferred ones"}

typedef struct synth_chat_base {
    int enabled, weight_model_errors;
    const char *system;       /* borrowed option */
    json_t *defined;          /* owned: tools_file by name, or NULL */
    json_t *state;            /* owned: the inferred schemas */
    long long skipped;        /* sessions with no coherent turn */
    /* preference formats only */
    int sources;              /* SYNTH_CHAT_RETRIES | ... */
    double min_margin;
    const char *scorer_format; /* borrowed option */
    const char *name;         /* the format's name (static), for counters */
    synth_groups groups;      /* owned: answers waiting for their pairs */
    int (*pair_fn)(struct synth_chat_base *b, synth_ctx *ctx, json_t *pair);
} synth_chat_base;

/* Read SYNTH_CHAT_OPTIONS into b.  Returns SYNTH_OK or an error already
 * described through host->error / opt_error. */
static inline int synth_chat_base_create(const synth_host_api *host,
                                         synth_ctx *ctx, synth_chat_base *b)
{
    const char *tools_file = NULL;
    memset(b, 0, sizeof *b);
    if (host->opt_bool(ctx, "conversations", &b->enabled) != SYNTH_OK ||
        host->opt_bool(ctx, "weight_model_errors", &b->weight_model_errors) !=
            SYNTH_OK ||
        host->opt_string(ctx, "system", &b->system) != SYNTH_OK)
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read options");
    if (host->opt_string(ctx, "tools_file", &tools_file) == SYNTH_OK) {
        char why[512];
        b->defined = synth_chat_tools_file(tools_file, why, sizeof why);
        if (b->defined == NULL)
            return host->opt_error(ctx, "tools_file", -1, "%s", why);
    }
    b->state = json_object();
    return SYNTH_OK;
}

/* Free what b owns; NULL-safe. */
static inline void synth_chat_base_destroy(synth_chat_base *b)
{
    if (b == NULL)
        return;
    json_decref(b->defined);
    json_decref(b->state);
    synth_groups_free(&b->groups);
}

/* The chat form of session for a chat format's session(): NULL when the
 * capture switch is off or when no turn is a coherent exchange (said
 * through host->skip_session, which counts it as <format>: skipped_<why> and
 * traces it in the sidecar; a host older than ABI 1.2 counts
 * <format>.skipped_<why> only).  A new reference otherwise (see
 * synth_chat_session); with weight_model_errors and drop_faults, its
 * messages are without the model-fault calls (synth_chat_without_faults),
 * for the dialects that cannot weigh them. */
static inline json_t *synth_chat_for(synth_chat_base *b,
                                     const synth_host_api *host,
                                     synth_ctx *ctx, const json_t *session,
                                     const char *format, int drop_faults)
{
    if (!b->enabled)
        return NULL;
    const char *why = NULL;
    json_t *chat = synth_chat_session(session, b->state, b->defined, &why);
    if (chat == NULL) {
        const char *text = strcmp(why, "no_input") == 0
                               ? "no turn has a user input"
                               : "no turn with a user input has a final "
                                 "answer";
        if (SYNTH_HAS_FIELD(host, synth_host_api, skip_session)) {
            host->skip_session(ctx, why, "%s", text);
        } else {
            char counter[96];
            snprintf(counter, sizeof counter, "%.60s.skipped_%s", format, why);
            host->count(ctx, counter, 1);
        }
        return NULL;
    }
    if (drop_faults && b->weight_model_errors)
        json_object_set_new(chat, "messages",
                            synth_chat_without_faults(
                                json_object_get(chat, "messages")));
    return chat;
}

/* What a preference format does with one pair (borrowed): write and emit
 * its record(s).  Returns SYNTH_OK or an error said through the host. */
typedef int (*synth_chat_pair_fn)(synth_chat_base *b, synth_ctx *ctx,
                                  json_t *pair);

/* Read SYNTH_CHAT_PAIR_OPTIONS into b (made by synth_chat_base_create)
 * for the format `name` (static) whose pairs go to fn.  Returns SYNTH_OK
 * or an error said through the host. */
static inline int synth_chat_pairs_create(const synth_host_api *host,
                                          synth_ctx *ctx, synth_chat_base *b,
                                          const char *name,
                                          synth_chat_pair_fn fn)
{
    int retries, rejected, scores;
    long long group_size, max_pending;
    if (host->opt_bool(ctx, "retries", &retries) != SYNTH_OK ||
        host->opt_bool(ctx, "rejected_outputs", &rejected) != SYNTH_OK ||
        host->opt_bool(ctx, "scores", &scores) != SYNTH_OK ||
        host->opt_float(ctx, "min_margin", &b->min_margin) != SYNTH_OK ||
        host->opt_string(ctx, "scorer_format", &b->scorer_format) !=
            SYNTH_OK ||
        host->opt_int(ctx, "group_size", &group_size) != SYNTH_OK ||
        host->opt_int(ctx, "max_pending", &max_pending) != SYNTH_OK)
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read the pair options");
    if (b->min_margin < 0 || b->min_margin > 1)
        return host->opt_error(ctx, "min_margin", -1,
                               "must be between 0 and 1 (scores are)");
    if (group_size < 2)
        return host->opt_error(ctx, "group_size", -1,
                               "must be at least 2 (a pair compares)");
    if (max_pending < 1)
        return host->opt_error(ctx, "max_pending", -1, "must be at least 1");
    b->sources = (retries ? SYNTH_CHAT_RETRIES : 0) |
                 (rejected ? SYNTH_CHAT_REJECTED_OUTPUTS : 0) |
                 (scores ? SYNTH_CHAT_SCORES : 0);
    b->name = name;
    b->pair_fn = fn;
    if (synth_groups_init(&b->groups, name, group_size, 2, max_pending) !=
        SYNTH_OK)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    return SYNTH_OK;
}

/* Hand pair (borrowed) to the format, counted as <name>.pairs_from_<its
 * source>.  Returns what the format's pair_fn returns. */
static inline int synth_chat_give_pair(const synth_host_api *host,
                                       synth_chat_base *b, synth_ctx *ctx,
                                       json_t *pair)
{
    char counter[96];
    snprintf(counter, sizeof counter, "%.40s.pairs_from_%.30s", b->name,
             synth_str(pair, "source"));
    host->count(ctx, counter, 1);
    return b->pair_fn(b, ctx, pair);
}

/* A released group of answers (synth_group_fn, with b as the owner): the
 * best answer against each distinct one scored at least min_margin lower
 * (the others counted as <name>.pairs_below_margin). */
static inline int synth_chat_score_pairs(const synth_host_api *host,
                                         synth_chat_base *b, synth_ctx *ctx,
                                         json_t *group, json_t *ranked)
{
    json_t *best = json_array_get(ranked, 0), *r;
    double top = json_real_value(json_object_get(best, "score"));
    size_t i;
    long long below = 0;
    int rc = SYNTH_OK;
    json_array_foreach(ranked, i, r) {
        double gap = synth_round3(
            top - json_real_value(json_object_get(r, "score")));
        if (i == 0 || rc != SYNTH_OK)
            continue;
        if (gap <= 0 || gap < b->min_margin) { /* equal: no preference */
            below++;
            continue;
        }
        json_t *pair = json_pack(
            "{s:s, s:[{s:s, s:O}], s:{s:s, s:O}, s:{s:s, s:O}, s:[], "
            "s:[O, O], s:f, s:O}",
            "source", "scores", "prompt", "role", "user", "content",
            json_object_get(group, "prompt"), "chosen", "role", "assistant",
            "content", json_object_get(best, "text"), "rejected", "role",
            "assistant", "content", json_object_get(r, "text"), "tools",
            "turn", json_object_get(best, "turn"), json_object_get(r, "turn"),
            "margin", gap, "sessions", json_object_get(group, "sessions"));
        rc = synth_chat_give_pair(host, b, ctx, pair);
        json_decref(pair);
    }
    if (below) {
        char counter[96];
        snprintf(counter, sizeof counter, "%.40s.pairs_below_margin", b->name);
        host->count(ctx, counter, below);
    }
    return rc;
}

/* The final answers of session's turns (borrowed) into b's groups, scored
 * (synth_groups_score; a turn whose calls all succeeded counts as a
 * success).  fn is the format's synth_group_fn (which calls
 * synth_chat_score_pairs).  Returns SYNTH_OK or the first error. */
static inline int synth_chat_group_answers(const synth_host_api *host,
                                           synth_chat_base *b, synth_ctx *ctx,
                                           const json_t *session,
                                           synth_group_fn fn)
{
    char context[512];
    synth_context_line(session, context, sizeof context);
    size_t i;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        const char *prompt = synth_turn_input_text(turn);
        json_t *final = synth_turn_final_output(turn);
        if (prompt == NULL || final == NULL)
            continue;
        char *key;
        json_t *group = synth_groups_find(&b->groups, host, ctx, prompt,
                                          context, &key, fn, b);
        if (group == NULL)
            return SYNTH_EPLUGIN; /* said through the host */
        json_t *text = json_object_get(final, "text");
        json_t *r = json_pack(
            "{s:O, s:f, s:O}", "text", text, "score",
            synth_groups_score(host, ctx, b->scorer_format, b->system,
                               json_object_get(group, "prompt"), context,
                               text, synth_turn_actions_ok(turn)),
            "turn", json_object_get(turn, "id"));
        int rc = synth_groups_add(&b->groups, host, ctx, key, r,
                                  json_object_get(session, "id"), fn, b);
        free(key);
        if (rc != SYNTH_OK)
            return rc;
    }
    return SYNTH_OK;
}

/* The session() of a preference format: its pairs within the session
 * (retries, rejected outputs) to the format now, its answers to the
 * score groups, unless the capture switch is off.  fn as for
 * synth_chat_group_answers.  Returns SYNTH_OK or the first error. */
static inline int synth_chat_each_pair(const synth_host_api *host,
                                       synth_chat_base *b, synth_ctx *ctx,
                                       const json_t *session,
                                       synth_group_fn fn)
{
    if (!b->enabled)
        return SYNTH_OK;
    json_t *pairs = synth_chat_session_pairs(session, b->state, b->defined,
                                             b->sources);
    size_t i;
    json_t *p;
    int rc = SYNTH_OK;
    json_array_foreach(pairs, i, p) {
        rc = synth_chat_give_pair(host, b, ctx, p);
        if (rc != SYNTH_OK)
            break;
    }
    json_decref(pairs);
    if (rc == SYNTH_OK && (b->sources & SYNTH_CHAT_SCORES))
        rc = synth_chat_group_answers(host, b, ctx, session, fn);
    return rc;
}

/* Emit record (stolen) made of pair (borrowed), with its turn and source
 * as lineage.  Returns what synth_emit_built returns. */
static inline int synth_chat_emit_pair(const synth_host_api *host,
                                       synth_ctx *ctx, const json_t *pair,
                                       json_t *record)
{
    json_t *lineage = json_pack("{s:O, s:O}", "turn",
                                json_object_get(pair, "turn"), "source",
                                json_object_get(pair, "source"));
    json_t *v;
    if ((v = json_object_get(pair, "margin")) != NULL)
        synth_set_ref(lineage, "margin", v);
    if ((v = json_object_get(pair, "sessions")) != NULL)
        synth_set_ref(lineage, "sessions", v);
    return synth_emit_built(host, ctx, record, lineage);
}

/* Emit record (stolen) built from chat (stolen: freed here), with the
 * lineage every chat format gives: the turns used and the invented calls
 * left out.  Returns what synth_emit_built returns. */
static inline int synth_chat_emit(const synth_host_api *host, synth_ctx *ctx,
                                  json_t *chat, json_t *record)
{
    json_t *lineage = json_pack("{s:O, s:O, s:O}", "turns",
                                json_object_get(chat, "turns"),
                                "turns_left_out", json_object_get(chat, "skipped"),
                                "invented_calls_left_out",
                                json_object_get(chat, "invented"));
    json_decref(chat);
    return synth_emit_built(host, ctx, record, lineage);
}

/* Define create/destroy for a formatter whose instance is a bare
 * synth_chat_base (most are). */
#define SYNTH_CHAT_LIFECYCLE(prefix, host_var)                             \
    static int prefix##_create(synth_ctx *ctx, void **instance)            \
    {                                                                      \
        synth_chat_base *b = calloc(1, sizeof *b);                         \
        if (b == NULL)                                                     \
            return host_var->error(ctx, SYNTH_ENOMEM, "out of memory");    \
        int rc = synth_chat_base_create(host_var, ctx, b);                 \
        if (rc != SYNTH_OK) {                                              \
            synth_chat_base_destroy(b);                                    \
            free(b);                                                       \
            return rc;                                                     \
        }                                                                  \
        *instance = b;                                                     \
        return SYNTH_OK;                                                   \
    }                                                                      \
    static void prefix##_destroy(void *instance)                           \
    {                                                                      \
        synth_chat_base_destroy(instance);                                 \
        free(instance);                                                    \
    }

/* Define the lifecycle of a preference formatter: create/destroy (a
 * synth_chat_base with SYNTH_CHAT_OPTIONS and SYNTH_CHAT_PAIR_OPTIONS
 * read), session(), flush(), save() and restore() (the score groups),
 * given the format's name and its synth_chat_pair_fn. */
#define SYNTH_CHAT_PAIR_LIFECYCLE(prefix, host_var, format_name, pair_fn)  \
    SYNTH_CHAT_LIFECYCLE(prefix##_base, host_var)                          \
    static void prefix##_destroy(void *instance)                           \
    {                                                                      \
        prefix##_base_destroy(instance);                                   \
    }                                                                      \
    static int prefix##_create(synth_ctx *ctx, void **instance)            \
    {                                                                      \
        int rc = prefix##_base_create(ctx, instance);                      \
        if (rc == SYNTH_OK &&                                              \
            (rc = synth_chat_pairs_create(host_var, ctx, *instance,        \
                                          format_name, pair_fn)) !=        \
                SYNTH_OK) {                                                \
            prefix##_destroy(*instance);                                   \
            *instance = NULL;                                              \
        }                                                                  \
        return rc;                                                         \
    }                                                                      \
    static int prefix##_released(void *owner, synth_ctx *ctx,              \
                                 json_t *group, json_t *ranked,            \
                                 size_t merged)                            \
    {                                                                      \
        (void)merged;                                                      \
        return synth_chat_score_pairs(host_var, owner, ctx, group,         \
                                      ranked);                             \
    }                                                                      \
    static int prefix##_session(void *instance, synth_ctx *ctx,            \
                                json_t *session)                           \
    {                                                                      \
        return synth_chat_each_pair(host_var, instance, ctx, session,      \
                                    prefix##_released);                    \
    }                                                                      \
    static int prefix##_flush(void *instance, synth_ctx *ctx)              \
    {                                                                      \
        synth_chat_base *b_ = instance;                                    \
        return synth_groups_flush(&b_->groups, host_var, ctx,              \
                                  prefix##_released, b_);                  \
    }                                                                      \
    static json_t *prefix##_save(void *instance)                           \
    {                                                                      \
        return synth_groups_save(&((synth_chat_base *)instance)->groups);  \
    }                                                                      \
    static int prefix##_restore(void *instance, synth_ctx *ctx,            \
                                json_t *state)                             \
    {                                                                      \
        return synth_groups_restore(&((synth_chat_base *)instance)->groups, \
                                    host_var, ctx, state);                 \
    }

#endif
