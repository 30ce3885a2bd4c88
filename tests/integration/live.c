/*
 * live.c -- mode = "realtime" with real processes, sockets and files: a
 * writer appends the example log while synthhost follows it and records
 * appear during the run; rotation and truncation mid-stream; two agents on
 * the socket at once; every control command with its response; configure
 * and SIGHUP refusing a bad configuration; SIGTERM flushing.  The records
 * are compared with a batch run over the same lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

static char *dir;
static pid_t pid;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *path_in(const char *name)
{
    return tu_fmt("%s/%s", dir, name);
}

/* The idle timeout most tests use: longer than any pause they make. */
#define SLOW "session = { idle_timeout_ms = 3000; };\n"

/* Write live.conf with extra config lines; returns its path (owned). */
static char *live_conf(const char *extra)
{
    char *conf = path_in("live.conf");
    char *text = tu_fmt("mode = \"realtime\";\ninput = \"agent.jsonl\";\n"
                        "listen = \"agents.sock\";\ncontrol = \"ctl.sock\";\n"
                        "output_dir = \"out\";\nplugin_dir = \"%s/plugins\";\n"
                        "formats = [\"instruction-tuning\", \"episodes\"];\n"
                        "poll_ms = 20;\n%s",
                        tu_build(), extra);
    tu_write(conf, text);
    free(text);
    return conf;
}

/* Start `synthhost -c live.conf` with extra config lines. */
static void start(const char *extra)
{
    char *conf = live_conf(extra);
    char *err = path_in("live.err");
    char *host = tu_fmt("%s/synthhost", tu_build());
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        freopen(err, "w", stderr);
        execl(host, host, "-c", conf, (char *)NULL);
        _exit(127);
    }
    /* ready when the control socket answers */
    char *sock = path_in("ctl.sock");
    struct stat st;
    for (int i = 0; i < 300 && stat(sock, &st) != 0; i++)
        usleep(10000);
    assert_int_equal(stat(sock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(sock);
    free(host);
    free(err);
    free(conf);
}

static int stop(int sig)
{
    kill(pid, sig);
    int status = tu_wait(pid);
    pid = 0;
    return status;
}

/* One control request; returns the parsed answer. */
static json_t *ctl(const char *command, const char *args)
{
    char *host = tu_fmt("%s/synthhost", tu_build());
    char *sock = path_in("ctl.sock");
    char *argv[] = {host, "ctl", "--socket", sock, (char *)command,
                    (char *)args, NULL};
    char *out = NULL;
    tu_run(argv, NULL, &out, NULL);
    json_t *r = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
    if (r == NULL)
        fail_msg("ctl %s: no JSON answer: %s", command, out);
    free(out);
    free(sock);
    free(host);
    return r;
}

/* The control command is refused, its error saying want. */
static void assert_refused(const char *cmd, const char *args, const char *want)
{
    json_t *r = ctl(cmd, args);
    assert_true(json_is_false(json_object_get(r, "ok")));
    const char *error = json_string_value(json_object_get(r, "error"));
    if (error == NULL || strstr(error, want) == NULL)
        fail_msg("%s %s: error \"%s\" lacks \"%s\"", cmd, args ? args : "",
                 error ? error : "(none)", want);
    json_decref(r);
}

static void append(const char *name, const char *text)
{
    char *p = path_in(name);
    FILE *f = fopen(p, "a");
    fputs(text, f);
    fclose(f);
    free(p);
}

/* The example log's lines. */
static char **lines;
static size_t nlines;

static int setup(void **state)
{
    (void)state;
    char *log = tu_fmt("%s/examples/agent-log.jsonl", tu_root());
    char *text = tu_read(log);
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        lines = realloc(lines, (nlines + 1) * sizeof *lines);
        lines[nlines++] = tu_fmt("%s\n", l);
    }
    free(text);
    free(log);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < nlines; i++)
        free(lines[i]);
    free(lines);
    return 0;
}

static int each_setup(void **state)
{
    (void)state;
    dir = tu_tmpdir();
    append("agent.jsonl", "");
    return 0;
}

static int each_teardown(void **state)
{
    (void)state;
    if (pid > 0) /* a test that failed before it stopped its run */
        stop(SIGKILL);
    tu_rmrf(dir);
    free(dir);
    return 0;
}

