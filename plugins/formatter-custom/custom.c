/*
 * custom -- a formatter configured, not compiled: a template in the config
 * maps the fields of each record to parts of a turn (or a session).
 *
 *   formats = ["custom"];
 *   plugins = { custom = {
 *     unit = "turn";                      # or "session"
 *     template = { prompt = "$input.text";
 *                  answer = "Answer: ${output.text}";
 *                  tools = "$actions.names"; };
 *   }; };
 *
 * A string that is exactly one placeholder takes the placeholder's value
 * with its JSON type (a list stays a list); placeholders inside a longer
 * string are replaced by their text.  ${name} delimits a placeholder, $$ is
 * a literal $, and a $ not followed by a letter stays as it is.  Groups and
 * lists in the template are templated recursively; numbers and booleans
 * are copied.  A record is skipped when a placeholder is null or empty,
 * unless allow_missing = true.  The placeholders are listed in PLACEHOLDERS
 * below (and in the README); an unknown one is a config error.
 */
#include "synth_plugin.h"
#include "synth_session.h"

#include <stdio.h>
#include <stdlib.h>

static const synth_host_api *host;

enum { UNIT_TURN = 1, UNIT_SESSION = 2 };

/* Every placeholder and the units it exists in. */
static const struct {
    const char *name;
    int units;
} PLACEHOLDERS[] = {
    {"input.text", UNIT_TURN},        {"input.user", UNIT_TURN},
    {"input.id", UNIT_TURN},          {"input.timestamp", UNIT_TURN},
    {"output.text", UNIT_TURN},       {"output.name", UNIT_TURN},
    {"output.id", UNIT_TURN},         {"output.timestamp", UNIT_TURN},
    {"thoughts", UNIT_TURN | UNIT_SESSION},
    {"thoughts.text", UNIT_TURN | UNIT_SESSION},
    {"actions", UNIT_TURN | UNIT_SESSION},
    {"actions.names", UNIT_TURN | UNIT_SESSION},
    {"turn.id", UNIT_TURN},           {"turn.start", UNIT_TURN},
    {"turn.end", UNIT_TURN},          {"turn.duration", UNIT_TURN},
    {"turn.steps", UNIT_TURN},        {"turn.success", UNIT_TURN},
    {"messages", UNIT_SESSION},       {"turns", UNIT_SESSION},
    {"session.id", UNIT_TURN | UNIT_SESSION},
    {"session.type", UNIT_TURN | UNIT_SESSION},
    {"session.context", UNIT_TURN | UNIT_SESSION},
    {"session.part", UNIT_TURN | UNIT_SESSION},
    {"session.start", UNIT_SESSION}, {"session.end", UNIT_SESSION},
    {"session.duration", UNIT_SESSION},
    {"session.success", UNIT_SESSION},
    {NULL, 0}};

typedef struct {
    json_t *template; /* borrowed from the host's option store */
    int unit, allow_missing;
} custom_state;

static const synth_option custom_options[] = {
    {"template", SYNTH_OPT_JSON, SYNTH_OPT_REQUIRED, NULL,
     "record field -> \"$placeholder\" (a group)"},
    {"unit", SYNTH_OPT_STRING, 0, "turn",
     "\"turn\": a record per answered turn; \"session\": per session"},
    {"allow_missing", SYNTH_OPT_BOOL, 0, "false",
     "write records even when a placeholder is null or empty"},
    {"conversations", SYNTH_OPT_BOOL, 0, "true",
     "capture switch: false writes no custom records"},
    {NULL, 0, 0, NULL, NULL}};

/* ---- placeholder scanning ---------------------------------------------- */

/* Called for each piece of a template string: literal text, or a
 * placeholder name.  Returns SYNTH_OK or stops the scan with a code. */
typedef int (*piece_fn)(void *user, int placeholder, const char *s,
                        size_t n);

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
}

/* Split s into literal and placeholder pieces.  Returns SYNTH_OK,
 * SYNTH_EINVAL for an unterminated ${, or what fn returned. */
