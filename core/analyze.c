/* analyze.c -- dataset quality analysis (see analyze.h; the numbers are
 * defined in README.md, "Quality"). */
#include "analyze.h"
#include "alloc.h"
#include "lines.h"
#include "log.h"
#include "map.h"
#include "instance.h"
#include "stats.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ISSUE_EXAMPLES 5
#define LENGTH_BINS 10
static const double length_edges[LENGTH_BINS - 1] = {10,  20,   50,   100, 200,
                                                     500, 1000, 2000, 5000};

/* Everything measured about one format. */
typedef struct fmt_acc {
    char *name;                    /* owned */
    const char *const *fields;     /* borrowed from the formatter, or NULL */
    unsigned long long records, scored, complete_n;
    double score_sum, complete_sum;
    unsigned long long score_hist[10], length_hist[LENGTH_BINS];
    core_dist scores, lengths;
    core_hll bigrams;
    unsigned long long bigram_total;
    json_t *signatures;            /* owned: "key:type,..." -> count */
} fmt_acc;

typedef struct analysis {
    core_registry reg;
    core_metrics metrics;
    core_stage scorers;
    core_map *formats;             /* name -> fmt_acc* (owned) */
    json_t *format_order;          /* owned: names in first-seen order */
    json_t *issues;                /* owned: code -> {count, examples} */
    json_t *files;                 /* owned: [{path, records, bad_lines}] */
    core_hll contexts;
    int have_sidecar;
    unsigned long long bad_lines;
} analysis;

static void fmt_free(void *p)
{
    fmt_acc *f = p;
    if (f == NULL)
        return;
    core_free(f->name);
    json_decref(f->signatures);
    core_free(f);
}

static fmt_acc *fmt_get(analysis *a, const char *name,
                        const core_plugin *formatter)
{
    fmt_acc *f = core_map_get(a->formats, name);
    if (f == NULL) {
        f = core_calloc(1, sizeof *f);
        f->name = core_strdup(name);
        f->fields = formatter ? formatter->desc.record_fields : NULL;
        f->signatures = json_object();
        core_map_put(a->formats, name, f);
        json_array_append_new(a->format_order, json_string(name));
    }
    return f;
}

/* ---- recognising a format ---------------------------------------------- */

/* The formatter whose name starts the file name ("grpo-2026...jsonl"). */
static const core_plugin *by_file_name(const core_registry *reg,
                                       const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const core_plugin *best = NULL;
    for (size_t i = 0; i < reg->n; i++) {
        const core_plugin *p = &reg->plugins[i];
        if (!p->dl || p->desc.kind != SYNTH_KIND_FORMATTER)
            continue;
        size_t n = strlen(p->desc.name);
        if (strncmp(base, p->desc.name, n) == 0 && base[n] == '-' &&
            (best == NULL || n > strlen(best->desc.name)))
            best = p;
    }
    return best;
}

/* The formatter whose declared fields match the record's keys best (at
 * least half of the union). */
static const core_plugin *by_fields(const core_registry *reg, json_t *record)
{
    const core_plugin *best = NULL;
    double best_fit = 0.5;
    for (size_t i = 0; i < reg->n; i++) {
        const core_plugin *p = &reg->plugins[i];
        const char *const *fields = p->dl ? p->desc.record_fields : NULL;
        if (fields == NULL)
            continue;
        size_t declared = 0, present = 0;
        for (; fields[declared]; declared++)
            present += json_object_get(record, fields[declared]) != NULL;
        size_t uni = declared + json_object_size(record) - present;
        double fit = uni ? (double)present / (double)uni : 0;
        if (fit > best_fit) {
            best_fit = fit;
            best = p;
        }
    }
    return best;
}

/* ---- measuring a record -------------------------------------------------- */

static const char *type_name(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    default: return "null";
    }
}

static int by_key(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* "key:type,..." over the sorted top-level keys. */
static char *signature(json_t *record)
{
    size_t n = json_object_size(record), i = 0;
    const char **keys = core_calloc(n + 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(record, k, v) keys[i++] = k;
    qsort(keys, n, sizeof *keys, by_key);
    core_strbuf b = {0};
    for (i = 0; i < n; i++)
        core_strbuf_printf(&b, "%s%s:%s", i ? "," : "", keys[i],
                           type_name(json_object_get(record, keys[i])));
    core_free(keys);
    return b.data ? b.data : core_strdup("");
}

static int filled(json_t *v)
{
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        for (const char *s = json_string_value(v); *s; s++)
            if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r')
                return 1;
        return 0;
    }
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_object(v))
        return json_object_size(v) > 0;
    return 1;
}