/* Sorted instruction-tuning lines of every file in out/ (one string). */
static char *it_records(const char *out_dir)
{
    char *cmd = tu_fmt("cat '%s'/instruction-tuning-*.jsonl | sort > '%s/it.sorted'",
                       out_dir, dir);
    if (system(cmd) != 0)
        fail_msg("%s failed", cmd);
    free(cmd);
    char *p = path_in("it.sorted");
    char *t = tu_read(p);
    free(p);
    return t;
}

/* What a batch run writes for the example log. */
static char *batch_it(void)
{
    char *conf = path_in("batch.conf");
    char *text = tu_fmt("input = \"%s/examples/agent-log.jsonl\";\n"
                        "formats = [\"instruction-tuning\"];\n", tu_root());
    tu_write(conf, text);
    char *out = path_in("batch-out");
    char *host = tu_fmt("%s/synthhost", tu_build());
    char *argv[] = {host, "-q", "-c", conf, "-o", out, NULL};
    assert_int_equal(tu_run(argv, NULL, NULL, NULL), 0);
    char *r = it_records(out);
    free(host);
    free(out);
    free(text);
    free(conf);
    return r;
}

static int count_lines_in(const char *pattern)
{
    char *cmd = tu_fmt("cat %s 2>/dev/null | wc -l", pattern);
    FILE *f = popen(cmd, "r");
    int n = 0;
    if (fscanf(f, "%d", &n) != 1)
        n = 0;
    pclose(f);
    free(cmd);
    return n;
}

/* A writer appends the log line by line while synthhost follows it; the
 * file is rotated and later truncated on the way (pauses shorter than the
 * 1 s idle timeout, so no run is cut in two); the records appear while it
 * runs, and they are those of a batch run. */
static void test_follow_rotate_truncate(void **state)
{
    (void)state;
    /* the log's unfinished runs (unknown actions) close like the rest */
    start("session = { idle_timeout_ms = 1000; open_turn_timeout_ms = 0; };\n");
    char *it_glob = tu_fmt("'%s'/out/instruction-tuning-*.jsonl", dir);
    size_t third = nlines / 3;
    for (size_t i = 0; i < third; i++)
        append("agent.jsonl", lines[i]);
    /* rotation: the old file moves away, a new one takes its name */
    char *a = path_in("agent.jsonl"), *b = path_in("agent.jsonl.1");
    usleep(100000);
    assert_int_equal(rename(a, b), 0);
    for (size_t i = third; i < 2 * third; i++)
        append("agent.jsonl", lines[i]);
    /* truncation: the file is emptied and written again from the start */
    usleep(200000);
    FILE *f = fopen(a, "w");
    fclose(f);
    usleep(100000);
    for (size_t i = 2 * third; i < nlines; i++)
        append("agent.jsonl", lines[i]);
    /* every record appears while it still runs, once the sessions idle */
    char *want = batch_it();
    int expected = 0;
    for (const char *p = want; *p; p++)
        expected += *p == '\n';
    double t0 = now();
    while (count_lines_in(it_glob) < expected && now() - t0 < 10)
        usleep(20000);
    json_t *st = ctl("status", NULL);
    assert_int_equal(json_integer_value(json_object_get(st, "lines")),
                     (json_int_t)nlines);
    json_decref(st);
    assert_int_equal(count_lines_in(it_glob), expected);
    assert_int_equal(stop(SIGTERM), 0);
    char *out = path_in("out");
    char *live_it = it_records(out);
    if (strcmp(live_it, want) != 0) {
        /* kept for a look: the message would be cut */
        char *a_path = tu_fmt("%s/tests/live-records.jsonl", tu_build());
        char *b_path = tu_fmt("%s/tests/batch-records.jsonl", tu_build());
        tu_write(a_path, live_it);
        tu_write(b_path, want);
        fail_msg("live records differ from the batch run: compare %s with %s",
                 a_path, b_path);
    }
    free(live_it);
    free(want);
    free(out);
    free(a);
    free(b);
    free(it_glob);
}

