/*
 * oracle.h -- what the example log holds, computed by the tests from its
 * raw lines, independently of the core: runs with their input, final
 * answer, final thoughts and calls; every final and every superseded
 * partial text; per context its span and whether anything failed.
 * Integration tests compare synthhost's records against it.
 */
#ifndef ORACLE_H
#define ORACLE_H

#include <jansson.h>

typedef struct oracle {
    /* [{"context", "input"?, "output"?, "thoughts": [text...],
     *   "actions": [call id...], "steps": [{"thought": text} |
     *   {"call": name}] in order of first appearance}] in file order, one
     *   per run */
    json_t *runs;
    json_t *answered;   /* the runs with an input and an output */
    json_t *finals;     /* text -> true: final output texts */
    json_t *partials;   /* text -> true: superseded partial texts (outputs
                           and thoughts) that no final text equals */
    json_t *contexts;   /* context -> true: contexts with an answered run */
    json_t *calls;      /* call id -> {"name", "ok": bool} */
    /* context -> {"type", "start", "end", "failed": bool, "thoughts":
     * [text...]} */
    json_t *context_info;
} oracle;

/* Build the oracle of a Daydreams JSONL log (aborts the test on a
 * malformed file). */
void oracle_build(oracle *o, const char *path);
void oracle_free(oracle *o);
/* The run whose context, input and output are these, or NULL. */
json_t *oracle_find_run(const oracle *o, const char *context,
                        const char *input, const char *output);
/* The context id inside an instruction-tuning "context" line. */
const char *oracle_context_of(const char *context_line);

#endif