static int scan(const char *s, piece_fn fn, void *user)
{
    const char *lit = s;
    int rc = SYNTH_OK;
    while (*s && rc == SYNTH_OK) {
        if (s[0] != '$') {
            s++;
            continue;
        }
        if (s[1] == '$') { /* $$ -> $ */
            rc = fn(user, 0, lit, (size_t)(s - lit) + 1);
            s += 2;
            lit = s;
            continue;
        }
        const char *name, *end, *next;
        if (s[1] == '{') {
            name = s + 2;
            end = strchr(name, '}');
            if (end == NULL)
                return SYNTH_EINVAL;
            next = end + 1;
        } else if (s[1] >= 'a' && s[1] <= 'z') {
            name = s + 1;
            end = name;
            while (is_name_char(*end))
                end++;
            while (end > name && end[-1] == '.') /* "$input.text." */
                end--;
            next = end;
        } else {
            s++; /* a lone $ is text */
            continue;
        }
        if (s > lit)
            rc = fn(user, 0, lit, (size_t)(s - lit));
        if (rc == SYNTH_OK)
            rc = fn(user, 1, name, (size_t)(end - name));
        s = lit = next;
    }
    if (rc == SYNTH_OK && s > lit)
        rc = fn(user, 0, lit, (size_t)(s - lit));
    return rc;
}

static int placeholder_index(const char *s, size_t n)
{
    for (int i = 0; PLACEHOLDERS[i].name; i++)
        if (strlen(PLACEHOLDERS[i].name) == n &&
            strncmp(PLACEHOLDERS[i].name, s, n) == 0)
            return i;
    return -1;
}

/* ---- validation (create) ---------------------------------------------------- */

typedef struct {
    synth_ctx *ctx;
    int unit, field;          /* the top-level field being checked */
    const char *field_name;
} check_ctx;

static void known_list(int unit, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; PLACEHOLDERS[i].name && used + 1 < n; i++)
        if (PLACEHOLDERS[i].units & unit)
            used += (size_t)snprintf(buf + used, n - used, "%s$%s",
                                     used ? ", " : "", PLACEHOLDERS[i].name);
}

static int check_piece(void *user, int placeholder, const char *s, size_t n)
{
    check_ctx *c = user;
    if (!placeholder)
        return SYNTH_OK;
    int i = placeholder_index(s, n);
    if (i >= 0 && (PLACEHOLDERS[i].units & c->unit))
        return SYNTH_OK;
    char known[1024];
    known_list(c->unit, known, sizeof known);
    if (i >= 0)
        return host->opt_error(c->ctx, "template", c->field,
                               "field \"%s\": $%.*s exists only with unit = "
                               "\"%s\"",
                               c->field_name, (int)n, s,
                               c->unit == UNIT_TURN ? "session" : "turn");
    return host->opt_error(c->ctx, "template", c->field,
                           "field \"%s\": unknown placeholder \"$%.*s\" "
                           "(known: %s)",
                           c->field_name, (int)n, s, known);
}

static int check_value(check_ctx *c, json_t *v)
{
    if (json_is_string(v)) {
        int rc = scan(json_string_value(v), check_piece, c);
        if (rc == SYNTH_EINVAL)
            return host->opt_error(c->ctx, "template", c->field,
                                   "field \"%s\": \"${\" without \"}\"",
                                   c->field_name);
        return rc;
    }
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_array(v))
        json_array_foreach(v, i, x) {
            int rc = check_value(c, x);
            if (rc != SYNTH_OK)
                return rc;
        }
    if (json_is_object(v))
        json_object_foreach(v, k, x) {
            int rc = check_value(c, x);
            if (rc != SYNTH_OK)
                return rc;
        }
    return SYNTH_OK;
}

static int custom_create(synth_ctx *ctx, void **instance)
{
    json_t *tpl;
    const char *unit;
    int allow, enabled;
    if (host->opt_json(ctx, "template", &tpl) != SYNTH_OK ||
        host->opt_string(ctx, "unit", &unit) != SYNTH_OK ||
        host->opt_bool(ctx, "allow_missing", &allow) != SYNTH_OK ||
        host->opt_bool(ctx, "conversations", &enabled) != SYNTH_OK)
        return host->error(ctx, SYNTH_EPLUGIN, "cannot read options");
    if (!json_is_object(tpl) || json_object_size(tpl) == 0)
        return host->opt_error(ctx, "template", -1,
                               "must be a group of fields, e.g. template = "
                               "{ prompt = \"$input.text\"; }");
    check_ctx c = {ctx, 0, 0, NULL};
    if (strcmp(unit, "turn") == 0)
        c.unit = UNIT_TURN;
    else if (strcmp(unit, "session") == 0)
        c.unit = UNIT_SESSION;
    else
        return host->opt_error(ctx, "unit", -1,
                               "\"%s\" is neither \"turn\" nor \"session\"",
                               unit);
    const char *k;
    json_t *v;
    json_object_foreach(tpl, k, v) {
        c.field_name = k;
        int rc = check_value(&c, v);
        if (rc != SYNTH_OK)
            return rc;
        c.field++;
    }
    custom_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    st->template = tpl;
    st->unit = enabled ? c.unit : 0;
    st->allow_missing = allow;
    *instance = st;
    return SYNTH_OK;
}

