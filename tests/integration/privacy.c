/*
 * privacy.c -- nothing sensitive reaches a training file.
 *
 * The test writes a log with known PII planted in every kind of field
 * (plain and object content, context ids, thoughts, action arguments and
 * results, event data, outputs), runs the real binary with every privacy
 * option, and checks every output file (sidecars too): no planted value is
 * left, each was counted, the text around it survives, pseudonyms are
 * stable for one key and differ for another, timestamps are gone, and a
 * catastrophic pattern ends at its limit instead of hanging the run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

/* The planted values, with the counter that must count them. */
static const struct {
    const char *value, *counter;
} planted[] = {
    {"planted.one@example.net", "redacted.email"},
    {"planted.two@example.org", "redacted.email"},
    {"planted.three@example.com", "redacted.email"},
    {"(555) 777-1234", "redacted.phone"},
    {"+1 555 010 9876", "redacted.phone"},
    {"4012 8888 8888 1881", "redacted.credit_card"},
    {"sk-plantedKEY0123456789abcdef", "redacted.api_key"},
    {"AKIAPLANTED01234567Z", "redacted.api_key"},
    /* every other key form: the detector is skipped for strings that
     * lack their telltale bytes, so each must still be caught */
    {"ASIAPLANTED01234567Z", "redacted.api_key"},
    {"sk_live_planted0123456789ab", "redacted.api_key"},
    {"ghp_planted0123456789abcdefghijklmnop", "redacted.api_key"},
    {"github_pat_planted0123456789_abcdefghij", "redacted.api_key"},
    {"xoxb-planted0123456789", "redacted.api_key"},
    {"AIzaPLANTED0123456789abcdefghijklmnopqrs", "redacted.api_key"},
    {"glpat-planted0123456789abcdef", "redacted.api_key"},
    {"203.0.113.77", "redacted.ip"},
    {"2001:db8::8a2e:370:7334", "redacted.ip"},
    {"bob:hunter2", "redacted.url_credentials"},
    {"ORD-SECRET-42", "redacted.pattern"},
    {"mallory_x", "pseudonymized.mentions"},
    {"998877665544332211", "pseudonymized.users"},
    {"@trent_w", "pseudonymized.mentions"},
};

/* Text that must survive around the PII. */
static const char *const kept[] = {"KEEP-INPUT", "KEEP-THOUGHT", "KEEP-ARG",
                                   "KEEP-RESULT", "KEEP-EVENT", "KEEP-OUTPUT",
                                   NULL};

static char *dir;

/* One envelope line for context ctx. */
static void line(FILE *f, const char *ctx, json_t *log, int done)
{
    json_t *env = json_pack("{s:s, s:s, s:o, s:b}", "contextId", ctx,
                            "contextType", "discord.channel", "log", log,
                            "done", done);
    char *s = json_dumps(env, JSON_COMPACT);
    fprintf(f, "%s\n", s);
    free(s);
    json_decref(env);
}

