/* session.c -- events -> sessions of turns (see session.h and the session
 * model in sdk/synth_plugin.h). */
#include "session.h"
#include "alloc.h"
#include "map.h"
#include "synth_session.h"
#include "text.h"

#include <string.h>

/* What the id index remembers of one element of the session tree. */
typedef struct session_elem {
    json_t *obj;     /* borrowed: owned by the session tree */
    core_ref ref;    /* which ref created it */
    int final;       /* its final line was seen: later partials are stale */
    int seen;        /* a line of its own ref was seen (not only a result
                        or an error event pointing at it) */
    size_t bytes;    /* length of the line that last updated it */
} session_elem;

typedef struct open_session {
    char *id;                 /* owned: the context id */
    json_t *json;             /* owned: the session object */
    json_t *turns;            /* borrowed from json */
    json_t *turn;             /* borrowed: the current turn, or NULL */
    core_map *elems;          /* id -> session_elem* (owned) */
    long long seq;            /* next "seq" */
    long long first_ts, last_ts;  /* -1 while unknown */
    long long step;           /* current step of the current turn */
    size_t bytes, nturns;
    long long wall_ms;        /* wall clock of the last event (live mode) */
    unsigned first_src;       /* where its first line came from (0: none) */
    unsigned long long first_pos, last_pos; /* its first and last line */
    int part;
    int has_runs;             /* this context's log has run lines */
    unsigned long long events;    /* events added so far */
    unsigned long long open_at;   /* turn_open() cached as of this many */
    int open_cached;
    struct open_session *prev, *next;  /* LRU list, head = most recent */
} open_session;

/* The open turn of a session that was cut, waiting for its context's next
 * event to start the next part (see core_sessionizer_cut). */
typedef struct carried_turn {
    json_t *turn;             /* owned: the turn's id, input, start, steps */
    char *type;               /* owned: the session type */
    long long step;
    int part, has_runs;
    unsigned long long order; /* the oldest is dropped first */
} carried_turn;

struct core_sessionizer {
    core_session_limits lim;
    core_session_sink sink;
    void *user;               /* borrowed */
    core_map *open;           /* context id -> open_session* (owned) */
    open_session *head, *tail;
    long long clock;          /* latest event time seen */
    long long now_ms;         /* wall clock, set by live callers; 0 */
    unsigned at_src;          /* the position of the event being added */
    unsigned long long at_pos;
    open_session *closing;    /* borrowed: the session in the sink now */
    core_session_replay replay;   /* after a crash; all NULL otherwise */
    int replaying;            /* the event being added is replayed */
    unsigned long long since_scan;
    core_map *carried;        /* context id -> carried_turn* (owned) */
    unsigned long long carry_order;
    int cutting;              /* in core_sessionizer_cut */
    core_session_stats st;
};

/* ---- small JSON helpers -------------------------------------------
 *
 * Sessions are built with jansson's _nocheck setters: every key here is
 * an ASCII literal and every string comes from a parsed line (checked as
 * UTF-8 there) or from the host, so checking again cost a tenth of the
 * session thread (perf, make bench).  json_pack checks both, so it is
 * not used on the per-event path: synth_set/synth_set_ref (the SDK's,
 * synth_session.h) set without checks. */

static void set_ms(json_t *obj, const char *key, long long ms)
{
    synth_set(obj, key, ms >= 0 ? json_integer(ms) : NULL);
}

static void span_update(json_t *obj, long long ts)
{
    if (ts < 0)
        return;
    long long start = core_json_ms(json_object_get(obj, "start"));
    long long end = core_json_ms(json_object_get(obj, "end"));
    if (start < 0 || ts < start)
        set_ms(obj, "start", ts);
    if (end < 0 || ts > end)
        set_ms(obj, "end", ts);
}

/* The raw text of a content field: strings as they are, anything else in
 * its compact JSON spelling.  Returns a new reference or NULL. */
