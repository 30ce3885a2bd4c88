/*
 * genlog.c -- writes a Daydreams-shaped agent log of a given size,
 * deterministically (same seed, same bytes):
 *
 *   genlog --bytes 100M [--seed 42] [-o FILE]
 *
 * Like @daydreamsai/core's onLogStream output: {"contextId", "contextType",
 * "log": {...}, "done"} envelopes; several contexts (cli, discord.channel,
 * support) running at once with their lines interleaved; runs of
 * run/step/input, then steps of streamed thoughts, action calls and
 * outputs (each repeated with growing content, the final line done: true),
 * action results (some failed), error events (unknown actions, rejected
 * outputs), object-valued discord inputs, non-ASCII text and some personal
 * data for the privacy plugins.  Timestamps move forward (with the
 * creation-time quirk of streamed elements) so sessions close as they
 * would in a live agent's log.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int pick(int n)
{
    return (int)(next() % (uint64_t)n);
}

static const char *const words[] = {
    "the", "order", "weather", "refund", "please", "check", "status", "city",
    "Berlin", "São", "Paulo", "café", "22°C", "temperature", "search",
    "postgres", "index", "bloat", "shipping", "tracking", "customer",
    "ticket", "escalate", "calculate", "difference", "result", "today",
    "tomorrow", "thanks", "help", "need", "quick", "question", "about", "my",
    "account", "email", "phone", "update", "latest", "news", "market",
    "日本", "naïve", "résumé", "déjà", "vu", "and", "with", "for", "a", "is"};
#define NWORDS (sizeof words / sizeof words[0])

static const char *const pii[] = {
    "jane.doe@example.com", "555-123-4567", "(555) 432-1190",
    "4111 1111 1111 1111", "grace.liu@example.org", "+1 555 010 7734",
    "sk-abc123def456ghi789jkl012mno345pqr678stu"};

/* A sentence of n words, sometimes with personal data, into buf. */
static void sentence(char *buf, size_t cap, int n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len + 64 < cap; i++) {
        const char *w = (pick(40) == 0) ? pii[pick(7)] : words[pick(NWORDS)];
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "", w);
    }
}

/* JSON-escape s into out (only quotes and backslashes occur here, plus the
 * newline we add ourselves). */
static void esc(char *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            *out++ = '\\';
        if (*s == '\n') {
            *out++ = '\\';
            *out++ = 'n';
            continue;
        }
        *out++ = *s;
    }
    *out = '\0';
}

/* A context's pending lines, emitted in order, interleaved with others. */
typedef struct {
    char **lines;
    size_t n, cap, at;
} queue;

static void push(queue *q, char *line)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 64;
        q->lines = realloc(q->lines, q->cap * sizeof *q->lines);
    }
    q->lines[q->n++] = line;
}

static unsigned long long ids, clock_ms = 1795698288000ULL;

static void uuid(char out[40])
{
    unsigned long long n = ++ids;
    snprintf(out, 40, "01a217f5-%04x-7%03x-%04x-%012llx",
             (unsigned)(n >> 16) & 0xffff, (unsigned)n & 0xfff,
             (unsigned)pick(0x10000), n);
}

/* One line: the envelope around a log object. */
static char *env(const char *ctx, const char *type, const char *log, int done)
{
    char *s = NULL;
    if (asprintf(&s, "{\"contextId\":\"%s\",\"contextType\":\"%s\",\"log\":"
                     "%s,\"done\":%s}",
                 ctx, type, log, done ? "true" : "false") < 0)
        abort();
    return s;
}

/* A streamed element: partials with growing content, then a final line
 * (unless rejected). */