static void write_log(const char *path)
{
    FILE *f = fopen(path, "w");
    const char *ctx = "discord.channel:998877665544332211";
    line(f, ctx, json_pack("{s:s, s:s, s:i}", "ref", "run", "id", "r1",
                           "timestamp", 1000),
         1);
    line(f, ctx,
         json_pack("{s:s, s:s, s:{s:s, s:s}, s:i}", "ref", "input", "id", "i1",
                   "content", "user", "mallory_x", "text",
                   "KEEP-INPUT mail planted.one@example.net or call (555) "
                   "777-1234, says mallory_x; ping @trent_w",
                   "timestamp", 999),
         1);
    /* one key form per string: each must get past the detector's
     * prefilter on its own */
    static const char *const keys[] = {
        "ASIAPLANTED01234567Z", "sk_live_planted0123456789ab",
        "ghp_planted0123456789abcdefghijklmnop",
        "github_pat_planted0123456789_abcdefghij", "xoxb-planted0123456789",
        "AIzaPLANTED0123456789abcdefghijklmnopqrs",
        "glpat-planted0123456789abcdef"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        char id[16], text[128];
        snprintf(id, sizeof id, "t0-%zu", k);
        snprintf(text, sizeof text, "KEEP-THOUGHT key %s here", keys[k]);
        line(f, ctx,
             json_pack("{s:s, s:s, s:s, s:i}", "ref", "thought", "id", id,
                       "content", text, "timestamp", 1000),
             1);
    }
    line(f, ctx,
         json_pack("{s:s, s:s, s:s, s:i}", "ref", "thought", "id", "t1",
                   "content",
                   "KEEP-THOUGHT card 4012 8888 8888 1881 from mallory_x",
                   "timestamp", 1001),
         1);
    json_t *args = json_pack("{s:s, s:s, s:s}", "to", "planted.two@example.org",
                             "key", "sk-plantedKEY0123456789abcdef", "note",
                             "KEEP-ARG +1 555 010 9876");
    char *raw = json_dumps(args, JSON_COMPACT);
    line(f, ctx,
         json_pack("{s:s, s:s, s:s, s:s, s:O, s:i}", "ref", "action_call",
                   "id", "c1", "name", "lookup", "content", raw, "data", args,
                   "timestamp", 1002),
         1);
    free(raw);
    json_decref(args);
    line(f, ctx,
         json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:i}", "ref",
                   "action_result", "id", "a1", "callId", "c1", "name",
                   "lookup", "data", "ip", "203.0.113.77", "v6",
                   "2001:db8::8a2e:370:7334", "url",
                   "https://bob:hunter2@db.internal/x", "note",
                   "KEEP-RESULT order ORD-SECRET-42", "timestamp", 1003),
         1);
    /* an unknown action: its error event carries a key */
    line(f, ctx,
         json_pack("{s:s, s:s, s:s, s:s, s:i}", "ref", "action_call", "id",
                   "c2", "name", "notify", "content", "{}", "timestamp", 1004),
         1);
    line(f, ctx,
         json_pack("{s:s, s:s, s:s, s:{s:{s:s, s:s, s:s}, s:{s:s, s:s}}, "
                   "s:i}",
                   "ref", "event", "id", "e1", "name", "error", "data", "ref",
                   "ref", "action_call", "id", "c2", "name", "notify",
                   "error", "name", "NotFoundError", "message",
                   "KEEP-EVENT key AKIAPLANTED01234567Z", "timestamp", 1005),
         1);
    line(f, ctx,
         json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "ref", "output", "id",
                   "o1", "name", "text", "content",
                   "KEEP-OUTPUT write to planted.three@example.com", "data",
                   "KEEP-OUTPUT write to planted.three@example.com",
                   "timestamp", 1010),
         1);
    fclose(f);
}

static char *write_conf(const char *name, const char *key, const char *extra)
{
    char *path = tu_fmt("%s/%s", dir, name);
    char *text = tu_fmt(
        "input = \"planted.jsonl\";\nsidecar = true;\n"
        "formats = [\"instruction-tuning\", \"conversation\", "
        "\"reasoning-chains\", \"action-sequences\", \"episodes\", "
        "\"custom\"];\n"
        "plugins = { custom = { unit = \"session\"; template = { all = "
        "\"$turns\"; acts = \"$actions\"; }; }; };\n"
        "privacy = {\n"
        "  detectors = [\"email\", \"phone\", \"credit_card\", \"ip\", "
        "\"api_key\", \"url_credentials\"];\n"
        "  anonymize_users = true;\n  key_file = \"%s\";\n"
        "  user_patterns = [\"(?<![\\\\w.\\\\]])@[a-z_]{2,32}\"];\n"
        "  remove_timestamps = true;\n%s};\n",
        key, extra);
    tu_write(path, text);
    free(text);
    return path;
}

/* The custom pattern the planted log needs. */
#define ORDER_PATTERN "  redact_patterns = [\"ORD-SECRET-\\\\d+\"];\n"

/* Run with conf; returns the output dir (owned) and stderr in *err. */
static char *run_conf(const char *conf, char **err, int want_exit)
{
    char *out = tu_tmpdir();
    char *host = tu_fmt("%s/synthhost", tu_build());
    char *argv[] = {host, "-c", (char *)conf, "-o", out, NULL};
    int rc = tu_run(argv, NULL, NULL, err);
    if (rc != want_exit)
        fail_msg("exit %d, want %d: %s", rc, want_exit, *err);
    free(host);
    return out;
}

