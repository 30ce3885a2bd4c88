/*
 * catalog.h -- <output_dir>/dataset_info.json, LLaMA-Factory's registry of
 * dataset files, kept up to date for the formats that give an entry
 * (synth_plugin.dataset_info, ABI 1.2), so that its `dataset_dir` can
 * point at the output directory and `dataset` name a file there.
 */
#ifndef CORE_CATALOG_H
#define CORE_CATALOG_H

#include "plugin.h"
#include "strbuf.h"

/* Merge an entry for each published file paths[i] (borrowed; NULL:
 * none) of plugin formats[i] that has a dataset_info into
 * dir/dataset_info.json: {"<file name without .jsonl>": the plugin's
 * entry + "file_name"}.  The entries already there are kept; the file is
 * rewritten atomically under a lock, so concurrent runs into one
 * directory lose nothing.  Returns SYNTH_OK (also when no format has an
 * entry), SYNTH_EINVAL when the existing file is not a JSON object (it
 * is left as it is), or SYNTH_EIO; with the reason in *why. */
int core_catalog_add(const char *dir, const core_plugin *const *formats,
                     const char *const *paths, size_t n, core_strbuf *why);

#endif