static json_t *raw_text(json_t *content)
{
    if (content == NULL || json_is_null(content))
        return NULL;
    if (json_is_string(content))
        return json_incref(content);
    char *s = json_dumps(content, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *r = s ? json_string(s) : NULL;
    free(s);
    return r;
}

/* ---- session lifetime ---------------------------------------------- */

static void lru_unlink(core_sessionizer *z, open_session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        z->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        z->tail = s->prev;
    s->prev = s->next = NULL;
}

static void lru_push(core_sessionizer *z, open_session *s)
{
    s->next = z->head;
    s->prev = NULL;
    if (z->head)
        z->head->prev = s;
    z->head = s;
    if (z->tail == NULL)
        z->tail = s;
}

static open_session *session_open(core_sessionizer *z, const char *id,
                                  const char *type, int part)
{
    open_session *s = core_calloc(1, sizeof *s);
    s->id = core_strdup(id);
    s->elems = core_map_new();
    s->first_ts = s->last_ts = -1;
    s->open_at = (unsigned long long)-1; /* turn_open() not asked yet */
    s->part = part;
    char *derived = NULL;
    if (type == NULL) {
        /* Daydreams ids are "<type>:<key>"; the type is the prefix. */
        const char *colon = strchr(id, ':');
        derived = colon ? core_strndup(id, (size_t)(colon - id))
                        : core_strdup("");
        type = derived;
    }
    s->turns = json_array();
    s->json = json_object();
    synth_set(s->json, "id", json_string_nocheck(id));
    synth_set(s->json, "type", json_string_nocheck(type));
    synth_set(s->json, "part", json_integer(part));
    synth_set(s->json, "start", NULL);
    synth_set(s->json, "end", NULL);
    synth_set(s->json, "turns", s->turns); /* the session object holds it */
    core_free(derived);
    core_map_put(z->open, id, s);
    lru_push(z, s);
    size_t n = core_map_size(z->open);
    if (n > z->st.open_peak)
        z->st.open_peak = n;
    return s;
}

/* Compute what only the last version of an element can tell, for elements
 * whose final line never came (cut streams, rejected outputs). */
static void session_finalize(core_sessionizer *z, open_session *s)
{
    size_t pos = 0;
    const char *key;
    void *val;
    while (core_map_next(s->elems, &pos, &key, &val)) {
        session_elem *e = val; /* result ids alias their call: skipped
                                  below by their ref */
        (void)key;
        json_t *content = json_object_get(e->obj, "content");
        if (e->ref == CORE_REF_OUTPUT && !e->final && json_is_string(content))
            json_object_set_new_nocheck(e->obj, "text", core_text_of(content));
        if (e->ref == CORE_REF_ACTION_CALL) {
            if (!e->final && json_is_string(content) &&
                json_is_null(json_object_get(e->obj, "arguments"))) {
                json_t *args = core_parse_lenient(
                    json_string_value(content), json_string_length(content));
                synth_set_ref(e->obj, "arguments", args);
                json_decref(args);
            }
            if (!e->seen)
                z->st.orphans++;
        }
    }
    set_ms(s->json, "start", s->first_ts);
    set_ms(s->json, "end", s->last_ts);
}

static void session_free(open_session *s)
{
    if (s == NULL)
        return;
    core_map_free(s->elems, core_free);
    json_decref(s->json);
    core_free(s->id);
    core_free(s);
}

/* Return a new, empty turn (id stolen, may be NULL). */
static json_t *turn_new(json_t *id)
{
    json_t *turn = json_object();
    synth_set(turn, "id", id);
    synth_set(turn, "start", NULL);
    synth_set(turn, "end", NULL);
    synth_set(turn, "steps", json_integer(0));
    synth_set(turn, "input", NULL);
    static const char *const lists[] = {"thoughts", "actions", "outputs",
                                        "events", "other"};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        synth_set(turn, lists[i], json_array());
    return turn;
}

/* Make turn (stolen) the session's current, last turn. */
static void turn_append(open_session *s, json_t *turn)
{
    json_array_append_new(s->turns, turn);
    s->turn = turn;
    s->nturns++;
}

/* Whether the session's last turn waits for its answer (see
 * core_sessionizer_cut in session.h).  Cached per event: the idle scans
 * ask again every poll. */
static int turn_open(open_session *s)
{
    json_t *turn = s->turn;
    if (turn == NULL || (json_is_null(json_object_get(turn, "id")) &&
                         json_is_null(json_object_get(turn, "input"))))
        return 0;
    if (s->open_at == s->events)
        return s->open_cached;
    int called = 0, answered = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(turn, "actions"), i, e) {
        const char *st = json_string_value(json_object_get(e, "status"));
        if ((st && strcmp(st, "pending") == 0) ||
            json_integer_value(json_object_get(e, "step")) == s->step)
            called = 1;
    }
    json_array_foreach(json_object_get(turn, "outputs"), i, e) {
        const char *st = json_string_value(json_object_get(e, "status"));
        if (st && strcmp(st, "final") == 0 &&
            json_integer_value(json_object_get(e, "step")) == s->step)
            answered = 1;
    }
    s->open_at = s->events;
    s->open_cached = called || !answered;
    return s->open_cached;
}

static void carried_free(void *p)
{
    carried_turn *c = p;
    if (c == NULL)
        return;
    json_decref(c->turn);
    core_free(c->type);
    core_free(c);
}

