/* version.h -- the synthhost release, shown by --version and handed to
 * plugins as host->host_version. */
#ifndef CORE_VERSION_H
#define CORE_VERSION_H
#define SYNTH_VERSION "0.1.0"
#endif
