/* hostapi.c -- the table of host functions every plugin receives (see
 * sdk/synth_plugin.h), the sqlite3ext way: it only wires functions that
 * live where they belong -- option getters in options.c, what a callback
 * calls back in instance.c. */
#include "instance.h"
#include "options.h"
#include "version.h"

const synth_host_api core_host_api = {
    .struct_size = sizeof(synth_host_api),
    .abi_major = SYNTH_ABI_MAJOR,
    .abi_minor = SYNTH_ABI_MINOR,
    .host_version = SYNTH_VERSION,
    .opt_bool = core_opt_bool,
    .opt_int = core_opt_int,
    .opt_float = core_opt_float,
    .opt_string = core_opt_string,
    .opt_json = core_opt_json,
    .opt_is_set = core_opt_is_set,
    .error = core_ctx_error,
    .opt_error = core_opt_error,
    .log = core_ctx_log,
    .emit = core_ctx_emit,
    .drop = core_ctx_drop,
    .score = core_ctx_score,
    .issue = core_ctx_issue,
    .count = core_ctx_count,
    .record_format = core_ctx_record_format,
    .record_score = core_ctx_record_score,
    .score_as = core_ctx_score_as,
    .observe = core_ctx_observe,
    .is_probe = core_ctx_is_probe,
    .skip_session = core_ctx_skip,
};
