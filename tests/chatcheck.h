/*
 * chatcheck.h -- the loader rules of the trainer-ready chat formats, as a
 * validator the tests run over every record: what OpenAI's fine-tuning
 * upload, TRL's SFTTrainer and Axolotl's chat_template refuse.
 */
#ifndef CHATCHECK_H
#define CHATCHECK_H

#include <jansson.h>

typedef enum {
    CHAT_OPENAI,  /* arguments a JSON string, weight allowed, tools array */
    CHAT_HF       /* arguments an object, tool messages named, tools text */
} chat_dialect;

/* NULL when record (borrowed) keeps every rule of dialect, else an owned
 * message naming the first rule it breaks:
 *  - messages: a non-empty array; roles system (first only), user,
 *    assistant, tool; the first after system is user; the last is an
 *    assistant with text; at least one assistant message;
 *  - no empty content: an assistant has text, or null content and
 *    tool_calls; user and tool messages have text;
 *  - tool_calls: ids of exactly 9 ASCII letters or digits, unique in the
 *    record; type "function"; a name listed in tools; arguments that are
 *    (or, OpenAI, parse to) a JSON object;
 *  - every call is answered by the tool messages right after its
 *    assistant message, each id once, and no tool message answers
 *    anything else (HF: it names the call's function);
 *  - weight (OpenAI only): on assistant messages, 0 or 1;
 *  - tools: function definitions with a name and object parameters. */
char *chat_check(json_t *record, chat_dialect dialect);

/* NULL when record keeps LLaMA-Factory's sharegpt rules, else an owned
 * message: conversations of {from, value}, non-empty values, human or
 * observation at even positions and gpt or function_call at odd ones, an
 * even count starting with human and ending with gpt; an observation
 * right after each function_call, whose value is JSON text of a list of
 * {name, arguments (an object)} with every name in tools (JSON text);
 * the observation of several calls is a JSON list of as many results. */
char *sharegpt_check(json_t *record);

typedef enum { PREF_DPO, PREF_OPENAI_DPO, PREF_KTO } pref_format;

/* NULL when record keeps the rules of a preference format, else an owned
 * message: the prompt (input.messages) is a valid conversation up to a
 * choice (chat_check's rules with an answer added: it never ends with an
 * assistant); chosen and rejected (preferred/non_preferred_output,
 * completion) are each one assistant message with text (OpenAI: text
 * only) or calls of tools in tools; the two sides differ; KTO's label
 * is a boolean. */
char *pref_check(json_t *record, pref_format format);

#endif
