/*
 * main.c -- the synthhost command line.
 *
 *   synthhost -c FILE [-i FILE|-]... [-o DIR] [-p DIR] [-q]
 *   synthhost plugins [-c FILE] [-p DIR] [NAME]
 *   synthhost analyze [-c FILE] [-p DIR] [--html FILE] [-q] FILE...
 *   synthhost ctl [-c FILE | --socket PATH] COMMAND [JSON]
 *   synthhost --help | --version
 *
 * Exit codes: 0 ok, 1 runtime error, 2 usage or config error.
 */
#include "alloc.h"
#include "analyze.h"
#include "config.h"
#include "control.h"
#include "live.h"
#include "log.h"
#include "pipeline.h"
#include "instance.h"
#include "report.h"
#include "stop.h"
#include "version.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
    fputs("usage: synthhost -c FILE [-i FILE|-]... [-o DIR] [-p DIR] [-q]\n"
          "       synthhost plugins [-c FILE] [-p DIR] [NAME]\n"
          "       synthhost analyze [-c FILE] [-p DIR] [--html FILE] FILE...\n"
          "       synthhost ctl [-c FILE | --socket PATH] COMMAND [JSON]\n"
          "       synthhost --help | --version\n"
          "\n"
          "Turns AI agent reasoning logs (JSONL) into training datasets, one\n"
          "file per format, using the formatter, filter, privacy and scorer\n"
          "plugins that the config selects.\n"
          "\n"
          "  -c, --config FILE   the config (libconfig syntax), e.g. "
          "conf/synth.conf\n"
          "  -i, --input FILE    read FILE instead of the config's input "
          "(- = stdin);\n"
          "                      repeat for several files\n"
          "  -o, --output DIR    write to DIR instead of output_dir\n"
          "  -p, --plugins DIR   load plugins from DIR instead of "
          "plugin_dir\n"
          "  -q, --quiet         print errors and warnings only\n"
          "  -h, --help          this text\n"
          "  -V, --version       the version and plugin ABI\n"
          "\n"
          "  plugins [NAME]      list the plugins found (or one), with their\n"
          "                      kind, version, ABI, path and options\n"
          "  analyze FILE...     score dataset files (any JSONL, ours or not)\n"
          "                      and print the analysis as JSON on stdout\n"
          "      --html FILE     also write a self-contained HTML report\n"
          "  ctl COMMAND [JSON]  ask a running realtime synthhost (its control\n"
          "                      socket, from -c or --socket): status, process,\n"
          "                      export, configure, analyze, clear\n"
          "\n"
          "Exit status: 0 ok, 1 runtime error, 2 usage or config error.\n",
          out);
}

/* The plugin directory when neither the config nor -p names one: next to
 * the binary (a build tree) or in ../lib/synthhost/plugins (installed).
 * Returns an owned path. */
static char *default_plugin_dir(void)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return core_strdup("plugins");
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    static const char *const rel[] = {"plugins", "../lib/synthhost/plugins"};
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char *dir = core_config_resolve(exe, rel[i]);
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            return dir;
        core_free(dir);
    }
    return core_config_resolve(exe, "plugins");
}

typedef struct cli {
    const char *config;
    const char *output;
    const char *plugins;
    const char *html;     /* analyze --html */
    const char *socket;   /* ctl --socket */
    char **inputs;        /* owned array, borrowed strings */
    size_t ninputs;
    int quiet;
} cli;

/* Parse options into c.  Returns SYNTH_OK, or SYNTH_EINVAL after printing
 * a usage error; *done is set when --help or --version was handled. */