/* Keep the open last turn of s, closed before its answer came, for the
 * next part (its input deep-copied: the session goes to another thread). */
static void carry_turn(core_sessionizer *z, open_session *s)
{
    z->st.open_turns_cut++;
    json_t *input = json_object_get(s->turn, "input");
    if (json_is_null(input) || input == NULL)
        return; /* no instruction to carry */
    carried_turn *c = core_calloc(1, sizeof *c);
    c->turn = turn_new(json_deep_copy(json_object_get(s->turn, "id")));
    synth_set(c->turn, "input", json_deep_copy(input));
    synth_set(c->turn, "start", json_deep_copy(json_object_get(s->turn,
                                                               "start")));
    synth_set(c->turn, "steps", json_deep_copy(json_object_get(s->turn,
                                                               "steps")));
    synth_set(c->turn, "continued", json_true());
    c->type = core_strdup(json_string_value(json_object_get(s->json, "type")));
    c->step = s->step;
    c->part = s->part + 1;
    c->has_runs = s->has_runs;
    c->order = ++z->carry_order;
    carried_free(core_map_remove(z->carried, s->id));
    core_map_put(z->carried, s->id, c);
    z->st.open_turns_carried++;
    size_t cap = z->lim.max_open ? z->lim.max_open : 1000;
    if (core_map_size(z->carried) > cap) {
        /* rare (more cut turns than open sessions): a scan is fine */
        size_t pos = 0;
        const char *key, *oldest = NULL;
        void *val;
        unsigned long long low = (unsigned long long)-1;
        while (core_map_next(z->carried, &pos, &key, &val)) {
            if (((carried_turn *)val)->order < low) {
                low = ((carried_turn *)val)->order;
                oldest = key;
            }
        }
        char *k = core_strdup(oldest);
        carried_free(core_map_remove(z->carried, k));
        core_free(k);
    }
}

static void session_close(core_sessionizer *z, open_session *s,
                          core_close_reason why)
{
    core_map_remove(z->open, s->id);
    lru_unlink(z, s);
    /* the end of the input and a cap (at a turn boundary) cut no turn */
    if ((why == CORE_CLOSE_IDLE || why == CORE_CLOSE_EVICT || z->cutting) &&
        turn_open(s))
        carry_turn(z, s);
    session_finalize(z, s);
    z->st.sessions++;
    z->st.closed[why]++;
    z->st.turns += s->nturns;
    json_t *json = s->json;
    s->json = NULL;
    /* the sink may ask where the session came from: keep it until then */
    z->closing = s;
    z->sink(json, why, z->user);
    z->closing = NULL;
    session_free(s);
}

/* ---- turns and elements --------------------------------------------- */

static int turn_is_input_only(json_t *turn)
{
    static const char *const lists[] = {"thoughts", "actions", "outputs",
                                        "events", "other", NULL};
    if (json_is_null(json_object_get(turn, "input")))
        return 0;
    if (json_integer_value(json_object_get(turn, "steps")) != 0)
        return 0;
    for (int i = 0; lists[i]; i++)
        if (json_array_size(json_object_get(turn, lists[i])) != 0)
            return 0;
    return 1;
}

/* Start a new turn.  Closes the session first when it reached a cap, so a
 * part always ends at a turn boundary; returns the session now current. */
static open_session *turn_start(core_sessionizer *z, open_session *s,
                                const char *id)
{
    int full = (z->lim.max_turns && s->nturns >= z->lim.max_turns) ||
               (z->lim.max_bytes && s->bytes >= z->lim.max_bytes);
    if (full && s->nturns > 0) {
        char *cid = core_strdup(s->id);
        char *type = core_strdup(json_string_value(
            json_object_get(s->json, "type")));
        int part = s->part + 1, has_runs = s->has_runs;
        unsigned src = s->first_src;
        unsigned long long first = s->first_pos;
        session_close(z, s, CORE_CLOSE_CAP);
        s = session_open(z, cid, type, part);
        s->has_runs = has_runs;
        /* a part is replayed from the first line of part 0 */
        s->first_src = src;
        s->first_pos = first;
        s->last_pos = first;
        core_free(cid);
        core_free(type);
    }
    turn_append(s, turn_new(id ? json_string_nocheck(id) : NULL));
    s->step = 0;
    return s;
}

static json_t *current_turn(core_sessionizer *z, open_session **s)
{
    if ((*s)->turn == NULL)
        *s = turn_start(z, *s, NULL);
    return (*s)->turn;
}

static session_elem *elem_add(open_session *s, const char *id, json_t *obj,
                              core_ref ref)
{
    session_elem *e = core_calloc(1, sizeof *e);
    e->obj = obj;
    e->ref = ref;
    core_map_put(s->elems, id, e);
    return e;
}

