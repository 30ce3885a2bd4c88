/* report.c -- the analysis as a self-contained HTML page (see report.h). */
#include "report.h"
#include "alloc.h"
#include "log.h"
#include "strbuf.h"
#include "synth_plugin.h"
#include "version.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const length_labels[] = {"<10",   "10",  "20",  "50",
                                            "100",   "200", "500", "1k",
                                            "2k",    "5k+"};

static void esc(core_strbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': core_strbuf_puts(b, "&lt;"); break;
        case '>': core_strbuf_puts(b, "&gt;"); break;
        case '&': core_strbuf_puts(b, "&amp;"); break;
        case '"': core_strbuf_puts(b, "&quot;"); break;
        default: core_strbuf_append(b, s, 1);
        }
    }
}

static const char *grade(double v)
{
    return v >= 0.8 ? "good" : v >= 0.6 ? "fair" : "poor";
}

/* A score card; graded cards are coloured good/fair/poor (diversity is
 * not: distinct-2 has no universal "good" level). */
static void card(core_strbuf *b, const char *id, const char *label, json_t *v,
                 const char *hint, int graded)
{
    if (json_is_number(v)) {
        double x = json_number_value(v);
        core_strbuf_printf(b,
                           "<div class=\"card\" id=\"%s\" data-value=\"%.3f\">"
                           "<div class=\"label\">%s</div><div class=\"value "
                           "%s\">%.2f</div><div class=\"hint\">%s</div></div>\n",
                           id, x, label, graded ? grade(x) : "plain", x, hint);
    } else {
        core_strbuf_printf(b,
                           "<div class=\"card\" id=\"%s\"><div class=\"label\">"
                           "%s</div><div class=\"value\">&ndash;</div><div "
                           "class=\"hint\">%s</div></div>\n",
                           id, label, hint);
    }
}

/* A vertical bar chart of a JSON array of counts. */
static void bars(core_strbuf *b, const char *cls, const char *format,
                 json_t *counts, const char *const *labels, const char *title)
{
    const int w = 360, h = 150, pad = 24;
    size_t n = json_array_size(counts), i;
    json_int_t max = 1;
    json_t *c;
    json_array_foreach(counts, i, c) {
        if (json_integer_value(c) > max)
            max = json_integer_value(c);
    }
    core_strbuf_printf(b,
                       "<figure><svg class=\"chart %s\" data-format=\"", cls);
    esc(b, format);
    core_strbuf_printf(b,
                       "\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                       "role=\"img\"><title>",
                       w, h + pad, w, h + pad);
    esc(b, title);
    core_strbuf_puts(b, "</title>");
    double bw = n ? (double)(w - 10) / n : w;
    json_array_foreach(counts, i, c) {
        double bh = (double)json_integer_value(c) / max * (h - 20);
        core_strbuf_printf(b,
                           "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                           "height=\"%.1f\"><title>%s: %lld</title></rect>",
                           5 + i * bw + 1, h - bh, bw - 2, bh, labels[i],
                           (long long)json_integer_value(c));
        if (json_integer_value(c) > 0)
            core_strbuf_printf(b,
                               "<text x=\"%.1f\" y=\"%.1f\" class=\"n\">%lld"
                               "</text>",
                               5 + i * bw + bw / 2, h - bh - 3,
                               (long long)json_integer_value(c));
        core_strbuf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"l\">%s</text>",
                           5 + i * bw + bw / 2, h + 14, labels[i]);
    }
    core_strbuf_puts(b, "</svg><figcaption>");
    esc(b, title);
    core_strbuf_puts(b, "</figcaption></figure>\n");
}

static void format_section(core_strbuf *b, json_t *report, const char *name)
{
    static const char *const score_labels[] = {".0", ".1", ".2", ".3", ".4",
                                               ".5", ".6", ".7", ".8", ".9"};
    json_t *stats = json_object_get(report, "stats");
    json_t *scores = json_object_get(json_object_get(stats, "scores"), name);
    json_t *lengths = json_object_get(json_object_get(stats, "lengths"), name);
    core_strbuf_puts(b, "<div class=\"format\" id=\"format-");
    esc(b, name);
    core_strbuf_puts(b, "\"><h3>");
    esc(b, name);
    core_strbuf_printf(b, "</h3><p>%lld records &middot; length median %.0f, "
                          "p95 %.0f characters</p><div class=\"charts\">",
                       (long long)json_integer_value(json_object_get(
                           json_object_get(stats, "records"), name)),
                       json_number_value(json_object_get(lengths, "median")),
                       json_number_value(json_object_get(lengths, "p95")));
    bars(b, "score-chart", name, json_object_get(scores, "histogram"),
         score_labels, "scores (0 to 1)");
    bars(b, "length-chart", name, json_object_get(lengths, "histogram"),
         length_labels, "length in characters");
    core_strbuf_puts(b, "</div></div>\n");
}

/* A table of counters (analyze.h: <table>.<row>.<column>): a row each,
 * its columns in name order; a row with calls and ok shows its success
 * rate with a bar. */