/* Walk every string: count characters and feed word bigrams. */
typedef struct {
    fmt_acc *f;
    unsigned long long chars;
    uint64_t prev;       /* hash of the previous word, 0 = none */
} text_walk;

static void walk_text(text_walk *w, json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_array(v))
        json_array_foreach(v, i, x) walk_text(w, x);
    if (json_is_object(v))
        json_object_foreach(v, k, x) walk_text(w, x);
    if (!json_is_string(v))
        return;
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    uint64_t h = 0;
    int in_word = 0;
    for (;; s++) {
        unsigned char c = *s;
        if (c && (c & 0xC0) != 0x80)
            w->chars++;
        int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c >= 0x80;
        if (word) {
            if (!in_word)
                h = 1469598103934665603ULL;
            h = (h ^ (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c)) *
                1099511628211ULL;
            in_word = 1;
        } else if (in_word) {
            if (w->prev) {
                core_hll_add(&w->f->bigrams,
                             (w->prev * 0x9E3779B97F4A7C15ULL) ^ h);
                w->f->bigram_total++;
            }
            w->prev = h;
            in_word = 0;
        }
        if (c == 0)
            break;
    }
}

static void add_issue(analysis *a, json_t *issue, const char *path,
                      unsigned long long line)
{
    const char *code = json_string_value(json_object_get(issue, "code"));
    json_t *entry = json_object_get(a->issues, code);
    if (entry == NULL) {
        entry = json_pack("{s:s, s:I, s:[]}", "code", code, "count",
                          (json_int_t)0, "examples");
        json_object_set_new(a->issues, code, entry);
    }
    json_object_set_new(entry, "count",
                        json_integer(json_integer_value(json_object_get(
                                         entry, "count")) +
                                     1));
    json_t *ex = json_object_get(entry, "examples");
    if (json_array_size(ex) < ISSUE_EXAMPLES)
        json_array_append_new(
            ex, json_pack("{s:s, s:I, s:O, s:O}", "file", path, "line",
                          (json_int_t)line, "message",
                          json_object_get(issue, "message"), "by",
                          json_object_get(issue, "by")));
}

static void measure(analysis *a, fmt_acc *f, json_t *record,
                    const char *path, unsigned long long line)
{
    f->records++;
    double score;
    json_t *issues = NULL;
    if (core_score_record(&a->scorers, f->name, record, 0, &score, &issues) ==
        SYNTH_OK) {
        f->scored++;
        f->score_sum += score;
        core_dist_add(&f->scores, score);
        int bin = (int)(score * 10);
        f->score_hist[bin > 9 ? 9 : bin]++;
    }
    size_t i;
    json_t *issue;
    json_array_foreach(issues, i, issue) add_issue(a, issue, path, line);
    json_decref(issues);
    if (f->fields) {
        size_t n = 0, ok = 0;
        for (; f->fields[n]; n++)
            ok += filled(json_object_get(record, f->fields[n]));
        if (n) {
            f->complete_sum += (double)ok / (double)n;
            f->complete_n++;
        }
    }
    char *sig = signature(record);
    json_t *c = json_object_get(f->signatures, sig);
    /* a bounded number of shapes: past 1000 the rest count as "other" */
    if (c == NULL && json_object_size(f->signatures) >= 1000) {
        core_free(sig);
        sig = core_strdup("(other)");
        c = json_object_get(f->signatures, sig);
    }
    json_object_set_new(f->signatures, sig,
                        json_integer(json_integer_value(c) + 1));
    core_free(sig);
    text_walk w = {f, 0, 0};
    walk_text(&w, record);
    core_dist_add(&f->lengths, (double)w.chars);
    int bin = 0;
    while (bin < LENGTH_BINS - 1 && (double)w.chars >= length_edges[bin])
        bin++;
    f->length_hist[bin]++;
}

/* ---- sidecars -------------------------------------------------------------- */

/* Read the sidecar lines that describe record lines up to `line`.
 * Redaction counts are per session and repeated on each of its records:
 * they are added once per run of lines from one session (a session's
 * records are written together) into `redacted`.  The lines of sessions
 * a format skipped ("line": null) are counted by code into `skipped`. */
