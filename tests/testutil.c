/* testutil.c -- test helpers (see testutil.h). */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
    perror(what);
    abort();
}

const char *tu_build(void)
{
    const char *b = getenv("SYNTH_BUILD");
    return b ? b : "build";
}

const char *tu_root(void)
{
    const char *r = getenv("SYNTH_ROOT");
    return r ? r : ".";
}

char *tu_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        die("vasprintf");
    va_end(ap);
    return s;
}

char *tu_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

void tu_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
        die(path);
}

char *tu_tmpdir(void)
{
    char *t = strdup("/tmp/synthtest.XXXXXX");
    if (mkdtemp(t) == NULL)
        die("mkdtemp");
    return t;
}

void tu_rmrf(const char *path)
{
    char *cmd = tu_fmt("rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: %s failed\n", cmd);
    free(cmd);
}

int tu_run(char *const argv[], const char *in_path, char **out, char **err)
{
    char *dir = tu_tmpdir();
    char *out_path = tu_fmt("%s/out", dir), *err_path = tu_fmt("%s/err", dir);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || o < 0 || e < 0)
            _exit(126);
        dup2(in, 0);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = tu_wait(pid);
    if (out)
        *out = tu_read(out_path);
    if (err)
        *err = tu_read(err_path);
    tu_rmrf(dir);
    free(out_path);
    free(err_path);
    free(dir);
    return status;
}

pid_t tu_spawn(char *const argv[], int *stdin_fd, const char *err_path)
{
    int fds[2] = {-1, -1};
    if (stdin_fd && pipe(fds) != 0)
        die("pipe");
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        if (stdin_fd)
            close(fds[1]);
        int in = stdin_fd ? fds[0] : open("/dev/null", O_RDONLY);
        int e = err_path ? open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644)
                         : open("/dev/null", O_WRONLY);
        if (in < 0 || e < 0)
            _exit(126);
        dup2(in, 0);
        dup2(e, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    if (stdin_fd) {
        close(fds[0]);
        *stdin_fd = fds[1];
    }
    return pid;
}

char *tu_format_file(const char *dir, const char *format)
{
    char *prefix = tu_fmt("%s-", format);
    char *path = tu_find(dir, prefix, ".jsonl");
    free(prefix);
    return path;
}

json_t *tu_load_format(const char *dir, const char *format, json_t **meta)
{
    char *path = tu_format_file(dir, format);
    if (path == NULL)
        return NULL;
    json_t *records = tu_load_jsonl(path);
    if (meta) {
        char *m = tu_fmt("%s.meta", path);
        *meta = tu_load_jsonl(m);
        free(m);
    }
    free(path);
    return records;
}

char *tu_json_mismatch(json_t *got, const char *want)
{
    json_t *w = json_loads(want, 0, NULL);
    if (w == NULL)
        return tu_fmt("the expected JSON does not parse: %s", want);
    int same = json_equal(got, w);
    json_decref(w);
    if (same)
        return NULL;
    char *text = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
    char *msg = tu_fmt("got %s", text ? text : "(nothing)");
    free(text);
    return msg;
}

char *tu_sorted_records(const char *dir, const char *format)
{
    char *path = tu_format_file(dir, format);
    if (path == NULL)
        return NULL;
    char *tmp = tu_tmpdir();
    char *cmd = tu_fmt("LC_ALL=C sort '%s' > '%s/sorted'", path, tmp);
    char *text = NULL;
    if (system(cmd) == 0) {
        char *sorted = tu_fmt("%s/sorted", tmp);
        text = tu_read(sorted);
        free(sorted);
    }
    tu_rmrf(tmp);
    free(tmp);
    free(cmd);
    free(path);
    return text;
}

int tu_wait(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) < 0)
        die("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int tu_wait_for(pid_t pid, int seconds)
{
    for (int i = 0; i < seconds * 100; i++) {
        int status;
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got < 0)
            die("waitpid");
        if (got == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status)
                                     : 128 + WTERMSIG(status);
        usleep(10000);
    }
    kill(pid, SIGKILL);
    tu_wait(pid);
    return -1;
}

char *tu_find(const char *dir, const char *prefix, const char *suffix)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return NULL;
    char *found = NULL;
    int n = 0;
    struct dirent *e;
    size_t lp = strlen(prefix), ls = strlen(suffix);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len >= lp + ls && strncmp(e->d_name, prefix, lp) == 0 &&
            strcmp(e->d_name + len - ls, suffix) == 0) {
            n++;
            free(found);
            found = tu_fmt("%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    if (n != 1) {
        free(found);
        return NULL;
    }
    return found;
}

int tu_plant_strays(const char *dir, const char *format, const char *suffix,
                    int seconds)
{
    time_t now = time(NULL);
    for (int k = 0; k < seconds; k++) {
        time_t t = now + k;
        struct tm tm;
        char stamp[32];
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        char *path = tu_fmt("%s/%s-%s.jsonl%s", dir, format, stamp, suffix);
        tu_write(path, "stray\n");
        free(path);
    }
    return seconds;
}

static int count_strays(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = tu_fmt("%s/%s", dir, e->d_name);
        char *text = tu_read(path);
        n += text && strcmp(text, "stray\n") == 0;
        free(text);
        free(path);
    }
    closedir(d);
    return n;
}

char *tu_check_strays_skipped(const char *out, const char *format, int strays)
{
    int left = count_strays(out);
    if (left != strays)
        return tu_fmt("%d of %d stray files left as they were", left, strays);
    char *path = tu_format_file(out, format);
    int second = path && strstr(path, "-2.jsonl") != NULL;
    char *msg = second ? NULL
                       : tu_fmt("%s is not the second name", path ? path : "none");
    json_t *meta = NULL;
    json_t *records = msg ? NULL : tu_load_format(out, format, &meta);
    if (msg == NULL && (records == NULL || meta == NULL ||
                        json_array_size(records) == 0 ||
                        json_array_size(meta) != json_array_size(records)))
        msg = tu_fmt("%s: no records, or no sidecar of as many lines", path);
    json_decref(records);
    json_decref(meta);
    free(path);
    return msg;
}

int tu_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

json_t *tu_load_jsonl(const char *path)
{
    char *text = tu_read(path);
    if (text == NULL)
        return NULL;
    json_t *arr = json_array();
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *v = json_loads(line, JSON_DECODE_ANY, NULL);
        if (v == NULL) {
            json_decref(arr);
            free(text);
            return NULL;
        }
        json_array_append_new(arr, v);
    }
    free(text);
    return arr;
}

static int saved_stderr = -1;
static char *stderr_path;

void tu_stderr_begin(void)
{
    fflush(stderr);
    stderr_path = tu_fmt("/tmp/synthtest-stderr.%ld", (long)getpid());
    int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        die(stderr_path);
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

char *tu_stderr_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    saved_stderr = -1;
    char *text = tu_read(stderr_path);
    unlink(stderr_path);
    free(stderr_path);
    stderr_path = NULL;
    return text ? text : strdup("");
}
