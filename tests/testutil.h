/*
 * testutil.h -- helpers shared by the unit and integration tests: files,
 * temporary directories, running the real binary, JSONL loading, and
 * capturing stderr.  Every function aborts the test run on a setup
 * failure (that is a broken test machine, not a test result).
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <jansson.h>
#include <sys/types.h>
#include <stddef.h>

/* The build directory (SYNTH_BUILD) and the source tree (SYNTH_ROOT);
 * borrowed. */
const char *tu_build(void);
const char *tu_root(void);
/* Return an owned printf-formatted string. */
char *tu_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Return the owned contents of a file (NUL-terminated), or NULL. */
char *tu_read(const char *path);
/* Write a file whole. */
void tu_write(const char *path, const char *text);
/* Return a new owned temporary directory path. */
char *tu_tmpdir(void);
/* Remove a directory tree. */
void tu_rmrf(const char *path);
/* Run argv (argv[0] a path) with stdin from in_path (NULL: /dev/null);
 * stdout and stderr are returned owned in *out and *err (either may be
 * NULL).  Returns the exit status, or 128+signal. */
int tu_run(char *const argv[], const char *in_path, char **out, char **err);
/* Start argv (argv[0] a path) in the background with stderr to err_path
 * (NULL: /dev/null) and stdin from /dev/null, or, when stdin_fd is given,
 * from a pipe whose write end is returned there (the caller closes it).
 * Returns its pid. */
pid_t tu_spawn(char *const argv[], int *stdin_fd, const char *err_path);
/* The owned path of the one <format>-*.jsonl in dir, or NULL when there
 * is not exactly one. */
char *tu_format_file(const char *dir, const char *format);
/* The lines of the one <format>-*.jsonl in dir, sorted (owned), or NULL
 * when there is not exactly one such file. */
char *tu_sorted_records(const char *dir, const char *format);
/* The records of the one <format>-*.jsonl in dir as a JSON array (new
 * reference), or NULL when there is not exactly one or a line is not
 * JSON; with meta, its sidecar's lines there too (NULL without one). */
json_t *tu_load_format(const char *dir, const char *format, json_t **meta);
/* NULL when got equals the JSON text want, else an owned message showing
 * what was got. */
char *tu_json_mismatch(json_t *got, const char *want);
/* Wait for pid: returns its exit status, or 128+signal. */
int tu_wait(pid_t pid);
/* tu_wait for at most `seconds`; a process still running then is killed
 * (SIGKILL) and -1 returned, so a test of "it stops" fails, not hangs. */
int tu_wait_for(pid_t pid, int seconds);
/* Return the owned path of the one file in dir whose name starts with
 * prefix and ends with suffix, or NULL when there is none or several. */
char *tu_find(const char *dir, const char *prefix, const char *suffix);
/* Put a stray file <dir>/<format>-<stamp>.jsonl<suffix> holding "stray\n"
 * for each second's stamp from now on for `seconds`, so a run started
 * within them finds its first choice of name taken.  Returns how many. */
int tu_plant_strays(const char *dir, const char *format, const char *suffix,
                    int seconds);
/* NULL when out holds its `strays` stray files untouched and one
 * <format>-*-2.jsonl (the next free name) with records and a sidecar of
 * as many lines; else an owned message saying what is wrong. */
char *tu_check_strays_skipped(const char *out, const char *format, int strays);
/* Count the entries of dir (without . and ..). */
int tu_count_entries(const char *dir);
/* Load a JSONL file: returns a JSON array of the lines' values (new
 * reference), or NULL when a line is not JSON. */
json_t *tu_load_jsonl(const char *path);
/* Redirect stderr to a temporary file until tu_stderr_end(), which
 * returns what was written (owned). */
void tu_stderr_begin(void);
char *tu_stderr_end(void);

#endif