static void table_section(core_strbuf *b, const char *name, json_t *rows)
{
    json_t *columns = json_object(); /* the union of the rows' columns */
    json_int_t max = 1;
    const char *k, *c;
    json_t *v, *x;
    json_object_foreach(rows, k, v) {
        json_object_foreach(v, c, x) if (strcmp(c, "success_rate") != 0)
            json_object_set(columns, c, json_true());
        if (json_integer_value(json_object_get(v, "calls")) > max)
            max = json_integer_value(json_object_get(v, "calls"));
    }
    core_strbuf_puts(b, "<section class=\"counters\"><h2>");
    esc(b, name);
    core_strbuf_puts(b, " usage</h2><table><tr><th></th>");
    json_object_foreach(columns, c, x) {
        core_strbuf_puts(b, "<th>");
        esc(b, c);
        core_strbuf_puts(b, "</th>");
    }
    core_strbuf_puts(b, "<th>success</th><th></th></tr>\n");
    json_object_foreach(rows, k, v) {
        core_strbuf_puts(b, "<tr><td>");
        esc(b, k);
        core_strbuf_puts(b, "</td>");
        json_object_foreach(columns, c, x)
            core_strbuf_printf(b, "<td>%lld</td>",
                               (long long)json_integer_value(
                                   json_object_get(v, c)));
        json_t *rate = json_object_get(v, "success_rate");
        if (rate == NULL) {
            core_strbuf_puts(b, "<td></td><td></td></tr>\n");
            continue;
        }
        double r = json_number_value(rate);
        json_int_t calls = json_integer_value(json_object_get(v, "calls"));
        json_int_t ok = json_integer_value(json_object_get(v, "ok"));
        core_strbuf_printf(b,
                           "<td class=\"%s\">%.0f%%</td><td><svg class=\"bar\" "
                           "width=\"200\" height=\"12\"><rect class=\"all\" "
                           "width=\"%.1f\" height=\"12\"/><rect class=\"ok\" "
                           "width=\"%.1f\" height=\"12\"/></svg></td></tr>\n",
                           grade(r), r * 100, 200.0 * calls / max,
                           200.0 * ok / max);
    }
    core_strbuf_puts(b, "</table></section>\n");
    json_decref(columns);
}

static void issues_section(core_strbuf *b, json_t *issues)
{
    core_strbuf_puts(b, "<section id=\"issues\"><h2>Issues</h2>");
    if (json_array_size(issues) == 0) {
        core_strbuf_puts(b, "<p>None found.</p></section>\n");
        return;
    }
    core_strbuf_puts(b, "<table><tr><th>issue</th><th>records</th>"
                        "<th>examples</th></tr>\n");
    size_t i, k;
    json_t *issue, *ex;
    json_array_foreach(issues, i, issue) {
        core_strbuf_puts(b, "<tr><td><code>");
        esc(b, json_string_value(json_object_get(issue, "code")));
        core_strbuf_printf(b, "</code></td><td>%lld</td><td><ul>",
                           (long long)json_integer_value(
                               json_object_get(issue, "count")));
        json_array_foreach(json_object_get(issue, "examples"), k, ex) {
            core_strbuf_puts(b, "<li><span class=\"where\">");
            esc(b, json_string_value(json_object_get(ex, "file")));
            core_strbuf_printf(b, ":%lld</span> ",
                               (long long)json_integer_value(
                                   json_object_get(ex, "line")));
            esc(b, json_string_value(json_object_get(ex, "message")));
            core_strbuf_puts(b, "</li>");
        }
        core_strbuf_puts(b, "</ul></td></tr>\n");
    }
    core_strbuf_puts(b, "</table></section>\n");
}

static const char *const css =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
    "margin:0;background:#f5f6f8;color:#1d2330}"
    "header{background:#1d2330;color:#fff;padding:18px 28px}"
    "header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.8}"
    "main{padding:12px 28px 40px}h2{margin:28px 0 10px;font-size:18px}"
    ".cards{display:flex;flex-wrap:wrap;gap:12px}"
    ".card{background:#fff;border-radius:8px;padding:12px 16px;min-width:140px;"
    "max-width:200px;"
    "box-shadow:0 1px 3px rgba(0,0,0,.08)}"
    ".card .label{font-size:12px;text-transform:uppercase;letter-spacing:.05em;"
    "color:#667}.card .value{font-size:30px;font-weight:700}"
    ".card .hint{font-size:12px;color:#667;max-width:220px}"
    "#overall-score{min-width:200px;max-width:260px}#overall-score .value{font-size:44px}"
    ".plain{color:#1d2330}.good{color:#1a7f37}.fair{color:#b26b00}.poor{color:#c62828}"
    "table{border-collapse:collapse;background:#fff;border-radius:8px;"
    "box-shadow:0 1px 3px rgba(0,0,0,.08)}"
    "td,th{padding:6px 12px;text-align:left;border-bottom:1px solid #eee;"
    "vertical-align:top}th{font-size:12px;text-transform:uppercase;color:#667}"
    ".format{background:#fff;border-radius:8px;padding:10px 16px;margin:12px 0;"
    "box-shadow:0 1px 3px rgba(0,0,0,.08)}.format h3{margin:4px 0}"
    ".format p{margin:0 0 6px;color:#667}.charts{display:flex;flex-wrap:wrap;"
    "gap:18px}figure{margin:0}figcaption{font-size:12px;color:#667}"
    "svg rect{fill:#4c78a8}svg text{font-size:10px;fill:#445;text-anchor:middle}"
    "svg.bar rect.all{fill:#e8a0a0}svg.bar rect.ok{fill:#5aa469}"
    "ul{margin:0;padding-left:18px}.where{color:#667;font-family:monospace}"
    "code{font-size:13px}";

