/* chatcheck.c -- the trainer formats' loader rules (see chatcheck.h). */
#include "chatcheck.h"
#include "testutil.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int blank(const char *s)
{
    if (s == NULL)
        return 1;
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return 0;
    return 1;
}

static int good_id(const char *id)
{
    if (id == NULL || strlen(id) != 9)
        return 0;
    for (int i = 0; i < 9; i++)
        if (!isalnum((unsigned char)id[i]))
            return 0;
    return 1;
}

char *chat_check(json_t *record, chat_dialect dialect)
{
    json_t *tools = json_object_get(record, "tools");
    json_t *parsed = NULL;
    if (dialect == CHAT_HF) {
        if (!json_is_string(tools))
            return tu_fmt("tools is not JSON text");
        tools = parsed = json_loads(json_string_value(tools), 0, NULL);
    }
    char *why = NULL;
    json_t *names = json_object(), *ids = json_object(), *open = json_array();
    size_t i;
    json_t *t, *m;
    if (!json_is_array(tools)) {
        why = tu_fmt("tools is not an array");
        goto done;
    }
    json_array_foreach(tools, i, t) {
        json_t *f = json_object_get(t, "function");
        const char *type = str(json_object_get(f, "parameters"), "type");
        if (strcmp(str(t, "type") ? str(t, "type") : "", "function") != 0 ||
            str(f, "name") == NULL || type == NULL || strcmp(type, "object"))
            return tu_fmt("tool %zu is not a function definition", i);
        json_object_set_new(names, str(f, "name"), json_true());
    }
    json_t *msgs = json_object_get(record, "messages");
    size_t n = json_array_size(msgs), assistants = 0;
    if (n == 0) {
        why = tu_fmt("no messages");
        goto done;
    }
    json_array_foreach(msgs, i, m) {
        const char *role = str(m, "role");
        const char *content = str(m, "content");
        if (role == NULL) {
            why = tu_fmt("message %zu has no role", i);
            break;
        }
        /* the answers of the last calls come first */
        if (strcmp(role, "tool") != 0 && json_array_size(open) > 0) {
            why = tu_fmt("message %zu: call %s has no result", i,
                         json_string_value(json_array_get(open, 0)));
            break;
        }
        if (json_object_get(m, "weight") &&
            (dialect != CHAT_OPENAI || strcmp(role, "assistant") != 0 ||
             !(json_integer_value(json_object_get(m, "weight")) == 0 ||
               json_integer_value(json_object_get(m, "weight")) == 1))) {
            why = tu_fmt("message %zu: a weight where none may be", i);
            break;
        }
        if (strcmp(role, "system") == 0) {
            if (i != 0 || blank(content))
                why = tu_fmt("message %zu: a system message not first, or "
                             "empty", i);
        } else if (strcmp(role, "user") == 0) {
            if (blank(content))
                why = tu_fmt("message %zu: an empty user message", i);
        } else if (strcmp(role, "assistant") == 0) {
            assistants++;
            json_t *calls = json_object_get(m, "tool_calls");
            if (blank(content) && json_array_size(calls) == 0) {
                why = tu_fmt("message %zu: an assistant saying nothing", i);
                break;
            }
            size_t k;
            json_t *c;
            json_array_foreach(calls, k, c) {
                json_t *f = json_object_get(c, "function");
                const char *id = str(c, "id");
                json_t *args = json_object_get(f, "arguments");
                /* (json_is_object evaluates its argument twice: parse once) */
                json_t *obj = dialect == CHAT_OPENAI && json_is_string(args)
                                  ? json_loads(json_string_value(args), 0, NULL)
                                  : NULL;
                if (!good_id(id) || json_object_get(ids, id))
                    why = tu_fmt("message %zu: call id \"%s\" not 9 letters "
                                 "or digits, or used twice", i, id);
                else if (strcmp(str(c, "type") ? str(c, "type") : "",
                                "function") != 0)
                    why = tu_fmt("message %zu: a call not of type function", i);
                else if (json_object_get(names, str(f, "name") ? str(f, "name")
                                                              : "") == NULL)
                    why = tu_fmt("message %zu: %s is not in tools", i,
                                 str(f, "name"));
                else if (dialect == CHAT_OPENAI ? !json_is_object(obj)
                                                : !json_is_object(args))
                    why = tu_fmt("message %zu: arguments of %s are not %s", i,
                                 id, dialect == CHAT_OPENAI
                                         ? "JSON text of an object"
                                         : "an object");
                json_decref(obj);
                if (why)
                    break;
                json_object_set_new(ids, id, json_string(str(f, "name")));
                json_array_append_new(open, json_string(id));
            }
        } else if (strcmp(role, "tool") == 0) {
            const char *id = str(m, "tool_call_id");
            size_t k, at = json_array_size(open);
            json_t *o;
            json_array_foreach(open, k, o)
                if (id && strcmp(json_string_value(o), id) == 0)
                    at = k;
            if (at == json_array_size(open))
                why = tu_fmt("message %zu: a result for %s, which is no "
                             "open call", i, id ? id : "(none)");
            else if (blank(content))
                why = tu_fmt("message %zu: an empty tool result", i);
            else if (dialect == CHAT_HF &&
                     strcmp(str(m, "name") ? str(m, "name") : "",
                            json_string_value(json_object_get(ids, id))) != 0)
                why = tu_fmt("message %zu: the result does not name %s's "
                             "function", i, id);
            else
                json_array_remove(open, at);
        } else {
            why = tu_fmt("message %zu: unknown role %s", i, role);
        }
        if (why)
            break;
        if (i == (str(json_array_get(msgs, 0), "role") &&
                          strcmp(str(json_array_get(msgs, 0), "role"),
                                 "system") == 0
                      ? 1u
                      : 0u) &&
            strcmp(role, "user") != 0) {
            why = tu_fmt("message %zu: the conversation does not start with "
                         "the user", i);
            break;
        }
    }
    if (why == NULL && json_array_size(open) > 0)
        why = tu_fmt("call %s has no result",
                     json_string_value(json_array_get(open, 0)));
    if (why == NULL) {
        json_t *last = json_array_get(msgs, n - 1);
        if (assistants == 0 ||
            strcmp(str(last, "role") ? str(last, "role") : "", "assistant") !=
                0 ||
            blank(str(last, "content")))
            why = tu_fmt("the last message is not an assistant's answer");
    }
done:
    json_decref(names);
    json_decref(ids);
    json_decref(open);
    json_decref(parsed);
    return why;
}

