/*
 * jsonout.h -- compact JSON text of a jansson value, fast.
 *
 * The writer's hot path: one call per record and sidecar line.  The text
 * is what json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15)) gives --
 * object keys in insertion order, UTF-8 kept as it is, the same escapes --
 * but runs of plain characters are copied in one go instead of one
 * callback per token.
 */
#ifndef CORE_JSONOUT_H
#define CORE_JSONOUT_H

#include <jansson.h>

#include "strbuf.h"

/* Append the compact JSON text of v to b. */
void core_json_append(core_strbuf *b, const json_t *v);

#endif