static void custom_destroy(void *instance)
{
    free(instance);
}

/* ---- rendering ------------------------------------------------------------------ */

static json_t *span_duration(const json_t *obj)
{
    json_t *d = synth_duration(obj);
    return d ? d : json_null();
}

static json_t *thoughts_of(json_t *turns, int joined)
{
    json_t *list = json_array();
    size_t i, k;
    json_t *turn, *t;
    json_array_foreach(turns, i, turn) {
        json_array_foreach(json_object_get(turn, "thoughts"), k, t) {
            if (!synth_blank(synth_str(t, "text")))
                json_array_append(list, json_object_get(t, "text"));
        }
    }
    if (!joined)
        return list;
    size_t len = 1;
    json_array_foreach(list, i, t) len += json_string_length(t) + 1;
    char *s = malloc(len), *p = s;
    json_t *r = NULL;
    if (s) {
        json_array_foreach(list, i, t) {
            if (i)
                *p++ = '\n';
            memcpy(p, json_string_value(t), json_string_length(t));
            p += json_string_length(t);
        }
        *p = '\0';
        r = json_string(s);
    }
    free(s);
    json_decref(list);
    return r;
}

static json_t *actions_of(json_t *turns, int names)
{
    json_t *list = json_array();
    size_t i, k;
    json_t *turn, *a;
    json_array_foreach(turns, i, turn) {
        json_array_foreach(json_object_get(turn, "actions"), k, a) {
            json_array_append_new(list,
                                  names ? json_incref(json_object_get(a, "name"))
                                        : synth_action_record(a));
        }
    }
    return list;
}

static json_t *answered_of(json_t *turns, int messages)
{
    json_t *list = json_array();
    size_t i;
    json_t *turn;
    json_array_foreach(turns, i, turn) {
        const char *in = synth_turn_input_text(turn);
        json_t *out = synth_turn_final_output(turn);
        if (in == NULL || out == NULL)
            continue;
        if (messages) {
            json_array_append_new(list, json_pack("{s:s, s:s}", "role",
                                                  "user", "content", in));
            json_array_append_new(list,
                                  json_pack("{s:s, s:O}", "role", "assistant",
                                            "content",
                                            json_object_get(out, "text")));
        } else {
            json_array_append_new(list,
                                  json_pack("{s:s, s:O}", "input", in,
                                            "output",
                                            json_object_get(out, "text")));
        }
    }
    return list;
}

/* What a rendering works on. */
typedef struct {
    json_t *session, *turn; /* turn is NULL for unit = session */
    json_t *turns;          /* the turns in scope (one, or all) */
    int missing;            /* a placeholder was null or empty */
} scope;

static int turns_succeeded(json_t *turns)
{
    size_t i;
    json_t *t;
    json_array_foreach(turns, i, t) {
        if (synth_turn_failed(t))
            return 0;
    }
    return 1;
}

/* The value of placeholder i (new reference, maybe JSON null). */
static json_t *resolve(const scope *sc, int i)
{
    const char *name = PLACEHOLDERS[i].name;
    json_t *in = sc->turn ? json_object_get(sc->turn, "input") : NULL;
    json_t *out = sc->turn ? synth_turn_final_output(sc->turn) : NULL;
    json_t *v = NULL;
    if (strncmp(name, "input.", 6) == 0)
        v = json_incref(json_object_get(in, name + 6));
    else if (strncmp(name, "output.", 7) == 0)
        v = json_incref(json_object_get(out, name + 7));
    else if (strcmp(name, "thoughts") == 0 || strcmp(name, "thoughts.text") == 0)
        v = thoughts_of(sc->turns, name[8] == '.');
    else if (strcmp(name, "actions") == 0 || strcmp(name, "actions.names") == 0)
        v = actions_of(sc->turns, name[7] == '.');
    else if (strcmp(name, "messages") == 0 || strcmp(name, "turns") == 0)
        v = answered_of(sc->turns, name[0] == 'm');
    else if (strcmp(name, "turn.duration") == 0)
        v = span_duration(sc->turn);
    else if (strcmp(name, "turn.success") == 0)
        v = json_boolean(!synth_turn_failed(sc->turn));
    else if (strncmp(name, "turn.", 5) == 0)
        v = json_incref(json_object_get(sc->turn, name + 5));
    else if (strcmp(name, "session.duration") == 0)
        v = span_duration(sc->session);
    else if (strcmp(name, "session.success") == 0)
        v = json_boolean(turns_succeeded(sc->turns));
    else if (strcmp(name, "session.context") == 0) {
        char buf[512];
        v = json_string(synth_context_line(sc->session, buf, sizeof buf));
    } else if (strncmp(name, "session.", 8) == 0)
        v = json_incref(json_object_get(sc->session, name + 8));
    return v ? v : json_null();
}