char *sharegpt_check(json_t *record)
{
    json_t *tools = json_loads(json_string_value(json_object_get(record,
                                                                 "tools"))
                                   ? json_string_value(
                                         json_object_get(record, "tools"))
                                   : "",
                               0, NULL);
    json_t *conv = json_object_get(record, "conversations");
    size_t n = json_array_size(conv), i;
    json_t *t;
    char *why = NULL;
    if (!json_is_array(tools))
        why = tu_fmt("tools is not JSON text of a list");
    else if (n == 0 || n % 2 != 0)
        why = tu_fmt("%zu messages: not an even, non-zero count", n);
    json_array_foreach(conv, i, t) {
        if (why)
            break;
        const char *from = str(t, "from"), *value = str(t, "value");
        int even = i % 2 == 0;
        if (from == NULL || blank(value)) {
            why = tu_fmt("message %zu: no from, or an empty value", i);
        } else if (even ? strcmp(from, "human") && strcmp(from, "observation")
                        : strcmp(from, "gpt") && strcmp(from, "function_call")) {
            why = tu_fmt("message %zu: %s at an %s position", i, from,
                         even ? "even" : "odd");
        } else if (strcmp(from, "observation") == 0 &&
                   strcmp(str(json_array_get(conv, i - 1), "from"),
                          "function_call") != 0) {
            why = tu_fmt("message %zu: an observation of no call", i);
        } else if (strcmp(from, "function_call") == 0) {
            json_t *calls = json_loads(value, 0, NULL), *c;
            size_t k;
            if (!json_is_array(calls) || json_array_size(calls) == 0)
                why = tu_fmt("message %zu: not a JSON list of calls", i);
            json_array_foreach(calls, k, c) {
                int known = 0;
                size_t j;
                json_t *d;
                json_array_foreach(tools, j, d) known |= str(c, "name") &&
                    strcmp(str(json_object_get(d, "function"), "name"),
                           str(c, "name")) == 0;
                if (!known || !json_is_object(json_object_get(c, "arguments")))
                    why = tu_fmt("message %zu: call %zu not in tools or its "
                                 "arguments no object", i, k);
            }
            /* a parallel step's results all come back, as a list */
            json_t *obs = json_loads(str(json_array_get(conv, i + 1), "value")
                                         ? str(json_array_get(conv, i + 1),
                                               "value")
                                         : "",
                                     JSON_DECODE_ANY, NULL);
            if (why == NULL && json_array_size(calls) > 1 &&
                json_array_size(obs) != json_array_size(calls))
                why = tu_fmt("message %zu: %zu parallel calls, %zu results",
                             i, json_array_size(calls), json_array_size(obs));
            json_decref(obs);
            json_decref(calls);
        }
    }
    if (why == NULL && (strcmp(str(json_array_get(conv, 0), "from"), "human") ||
                        strcmp(str(json_array_get(conv, n - 1), "from"), "gpt")))
        why = tu_fmt("does not start with human and end with gpt");
    json_decref(tools);
    return why;
}