static int parse_args(int argc, char **argv, cli *c, int *done)
{
    static const struct option longopts[] = {
        {"config", required_argument, 0, 'c'},
        {"input", required_argument, 0, 'i'},
        {"output", required_argument, 0, 'o'},
        {"plugins", required_argument, 0, 'p'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},
        {"html", required_argument, 0, 'H'},
        {"socket", required_argument, 0, 'S'},
        {0, 0, 0, 0}};
    int ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":c:i:o:p:qhV", longopts, NULL)) !=
           -1) {
        switch (ch) {
        case 'c': c->config = optarg; break;
        case 'o': c->output = optarg; break;
        case 'p': c->plugins = optarg; break;
        case 'q': c->quiet = 1; break;
        case 'H': c->html = optarg; break;
        case 'S': c->socket = optarg; break;
        case 'i':
            c->inputs = core_realloc(c->inputs,
                                     (c->ninputs + 1) * sizeof *c->inputs);
            c->inputs[c->ninputs++] = optarg;
            break;
        case 'h':
            usage(stdout);
            *done = 1;
            return SYNTH_OK;
        case 'V':
            printf("synthhost %s (plugin ABI %d.%d)\n", SYNTH_VERSION,
                   SYNTH_ABI_MAJOR, SYNTH_ABI_MINOR);
            *done = 1;
            return SYNTH_OK;
        case ':':
            core_error("option %s needs a value (see synthhost --help)",
                       argv[optind - 1]);
            return SYNTH_EINVAL;
        default:
            core_error("unknown option %s (see synthhost --help)",
                       argv[optind - 1]);
            return SYNTH_EINVAL;
        }
    }
    return SYNTH_OK;
}

/* Parse a subcommand's options (no -i).  Returns 1 to go on, or 0 with
 * the exit status in *status (--help, --version, a usage error). */
static int parse_subcommand(int argc, char **argv, cli *c, int *status)
{
    int done = 0;
    int rc = parse_args(argc, argv, c, &done);
    core_free(c->inputs);
    c->inputs = NULL;
    *status = rc != SYNTH_OK ? EXIT_USAGE : 0;
    return rc == SYNTH_OK && !done;
}

/* Load the config named on the command line (or the defaults) and apply
 * the command-line overrides.  Returns SYNTH_OK or SYNTH_ECONFIG. */
static int load_config(const cli *c, core_config *cfg)
{
    core_overrides o = {c->ninputs ? c->inputs : NULL, c->ninputs, c->output,
                        c->plugins};
    int rc = core_config_load_with(cfg, c->config, &o);
    if (cfg->plugin_dir == NULL)
        cfg->plugin_dir = default_plugin_dir();
    return rc == SYNTH_OK ? SYNTH_OK : SYNTH_ECONFIG;
}

static void print_plugin(const core_plugin *p)
{
    if (p->refused) {
        printf("%s\n    refused: %s\n", p->path, p->refused);
        return;
    }
    const synth_plugin *d = &p->desc;
    printf("%s  (%s %s, ABI %u.%u%s)\n    %s\n    path: %s\n", d->name,
           core_kind_name(d->kind), d->version ? d->version : "?",
           d->abi_major, d->abi_minor,
           (d->flags & SYNTH_PLUGIN_SERIAL) ? ", serial" : "",
           d->description ? d->description : "", p->path);
    if (d->formats) {
        printf("    formats:");
        for (size_t i = 0; d->formats[i]; i++)
            printf(" %s", d->formats[i]);
        printf("\n");
    }
    for (size_t i = 0; d->options && d->options[i].name; i++) {
        const synth_option *o = &d->options[i];
        printf("    %-24s %-6s %s%s%s%s\n        %s\n", o->name,
               core_option_type_name(o->type),
               o->default_value ? "default: " : "",
               o->default_value ? o->default_value : "",
               (o->flags & SYNTH_OPT_REQUIRED) ? "required" : "",
               "", o->help ? o->help : "");
    }
}

