/*
 * chat-messages -- the Hugging Face / TRL conversational form with tool
 * calls (what `SFTTrainer` takes as a dataset of "messages" and "tools"):
 * one record per session with at least one answered turn:
 *
 *   {"messages": [
 *      {"role": "system", "content"}, {"role": "user", "content"},
 *      {"role": "assistant", "content": null,
 *       "tool_calls": [{"id": "call00001", "type": "function",
 *                       "function": {"name", "arguments": {...}}}]},
 *      {"role": "tool", "tool_call_id": "call00001", "name",
 *       "content": "<text>"},
 *      {"role": "assistant", "content": "the answer"}],
 *    "tools": "<the tool definitions as JSON text>"}
 *
 * The same chat form as openai-chat (sdk/synth_chat.h), but `arguments`
 * is a JSON object and each tool message names its tool, as the chat
 * templates of Hugging Face tokenizers expect.  `tools` is written as JSON
 * text by default (tools_as_string): Arrow merges the structs of every
 * row's tool schemas into one type otherwise, and a dataset of agents
 * with different tools will not load.  Calls that failed by the model's
 * fault are kept as context; with weight_model_errors they are left out
 * of the record instead (TRL has no per-message weight).
 */
#include "synth_chat.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdlib.h>

static const synth_host_api *host;

static const synth_option cm_options[] = {
    SYNTH_CHAT_OPTIONS,
    {"tools_as_string", SYNTH_OPT_BOOL, 0, "true",
     "write tools as JSON text (false: a JSON array)"},
    {NULL, 0, 0, NULL, NULL}};

typedef struct {
    synth_chat_base base; /* first: the chat helpers take it */
    int tools_as_string;
} cm_state;

static int cm_create(synth_ctx *ctx, void **instance)
{
    cm_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    int rc = synth_chat_base_create(host, ctx, &st->base);
    if (rc == SYNTH_OK &&
        host->opt_bool(ctx, "tools_as_string", &st->tools_as_string) !=
            SYNTH_OK)
        rc = host->error(ctx, SYNTH_EPLUGIN, "cannot read tools_as_string");
    if (rc != SYNTH_OK) {
        synth_chat_base_destroy(&st->base);
        free(st);
        return rc;
    }
    *instance = st;
    return SYNTH_OK;
}

static void cm_destroy(void *instance)
{
    cm_state *st = instance;
    if (st)
        synth_chat_base_destroy(&st->base);
    free(st);
}

static int cm_session(void *instance, synth_ctx *ctx, json_t *session)
{
    cm_state *st = instance;
    json_t *chat = synth_chat_for(&st->base, host, ctx, session,
                                  "chat-messages", 1);
    if (chat == NULL)
        return SYNTH_OK;
    json_t *messages = synth_chat_messages(json_array(), st->base.system,
                                           json_object_get(chat, "messages"),
                                           0, SYNTH_CHAT_NO_WEIGHT);
    json_t *record = synth_set(json_object(), "messages", messages);
    json_t *tools = json_object_get(chat, "tools");
    synth_set(record, "tools",
              st->tools_as_string ? synth_chat_text(tools) : json_incref(tools));
    return synth_chat_emit(host, ctx, chat, record);
}

static const char *const record_fields[] = {"messages", "tools", NULL};

static const synth_plugin cm_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .flags = SYNTH_PLUGIN_SERIAL, /* the inferred schemas span sessions */
    .name = "chat-messages",
    .version = "1.0.0",
    .description = "Hugging Face / TRL conversational messages with tool "
                   "calls and tool definitions",
    .options = cm_options,
    .create = cm_create,
    .destroy = cm_destroy,
    .session = cm_session,
    .record_fields = record_fields,
};

SYNTH_PLUGIN_ENTRY(cm_plugin, host)