/* Everything synthhost wrote, concatenated. */
static char *all_output(const char *out)
{
    char *acc = strdup("");
    DIR *d = opendir(out);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p = tu_fmt("%s/%s", out, e->d_name);
        char *t = tu_read(p);
        char *n = tu_fmt("%s%s", acc, t);
        free(acc);
        acc = n;
        free(t);
        free(p);
    }
    closedir(d);
    return acc;
}

/* A counter from the run summary, where "redacted.email" is printed as
 * "synthhost: redacted: ..., email 48, ...". */
static long long counter(const char *err, const char *name)
{
    const char *dot = strchr(name, '.');
    char *head = tu_fmt("synthhost: %.*s: ", (int)(dot - name), name);
    const char *line = strstr(err, head);
    long long v = 0;
    if (line) {
        const char *end = strchr(line, '\n');
        const char *p = line + strlen(head);
        size_t klen = strlen(dot + 1);
        while (p && p < end) {
            if (strncmp(p, dot + 1, klen) == 0 && p[klen] == ' ') {
                v = atoll(p + klen + 1);
                break;
            }
            p = strstr(p, ", ");
            p = p ? p + 2 : NULL;
        }
    }
    free(head);
    return v;
}

static int setup(void **state)
{
    (void)state;
    dir = tu_tmpdir();
    char *log = tu_fmt("%s/planted.jsonl", dir);
    write_log(log);
    free(log);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmrf(dir);
    free(dir);
    return 0;
}

static void test_nothing_planted_survives(void **state)
{
    (void)state;
    char *conf = write_conf("a.conf", "a.key", ORDER_PATTERN);
    char *err = NULL;
    char *out = run_conf(conf, &err, 0);
    char *text = all_output(out);
    assert_true(strlen(text) > 500);
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++) {
        if (strstr(text, planted[i].value))
            fail_msg("planted \"%s\" reached an output file", planted[i].value);
        if (counter(err, planted[i].counter) < 1)
            fail_msg("\"%s\" was not counted as %s:\n%s", planted[i].value,
                     planted[i].counter, err);
    }
    for (int i = 0; kept[i]; i++)
        if (strstr(text, kept[i]) == NULL)
            fail_msg("\"%s\" around the PII was lost", kept[i]);
    /* every planted e-mail counted (3), the others at least once each */
    assert_true(counter(err, "redacted.email") >= 3);
    assert_true(counter(err, "redacted.ip") >= 2);
    /* tokens in place of the values */
    assert_non_null(strstr(text, "[EMAIL]"));
    assert_non_null(strstr(text, "[CREDIT_CARD]"));
    assert_non_null(strstr(text, "[URL_CREDENTIALS]@db.internal"));
    /* the sidecar counts per kind, never the text */
    assert_non_null(strstr(text, "\"redacted\":{"));
    /* no timestamp field in any record */
    assert_null(strstr(text, "\"timestamp\""));
    assert_null(strstr(text, "\"duration\""));
    free(text);
    free(err);
    tu_rmrf(out);
    free(out);
    free(conf);
}

/* The pseudonym of the context's user id, from the episodes file. */
static char *episode_id(const char *out)
{
    char *path = tu_find(out, "episodes-", ".jsonl");
    json_t *recs = tu_load_jsonl(path);
    char *id = strdup(json_string_value(
        json_object_get(json_array_get(recs, 0), "episodeId")));
    json_decref(recs);
    free(path);
    return id;
}

