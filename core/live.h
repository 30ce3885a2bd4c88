/*
 * live.h -- mode = "realtime": synthhost as a service.
 *
 * Follows the input files as they grow (tail -F: truncation and rotation
 * survive), accepts JSONL log lines from agents on a unix socket
 * (`listen`, several connections at once), closes a session after
 * session.idle_timeout_ms of wall clock without events (or its idle gap in
 * event time), and appends its records to the output files as whole lines
 * at once.  A control socket (`control`, mode 0600, peers of another uid
 * refused) answers one JSON request per line with one JSON response
 * (control.h).  The checkpoint that makes a restart exactly-once is
 * checkpoint_live.h.
 * SIGHUP reads the config again (a bad one is refused and the old one
 * kept); SIGINT and SIGTERM flush every open session and stop, exit 0.
 */
#ifndef CORE_LIVE_H
#define CORE_LIVE_H

#include "config.h"

/* Run until stopped.  cfg (owned by the caller; replaced on reload and
 * configure, freed by the caller at the end) was loaded from config_path.
 * Returns SYNTH_OK, or SYNTH_EIO / SYNTH_ECONFIG when it cannot start. */
int core_live_run(core_config *cfg, const char *config_path);

#endif
