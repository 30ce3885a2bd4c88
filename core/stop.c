/* stop.c -- signal handlers that request a clean stop (see stop.h). */
#include "stop.h"
#include "synth_plugin.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
               "the stop flags are set in a signal handler");

atomic_int core_stop_requested = 0;
atomic_int core_reload_requested = 0;

static void on_signal(int sig)
{
    int saved = errno; /* the interrupted code may be about to read it */
    if (sig == SIGHUP)
        atomic_store(&core_reload_requested, 1);
    else
        atomic_store(&core_stop_requested, 1);
    errno = saved;
}

int core_stop_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 ||
        sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGHUP, &sa, NULL) != 0)
        return SYNTH_EINVAL;
    signal(SIGPIPE, SIG_IGN);
    return SYNTH_OK;
}

static const char *crash_at;        /* SYNTH_TEST_CRASH, or NULL */
static pthread_once_t crash_once = PTHREAD_ONCE_INIT;

static void read_crash_point(void)
{
    crash_at = getenv("SYNTH_TEST_CRASH");
}

void core_crash_point(const char *what, unsigned long long n)
{
    pthread_once(&crash_once, read_crash_point);
    if (crash_at == NULL)
        return;
    size_t wl = strlen(what);
    if (strncmp(crash_at, what, wl) == 0 && crash_at[wl] == ':' &&
        strtoull(crash_at + wl + 1, NULL, 10) == n)
        raise(SIGKILL);
}
