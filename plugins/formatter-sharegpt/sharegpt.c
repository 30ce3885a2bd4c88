/*
 * sharegpt -- LLaMA-Factory's ShareGPT form with tool calls: one record
 * per session with an answered turn:
 *
 *   {"conversations": [
 *      {"from": "human", "value": "weather in Berlin and Paris?"},
 *      {"from": "function_call",
 *       "value": "[{\"name\":\"get_weather\",\"arguments\":{...}},...]"},
 *      {"from": "observation", "value": "<result, or [results] of a
 *                                         parallel call, as JSON text>"},
 *      {"from": "gpt", "value": "the answer"}],
 *    "system": "...", "tools": "<the tool definitions as JSON text>"}
 *
 * The same chat form as openai-chat (sdk/synth_chat.h), in the roles
 * LLaMA-Factory's sharegpt loader checks: even positions human or
 * observation, odd positions gpt or function_call, an even count; the
 * calls of one step are one function_call (a JSON list of {name,
 * arguments}) and their results one observation.  Calls that failed by
 * the model's fault are left out (ShareGPT has no per-message weight)
 * unless weight_model_errors = false.  Register the file in
 * dataset_info.json with "formatting": "sharegpt" and columns
 * {"messages": "conversations", "system": "system", "tools": "tools"}
 * (docs/formats.md).
 */
#include "synth_chat.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdlib.h>

static const synth_host_api *host;

static const synth_option sg_options[] = {SYNTH_CHAT_OPTIONS,
                                          {NULL, 0, 0, NULL, NULL}};

SYNTH_CHAT_LIFECYCLE(sg, host)

static json_t *turn_of(const char *from, json_t *value)
{
    return json_pack("{s:s, s:o}", "from", from, "value", value);
}

static int sg_session(void *instance, synth_ctx *ctx, json_t *session)
{
    synth_chat_base *b = instance;
    json_t *chat = synth_chat_for(b, host, ctx, session, "sharegpt", 1);
    if (chat == NULL)
        return SYNTH_OK;
    json_t *conv = json_array();
    json_t *msgs = json_object_get(chat, "messages");
    size_t n = json_array_size(msgs);
    for (size_t i = 0; i < n;) {
        json_t *m = json_array_get(msgs, i++);
        const char *role = synth_str(m, "role");
        json_t *calls = json_object_get(m, "calls");
        if (strcmp(role, "user") == 0) {
            json_array_append_new(conv, turn_of("human",
                                                synth_chat_text(json_object_get(
                                                    m, "content"))));
            continue;
        }
        if (calls == NULL) { /* the answer */
            json_array_append_new(conv, turn_of("gpt",
                                                synth_chat_text(json_object_get(
                                                    m, "content"))));
            continue;
        }
        /* a step's calls and, right after them, their results */
        json_t *fc = json_array(), *results = json_array();
        size_t k;
        json_t *c;
        json_array_foreach(calls, k, c)
            json_array_append_new(fc, json_pack("{s:O, s:O}", "name",
                                                json_object_get(c, "name"),
                                                "arguments",
                                                json_object_get(c, "arguments")));
        while (i < n && strcmp(synth_str(json_array_get(msgs, i), "role"),
                               "tool") == 0)
            json_array_append(results, json_object_get(json_array_get(msgs, i++),
                                                       "content"));
        json_array_append_new(conv, turn_of("function_call", synth_chat_text(fc)));
        json_array_append_new(
            conv, turn_of("observation",
                          synth_chat_text(json_array_size(results) == 1
                                              ? json_array_get(results, 0)
                                              : results)));
        json_decref(fc);
        json_decref(results);
    }
    json_t *record = synth_set(json_object(), "conversations", conv);
    synth_set(record, "system", json_string(b->system ? b->system : ""));
    synth_set(record, "tools", synth_chat_text(json_object_get(chat, "tools")));
    return synth_chat_emit(host, ctx, chat, record);
}

static const char *const record_fields[] = {"conversations", "system",
                                            "tools", NULL};

static const synth_plugin sg_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .flags = SYNTH_PLUGIN_SERIAL, /* the inferred schemas span sessions */
    .name = "sharegpt",
    .version = "1.0.0",
    .description = "LLaMA-Factory ShareGPT conversations with function "
                   "calls and observations",
    .options = sg_options,
    .create = sg_create,
    .destroy = sg_destroy,
    .session = sg_session,
    .record_fields = record_fields,
    /* LLaMA-Factory's entry; the tags are its defaults, spelled out */
    .dataset_info =
        "{\"formatting\": \"sharegpt\", \"columns\": {\"messages\": "
        "\"conversations\", \"system\": \"system\", \"tools\": \"tools\"}, "
        "\"tags\": {\"role_tag\": \"from\", \"content_tag\": \"value\", "
        "\"user_tag\": \"human\", \"assistant_tag\": \"gpt\", "
        "\"observation_tag\": \"observation\", \"function_tag\": "
        "\"function_call\", \"system_tag\": \"system\"}}",
};

SYNTH_PLUGIN_ENTRY(sg_plugin, host)