static void test_pseudonyms_stable_per_key(void **state)
{
    (void)state;
    char *a = write_conf("a.conf", "a.key", ORDER_PATTERN);
    char *b = write_conf("b.conf", "b.key", ORDER_PATTERN);
    char *err1 = NULL, *err2 = NULL, *err3 = NULL;
    char *o1 = run_conf(a, &err1, 0), *o2 = run_conf(a, &err2, 0);
    char *o3 = run_conf(b, &err3, 0);
    char *id1 = episode_id(o1), *id2 = episode_id(o2), *id3 = episode_id(o3);
    /* discord.channel:<16 hex> */
    assert_int_equal(strncmp(id1, "discord.channel:user_", 21), 0);
    assert_int_equal(strlen(id1), 21 + 16);
    assert_string_equal(id1, id2);      /* same key: same pseudonym */
    assert_string_not_equal(id1, id3);  /* another key: another one */
    /* the same user gets the same pseudonym in every file */
    char *text = all_output(o1);
    const char *suffix = id1 + strlen("discord.channel:");
    int files = 0;
    DIR *d = opendir(o1);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n > 6 && strcmp(e->d_name + n - 6, ".jsonl") == 0 &&
            strncmp(e->d_name, "instruction-tuning", 18) != 0 &&
            strncmp(e->d_name, "conversation", 12) != 0) {
            char *p = tu_fmt("%s/%s", o1, e->d_name);
            char *t = tu_read(p);
            files += strstr(t, "user_") != NULL;
            free(t);
            free(p);
        }
    }
    closedir(d);
    assert_true(files >= 3);
    assert_non_null(strstr(text, suffix));
    /* the key file was created private */
    char *key = tu_fmt("%s/a.key", dir);
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    free(key);
    free(text);
    free(id1);
    free(id2);
    free(id3);
    for (char **o = (char *[]){o1, o2, o3, NULL}; *o; o++) {
        tu_rmrf(*o);
        free(*o);
    }
    free(err1);
    free(err2);
    free(err3);
    free(a);
    free(b);
}

/* A context id whose key is one character ("cli:z") is pseudonymised in
 * the id like any other (it once crashed the plugin: the key was too
 * short to be remembered as a name, and its pseudonym was NULL). */
static void test_one_character_user(void **state)
{
    (void)state;
    /* the real lines of cli:sam, under the context id cli:z */
    char *src = tu_fmt("%s/tests/inputs/daydreams-subset.jsonl", tu_root());
    json_t *lines = tu_load_jsonl(src);
    assert_non_null(lines);
    char *log = tu_fmt("%s/z.jsonl", dir);
    FILE *f = fopen(log, "w");
    size_t i, copied = 0;
    json_t *l;
    json_array_foreach(lines, i, l) {
        if (strcmp(json_string_value(json_object_get(l, "contextId")),
                   "cli:sam") != 0)
            continue;
        json_object_set_new(l, "contextId", json_string("cli:z"));
        char *t = json_dumps(l, JSON_COMPACT);
        fprintf(f, "%s\n", t);
        free(t);
        copied++;
    }
    fclose(f);
    assert_true(copied > 50);
    char *conf = tu_fmt("%s/z.conf", dir);
    char *text = tu_fmt("input = \"z.jsonl\";\nformats = [\"episodes\"];\n"
                        "privacy = { anonymize_users = true; key_file = "
                        "\"z.key\"; };\n");
    tu_write(conf, text);
    char *err = NULL, *out = run_conf(conf, &err, 0);
    char *id = episode_id(out);
    assert_int_equal(strncmp(id, "cli:user_", 9), 0);
    assert_int_equal(strlen(id), 9 + 16);
    char *all = all_output(out);
    assert_null(strstr(all, "cli:z"));
    free(all);
    free(id);
    tu_rmrf(out);
    free(out);
    free(err);
    free(text);
    free(conf);
    free(log);
    json_decref(lines);
    free(src);
}

/* Run the subset of the example log with formats and a privacy group
 * (body of `privacy = { ... };`) from a config called name; returns the
 * output dir (owned; tu_rmrf and free it). */
static char *run_subset(const char *name, const char *formats,
                        const char *privacy)
{
    char *conf = tu_fmt("%s/%s", dir, name);
    char *text = tu_fmt("input = \"%s/tests/inputs/daydreams-subset.jsonl\";\n"
                        "formats = [%s];\nprivacy = { %s };\n",
                        tu_root(), formats, privacy);
    tu_write(conf, text);
    char *err = NULL, *out = run_conf(conf, &err, 0);
    free(err);
    free(text);
    free(conf);
    return out;
}