/* A tool slower than the idle timeout (issue: a 2.5 s pause with a 1 s
 * timeout lost the instruction-tuning record): one context's run is
 * written up to its first call, the tool "takes" 4 idle timeouts, then
 * the rest comes.  The turn stays whole: the records are a batch run's. */
static void test_slow_tool_keeps_turn_whole(void **state)
{
    (void)state;
    start("session = { idle_timeout_ms = 250; open_turn_timeout_ms = 5000; };\n");
    const char *ctx = "\"contextId\":\"cli:raj_p\"";
    char *subset = path_in("raj.jsonl");
    FILE *f = fopen(subset, "w");
    size_t n = 0, cut = 0;
    for (size_t i = 0; i < nlines; i++) {
        if (strstr(lines[i], ctx) == NULL)
            continue;
        if (cut == 0 && strstr(lines[i], "\"ref\":\"action_result\""))
            cut = n; /* the tool answers here */
        fputs(lines[i], f);
        n++;
    }
    fclose(f);
    assert_true(cut > 3);
    size_t k = 0;
    for (size_t i = 0; i < nlines && k < n; i++) {
        if (strstr(lines[i], ctx) == NULL)
            continue;
        if (k++ == cut)
            usleep(1000000);
        append("agent.jsonl", lines[i]);
    }
    /* status says how far each followed file is read: all of it, soon */
    char *followed = path_in("agent.jsonl");
    struct stat fs;
    assert_int_equal(stat(followed, &fs), 0);
    json_int_t offset = -1;
    for (int i = 0; i < 250 && offset != (json_int_t)fs.st_size; i++) {
        json_t *st = ctl("status", NULL);
        json_t *in = json_array_get(json_object_get(st, "inputs"), 0);
        offset = json_integer_value(json_object_get(in, "offset"));
        assert_int_equal(json_integer_value(json_object_get(in, "inode")),
                         (json_int_t)fs.st_ino);
        json_decref(st);
        if (offset != (json_int_t)fs.st_size)
            usleep(20000);
    }
    assert_int_equal(offset, (json_int_t)fs.st_size);
    free(followed);
    json_t *r = ctl("process", NULL);
    json_decref(r);
    assert_int_equal(stop(SIGTERM), 0);
    char *out = path_in("out");
    char *live_it = it_records(out);
    /* the same lines in one batch run */
    char *conf = path_in("raj.conf");
    char *text = tu_fmt("input = \"%s\";\nformats = [\"instruction-tuning\", "
                        "\"episodes\"];\n", subset);
    tu_write(conf, text);
    char *bout = path_in("raj-out");
    char *host = tu_fmt("%s/synthhost", tu_build());
    char *argv[] = {host, "-q", "-c", conf, "-o", bout, NULL};
    assert_int_equal(tu_run(argv, NULL, NULL, NULL), 0);
    char *want = it_records(bout);
    assert_true(strlen(want) > 0);
    assert_string_equal(live_it, want);
    /* and not cut in two: one episode (a session) as in the batch run */
    char *live_ep = tu_fmt("'%s'/episodes-*.jsonl", out);
    char *batch_ep = tu_fmt("'%s'/episodes-*.jsonl", bout);
    assert_int_equal(count_lines_in(batch_ep), 1);
    assert_int_equal(count_lines_in(live_ep), 1);
    free(live_ep);
    free(batch_ep);
    free(want);
    free(host);
    free(bout);
    free(text);
    free(conf);
    free(live_it);
    free(out);
    free(subset);
}

static void send_lines(const char *sock, char **which, size_t n)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, sock);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        _exit(3);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(which[i]);
        /* half a line, a pause, the rest: lines cross reads */
        if (write(fd, which[i], len / 2) < 0 ||
            write(fd, which[i] + len / 2, len - len / 2) < 0)
            _exit(4);
    }
    close(fd);
}