static void sidecar_upto(analysis *a, core_lines *meta, unsigned long long line,
                         json_t *redacted, json_t *skipped, char **last_session)
{
    const char *s;
    size_t n;
    while (meta->fd >= 0 && core_lines_next(meta, &s, &n) == SYNTH_OK) {
        json_t *m = json_loadb(s, n, 0, NULL);
        const char *code = json_string_value(
            json_object_get(json_object_get(m, "skipped"), "code"));
        if (code != NULL) {
            json_object_set_new(skipped, code,
                                json_integer(json_integer_value(json_object_get(
                                                 skipped, code)) + 1));
            json_decref(m);
            continue;
        }
        const char *session = json_string_value(json_object_get(m, "session"));
        if (session)
            core_hll_add(&a->contexts, core_hash(session, strlen(session)));
        int fresh = session && (*last_session == NULL ||
                                strcmp(*last_session, session) != 0);
        if (fresh) {
            core_free(*last_session);
            *last_session = core_strdup(session);
        }
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(m, "redacted"), k, v) {
            if (fresh)
                json_object_set_new(redacted, k,
                                    json_integer(json_integer_value(
                                                     json_object_get(redacted, k)) +
                                                 json_integer_value(v)));
        }
        json_int_t at = json_integer_value(json_object_get(m, "line"));
        json_decref(m);
        if ((unsigned long long)at >= line)
            break;
    }
}

static int analyze_file(analysis *a, const char *path)
{
    core_lines in;
    if (core_lines_open(&in, path, 64u << 20) != SYNTH_OK) {
        core_error("cannot open %s: %s", path, strerror(errno));
        core_lines_close(&in);
        return SYNTH_EIO;
    }
    core_lines meta;
    memset(&meta, 0, sizeof meta);
    meta.fd = -1;
    char *meta_path = core_strdup(path);
    meta_path = core_realloc(meta_path, strlen(path) + 6);
    strcat(meta_path, ".meta");
    struct stat st;
    if (stat(meta_path, &st) == 0 &&
        core_lines_open(&meta, meta_path, 64u << 20) == SYNTH_OK)
        a->have_sidecar = 1;
    const core_plugin *hint = by_file_name(&a->reg, path);
    unsigned long long records = 0, bad = 0;
    json_t *redacted = json_object(), *skipped = json_object();
    char *last_session = NULL;
    const char *s;
    size_t n;
    int rc;
    while ((rc = core_lines_next(&in, &s, &n)) != SYNTH_ENOTFOUND) {
        if (rc == SYNTH_EIO) {
            core_error("%s:%llu: read error: %s", path, in.line_no + 1,
                       strerror(errno));
            break;
        }
        json_error_t err;
        json_t *record = rc == SYNTH_OK ? json_loadb(s, n, 0, &err) : NULL;
        if (!json_is_object(record)) {
            if (n > 0 || rc != SYNTH_OK) {
                bad++;
                core_warn("%s:%llu: %s; line skipped", path, in.line_no,
                          rc != SYNTH_OK ? "line too long"
                          : record      ? "not a JSON object"
                                        : err.text);
            }
            json_decref(record);
            continue;
        }
        const core_plugin *p = hint ? hint : by_fields(&a->reg, record);
        fmt_acc *f = fmt_get(a, p ? p->desc.name : "unknown", p);
        measure(a, f, record, path, in.line_no);
        sidecar_upto(a, &meta, in.line_no, redacted, skipped, &last_session);
        records++;
        json_decref(record);
    }
    /* the sessions skipped after the last record */
    sidecar_upto(a, &meta, ULLONG_MAX, redacted, skipped, &last_session);
    a->bad_lines += bad;
    json_t *file = json_pack("{s:s, s:s?, s:I, s:I, s:b}", "path", path,
                             "format", hint ? hint->desc.name : NULL,
                             "records", (json_int_t)records, "bad_lines",
                             (json_int_t)bad, "sidecar", meta.fd >= 0);
    if (meta.fd >= 0) {
        json_object_set(file, "redacted", redacted);
        json_object_set(file, "skipped", skipped);
    }
    json_array_append_new(a->files, file);
    json_decref(redacted);
    json_decref(skipped);
    core_free(last_session);
    core_lines_close(&meta);
    core_lines_close(&in);
    core_free(meta_path);
    return rc == SYNTH_EIO ? SYNTH_EIO : SYNTH_OK;
}

/* ---- the report ------------------------------------------------------------- */

static double round3(double x)
{
    return floor(x * 1000.0 + 0.5) / 1000.0;
}