static int cmd_plugins(int argc, char **argv)
{
    cli c = {0};
    int status;
    if (!parse_subcommand(argc, argv, &c, &status))
        return status;
    core_config cfg;
    if (load_config(&c, &cfg) != SYNTH_OK) {
        core_config_free(&cfg);
        return EXIT_USAGE;
    }
    core_registry reg;
    core_strbuf why = {0};
    int rc = core_registry_load(&reg, cfg.plugin_dir, 0, &why);
    if (rc != SYNTH_OK) {
        core_error("plugin_dir: %s", core_strbuf_str(&why));
    } else {
        const char *only = optind < argc ? argv[optind] : NULL;
        int shown = 0;
        if (only == NULL)
            printf("plugins in %s:\n\n", reg.dir);
        for (size_t i = 0; i < reg.n; i++) {
            const core_plugin *p = &reg.plugins[i];
            if (only && (p->refused || strcmp(p->desc.name, only) != 0))
                continue;
            print_plugin(p);
            printf("\n");
            shown++;
        }
        if (only && shown == 0) {
            core_error("no plugin named \"%s\" in %s", only, reg.dir);
            rc = SYNTH_ENOTFOUND;
        }
    }
    core_strbuf_free(&why);
    core_registry_free(&reg);
    core_config_free(&cfg);
    return rc == SYNTH_OK ? 0 : EXIT_USAGE;
}

/* One line per headline number, for people (stderr). */
static void analysis_summary(json_t *r)
{
    core_note("analysis: overall %.2f (quality %.2f, completeness %.2f, "
              "diversity %.2f, consistency %.2f) over %lld records",
              json_number_value(json_object_get(r, "overallScore")),
              json_number_value(json_object_get(r, "quality")),
              json_number_value(json_object_get(r, "completeness")),
              json_number_value(json_object_get(r, "diversity")),
              json_number_value(json_object_get(r, "consistency")),
              (long long)json_integer_value(json_object_get(r, "records")));
    core_strbuf b = {0};
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(r, "byFormat"), k, v)
        core_strbuf_printf(&b, "%s%s %.2f", b.len ? ", " : "", k,
                           json_number_value(v));
    if (b.len)
        core_note("by format: %s", b.data);
    core_strbuf_reset(&b);
    size_t i;
    json_array_foreach(json_object_get(r, "issues"), i, v) {
        if (i < 6)
            core_strbuf_printf(
                &b, "%s%s %lld", b.len ? ", " : "",
                json_string_value(json_object_get(v, "code")),
                (long long)json_integer_value(json_object_get(v, "count")));
    }
    if (b.len)
        core_note("top issues: %s", b.data);
    core_strbuf_free(&b);
}

