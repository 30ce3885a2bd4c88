/*
 * analyze.h -- `synthhost analyze`: how good is a dataset file?
 *
 * Reads any JSONL dataset (ours or not), recognises each record's format
 * by the file name or by the record fields the formatter plugins declare,
 * scores it with the scorer plugins, and summarises: overallScore,
 * diversity, completeness, consistency, byFormat, stats and issues (with
 * file and line examples).  A sidecar <file>.meta next to a file adds the
 * sessions and redaction counts.  Memory is constant per format, whatever
 * the file sizes: distributions and distinct counts are sketches.
 */
#ifndef CORE_ANALYZE_H
#define CORE_ANALYZE_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"

typedef struct core_analyze_opts {
    char *const *files;   /* borrowed */
    size_t nfiles;
    core_config *cfg;     /* borrowed: plugin_dir and plugin options */
} core_analyze_opts;

/* Analyse the files.  Returns SYNTH_OK and the report in *out (new
 * reference); bad lines are reported on stderr and counted, not fatal.
 * Returns SYNTH_EIO when a file cannot be read or the plugin dir is
 * unusable, SYNTH_ECONFIG for a bad plugin option (nothing in *out). */
int core_analyze(const core_analyze_opts *o, json_t **out);

#endif