/* pseudonym_prefix names the pseudonyms; context_types chooses whose
 * context id key is a user: discord channels here, so cli:sam stays. */
static void test_pseudonym_options(void **state)
{
    (void)state;
    char *out = run_subset("opts.conf", "\"episodes\"",
                           "anonymize_users = true; key_file = \"opts.key\"; "
                           "pseudonym_prefix = \"anon-\"; "
                           "context_types = [\"discord.*\"];");
    char *path = tu_find(out, "episodes-", ".jsonl");
    json_t *recs = tu_load_jsonl(path);
    size_t i, discord = 0, cli = 0;
    json_t *r;
    json_array_foreach(recs, i, r) {
        const char *id = json_string_value(json_object_get(r, "episodeId"));
        if (strncmp(id, "discord.channel:", 16) == 0) {
            assert_int_equal(strncmp(id + 16, "anon-", 5), 0);
            assert_int_equal(strlen(id), 16 + 5 + 16);
            discord++;
        } else if (strcmp(id, "cli:sam") == 0) {
            cli++; /* not a selected context type: its id stays */
        }
    }
    assert_int_equal(discord, 3);
    assert_int_equal(cli, 1);
    json_decref(recs);
    free(path);
    tu_rmrf(out);
    free(out);
}

/* Secrets are redacted before anything rewrites the text: a naive user
 * pattern ("@name") would otherwise eat the domain of an e-mail address
 * before the e-mail detector saw it, and the local part would survive.
 * The subset holds "thanh.nguyen@example.com" in its cli:t.nguyen lines;
 * redact, pseudonymize and timestamps run in that order whatever their
 * file names (SYNTH_PLUGIN_FIRST / LAST). */
static void test_redaction_runs_first(void **state)
{
    (void)state;
    char *out = run_subset("order.conf", "\"instruction-tuning\", \"episodes\"",
                           "detectors = [\"email\"]; anonymize_users = true; "
                           "key_file = \"order.key\"; "
                           "user_patterns = [\"@[a-z]{2,32}\"];");
    char *all = all_output(out);
    assert_null(strstr(all, "thanh.nguyen"));
    assert_non_null(strstr(all, "send the results to [EMAIL] please"));
    free(all);
    tu_rmrf(out);
    free(out);
}

/* Run conf (owned; freed) as case i: it must stop with exit status 2,
 * nothing written, and stderr holding both what and why. */
static void refused(char *conf, size_t i, const char *what, const char *why)
{
    char *err = NULL;
    char *out = run_conf(conf, &err, 2);
    if (strstr(err, what) == NULL || strstr(err, why) == NULL)
        fail_msg("case %zu: \"%s\" lacks \"%s\" or \"%s\"", i, err, what,
                 why);
    assert_int_equal(tu_count_entries(out), 0);
    free(err);
    tu_rmrf(out);
    free(out);
    free(conf);
}

/* A key file that is not private or not a key stops the run before any
 * output, naming the option and why. */
static void test_bad_key_files_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        unsigned mode;
        const char *want;
    } cases[] = {
        {"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
         0644, "can be read by other users (mode 644)"},
        {"00112233445566778899aabbccddeeff\n", 0600,
         "does not hold a 64-digit hex key"},
        {"00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg\n",
         0600, "does not hold a hex key"},
        {"0011223344556677 8899aabbccddeeff00112233445566778899aabbccddeef\n",
         0600, "does not hold a hex key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *key = tu_fmt("%s/open.key", dir);
        tu_write(key, cases[i].text);
        chmod(key, cases[i].mode);
        char *conf = write_conf("open.conf", "open.key", "");
        refused(conf, i, "option \"key_file\":", cases[i].want);
        unlink(key);
        free(key);
    }
}