/* Return the element for id, creating it in the current turn's `list`
 * from `shape` (stolen) when it does not exist yet.  Returns NULL when the
 * id belongs to an element of another kind. */
static session_elem *elem_upsert(core_sessionizer *z, open_session **s,
                                 const char *id, core_ref ref,
                                 const char *list, json_t *(*make)(void))
{
    session_elem *e = core_map_get((*s)->elems, id);
    if (e != NULL) {
        /* most lines of a stream land here: the shape is only made for
         * an element's first line */
        if (e->ref != ref) {
            z->st.duplicates++;
            return NULL;
        }
        return e;
    }
    json_t *turn = current_turn(z, s);
    json_t *shape = make();
    json_object_set_new_nocheck(shape, "id", json_string_nocheck(id));
    json_object_set_new_nocheck(shape, "seq", json_integer((*s)->seq++));
    json_object_set_new_nocheck(shape, "step", json_integer((*s)->step));
    json_array_append_new(json_object_get(turn, list), shape);
    return elem_add(*s, id, shape, ref);
}

static json_t *action_shape(void)
{
    json_t *a = json_object();
    synth_set(a, "name", NULL);
    synth_set(a, "content", NULL);
    synth_set(a, "arguments", NULL);
    synth_set(a, "status", json_string_nocheck("pending"));
    synth_set(a, "result", NULL);
    synth_set(a, "error", NULL);
    synth_set(a, "formatted", NULL);
    synth_set(a, "timestamp", NULL);
    synth_set(a, "result_timestamp", NULL);
    return a;
}

static json_t *thought_shape(void)
{
    json_t *t = json_object();
    synth_set(t, "text", json_string_nocheck(""));
    synth_set(t, "timestamp", NULL);
    synth_set(t, "complete", json_false());
    return t;
}

static session_elem *action_upsert(core_sessionizer *z, open_session **s,
                                   const char *id)
{
    return elem_upsert(z, s, id, CORE_REF_ACTION_CALL, "actions",
                       action_shape);
}

static json_t *output_shape(void)
{
    json_t *o = json_object();
    synth_set(o, "name", NULL);
    synth_set(o, "text", json_string_nocheck(""));
    synth_set(o, "content", NULL);
    synth_set(o, "data", NULL);
    synth_set(o, "status", json_string_nocheck("partial"));
    synth_set(o, "error", NULL);
    synth_set(o, "timestamp", NULL);
    return o;
}

static session_elem *output_upsert(core_sessionizer *z, open_session **s,
                                   const char *id)
{
    return elem_upsert(z, s, id, CORE_REF_OUTPUT, "outputs", output_shape);
}

/* Byte accounting for the size cap: a streamed element costs its largest
 * line, not the sum of its partials. */
static void account(open_session *s, session_elem *e, size_t bytes)
{
    if (e == NULL) {
        s->bytes += bytes;
        return;
    }
    if (bytes > e->bytes) {
        s->bytes += bytes - e->bytes;
        e->bytes = bytes;
    }
}

/* One-shot refs (input, run, result, event) appear once; a repeated id is
 * a replayed line.  Returns 1 (and counts it) when id was seen. */
static int seen_before(core_sessionizer *z, open_session *s, const char *id)
{
    if (core_map_get(s->elems, id) == NULL)
        return 0;
    z->st.duplicates++;
    return 1;
}

static void on_thought(core_sessionizer *z, open_session **s,
                       const core_event *ev, long long ts)
{
    session_elem *e =
        elem_upsert(z, s, ev->id, CORE_REF_THOUGHT, "thoughts", thought_shape);
    if (e == NULL || e->final)
        return;
    account(*s, e, ev->bytes);
    json_t *text = core_text_of(ev->field[CORE_F_CONTENT]);
    json_object_set_new_nocheck(e->obj, "text", text ? text : json_string_nocheck(""));
    set_ms(e->obj, "timestamp", ts);
    if (ev->done) {
        e->final = 1;
        json_object_set(e->obj, "complete", json_true());
    }
}

static void on_action_call(core_sessionizer *z, open_session **s,
                           const core_event *ev, long long ts)
{
    session_elem *e = action_upsert(z, s, ev->id);
    if (e == NULL || e->final)
        return;
    e->seen = 1;
    account(*s, e, ev->bytes);
    json_t *name = ev->field[CORE_F_NAME];
    if (json_is_string(name))
        json_object_set(e->obj, "name", name);
    json_t *raw = raw_text(ev->field[CORE_F_CONTENT]);
    synth_set_ref(e->obj, "content", raw);
    set_ms(e->obj, "timestamp", ts);
    if (ev->done) {
        e->final = 1;
        json_t *data = ev->field[CORE_F_DATA];
        json_t *args = data ? json_incref(data)
                     : raw ? core_parse_lenient(json_string_value(raw),
                                                json_string_length(raw))
                           : NULL;
        synth_set_ref(e->obj, "arguments", args);
        json_decref(args);
    }
    json_decref(raw);
}

