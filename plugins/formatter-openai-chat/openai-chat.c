/*
 * openai-chat -- OpenAI chat fine-tuning JSONL with tool calls, also what
 * Together, Azure OpenAI and Axolotl's `type: chat_template` load: one
 * record per session with at least one answered turn:
 *
 *   {"messages": [
 *      {"role": "system", "content"},
 *      {"role": "user", "content"},
 *      {"role": "assistant", "content": null, "weight": 1,
 *       "tool_calls": [{"id": "call00001", "type": "function",
 *                       "function": {"name", "arguments": "<JSON text>"}}]},
 *      {"role": "tool", "tool_call_id": "call00001", "content": "<text>"},
 *      {"role": "assistant", "content": "the answer", "weight": 1}],
 *    "tools": [{"type": "function", "function": {"name", "description",
 *               "parameters"}}],
 *    "parallel_tool_calls": true|false}
 *
 * `arguments` is a JSON string that parses to an object; a tool message's
 * content is the result as text (JSON text for structured results), a
 * failed call's its error ({"error": {"type", "message"}}).  Calls of one
 * step share an assistant message.  With weight_model_errors (default),
 * an assistant message whose calls failed by the model's fault (bad
 * arguments) has weight 0: kept as context, not trained on.  The turns,
 * the call ids and the tool definitions come from sdk/synth_chat.h.
 */
#include "synth_chat.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdlib.h>

static const synth_host_api *host;

static const synth_option oc_options[] = {SYNTH_CHAT_OPTIONS,
                                          {NULL, 0, 0, NULL, NULL}};

SYNTH_CHAT_LIFECYCLE(oc, host)

static int oc_session(void *instance, synth_ctx *ctx, json_t *session)
{
    synth_chat_base *b = instance;
    json_t *chat = synth_chat_for(b, host, ctx, session, "openai-chat", 0);
    if (chat == NULL)
        return SYNTH_OK;
    json_t *messages = synth_chat_messages(
        json_array(), b->system, json_object_get(chat, "messages"), 1,
        b->weight_model_errors ? SYNTH_CHAT_WEIGHT_FAULTS
                               : SYNTH_CHAT_WEIGHT_ALL);
    json_t *record = synth_set(json_object(), "messages", messages);
    synth_set_ref(record, "tools", json_object_get(chat, "tools"));
    synth_set_ref(record, "parallel_tool_calls",
                  json_object_get(chat, "parallel"));
    return synth_chat_emit(host, ctx, chat, record);
}

static const char *const record_fields[] = {"messages", "tools",
                                            "parallel_tool_calls", NULL};

static const synth_plugin oc_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .flags = SYNTH_PLUGIN_SERIAL, /* the inferred schemas span sessions */
    .name = "openai-chat",
    .version = "1.0.0",
    .description = "OpenAI chat fine-tuning JSONL with tool calls, results "
                   "and tool definitions (Together, Azure, Axolotl "
                   "chat_template)",
    .options = oc_options,
    .create = oc_create,
    .destroy = oc_destroy,
    .session = oc_session,
    .record_fields = record_fields,
};

SYNTH_PLUGIN_ENTRY(oc_plugin, host)