static void stream(queue *q, const char *ctx, const char *type,
                   const char *ref, const char *name, const char *text,
                   const char *data_json, int rejected)
{
    char id[40], log[32768], part[8192], e[16400];
    uuid(id);
    unsigned long long ts = clock_ms;
    size_t len = strlen(text);
    int parts = 2 + pick(8);
    for (int i = 0; i < parts; i++) {
        size_t cut = len * (size_t)i / (size_t)parts;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
            cut--; /* never split a UTF-8 character */
        memcpy(part, text, cut);
        part[cut] = '\0';
        esc(e, part);
        snprintf(log, sizeof log,
                 "{\"id\":\"%s\",\"timestamp\":%llu,\"processed\":false,"
                 "\"ref\":\"%s\"%s%s%s,\"params\":{},\"content\":\"%s\"}",
                 id, ts, ref, name ? ",\"name\":\"" : "", name ? name : "",
                 name ? "\"" : "", e);
        push(q, env(ctx, type, log, 0));
    }
    esc(e, text);
    if (rejected) {
        char ev[40];
        uuid(ev);
        snprintf(log, sizeof log,
                 "{\"id\":\"%s\",\"ref\":\"event\",\"timestamp\":%llu,"
                 "\"name\":\"error\",\"data\":{\"ref\":{\"ref\":\"%s\","
                 "\"id\":\"%s\"},\"error\":{\"name\":\"ParsingError\","
                 "\"message\":\"Unterminated string in JSON\"}},"
                 "\"processed\":false}",
                 ev, ts + 3, ref, id);
        push(q, env(ctx, type, log, 1));
        return;
    }
    snprintf(log, sizeof log,
             "{\"id\":\"%s\",\"timestamp\":%llu,\"processed\":true,"
             "\"ref\":\"%s\"%s%s%s,\"params\":{},\"content\":\"%s\"%s%s}",
             id, ts, ref, name ? ",\"name\":\"" : "", name ? name : "",
             name ? "\"" : "", e, data_json ? ",\"data\":" : "",
             data_json ? data_json : "");
    push(q, env(ctx, type, log, 1));
}

static const char *const actions[] = {"get_weather", "web_search",
                                      "calculate", "lookup_order",
                                      "refund_order"};

/* A whole context: 1 to 4 runs. */
static void context(queue *q, unsigned long long n)
{
    static const char *const types[] = {"cli", "discord.channel", "support"};
    const char *type = types[n % 3];
    char ctx[96], id[40], log[32768], text[2048], e[4200];
    if (n % 3 == 0)
        snprintf(ctx, sizeof ctx, "cli:user%llu", n);
    else if (n % 3 == 1)
        snprintf(ctx, sizeof ctx, "discord.channel:%llu",
                 1171310082775617589ULL + n);
    else
        snprintf(ctx, sizeof ctx, "support:T-%llu", 10000 + n);
    int runs = 1 + pick(4);
    for (int r = 0; r < runs; r++) {
        clock_ms += 200 + (unsigned long long)pick(2000);
        uuid(id);
        snprintf(log, sizeof log,
                 "{\"id\":\"%s\",\"ref\":\"run\",\"type\":\"%s\",\"data\":{},"
                 "\"processed\":false,\"timestamp\":%llu}",
                 id, type, clock_ms);
        push(q, env(ctx, type, log, 1));
        uuid(id);
        snprintf(log, sizeof log,
                 "{\"ref\":\"step\",\"id\":\"%s\",\"step\":1,\"type\":\"main\","
                 "\"data\":{},\"processed\":false,\"timestamp\":%llu}",
                 id, clock_ms);
        push(q, env(ctx, type, log, 1));
        sentence(text, sizeof text, 4 + pick(14));
        esc(e, text);
        uuid(id);
        if (n % 3 == 1)
            snprintf(log, sizeof log,
                     "{\"id\":\"%s\",\"ref\":\"input\",\"type\":"
                     "\"discord:message\",\"content\":{\"user\":\"user_%llu\","
                     "\"text\":\"%s\"},\"data\":{\"user\":\"user_%llu\","
                     "\"text\":\"%s\"},\"timestamp\":%llu,\"processed\":false}",
                     id, n % 500, e, n % 500, e, clock_ms - 1);
        else
            snprintf(log, sizeof log,
                     "{\"id\":\"%s\",\"ref\":\"input\",\"type\":\"%s:message\","
                     "\"content\":\"%s\",\"data\":\"%s\",\"timestamp\":%llu,"
                     "\"processed\":false}",
                     id, type, e, e, clock_ms - 1);
        push(q, env(ctx, type, log, 1));
        int steps = 1 + pick(3);
        for (int s = 1; s <= steps; s++) {
            if (s > 1) {
                uuid(id);
                snprintf(log, sizeof log,
                         "{\"ref\":\"step\",\"id\":\"%s\",\"step\":%d,\"type\":"
                         "\"main\",\"data\":{},\"processed\":false,"
                         "\"timestamp\":%llu}",
                         id, s, clock_ms);
                push(q, env(ctx, type, log, 1));
            }
            clock_ms += 20 + (unsigned long long)pick(200);
            sentence(text, sizeof text, 8 + pick(30));
            stream(q, ctx, type, "thought", NULL, text, NULL, 0);
            if (s < steps) {
                const char *a = actions[pick(5)];
                char args[256], data[512];
                snprintf(args, sizeof args, "{\"query\":\"%s %s\"}",
                         words[pick(NWORDS)], words[pick(NWORDS)]);
                stream(q, ctx, type, "action_call", a, args, args, 0);
                char call_id[40];
                uuid(id);
                int failed = pick(10) == 0;
                if (failed)
                    snprintf(data, sizeof data,
                             "{\"error\":{\"name\":\"TimeoutError\","
                             "\"message\":\"provider did not respond\"}}");
                else
                    snprintf(data, sizeof data,
                             "{\"ok\":true,\"value\":%d,\"note\":\"%s\"}",
                             pick(1000), words[pick(NWORDS)]);
                /* find the call id: the final action_call line we pushed */
                const char *final = q->lines[q->n - 1];
                const char *p = strstr(final, "\"id\":\"");
                snprintf(call_id, sizeof call_id, "%.36s", p + 6);
                snprintf(log, sizeof log,
                         "{\"ref\":\"action_result\",\"id\":\"%s\",\"callId\":"
                         "\"%s\",\"data\":%s,\"name\":\"%s\",\"timestamp\":"
                         "%llu,\"processed\":false}",
                         id, call_id, data, a, clock_ms + 5);
                /* results arrive before their call's final line */
                char *result = env(ctx, type, log, 1);
                push(q, result);
                char *tmp = q->lines[q->n - 1];
                q->lines[q->n - 1] = q->lines[q->n - 2];
                q->lines[q->n - 2] = tmp;
            } else {
                sentence(text, sizeof text, 6 + pick(40));
                char data[4300];
                esc(e, text);
                snprintf(data, sizeof data, "\"%s\"", e);
                stream(q, ctx, type, "output", "text", text, data,
                       pick(25) == 0);
            }
        }
    }
}