static void on_action_result(core_sessionizer *z, open_session **s,
                             const core_event *ev, long long ts)
{
    if (seen_before(z, *s, ev->id))
        return;
    const char *call_id =
        json_string_value(ev->field[CORE_F_CALL_ID]);
    session_elem *call = action_upsert(z, s, call_id);
    if (call == NULL)
        return;
    account(*s, NULL, ev->bytes);
    /* Remember the result id too (duplicate detection), aliased to its
     * call's object. */
    elem_add(*s, ev->id, call->obj, CORE_REF_ACTION_RESULT);
    json_t *obj = call->obj;
    if (json_is_null(json_object_get(obj, "name")))
        synth_set_ref(obj, "name", ev->field[CORE_F_NAME]);
    json_t *data = ev->field[CORE_F_DATA];
    synth_set_ref(obj, "result", data);
    set_ms(obj, "result_timestamp", ts);
    json_t *formatted = ev->field[CORE_F_FORMATTED];
    if (formatted)
        json_object_set(obj, "formatted", formatted);
    json_t *err = json_object_get(data, "error");
    if (err != NULL && !json_is_null(err) && !json_is_false(err)) {
        json_object_set(obj, "error", err);
        json_object_set_new_nocheck(obj, "status", json_string_nocheck("error"));
    } else if (json_is_null(json_object_get(obj, "error"))) {
        json_object_set_new_nocheck(obj, "status", json_string_nocheck("ok"));
    }
}

static void on_output(core_sessionizer *z, open_session **s,
                      const core_event *ev, long long ts)
{
    session_elem *e = output_upsert(z, s, ev->id);
    if (e == NULL || e->final)
        return;
    account(*s, e, ev->bytes);
    json_t *obj = e->obj;
    json_t *name = ev->field[CORE_F_NAME];
    if (json_is_string(name))
        json_object_set(obj, "name", name);
    json_t *raw = raw_text(ev->field[CORE_F_CONTENT]);
    synth_set_ref(obj, "content", raw);
    set_ms(obj, "timestamp", ts);
    if (ev->done) {
        /* The final version: its parsed data is the truth. */
        e->final = 1;
        json_t *data = ev->field[CORE_F_DATA];
        synth_set_ref(obj, "data", data);
        json_t *text = core_text_of(data);
        if (text == NULL)
            text = core_text_of(raw);
        json_object_set_new_nocheck(obj, "text", text ? text : json_string_nocheck(""));
        if (json_is_null(json_object_get(obj, "error")))
            json_object_set_new_nocheck(obj, "status", json_string_nocheck("final"));
        /* the raw text is only needed to rebuild what a cut stream said */
        json_object_del(obj, "content");
    } else {
        /* Partials are text as streamed; session_finalize extracts the
         * text of one that never becomes final. */
        synth_set_ref(obj, "text", raw);
    }
    json_decref(raw);
}

/* An error event names the element it is about in data.ref; join it. */
static void join_error(core_sessionizer *z, open_session **s, json_t *data)
{
    json_t *target = json_object_get(data, "ref");
    const char *tid = json_string_value(json_object_get(target, "id"));
    const char *tref = json_string_value(json_object_get(target, "ref"));
    if (tid == NULL || tref == NULL)
        return;
    json_t *err = json_object_get(data, "error");
    if (err == NULL)
        err = data;
    session_elem *e = NULL;
    if (strcmp(tref, "action_call") == 0) {
        e = action_upsert(z, s, tid);
        if (e && json_is_null(json_object_get(e->obj, "name")))
            synth_set_ref(e->obj, "name", json_object_get(target, "name"));
        if (e)
            json_object_set_new_nocheck(e->obj, "status", json_string_nocheck("error"));
    } else if (strcmp(tref, "output") == 0) {
        e = output_upsert(z, s, tid);
        if (e && json_is_null(json_object_get(e->obj, "name"))) {
            json_t *n = json_object_get(target, "type");
            synth_set_ref(e->obj, "name", n ? n : json_object_get(target,
                                                                 "name"));
        }
        if (e)
            json_object_set_new_nocheck(e->obj, "status", json_string_nocheck("rejected"));
    }
    if (e)
        json_object_set(e->obj, "error", err);
}