/* Two agents write at once, each its own contexts. */
static void test_two_socket_clients(void **state)
{
    (void)state;
    start(SLOW);
    char **even = calloc(nlines, sizeof *even), **odd = calloc(nlines, sizeof *odd);
    size_t ne = 0, no = 0;
    for (size_t i = 0; i < nlines; i++) {
        /* split by context, so each context's lines keep their order */
        const char *c = strstr(lines[i], "\"contextId\":\"");
        unsigned h = 0;
        for (c += 13; *c && *c != '"'; c++)
            h = h * 31 + (unsigned char)*c;
        if (h % 2)
            odd[no++] = lines[i];
        else
            even[ne++] = lines[i];
    }
    char *sock = path_in("agents.sock");
    pid_t a = fork();
    if (a == 0) {
        send_lines(sock, even, ne);
        _exit(0);
    }
    pid_t b = fork();
    if (b == 0) {
        send_lines(sock, odd, no);
        _exit(0);
    }
    int sa, sb;
    waitpid(a, &sa, 0);
    waitpid(b, &sb, 0);
    assert_int_equal(WEXITSTATUS(sa), 0);
    assert_int_equal(WEXITSTATUS(sb), 0);
    usleep(300000);
    json_t *st = ctl("status", NULL);
    assert_int_equal(json_integer_value(json_object_get(st, "lines")),
                     (json_int_t)nlines);
    json_decref(st);
    json_t *r = ctl("process", NULL);
    json_decref(r);
    assert_int_equal(stop(SIGTERM), 0);
    char *out = path_in("out");
    char *live_it = it_records(out), *want = batch_it();
    assert_string_equal(live_it, want);
    free(live_it);
    free(want);
    free(out);
    free(sock);
    free(even);
    free(odd);
}