static void test_bad_patterns_are_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *extra, *want;
    } cases[] = {
        {"  redact_patterns = [\"ok\",\n    \"(unclosed\"];\n",
         ".conf:12: plugin \"redact\", option \"redact_patterns\": invalid "
         "pattern at offset 9: missing closing parenthesis"},
        {"  detectors = [\"email\", \"ssn\"];\n",
         "option \"detectors\": unknown detector \"ssn\""},
        {"  replacements = { mail = \"x\"; };\n",
         "option \"replacements\": \"mail\" is not a detector"},
        {"  anonymize_users = true;\n  key_file = \"a.key\";\n"
         "  user_patterns = [\"[a-\"];\n",
         "option \"user_patterns\": invalid pattern at offset"},
        {"  redact_pattern = [];\n",
         "unknown privacy option \"redact_pattern\"; did you mean "
         "\"redact_patterns\"?"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *conf;
        if (strstr(cases[i].extra, "detectors") ||
            strstr(cases[i].extra, "user_patterns")) {
            /* the base config has detectors already: a config of its own */
            conf = tu_fmt("%s/bad.conf", dir);
            char *text = tu_fmt("input = \"planted.jsonl\";\nformats = "
                                "[\"episodes\"];\nprivacy = {\n%s};\n",
                                cases[i].extra);
            tu_write(conf, text);
            free(text);
        } else {
            conf = write_conf("bad.conf", "a.key", cases[i].extra);
        }
        refused(conf, i, cases[i].want, cases[i].want);
    }
}

/* (a+)+$ on 30,000 a's and a b backtracks for ages without a limit; with
 * one the string is dropped, the limit counted, and the run goes on. */
static void test_catastrophic_pattern_hits_limit(void **state)
{
    (void)state;
    char *log = tu_fmt("%s/long.jsonl", dir);
    char *as = malloc(30002);
    memset(as, 'a', 30000);
    as[30000] = 'b';
    as[30001] = '\0';
    FILE *f = fopen(log, "w");
    fprintf(f, "{\"contextId\":\"cli:x\",\"log\":{\"ref\":\"input\",\"id\":"
               "\"i1\",\"content\":\"%s\"}}\n"
               "{\"contextId\":\"cli:x\",\"log\":{\"ref\":\"output\",\"id\":"
               "\"o1\",\"content\":\"fine\",\"data\":\"fine\"}}\n",
            as);
    fclose(f);
    char *conf = tu_fmt("%s/cat.conf", dir);
    tu_write(conf, "input = \"long.jsonl\";\nformats = [\"instruction-tuning\"];"
                   "\nprivacy = { redact_patterns = [\"(a+)+$\"]; };\n");
    char *err = NULL;
    char *out = run_conf(conf, &err, 0);
    assert_true(counter(err, "redacted.limit") >= 1);
    char *text = all_output(out);
    assert_null(strstr(text, "aaaaaaaaaa"));
    assert_non_null(strstr(text, "\"instruction\":\"[REDACTED: LIMIT]\""));
    assert_non_null(strstr(text, "\"response\":\"fine\""));
    free(text);
    free(err);
    tu_rmrf(out);
    free(out);
    free(conf);
    free(as);
    free(log);
}

static void test_keep_durations(void **state)
{
    (void)state;
    char *conf = write_conf("d.conf", "a.key", "  keep_durations = true;\n");
    char *err = NULL;
    char *out = run_conf(conf, &err, 0);
    char *path = tu_find(out, "episodes-", ".jsonl");
    json_t *recs = tu_load_jsonl(path);
    json_t *ep = json_array_get(recs, 0);
    /* 999 .. 1010 in the planted log */
    assert_int_equal(json_integer_value(json_object_get(ep, "duration")), 11);
    char *text = all_output(out);
    assert_null(strstr(text, "\"timestamp\""));
    free(text);
    json_decref(recs);
    free(path);
    free(err);
    tu_rmrf(out);
    free(out);
    free(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_planted_survives),
        cmocka_unit_test(test_pseudonyms_stable_per_key),
        cmocka_unit_test(test_one_character_user),
        cmocka_unit_test(test_redaction_runs_first),
        cmocka_unit_test(test_pseudonym_options),
        cmocka_unit_test(test_bad_key_files_refused),
        cmocka_unit_test(test_bad_patterns_are_config_errors),
        cmocka_unit_test(test_catastrophic_pattern_hits_limit),
        cmocka_unit_test(test_keep_durations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