static void on_event(core_sessionizer *z, open_session **s,
                     const core_event *ev, long long ts)
{
    if (seen_before(z, *s, ev->id))
        return;
    json_t *turn = current_turn(z, s);
    account(*s, NULL, ev->bytes);
    json_t *data = ev->field[CORE_F_DATA];
    json_t *obj = json_object();
    synth_set(obj, "id", json_string_nocheck(ev->id));
    synth_set(obj, "seq", json_integer((json_int_t)(*s)->seq++));
    synth_set(obj, "step", json_integer((json_int_t)(*s)->step));
    synth_set_ref(obj, "name", ev->field[CORE_F_NAME]);
    synth_set_ref(obj, "data", data);
    set_ms(obj, "timestamp", ts);
    json_array_append_new(json_object_get(turn, "events"), obj);
    elem_add(*s, ev->id, obj, CORE_REF_EVENT);
    if (json_is_object(data))
        join_error(z, s, data);
}

static void on_input(core_sessionizer *z, open_session **s,
                     const core_event *ev, long long ts)
{
    if (seen_before(z, *s, ev->id))
        return;
    json_t *turn = (*s)->turn;
    if (turn == NULL || !json_is_null(json_object_get(turn, "input"))) {
        *s = turn_start(z, *s, (*s)->has_runs ? NULL : ev->id);
        turn = (*s)->turn;
    } else if (!(*s)->has_runs && json_is_null(json_object_get(turn, "id"))) {
        json_object_set_new_nocheck(turn, "id", json_string_nocheck(ev->id));
    }
    account(*s, NULL, ev->bytes);
    json_t *content = ev->field[CORE_F_CONTENT];
    if (content == NULL)
        content = ev->field[CORE_F_DATA];
    json_t *text = core_text_of(content);
    json_t *user = core_user_of(content);
    json_t *input = json_object();
    synth_set(input, "id", json_string_nocheck(ev->id));
    synth_set_ref(input, "type", ev->field[CORE_F_TYPE]);
    synth_set(input, "text", text);
    synth_set(input, "user", user);
    synth_set_ref(input, "content", content);
    set_ms(input, "timestamp", ts);
    json_object_set_new_nocheck(turn, "input", input);
    elem_add(*s, ev->id, input, CORE_REF_INPUT);
}

static void on_run(core_sessionizer *z, open_session **s,
                   const core_event *ev)
{
    if (seen_before(z, *s, ev->id))
        return;
    json_t *turn = (*s)->turn;
    if (turn != NULL && json_is_null(json_object_get(turn, "id")) &&
        turn_is_input_only(turn)) {
        /* The input was logged before its run: the run adopts it. */
        json_object_set_new_nocheck(turn, "id", json_string_nocheck(ev->id));
    } else {
        *s = turn_start(z, *s, ev->id);
        turn = (*s)->turn;
    }
    (*s)->has_runs = 1;
    account(*s, NULL, ev->bytes);
    elem_add(*s, ev->id, turn, CORE_REF_RUN);
}

static void on_step(core_sessionizer *z, open_session **s,
                    const core_event *ev)
{
    json_t *turn = current_turn(z, s);
    account(*s, NULL, ev->bytes);
    json_int_t steps = json_integer_value(json_object_get(turn, "steps"));
    json_t *n = ev->field[CORE_F_STEP];
    json_int_t step = json_is_integer(n) ? json_integer_value(n) : steps + 1;
    if (step > steps)
        json_object_set_new_nocheck(turn, "steps", json_integer(step));
    (*s)->step = step;
}

static void on_unknown(core_sessionizer *z, open_session **s,
                       const core_event *ev)
{
    json_t *turn = current_turn(z, s);
    account(*s, NULL, ev->bytes);
    json_array_append_new(json_object_get(turn, "other"),
                          json_pack("{s:s, s:I, s:o}", "ref", ev->ref_name,
                                    "seq", (json_int_t)(*s)->seq++, "log",
                                    core_event_log(ev)));
}

/* ---- the sessionizer ------------------------------------------------- */

core_sessionizer *core_sessionizer_new(const core_session_limits *limits,
                                       core_session_sink sink, void *user)
{
    core_sessionizer *z = core_calloc(1, sizeof *z);
    z->lim = *limits;
    z->sink = sink;
    z->user = user;
    z->open = core_map_new();
    z->carried = core_map_new();
    z->clock = -1;
    return z;
}

/* Close sessions idle for longer than the gap in event time.  The session
 * just touched (the list head) is spared: its event is being added. */
