/* stop.c -- signal handlers that request a clean stop (see stop.h). */
#include "stop.h"
#include "synth_plugin.h"

#include <string.h>

volatile sig_atomic_t core_stop_requested = 0;
volatile sig_atomic_t core_reload_requested = 0;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        core_reload_requested = 1;
    else
        core_stop_requested = 1;
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