/* Every command, and the refusals. */
static void test_control_commands(void **state)
{
    (void)state;
    start(SLOW);
    for (size_t i = 0; i < 200; i++)
        append("agent.jsonl", lines[i]);
    usleep(300000);
    json_t *st = ctl("status", NULL);
    static const char *const fields[] = {
        "ok", "uptime_s", "bytes", "lines", "events", "open_sessions",
        "records", "bad_lines", "counters", "last_error", "files", NULL};
    for (int i = 0; fields[i]; i++)
        if (json_object_get(st, fields[i]) == NULL)
            fail_msg("status lacks %s", fields[i]);
    assert_int_equal(json_integer_value(json_object_get(st, "lines")), 200);
    assert_true(json_integer_value(json_object_get(st, "open_sessions")) > 0);
    /* ctl -c finds the socket in the config; it exits 0 on "ok": true and
     * 1 on a refusal */
    {
        char *host = tu_fmt("%s/synthhost", tu_build());
        char *conf = path_in("live.conf");
        char *argv[] = {host, "ctl", "-c", conf, "status", NULL};
        char *out = NULL;
        assert_int_equal(tu_run(argv, NULL, &out, NULL), 0);
        json_t *viac = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
        assert_int_equal(json_integer_value(json_object_get(viac, "lines")), 200);
        json_decref(viac);
        free(out);
        char *bad[] = {host, "ctl", "-c", conf, "frobnicate", NULL};
        assert_int_equal(tu_run(bad, NULL, NULL, NULL), 1);
        free(conf);
        free(host);
    }
    json_decref(st);

    /* clear drops what is open, counted */
    json_t *r = ctl("clear", NULL);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_true(json_integer_value(json_object_get(r, "sessions_cleared")) > 0);
    json_decref(r);
    st = ctl("status", NULL);
    assert_int_equal(json_integer_value(json_object_get(st, "open_sessions")), 0);
    json_decref(st);

    for (size_t i = 200; i < nlines; i++)
        append("agent.jsonl", lines[i]);
    usleep(300000);
    /* process (with the analysis) writes what was open */
    r = ctl("process", "{\"analyze\": true}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_t *records = json_object_get(r, "records");
    assert_true(json_integer_value(json_object_get(records, "instruction-tuning")) > 0);
    assert_true(json_is_number(json_object_get(json_object_get(r, "analysis"),
                                               "overallScore")));
    const char *it_path = json_string_value(
        json_object_get(json_object_get(r, "files"), "instruction-tuning"));
    char *it_copy = strdup(it_path);
    json_decref(r);

    /* export (the spec's export_all_episodes) names the file of the
     * format it is asked for, and refuses one that is not running */
    r = ctl("export_all_episodes", "{\"format\": \"episodes\"}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_non_null(strstr(json_string_value(json_object_get(r, "file")),
                           "/out/episodes-"));
    json_decref(r);
    r = ctl("export", "{\"format\": \"instruction-tuning\"}");
    assert_string_equal(json_string_value(json_object_get(r, "file")), it_copy);
    json_decref(r);
    assert_refused("export", "{\"format\": \"alpaca\"}",
                   "\"alpaca\" is not running");
    assert_refused("export", NULL, "export needs \"format\"");

    /* analyze a file */
    char *args = tu_fmt("{\"path\": \"%s\"}", it_copy);
    r = ctl("analyze", args);
    assert_true(json_is_true(json_object_get(r, "ok")));
    assert_true(json_object_get(json_object_get(json_object_get(r, "analysis"),
                                                "byFormat"),
                                "instruction-tuning") != NULL);
    json_decref(r);
    free(args);

    /* configure: a bad value is refused with the reason, nothing changes */
    assert_refused("configure", "{\"formats\": [\"instrction-tuning\"]}",
                   "unknown format \"instrction-tuning\"; did you mean "
                   "\"instruction-tuning\"?");
    assert_refused("configure", "{\"batch_size\": \"many\"}",
                   "\"batch_size\" must be an integer");
    assert_refused("configure", "{\"mode\": \"batch\"}",
                   "mode cannot change while running");
    st = ctl("status", NULL);
    assert_non_null(json_object_get(json_object_get(st, "files"), "episodes"));
    json_decref(st);
    /* a good one switches formats */
    r = ctl("configure", "{\"formats\": [\"conversation\"]}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    st = ctl("status", NULL);
    json_t *files = json_object_get(st, "files");
    assert_int_equal(json_object_size(files), 1);
    assert_non_null(json_object_get(files, "conversation"));
    json_decref(st);
    r = ctl("frobnicate", NULL);
    assert_false(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    assert_int_equal(stop(SIGTERM), 0);
    free(it_copy);
}

/* SIGHUP with a bad config keeps the old one; SIGTERM flushes. */
static void test_sighup_and_sigterm(void **state)
{
    (void)state;
    start(SLOW);
    for (size_t i = 0; i < nlines; i++)
        append("agent.jsonl", lines[i]);
    usleep(300000);
    char *conf = path_in("live.conf");
    append("live.conf", "formats = [\"nope\"];\n"); /* now invalid */
    kill(pid, SIGHUP);
    usleep(300000);
    json_t *st = ctl("status", NULL);
    assert_true(json_is_true(json_object_get(st, "ok")));
    assert_non_null(strstr(json_string_value(json_object_get(st, "last_error")),
                           "refused"));
    assert_non_null(json_object_get(json_object_get(st, "files"), "episodes"));
    json_decref(st);
    /* open sessions are flushed on SIGTERM: everything is written */
    assert_int_equal(stop(SIGTERM), 0);
    char *out = path_in("out");
    char *live_it = it_records(out), *want = batch_it();
    assert_string_equal(live_it, want);
    char *err_path = path_in("live.err");
    char *err = tu_read(err_path);
    assert_non_null(strstr(err, "keeping the one that runs"));
    free(err);
    free(err_path);
    free(live_it);
    free(want);
    free(out);
    free(conf);
}

/* From a line written to its record on disk (one answered turn, the
 * session closed by a 200 ms idle timeout). */
static void test_latency(void **state)
{
    (void)state;
    start("session = { idle_timeout_ms = 200; };\n");
    const char *turn =
        "{\"contextId\":\"cli:lat\",\"log\":{\"ref\":\"input\",\"id\":\"i1\","
        "\"content\":\"ping please\"}}\n"
        "{\"contextId\":\"cli:lat\",\"log\":{\"ref\":\"output\",\"id\":\"o1\","
        "\"content\":\"pong, here you are\",\"data\":\"pong, here you are\"},"
        "\"done\":true}\n";
    char *glob = tu_fmt("'%s'/out/instruction-tuning-*.jsonl", dir);
    double t0 = now();
    append("agent.jsonl", turn);
    while (count_lines_in(glob) == 0 && now() - t0 < 5)
        usleep(5000);
    double ms = (now() - t0) * 1000;
    assert_int_equal(count_lines_in(glob), 1);
    print_message("latency from line to record on disk: %.0f ms (idle timeout "
                  "200 ms, poll 20 ms)\n", ms);
    /* the idle timeout, a few polls and the writes: well under 2 s even
     * under the sanitizers (a run that waits for something else fails) */
    assert_true(ms >= 200 && ms < 2000);
    assert_int_equal(stop(SIGTERM), 0);
    free(glob);
}

/* clear also drops the records a formatter holds back: grpo groups wait
 * for members until a flush; cleared, they are counted and never written,
 * and with what was written they make up a batch run's groups. */
static void test_clear_drops_held_records(void **state)
{
    (void)state;
    start("session = { idle_timeout_ms = 200; open_turn_timeout_ms = 0; };\n");
    json_t *r = ctl("configure", "{\"formats\": [\"grpo\"]}");
    assert_true(json_is_true(json_object_get(r, "ok")));
    json_decref(r);
    for (size_t i = 0; i < nlines; i++)
        append("agent.jsonl", lines[i]);
    json_t *st = NULL;
    for (int i = 0; i < 500; i++) {
        json_decref(st);
        st = ctl("status", NULL);
        if (json_integer_value(json_object_get(st, "lines")) == (json_int_t)nlines &&
            json_integer_value(json_object_get(st, "open_sessions")) == 0)
            break;
        usleep(20000);
    }
    assert_int_equal(json_integer_value(json_object_get(st, "open_sessions")), 0);
    json_int_t written = json_integer_value(
        json_object_get(json_object_get(st, "records"), "grpo"));
    json_decref(st);
    r = ctl("clear", NULL);
    json_int_t cleared = json_integer_value(json_object_get(r, "records_cleared"));
    json_decref(r);
    assert_true(cleared > 0);
    r = ctl("process", NULL);
    json_decref(r);
    st = ctl("status", NULL);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(st, "records"), "grpo")),
                     written);
    assert_int_equal(json_integer_value(json_object_get(st, "records_cleared")),
                     cleared);
    json_decref(st);
    assert_int_equal(stop(SIGTERM), 0);
    /* a batch run writes exactly the groups written and cleared here */
    char *conf = path_in("grpo.conf");
    char *text = tu_fmt("input = \"%s/examples/agent-log.jsonl\";\n"
                        "plugin_dir = \"%s/plugins\";\nformats = [\"grpo\"];\n",
                        tu_root(), tu_build());
    tu_write(conf, text);
    char *out = path_in("grpo-out");
    char *host = tu_fmt("%s/synthhost", tu_build());
    char *argv[] = {host, "-q", "-c", conf, "-o", out, NULL};
    assert_int_equal(tu_run(argv, NULL, NULL, NULL), 0);
    char *pattern = tu_fmt("'%s'/grpo-*.jsonl", out);
    assert_int_equal(count_lines_in(pattern), written + cleared);
    free(pattern);
    free(host);
    free(out);
    free(text);
    free(conf);
}