static void close_idle(core_sessionizer *z)
{
    if (z->lim.idle_gap_ms <= 0 || z->clock < 0)
        return;
    open_session *s = z->head ? z->head->next : NULL;
    while (s != NULL) {
        open_session *next = s->next;
        if (s->last_ts >= 0 && z->clock - s->last_ts > z->lim.idle_gap_ms &&
            (z->clock - s->last_ts > z->lim.open_turn_timeout_ms ||
             !turn_open(s)))
            session_close(z, s, CORE_CLOSE_IDLE);
        s = next;
    }
}

/* Replay: the offset of the last line the run before gave s when it
 * closed it (not by a cap), or -1. */
static long long replay_end(const core_sessionizer *z, const open_session *s)
{
    if (z->replay.ended == NULL || s->first_src == 0)
        return -1;
    core_session_origin o = {s->first_src, s->first_pos, s->last_pos, s->part};
    return z->replay.ended(z->replay.user, s->id, &o);
}

/* The open session of a context (opened when new), made most recent. */
static open_session *session_for(core_sessionizer *z, const char *context_id,
                                 const char *context_type)
{
    open_session *s = core_map_get(z->open, context_id);
    long long end = s ? replay_end(z, s) : -1;
    if (end >= 0 && z->at_src == s->first_src &&
        z->at_pos > (unsigned long long)end) {
        /* a replay: the run before the crash ended this session here */
        session_close(z, s, CORE_CLOSE_END);
        s = NULL;
    }
    if (s == NULL) {
        carried_turn *c = core_map_remove(z->carried, context_id);
        s = session_open(z, context_id, c && !context_type ? c->type
                                                            : context_type,
                         c ? c->part : 0);
        s->first_src = z->at_src;
        s->first_pos = z->at_pos;
        if (c) {
            /* the turn that was open when the part before was cut */
            turn_append(s, c->turn);
            c->turn = NULL;
            s->step = c->step;
            s->has_runs = c->has_runs;
            carried_free(c);
        }
    } else if (z->head != s) {
        lru_unlink(z, s);
        lru_push(z, s);
    }
    return s;
}

/* The session to evict: the least recently active of the last few that
 * is not waiting for an answer, else the least recently active. */
static open_session *evictee(core_sessionizer *z)
{
    open_session *s = z->tail;
    for (int i = 0; s != NULL && i < 8; i++, s = s->prev)
        if (s != z->head && !turn_open(s))
            return s;
    return z->tail;
}

/* After an event: time spans, the event clock, and the closing rules. */
static void after_event(core_sessionizer *z, open_session *s, long long ts)
{
    s->wall_ms = z->now_ms;
    s->events++;
    if (z->at_src && z->at_src == s->first_src)
        s->last_pos = z->at_pos;
    if (ts >= 0) {
        if (s->first_ts < 0 || ts < s->first_ts)
            s->first_ts = ts;
        if (ts > s->last_ts)
            s->last_ts = ts;
        if (s->turn)
            span_update(s->turn, ts);
        if (ts > z->clock)
            z->clock = ts;
    }
    long long end = replay_end(z, s);
    if (end >= 0 && z->at_src == s->first_src &&
        z->at_pos >= (unsigned long long)end) {
        session_close(z, s, CORE_CLOSE_END); /* its last line, as before */
        return;
    }
    if (z->replaying)
        return; /* the run before closed nothing here that ended() misses */
    if (z->lim.max_open && core_map_size(z->open) > z->lim.max_open)
        session_close(z, evictee(z), CORE_CLOSE_EVICT);
    /* The idle scan is O(open sessions); every 256 events keeps it cheap. */
    if (++z->since_scan >= 256) {
        z->since_scan = 0;
        close_idle(z);
    }
}

/* Replay: whether the event at the current position is taken (0: it
 * belongs to a session written before the replay point). */
static int replay_take(core_sessionizer *z, const char *context_id)
{
    z->replaying = z->replay.replaying && z->at_src &&
                   z->replay.replaying(z->replay.user, z->at_src, z->at_pos);
    return !(z->at_src && z->replay.owned &&
             z->replay.owned(z->replay.user, context_id, z->at_src,
                             z->at_pos));
}

void core_sessionizer_add(core_sessionizer *z, const core_event *ev)
{
    if (!replay_take(z, ev->context_id))
        return;
    open_session *s = session_for(z, ev->context_id, ev->context_type);
    z->st.events[ev->ref]++;
    long long ts = core_json_ms(ev->field[CORE_F_TIMESTAMP]);
    switch (ev->ref) {
    case CORE_REF_RUN:           on_run(z, &s, ev); break;
    case CORE_REF_STEP:          on_step(z, &s, ev); break;
    case CORE_REF_INPUT:         on_input(z, &s, ev, ts); break;
    case CORE_REF_THOUGHT:       on_thought(z, &s, ev, ts); break;
    case CORE_REF_ACTION_CALL:   on_action_call(z, &s, ev, ts); break;
    case CORE_REF_ACTION_RESULT: on_action_result(z, &s, ev, ts); break;
    case CORE_REF_OUTPUT:        on_output(z, &s, ev, ts); break;
    case CORE_REF_EVENT:         on_event(z, &s, ev, ts); break;
    default:                     on_unknown(z, &s, ev); break;
    }
    after_event(z, s, ts);
}