int main(int argc, char **argv)
{
    unsigned long long want = 10ULL << 20;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc) {
            char *end;
            double v = strtod(argv[++i], &end);
            double mul = *end == 'G' ? 1 << 30 : *end == 'M' ? 1 << 20
                       : *end == 'K' ? 1 << 10 : 1;
            want = (unsigned long long)(v * mul);
        } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            rng ^= strtoull(argv[++i], NULL, 10) * 0x9E3779B97F4A7C15ULL;
            if (rng == 0)
                rng = 1;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else {
            fprintf(stderr, "usage: genlog --bytes N[K|M|G] [--seed S] "
                            "[-o FILE]\n");
            return 2;
        }
    }
    FILE *f = out ? fopen(out, "w") : stdout;
    if (f == NULL) {
        perror(out);
        return 1;
    }
    enum { ACTIVE = 8 };
    queue q[ACTIVE];
    memset(q, 0, sizeof q);
    unsigned long long written = 0, contexts = 0;
    for (int i = 0; i < ACTIVE; i++)
        context(&q[i], contexts++);
    while (written < want) {
        int i = pick(ACTIVE);
        if (q[i].at == q[i].n) { /* finished: free it, start another */
            for (size_t k = 0; k < q[i].n; k++)
                free(q[i].lines[k]);
            q[i].n = q[i].at = 0;
            context(&q[i], contexts++);
        }
        char *line = q[i].lines[q[i].at++];
        written += (unsigned long long)fprintf(f, "%s\n", line);
    }
    for (int i = 0; i < ACTIVE; i++) {
        for (size_t k = 0; k < q[i].n; k++)
            free(q[i].lines[k]);
        free(q[i].lines);
    }
    if (out && fclose(f) != 0) {
        perror(out);
        return 1;
    }
    fprintf(stderr, "genlog: %llu bytes, %llu contexts\n", written, contexts);
    return 0;
}