/* side: an array of exactly one assistant message saying something;
 * its calls must be tools of the record.  NULL or a message. */
static char *one_answer(json_t *side, json_t *tools_record, int text_only,
                        const char *what)
{
    json_t *m = json_array_get(side, 0);
    if (json_array_size(side) != 1 ||
        strcmp(str(m, "role") ? str(m, "role") : "", "assistant") != 0)
        return tu_fmt("%s is not one assistant message", what);
    int calls = json_array_size(json_object_get(m, "tool_calls")) > 0;
    if ((text_only || !calls) && blank(str(m, "content")))
        return tu_fmt("%s has no text", what);
    if (!calls)
        return NULL;
    /* its calls, checked as a conversation that answers them */
    json_t *rec = json_pack("{s:[{s:s, s:s}, O], s:O?}", "messages", "role",
                            "user", "content", "q", m, "tools",
                            json_object_get(tools_record, "tools"));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(m, "tool_calls"), i, c)
        json_array_append_new(json_object_get(rec, "messages"),
                              json_pack("{s:s, s:O, s:O, s:s}", "role", "tool",
                                        "tool_call_id", json_object_get(c, "id"),
                                        "name",
                                        json_object_get(json_object_get(c, "function"),
                                                        "name"),
                                        "content", "r"));
    json_array_append_new(json_object_get(rec, "messages"),
                          json_pack("{s:s, s:s}", "role", "assistant",
                                    "content", "a"));
    char *why = chat_check(rec, CHAT_HF);
    json_decref(rec);
    if (why) {
        char *w = tu_fmt("%s: %s", what, why);
        free(why);
        return w;
    }
    return NULL;
}

/* m without its call ids, as text (owned), to compare two choices. */
static char *choice_text(json_t *side)
{
    json_t *m = json_deep_copy(json_array_get(side, 0));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(m, "tool_calls"), i, c)
        json_object_del(c, "id");
    char *t = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(m);
    return t;
}

char *pref_check(json_t *record, pref_format format)
{
    int openai = format == PREF_OPENAI_DPO;
    json_t *prompt = openai ? json_object_get(json_object_get(record, "input"),
                                              "messages")
                            : json_object_get(record, "prompt");
    json_t *tools = openai ? json_object_get(json_object_get(record, "input"),
                                             "tools")
                           : json_object_get(record, "tools");
    /* the prompt with an answer added is a conversation of the dialect */
    json_t *conv = json_array();
    json_array_extend(conv, prompt);
    json_array_append_new(conv, json_pack("{s:s, s:s}", "role", "assistant",
                                          "content", "the answer"));
    json_t *rec = json_pack("{s:o, s:O}", "messages", conv, "tools",
                            tools ? tools
                                  : (openai ? json_array() : json_string("[]")));
    if (tools == NULL)
        json_decref(json_object_get(rec, "tools")); /* the pack's O took one */
    char *why = chat_check(rec, openai ? CHAT_OPENAI : CHAT_HF);
    /* sides as HF messages (tools as text) for one_answer */
    json_t *hf_tools = json_pack("{s:o}", "tools",
                                 !openai && tools ? json_incref(tools)
                                                  : json_string("[]"));
    const char *a = format == PREF_KTO ? "completion"
                    : openai ? "preferred_output" : "chosen";
    const char *b = openai ? "non_preferred_output" : "rejected";
    if (why == NULL)
        why = one_answer(json_object_get(record, a), hf_tools, openai, a);
    if (why == NULL && format != PREF_KTO)
        why = one_answer(json_object_get(record, b), hf_tools, openai, b);
    if (why == NULL && format != PREF_KTO) {
        char *ta = choice_text(json_object_get(record, a));
        char *tb = choice_text(json_object_get(record, b));
        if (strcmp(ta, tb) == 0)
            why = tu_fmt("%s and %s are the same", a, b);
        free(ta);
        free(tb);
    }
    if (why == NULL && format == PREF_KTO &&
        !json_is_boolean(json_object_get(record, "label")))
        why = tu_fmt("label is not a boolean");
    json_decref(rec);
    json_decref(hf_tools);
    return why;
}