static int cmd_analyze(int argc, char **argv)
{
    cli c = {0};
    int status;
    if (!parse_subcommand(argc, argv, &c, &status))
        return status;
    int rc;
    core_log_quiet = c.quiet;
    if (optind >= argc) {
        core_error("analyze: name the dataset files (see synthhost --help)");
        return EXIT_USAGE;
    }
    core_config cfg;
    if (load_config(&c, &cfg) != SYNTH_OK) {
        core_config_free(&cfg);
        return EXIT_USAGE;
    }
    core_analyze_opts o = {argv + optind, (size_t)(argc - optind), &cfg};
    json_t *report = NULL;
    rc = core_analyze(&o, &report);
    status = rc == SYNTH_OK ? 0 : rc == SYNTH_ECONFIG ? EXIT_USAGE
                                                      : EXIT_RUNTIME;
    if (report) {
        char *text = json_dumps(report, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        puts(text);
        free(text);
        analysis_summary(report);
        if (c.html && core_report_write(report, c.html) != SYNTH_OK)
            status = EXIT_RUNTIME;
        else if (c.html)
            core_note("report: %s", c.html);
    }
    json_decref(report);
    core_config_free(&cfg);
    return status;
}

static int cmd_ctl(int argc, char **argv)
{
    cli c = {0};
    int status;
    if (!parse_subcommand(argc, argv, &c, &status))
        return status;
    int rc;
    if (optind >= argc) {
        core_error("ctl: name a command (status, process, export, "
                   "configure, analyze, clear)");
        return EXIT_USAGE;
    }
    json_t *req = json_object();
    if (optind + 1 < argc) {
        json_error_t err;
        json_decref(req);
        req = json_loads(argv[optind + 1], 0, &err);
        if (!json_is_object(req)) {
            core_error("ctl: the arguments must be a JSON object: %s",
                       err.text);
            json_decref(req);
            return EXIT_USAGE;
        }
    }
    json_object_set_new(req, "command", json_string(argv[optind]));
    core_config cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *path = c.socket;
    if (path == NULL && c.config) {
        if (core_config_load(&cfg, c.config) != SYNTH_OK) {
            core_config_free(&cfg);
            json_decref(req);
            return EXIT_USAGE;
        }
        path = cfg.control;
    }
    if (path == NULL) {
        core_error("ctl: no control socket: pass --socket PATH, or -c FILE "
                   "with control = \"...\" in it");
        core_config_free(&cfg);
        json_decref(req);
        return EXIT_USAGE;
    }
    rc = core_control_send(path, req);
    json_decref(req);
    core_config_free(&cfg);
    return rc == SYNTH_OK ? 0 : EXIT_RUNTIME;
}

static int cmd_run(int argc, char **argv)
{
    cli c = {0};
    int done = 0;
    int rc = parse_args(argc, argv, &c, &done);
    if (rc != SYNTH_OK || done) {
        core_free(c.inputs);
        return rc != SYNTH_OK ? EXIT_USAGE : 0;
    }
    core_log_quiet = c.quiet;
    if (optind < argc) {
        core_error("unexpected argument \"%s\" (see synthhost --help)",
                   argv[optind]);
        core_free(c.inputs);
        return EXIT_USAGE;
    }
    if (c.config == NULL) {
        core_error("no config: pass -c FILE (for example -c "
                   "conf/synth.conf)");
        core_free(c.inputs);
        return EXIT_USAGE;
    }
    core_config cfg;
    rc = load_config(&c, &cfg);
    core_free(c.inputs);
    if (rc == SYNTH_OK && !cfg.enabled) {
        core_note("%s: enabled = false; nothing to do", cfg.path);
        core_config_free(&cfg);
        return 0;
    }
    if (rc == SYNTH_OK && cfg.ninputs == 0 && !cfg.listen) {
        core_error("no input: set input in %s or pass -i FILE (- for "
                   "stdin)", cfg.path);
        rc = SYNTH_ECONFIG;
    }
    if (rc == SYNTH_OK && cfg.realtime) {
        core_stop_install();
        rc = core_live_run(&cfg, c.config);
        core_config_free(&cfg);
        return rc == SYNTH_OK ? 0 : rc == SYNTH_ECONFIG ? EXIT_USAGE
                                                       : EXIT_RUNTIME;
    }
    core_pipeline *p = NULL;
    if (rc == SYNTH_OK) {
        rc = core_pipeline_open(&cfg, &p);
    } else if (cfg.loaded && config_error_type(&cfg.cfg) == CONFIG_ERR_NONE) {
        /* the core's keys are wrong: check the plugins' too, so every
         * error is said at once (opening writes nothing) */
        core_pipeline_open(&cfg, &p);
        rc = SYNTH_ECONFIG;
    }
    int status = 0;
    if (rc != SYNTH_OK) {
        status = EXIT_USAGE;
    } else {
        core_stop_install();
        rc = core_pipeline_run(p);
        core_pipeline_summary(p);
        if (rc == SYNTH_ESTATE)
            core_error("interrupted: no output file was published");
        else if (rc == SYNTH_EIO)
            core_error("run failed: no output file was published");
        status = rc == SYNTH_OK ? 0 : EXIT_RUNTIME;
    }
    core_pipeline_close(p);
    core_config_free(&cfg);
    return status;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "plugins") == 0)
        return cmd_plugins(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "analyze") == 0)
        return cmd_analyze(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "ctl") == 0)
        return cmd_ctl(argc - 1, argv + 1);
    return cmd_run(argc, argv);
}