void core_sessionizer_touch(core_sessionizer *z, const char *context_id,
                            const char *context_type, core_ref ref,
                            const char *id, long long ts)
{
    if (!replay_take(z, context_id))
        return;
    open_session *s = session_for(z, context_id, context_type);
    z->st.events[ref]++;
    if (core_map_get(s->elems, id) == NULL) {
        /* First appearance: the element takes its place (seq, step) now;
         * its content comes with the line that supersedes this one. */
        session_elem *e = NULL;
        if (ref == CORE_REF_THOUGHT)
            elem_upsert(z, &s, id, ref, "thoughts", thought_shape);
        else if (ref == CORE_REF_ACTION_CALL)
            e = action_upsert(z, &s, id);
        else if (ref == CORE_REF_OUTPUT)
            output_upsert(z, &s, id);
        if (e)
            e->seen = 1;
    }
    after_event(z, s, ts);
}

void core_sessionizer_flush(core_sessionizer *z)
{
    /* Least recently active first: a deterministic order. */
    while (z->tail != NULL)
        session_close(z, z->tail, CORE_CLOSE_END);
}

void core_sessionizer_cut(core_sessionizer *z)
{
    z->cutting = 1;
    core_sessionizer_flush(z);
    z->cutting = 0;
}

void core_sessionizer_at(core_sessionizer *z, unsigned src,
                         unsigned long long pos)
{
    z->at_src = src;
    z->at_pos = pos;
}

int core_sessionizer_closing(const core_sessionizer *z, core_session_origin *o)
{
    if (z->closing == NULL || z->closing->first_src == 0)
        return 0;
    o->src = z->closing->first_src;
    o->first = z->closing->first_pos;
    o->last = z->closing->last_pos;
    o->part = z->closing->part;
    return 1;
}

unsigned long long core_sessionizer_watermark(const core_sessionizer *z,
                                              unsigned src)
{
    unsigned long long low = (unsigned long long)-1;
    for (const open_session *s = z->head; s; s = s->next)
        if (s->first_src == src && s->first_pos < low)
            low = s->first_pos;
    return low;
}

void core_sessionizer_replay(core_sessionizer *z, const core_session_replay *r)
{
    z->replay = *r;
}

long long core_sessionizer_clock(const core_sessionizer *z)
{
    return z->clock;
}

void core_sessionizer_set_clock(core_sessionizer *z, long long clock)
{
    z->clock = clock;
}

void core_sessionizer_set_now(core_sessionizer *z, long long now_ms)
{
    z->now_ms = now_ms;
}

size_t core_sessionizer_close_stale(core_sessionizer *z, long long timeout_ms)
{
    size_t n = 0;
    /* a replay runs faster than the wall clock it stands for */
    if (z->replay.replaying && z->replay.replaying(z->replay.user, 0, 0))
        return 0;
    long long open_timeout = timeout_ms > z->lim.open_turn_timeout_ms
                                 ? timeout_ms
                                 : z->lim.open_turn_timeout_ms;
    /* the list is in order of activity: the stalest sessions are last */
    open_session *s = z->tail;
    while (s && z->now_ms - s->wall_ms > timeout_ms) {
        open_session *prev = s->prev;
        if (z->now_ms - s->wall_ms > open_timeout || !turn_open(s)) {
            session_close(z, s, CORE_CLOSE_IDLE);
            n++;
        }
        s = prev;
    }
    return n;
}

size_t core_sessionizer_clear(core_sessionizer *z)
{
    size_t n = 0;
    while (z->tail) {
        open_session *s = z->tail;
        core_map_remove(z->open, s->id);
        lru_unlink(z, s);
        session_free(s);
        n++;
    }
    core_map_free(z->carried, carried_free);
    z->carried = core_map_new();
    return n;
}

size_t core_sessionizer_open(const core_sessionizer *z)
{
    return core_map_size(z->open);
}

const core_session_stats *core_sessionizer_stats(const core_sessionizer *z)
{
    return &z->st;
}

static void free_open(void *p)
{
    session_free(p);
}

void core_sessionizer_free(core_sessionizer *z)
{
    if (z == NULL)
        return;
    core_map_free(z->open, free_open);
    core_map_free(z->carried, carried_free);
    core_free(z);
}
