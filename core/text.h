/*
 * text.h -- turning agent content into text, once, for every plugin.
 *
 * Agent logs carry content as a string, as an object ({user, text}), as a
 * JSON document inside a string, or as a list of parts.  These helpers pick
 * the text and the user out of any of them, and parse the argument text a
 * model wrote (often fenced in ```json ... ```) leniently.
 */
#ifndef CORE_TEXT_H
#define CORE_TEXT_H

#include <jansson.h>
#include <stddef.h>

/* Return a new reference to a JSON string holding the text of content, or
 * NULL when content holds no text (null, an object without a text field).
 * Strings are returned as they are unless they are a JSON object with a
 * text field (also one cut off mid-stream: {"content": "Hel gives Hel); objects yield their first text-like field ("text",
 * "content", "message", "body"); arrays join the texts of their elements
 * with newlines; numbers and booleans yield their JSON spelling. */
json_t *core_text_of(json_t *content);
/* Return a new reference to the user of object content ("user",
 * "username", "author", "sender", "from"; an object there yields its
 * "name", "username" or "id"), or NULL. */
json_t *core_user_of(json_t *content);
/* Parse text written by a model as JSON: surrounding white space and a
 * Markdown code fence are ignored.  Returns a new reference, or NULL when
 * it is not JSON. */
json_t *core_parse_lenient(const char *text, size_t len);
/* Return 1 when s[0..len) is valid UTF-8, else 0. */
int core_utf8_valid(const char *s, size_t len);
/* Return an owned copy of s[0..len) with every invalid UTF-8 sequence
 * replaced by U+FFFD; *out_len gets its length. */
char *core_utf8_repair(const char *s, size_t len, size_t *out_len);
/* Return a timestamp field as milliseconds, or -1 when absent or not a
 * number. */
long long core_json_ms(json_t *v);

#endif
