/*
 * stop.h -- asking a run to stop (SIGINT, SIGTERM).
 *
 * The handler only sets a flag; the reader checks it between lines and
 * after an interrupted read, and the pipeline then publishes nothing, so
 * an interrupted run leaves no half-written file.
 */
#ifndef CORE_STOP_H
#define CORE_STOP_H

#include <stdatomic.h>

/* Nonzero once a stop was requested.  Atomic, not volatile sig_atomic_t:
 * the pipeline's other threads read it too, and only a lock-free atomic
 * is both safe to set in a handler and free of a data race between
 * threads (ThreadSanitizer reported one). */
extern atomic_int core_stop_requested;
/* Nonzero once SIGHUP asked for the config to be read again (live mode;
 * the loop clears it). */
extern atomic_int core_reload_requested;

/* Install the handlers for SIGINT, SIGTERM and SIGHUP (without
 * SA_RESTART, so a blocking read or poll returns), and ignore SIGPIPE (a
 * control client that hangs up must not kill the run).  Returns SYNTH_OK
 * or SYNTH_EINVAL. */
int core_stop_install(void);

/* A crash point for the crash tests: with SYNTH_TEST_CRASH=<what>:<N> in
 * the environment, the call with that what and n == N kills the process
 * with SIGKILL, so a test kills a run exactly where it means to ("line":
 * after reading line N, checked every 1024 lines; "publish": right after
 * the N-th file is linked).  Does nothing otherwise. */
void core_crash_point(const char *what, unsigned long long n);

#endif