/* checkpoint = false: records as usual, no checkpoint file. */
static void test_no_checkpoint(void **state)
{
    (void)state;
    start("checkpoint = false;\n" SLOW);
    for (size_t i = 0; i < nlines; i++)
        append("agent.jsonl", lines[i]);
    usleep(300000);
    json_t *r = ctl("process", NULL);
    assert_true(json_integer_value(json_object_get(
                    json_object_get(r, "records"), "instruction-tuning")) > 0);
    json_decref(r);
    assert_int_equal(stop(SIGTERM), 0);
    char *ck = path_in("out/.synthhost-live.json");
    struct stat st;
    assert_int_not_equal(stat(ck, &st), 0);
    free(ck);
}

/* How many files in out/ end in .jsonl or .jsonl.meta. */
static int output_files(void)
{
    char *out = path_in("out");
    DIR *d = opendir(out);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, ".jsonl") != NULL;
    closedir(d);
    free(out);
    return n;
}

/* The output files are named in the checkpoint before they exist, so a
 * run killed at any moment leaves no file a restart does not continue:
 * - a checkpoint that cannot be written stops the run before any file;
 * - a file the checkpoint names empty but that is missing (the kill came
 *   between the two) is created by the restart, under that name. */
static void test_files_named_before_created(void **state)
{
    (void)state;
    char *obstacle = path_in("out/.synthhost-live.json/in-the-way");
    char *host = tu_fmt("%s/synthhost", tu_build());
    char *conf = live_conf("sidecar = true;\n" SLOW);
    char *ck_dir = path_in("out/.synthhost-live.json");
    char *out = path_in("out");
    assert_int_equal(mkdir(out, 0777), 0);
    assert_int_equal(mkdir(ck_dir, 0777), 0);
    tu_write(obstacle, "");
    char *argv[] = {host, "-c", conf, NULL};
    char *err_path = path_in("live.err");
    assert_int_equal(tu_wait_for(tu_spawn(argv, NULL, err_path), 30), 1);
    char *err = tu_read(err_path);
    free(err_path);
    if (strstr(err, "cannot write") == NULL ||
        strstr(err, "/out/.synthhost-live.json") == NULL)
        fail_msg("the error does not name the checkpoint: %s", err);
    assert_int_equal(output_files(), 0);
    free(err);
    tu_rmrf(ck_dir);

    /* a run that wrote its checkpoint, then lost its files */
    start("sidecar = true;\n" SLOW);
    assert_int_equal(stop(SIGKILL), 128 + SIGKILL);
    /* its socket stays: start() waits for the next run's */
    char *sock = path_in("ctl.sock");
    assert_int_equal(unlink(sock), 0);
    free(sock);
    char *ck = path_in("out/.synthhost-live.json");
    json_t *j = json_load_file(ck, 0, NULL);
    assert_non_null(j);
    json_t *it = json_object_get(json_object_get(j, "outputs"),
                                 "instruction-tuning");
    char *named = strdup(json_string_value(json_object_get(it, "path")));
    assert_int_equal(json_integer_value(json_object_get(it, "size")), 0);
    json_decref(j);
    assert_int_equal(output_files(), 4);
    char *cmd = tu_fmt("rm '%s'/out/*.jsonl*", dir);
    assert_int_equal(system(cmd), 0);

    start("sidecar = true;\n" SLOW);
    for (size_t i = 0; i < nlines; i++)
        append("agent.jsonl", lines[i]);
    json_decref(ctl("process", NULL));
    assert_int_equal(stop(SIGTERM), 0);
    assert_int_equal(output_files(), 4);
    /* the one instruction-tuning file is the named one, records and
     * sidecar line for line */
    char *found = tu_format_file(out, "instruction-tuning");
    assert_non_null(found);
    assert_string_equal(found, named);
    json_t *meta = NULL;
    json_t *records = tu_load_format(out, "instruction-tuning", &meta);
    assert_non_null(records);
    assert_non_null(meta);
    assert_true(json_array_size(records) > 0);
    assert_int_equal(json_array_size(meta), json_array_size(records));
    json_decref(records);
    json_decref(meta);
    free(found);
    free(cmd);
    free(named);
    free(ck);
    free(ck_dir);
    free(out);
    free(conf);
    free(host);
    free(obstacle);
}

/* Live output skips a name a stray file holds, even only its sidecar's,
 * and leaves the strays as they were. */
static void test_live_taken_names_skipped(void **state)
{
    (void)state;
    char *out = path_in("out");
    assert_int_equal(mkdir(out, 0777), 0);
    int strays = tu_plant_strays(out, "instruction-tuning", ".meta", 60);
    start("sidecar = true;\n" SLOW);
    for (size_t i = 0; i < nlines; i++)
        append("agent.jsonl", lines[i]);
    json_decref(ctl("process", NULL));
    assert_int_equal(stop(SIGTERM), 0);
    char *wrong = tu_check_strays_skipped(out, "instruction-tuning", strays);
    if (wrong)
        fail_msg("%s", wrong);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slow_tool_keeps_turn_whole,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_follow_rotate_truncate, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(test_two_socket_clients, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(test_control_commands, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(test_sighup_and_sigterm, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(test_latency, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(test_clear_drops_held_records,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_no_checkpoint, each_setup,
                                        each_teardown),
        cmocka_unit_test_setup_teardown(test_files_named_before_created,
                                        each_setup, each_teardown),
        cmocka_unit_test_setup_teardown(test_live_taken_names_skipped,
                                        each_setup, each_teardown),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