static int is_empty(const json_t *v)
{
    return json_is_null(v) ||
           (json_is_string(v) && synth_blank(json_string_value(v))) ||
           (json_is_array(v) && json_array_size(v) == 0);
}

/* Interpolation of strings with text around placeholders. */
typedef struct {
    scope *sc;
    synth_buf text;
} interp;

static int interp_piece(void *user, int placeholder, const char *s, size_t n)
{
    interp *b = user;
    if (!placeholder) {
        synth_buf_add(&b->text, s, n); /* scan() turned "$$" into "$" */
        return SYNTH_OK;
    }
    json_t *v = resolve(b->sc, placeholder_index(s, n));
    if (is_empty(v))
        b->sc->missing = 1;
    char *t = json_is_null(v) ? NULL : synth_json_text(v);
    if (t)
        synth_buf_add(&b->text, t, strlen(t));
    free(t);
    json_decref(v);
    return SYNTH_OK;
}

/* A single whole-string placeholder ("$actions") keeps its JSON type. */
static int whole_placeholder(void *user, int placeholder, const char *s,
                             size_t n)
{
    int *index = user;
    if (!placeholder || *index != -1) {
        *index = -2;
        return SYNTH_EINVAL;
    }
    *index = placeholder_index(s, n);
    return SYNTH_OK;
}

static json_t *render(scope *sc, json_t *t)
{
    if (json_is_string(t)) {
        int whole = -1;
        if (scan(json_string_value(t), whole_placeholder, &whole) ==
                SYNTH_OK &&
            whole >= 0) {
            json_t *v = resolve(sc, whole);
            if (is_empty(v))
                sc->missing = 1;
            return v;
        }
        interp b = {sc, {NULL, 0, 0, 0}};
        synth_buf_add(&b.text, "", 0);
        scan(json_string_value(t), interp_piece, &b);
        json_t *r = b.text.oom ? NULL : json_string(b.text.s);
        free(b.text.s);
        return r;
    }
    if (json_is_array(t)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(t, i, x) json_array_append_new(a, render(sc, x));
        return a;
    }
    if (json_is_object(t)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach(t, k, x) json_object_set_new(o, k, render(sc, x));
        return o;
    }
    return json_incref(t);
}

static int emit_scope(const custom_state *st, synth_ctx *ctx, scope *sc)
{
    json_t *record = render(sc, st->template);
    if (sc->missing && !st->allow_missing) {
        json_decref(record);
        return SYNTH_OK;
    }
    return synth_emit_built(
        host, ctx, record,
        json_pack("{s:O, s:O?}", "session", json_object_get(sc->session, "id"),
                  "turn", sc->turn ? json_object_get(sc->turn, "id") : NULL));
}

static int custom_session(void *instance, synth_ctx *ctx, json_t *session)
{
    const custom_state *st = instance;
    json_t *turns = json_object_get(session, "turns");
    if (st->unit == UNIT_SESSION) {
        scope sc = {session, NULL, turns, 0};
        return emit_scope(st, ctx, &sc);
    }
    if (st->unit != UNIT_TURN)
        return SYNTH_OK; /* capture switch off */
    size_t i;
    json_t *turn;
    json_array_foreach(turns, i, turn) {
        json_t *one = json_pack("[O]", turn);
        scope sc = {session, turn, one, 0};
        int rc = emit_scope(st, ctx, &sc);
        json_decref(one);
        if (rc != SYNTH_OK)
            return rc;
    }
    return SYNTH_OK;
}

static const synth_plugin custom_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_FORMATTER,
    .name = "custom",
    .version = "1.0.0",
    .description = "records shaped by a template in the config: fields "
                   "mapped to $placeholders of a turn or session",
    .options = custom_options,
    .create = custom_create,
    .destroy = custom_destroy,
    .session = custom_session,
};

SYNTH_PLUGIN_ENTRY(custom_plugin, host)