char *core_report_html(json_t *report)
{
    core_strbuf b = {0};
    json_t *stats = json_object_get(report, "stats");
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    core_strbuf_printf(&b,
                       "<!doctype html>\n<html lang=\"en\"><head><meta "
                       "charset=\"utf-8\"><meta name=\"viewport\" content="
                       "\"width=device-width\"><title>synthhost quality "
                       "report</title><style>%s</style></head>\n"
                       "<body data-rendered=\"0\"><header><h1>Dataset "
                       "quality</h1><p>%lld records in %zu file(s) &middot; "
                       "%lld bad lines &middot; %lld duplicates &middot; "
                       "generated %s by synthhost %s</p></header><main>\n"
                       "<section class=\"cards\">\n",
                       css,
                       (long long)json_integer_value(json_object_get(report,
                                                                     "records")),
                       json_array_size(json_object_get(stats, "files")),
                       (long long)json_integer_value(json_object_get(stats,
                                                                     "bad_lines")),
                       (long long)json_integer_value(
                           json_object_get(stats, "duplicates")),
                       when, SYNTH_VERSION);
    card(&b, "overall-score", "overall", json_object_get(report, "overallScore"),
         "0.5 quality + 0.2 completeness + 0.15 diversity + 0.15 consistency",
         1);
    card(&b, "quality", "quality", json_object_get(report, "quality"),
         "mean score the scorer plugins gave the records", 1);
    card(&b, "completeness", "completeness",
         json_object_get(report, "completeness"),
         "share of each format's fields that are filled", 1);
    card(&b, "diversity", "diversity", json_object_get(report, "diversity"),
         "distinct word pairs / all word pairs (distinct-2)", 0);
    card(&b, "consistency", "consistency",
         json_object_get(report, "consistency"),
         "records shaped like the most common shape of their format", 1);
    core_strbuf_puts(&b, "</section>\n<section id=\"formats\"><h2>By format"
                         "</h2><table><tr><th>format</th><th>records</th>"
                         "<th>score</th><th>completeness</th><th>consistency"
                         "</th><th>diversity</th></tr>\n");
    json_t *by_format = json_object_get(report, "byFormat");
    json_t *detail = json_object_get(stats, "formats");
    const char *name;
    json_t *d;
    json_object_foreach(detail, name, d) {
        json_t *s = json_object_get(by_format, name);
        core_strbuf_puts(&b, "<tr><td>");
        esc(&b, name);
        core_strbuf_printf(
            &b, "</td><td>%lld</td>",
            (long long)json_integer_value(
                json_object_get(json_object_get(stats, "records"), name)));
        if (s)
            core_strbuf_printf(&b, "<td class=\"%s\">%.2f</td>",
                               grade(json_number_value(s)),
                               json_number_value(s));
        else
            core_strbuf_puts(&b, "<td>&ndash;</td>");
        core_strbuf_printf(&b, "<td>%.2f</td><td>%.2f</td><td>%.2f</td></tr>\n",
                           json_number_value(json_object_get(d, "completeness")),
                           json_number_value(json_object_get(d, "consistency")),
                           json_number_value(json_object_get(d, "diversity")));
    }
    core_strbuf_puts(&b, "</table>\n");
    json_object_foreach(detail, name, d) format_section(&b, report, name);
    core_strbuf_puts(&b, "</section>\n");
    const char *table;
    json_t *rows;
    json_object_foreach(json_object_get(stats, "tables"), table, rows)
        table_section(&b, table, rows);
    issues_section(&b, json_object_get(report, "issues"));
    core_strbuf_puts(&b, "</main><script>document.body.dataset.rendered=\"1\";"
                         "</script></body></html>\n");
    return b.data;
}

int core_report_write(json_t *report, const char *path)
{
    char *html = core_report_html(report);
    core_strbuf tmp = {0};
    core_strbuf_printf(&tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp.data, "w");
    int ok = f && fputs(html, f) != EOF;
    if (f && fclose(f) != 0)
        ok = 0;
    if (ok && rename(tmp.data, path) != 0)
        ok = 0;
    if (!ok) {
        core_error("cannot write %s: %s", path, strerror(errno));
        unlink(tmp.data);
    }
    core_strbuf_free(&tmp);
    core_free(html);
    return ok ? SYNTH_OK : SYNTH_EIO;
}