static json_t *dist_json(const core_dist *d)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "count",
                     (json_int_t)d->n, "mean", round3(core_dist_mean(d)),
                     "median", round3(core_dist_quantile(d, 0.5)), "p95",
                     round3(core_dist_quantile(d, 0.95)), "min",
                     round3(d->n ? d->min : 0), "max",
                     round3(d->n ? d->max : 0));
}

static json_t *hist_json(const unsigned long long *h, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer((json_int_t)h[i]));
    return a;
}

/* action.<name>.calls / .ok counters -> {name: {calls, ok, success_rate}} */
/* Counters named <table>.<row>.<column> (a plugin's host->count, e.g.
 * "action.refund_order.calls") as tables: {table: {row: {column: n}}}; a
 * row with "calls" and "ok" also gets "success_rate".  The row is what
 * stands between the first and the last dot, so it may hold dots. */
static json_t *counter_tables(json_t *counters)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(counters, k, v) {
        const char *first = strchr(k, '.'), *last = strrchr(k, '.');
        if (first == NULL || last == first || last[1] == '\0' ||
            last - first < 2)
            continue;
        char *table = core_strndup(k, (size_t)(first - k));
        char *row = core_strndup(first + 1, (size_t)(last - first - 1));
        json_t *t = json_object_get(out, table);
        if (t == NULL)
            json_object_set_new(out, table, t = json_object());
        json_t *r = json_object_get(t, row);
        if (r == NULL)
            json_object_set_new(t, row, r = json_object());
        json_object_set(r, last + 1, v);
        core_free(row);
        core_free(table);
    }
    const char *tk, *rk;
    json_t *t, *r;
    json_object_foreach(out, tk, t) json_object_foreach(t, rk, r) {
        json_t *calls = json_object_get(r, "calls"), *ok = json_object_get(r, "ok");
        if (calls && ok)
            json_object_set_new(
                r, "success_rate",
                json_real(round3(json_integer_value(calls)
                                     ? (double)json_integer_value(ok) /
                                           (double)json_integer_value(calls)
                                     : 0)));
    }
    return out;
}

static int by_count_desc(const void *x, const void *y)
{
    json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x, "count"));
    json_int_t b = json_integer_value(json_object_get(*(json_t *const *)y, "count"));
    return a < b ? 1 : a > b ? -1 : 0;
}

static json_t *build_report(analysis *a)
{
    json_t *by_format = json_object(), *records = json_object();
    json_t *lengths = json_object(), *scores = json_object();
    json_t *formats = json_object();
    unsigned long long total = 0, scored = 0, complete_n = 0, consistent = 0;
    unsigned long long bigrams = 0;
    double score_sum = 0, complete_sum = 0, distinct = 0;
    size_t i;
    json_t *name;
    json_array_foreach(a->format_order, i, name) {
        fmt_acc *f = core_map_get(a->formats, json_string_value(name));
        total += f->records;
        scored += f->scored;
        score_sum += f->score_sum;
        complete_sum += f->complete_sum;
        complete_n += f->complete_n;
        json_int_t top = 0;
        const char *k;
        json_t *v;
        json_object_foreach(f->signatures, k, v) {
            if (json_integer_value(v) > top)
                top = json_integer_value(v);
        }
        consistent += (unsigned long long)top;
        double d = f->bigram_total ? core_hll_count(&f->bigrams) : 0;
        if (d > (double)f->bigram_total)
            d = (double)f->bigram_total;
        distinct += d;
        bigrams += f->bigram_total;
        if (f->scored)
            json_object_set_new(by_format, f->name,
                                json_real(round3(f->score_sum / f->scored)));
        json_object_set_new(records, f->name,
                            json_integer((json_int_t)f->records));
        json_t *l = dist_json(&f->lengths);
        json_object_set_new(l, "histogram", hist_json(f->length_hist, LENGTH_BINS));
        json_object_set_new(lengths, f->name, l);
        json_t *s = dist_json(&f->scores);
        json_object_set_new(s, "histogram", hist_json(f->score_hist, 10));
        json_object_set_new(scores, f->name, s);
        json_object_set_new(
            formats, f->name,
            json_pack("{s:f, s:f, s:f}", "completeness",
                      round3(f->complete_n ? f->complete_sum / f->complete_n : 1),
                      "consistency",
                      round3(f->records ? (double)top / f->records : 1),
                      "diversity",
                      round3(f->bigram_total ? d / f->bigram_total : 0)));
    }
    double completeness = complete_n ? complete_sum / complete_n : 1;
    double consistency = total ? (double)consistent / total : 1;
    double diversity = bigrams ? distinct / bigrams : 0;
    json_t *quality = scored ? json_real(round3(score_sum / scored)) : json_null();
    double overall = 0.2 * completeness + 0.15 * diversity + 0.15 * consistency;
    overall = scored ? overall + 0.5 * (score_sum / scored) : overall / 0.5;

    /* issues, most frequent first */
    size_t n = json_object_size(a->issues), k = 0;
    json_t **list = core_calloc(n + 1, sizeof *list);
    const char *code;
    json_t *entry;
    json_object_foreach(a->issues, code, entry) list[k++] = entry;
    qsort(list, n, sizeof *list, by_count_desc);
    json_t *issues = json_array();
    for (k = 0; k < n; k++)
        json_array_append(issues, list[k]);
    core_free(list);

    /* by name: the map's own order is its hash's */
    json_t *dists = json_object();
    size_t pos = 0, nd = 0;
    const char *dk;
    void *dv;
    const char **names = core_calloc(core_map_size(a->metrics.dists) + 1,
                                     sizeof *names);
    while (core_map_next(a->metrics.dists, &pos, &dk, &dv))
        names[nd++] = dk;
    qsort(names, nd, sizeof *names, by_key);
    for (size_t d = 0; d < nd; d++)
        json_object_set_new(dists, names[d],
                            dist_json(core_map_get(a->metrics.dists, names[d])));
    core_free(names);
    json_t *dup = json_object_get(a->issues, "duplicate");
    json_t *stats = json_pack(
        "{s:O, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:O, s:o}", "files",
        a->files, "records", records, "lengths", lengths, "scores", scores,
        "formats", formats, "tables", counter_tables(a->metrics.values),
        "distributions", dists, "duplicates",
        (json_int_t)json_integer_value(json_object_get(dup, "count")),
        "bad_lines", (json_int_t)a->bad_lines, "counters", a->metrics.values,
        "contexts",
        a->have_sidecar ? json_integer((json_int_t)floor(
                              core_hll_count(&a->contexts) + 0.5))
                        : json_null());
    return json_pack("{s:f, s:f, s:f, s:f, s:o, s:o, s:I, s:o, s:o}",
                     "overallScore", round3(overall), "diversity",
                     round3(diversity), "completeness", round3(completeness),
                     "consistency", round3(consistency), "quality", quality,
                     "byFormat", by_format, "records", (json_int_t)total,
                     "stats", stats, "issues", issues);
}

int core_analyze(const core_analyze_opts *o, json_t **out)
{
    analysis a;
    memset(&a, 0, sizeof a);
    core_metrics_init(&a.metrics);
    a.formats = core_map_new();
    a.format_order = json_array();
    a.issues = json_object();
    a.files = json_array();
    core_strbuf why = {0};
    int rc = core_registry_load(&a.reg, o->cfg->plugin_dir, 1, &why);
    if (rc != SYNTH_OK)
        core_error("plugin_dir: %s", core_strbuf_str(&why));
    for (size_t i = 0; rc == SYNTH_OK && i < a.reg.n; i++) {
        const core_plugin *p = &a.reg.plugins[i];
        core_instance *inst;
        if (!p->dl || p->desc.kind != SYNTH_KIND_SCORER)
            continue;
        if (core_instance_new(p, o->cfg, &a.metrics, &inst) != SYNTH_OK) {
            rc = SYNTH_ECONFIG;
            break;
        }
        a.scorers.v = core_realloc(a.scorers.v,
                                   (a.scorers.n + 1) * sizeof *a.scorers.v);
        a.scorers.v[a.scorers.n++] = inst;
    }
    for (size_t i = 0; rc == SYNTH_OK && i < o->nfiles; i++)
        rc = analyze_file(&a, o->files[i]);
    if (rc == SYNTH_OK)
        *out = build_report(&a);
    for (size_t i = 0; i < a.scorers.n; i++)
        core_instance_free(a.scorers.v[i]);
    core_free(a.scorers.v);
    core_map_free(a.formats, fmt_free);
    json_decref(a.format_order);
    json_decref(a.issues);
    json_decref(a.files);
    core_metrics_free(&a.metrics);
    core_registry_free(&a.reg);
    core_strbuf_free(&why);
    return rc;
}
