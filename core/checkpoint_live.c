/* checkpoint_live.c -- the live checkpoint and the replay after a crash
 * (see checkpoint_live.h). */
#include "checkpoint_live.h"
#include "alloc.h"
#include "checkpoint.h"
#include "log.h"
#include "map.h"
#include "synth_plugin.h"

#include <string.h>

#define LIVE_CHECKPOINT ".synthhost-live.json"

typedef struct {
    core_written *v;          /* owned, each with its context */
    size_t n, cap;
} written_list;

/* The written sessions of the run before that began before its replay
 * point, per context (borrowed from prior). */
typedef struct {
    const core_written **v;   /* owned array, borrowed entries */
    size_t n, cap;
} owned_list;

struct core_live_checkpoint {
    const core_config *cfg;   /* borrowed */
    core_pipeline *p;         /* borrowed: the attached pipeline, or NULL */
    core_follow **follows;    /* owned array of borrowed files, 1.. = src */
    size_t nfollows, follows_cap;
    written_list written;     /* written sessions past the replay point */
    unsigned long long marked_lines, marked_records; /* as of the last save */
    /* After a crash, the run before (all NULL / empty otherwise): */
    json_t *before;           /* owned: its checkpoint */
    written_list prior;       /* the sessions it wrote */
    core_map *replay;         /* owned: "src:first:part:context" -> entry
                                 of prior (borrowed) */
    core_map *owned;          /* owned: context -> owned_list (owned) */
    unsigned long long *ends; /* owned, per src: where it had read to
                                 (replaying below it), 0 when done */
    size_t ends_cap;
    unsigned long long replay_last_first; /* no entry begins after this */
    long long clock;          /* its event clock, -1 none */
    core_session_replay replay_fns;
};

/* ---- core_written ---------------------------------------------------------- */

json_t *core_written_to_json(const core_written *w)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:i, s:b}", "context", w->context,
                     "src", (json_int_t)w->o.src, "first",
                     (json_int_t)w->o.first, "last", (json_int_t)w->o.last,
                     "part", w->o.part, "cap", w->cap);
}

/* A number of the checkpoint file (0 when absent or not a number). */
static unsigned long long ck_num(json_t *v)
{
    return json_is_integer(v) ? (unsigned long long)json_integer_value(v) : 0;
}

int core_written_from_json(json_t *j, core_written *w)
{
    static const char *const names[] = {"context", "src",  "first",
                                        "last",    "part", "cap"};
    json_t *f[6];
    for (size_t i = 0; i < 6; i++)
        f[i] = json_is_array(j) ? json_array_get(j, i)
                                : json_object_get(j, names[i]);
    const char *ctx = json_string_value(f[0]);
    core_written r = {NULL,
                      {(unsigned)ck_num(f[1]), ck_num(f[2]), ck_num(f[3]),
                       (int)ck_num(f[4])},
                      json_is_true(f[5])};
    if (ctx == NULL || r.o.src == 0)
        return SYNTH_EINVAL;
    r.context = core_strdup(ctx);
    *w = r;
    return SYNTH_OK;
}

static void written_add(written_list *l, const core_written *w)
{
    core_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v);
    l->v[l->n++] = *w;
}

static void written_clear(written_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        core_free(l->v[i].context);
    core_free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---- replay: the pipeline's and the sessionizer's questions ------------------ */

static char *replay_key(const char *ctx, const core_session_origin *o)
{
    core_strbuf b = {0};
    core_strbuf_printf(&b, "%u:%llu:%d:%s", o->src, o->first, o->part, ctx);
    return b.data;
}

/* The entry of the run before for this session, or NULL. */
static const core_written *replay_entry(const core_live_checkpoint *ck,
                                        const char *ctx,
                                        const core_session_origin *o)
{
    /* the common case after a restart: a session the run before never saw */
    if (ck->replay == NULL || o->first > ck->replay_last_first)
        return NULL;
    char *k = replay_key(ctx, o);
    const core_written *e = core_map_get(ck->replay, k);
    core_free(k);
    return e;
}

static long long replay_ended(void *user, const char *ctx,
                              const core_session_origin *o)
{
    const core_written *e = replay_entry(user, ctx, o);
    if (e == NULL || e->cap)
        return -1; /* not written, or cut by a cap, which cuts it again */
    return (long long)e->o.last;
}

static int replay_owned(void *user, const char *ctx, unsigned src,
                        unsigned long long pos)
{
    core_live_checkpoint *ck = user;
    const owned_list *l = core_map_get(ck->owned, ctx);
    for (size_t i = 0; l && i < l->n; i++)
        if (l->v[i]->o.src == src && l->v[i]->o.first <= pos &&
            pos <= l->v[i]->o.last)
            return 1;
    return 0;
}

static int replay_replaying(void *user, unsigned src, unsigned long long pos)
{
    core_live_checkpoint *ck = user;
    if (ck->ends == NULL)
        return 0;
    if (src > 0) {
        if (src > ck->nfollows || ck->ends[src] == 0)
            return 0;
        if (pos < ck->ends[src])
            return 1;
        ck->ends[src] = 0; /* past it: the replay of src is over */
        return 0;
    }
    for (size_t i = 1; i <= ck->nfollows; i++)
        if (ck->ends[i])
            return 1;
    return 0;
}

static int replay_skip(void *user, const char *ctx,
                       const core_session_origin *o)
{
    return replay_entry(user, ctx, o) != NULL;
}

static void session_written(void *user, const char *ctx,
                            const core_session_origin *o,
                            core_close_reason why)
{
    core_live_checkpoint *ck = user;
    core_written w = {core_strdup(ctx), *o, why == CORE_CLOSE_CAP};
    written_add(&ck->written, &w);
}

static void owned_free(void *v)
{
    owned_list *l = v;
    core_free(l->v);
    core_free(l);
}

/* Drop the run before (a new config starts afresh). */
static void replay_forget(core_live_checkpoint *ck)
{
    core_map_free(ck->replay, NULL);
    core_map_free(ck->owned, owned_free);
    written_clear(&ck->prior);
    json_decref(ck->before);
    core_free(ck->ends);
    ck->replay = ck->owned = NULL;
    ck->before = NULL;
    ck->ends = NULL;
    ck->ends_cap = 0;
    ck->clock = -1;
    ck->replay_last_first = 0;
}

/* ---- the checkpoint ------------------------------------------------------------ */

core_live_checkpoint *core_live_checkpoint_new(const core_config *cfg)
{
    core_live_checkpoint *ck = core_calloc(1, sizeof *ck);
    ck->cfg = cfg;
    ck->clock = -1;
    ck->replay_fns = (core_session_replay){ck, replay_ended, replay_owned,
                                           replay_replaying};
    return ck;
}

/* The state of the run before (new reference) when it was made with this
 * config; NULL otherwise. */
static json_t *read_before(const core_config *cfg)
{
    core_strbuf path = {0};
    core_strbuf_printf(&path, "%s/%s", cfg->output_dir, LIVE_CHECKPOINT);
    json_t *state = json_load_file(path.data, 0, NULL);
    core_strbuf_free(&path);
    char *fp = core_checkpoint_fingerprint(cfg);
    const char *had = json_string_value(json_object_get(state, "fingerprint"));
    if (state && (had == NULL || strcmp(fp, had) != 0)) {
        core_note("%s/%s belongs to another config: starting afresh",
                  cfg->output_dir, LIVE_CHECKPOINT);
        json_decref(state);
        state = NULL;
    }
    core_free(fp);
    return state;
}

int core_live_checkpoint_load(core_live_checkpoint *ck)
{
    if (!ck->cfg->checkpoint || (ck->before = read_before(ck->cfg)) == NULL)
        return 0;
    json_t *before = ck->before;
    json_t *clock = json_object_get(before, "clock");
    ck->clock = json_is_integer(clock) ? (long long)json_integer_value(clock)
                                       : -1;
    size_t i;
    json_t *j;
    json_array_foreach(json_object_get(before, "written"), i, j) {
        core_written w;
        if (core_written_from_json(j, &w) != SYNTH_OK)
            continue;
        written_add(&ck->prior, &w);
        /* known to the next checkpoint too */
        w.context = core_strdup(w.context);
        written_add(&ck->written, &w);
    }
    /* the maps point into prior, complete from here on */
    ck->replay = core_map_new();
    ck->owned = core_map_new();
    json_t *files = json_object_get(before, "files");
    for (i = 0; i < ck->prior.n; i++) {
        const core_written *w = &ck->prior.v[i];
        if (w->o.first > ck->replay_last_first)
            ck->replay_last_first = w->o.first;
        char *k = replay_key(w->context, &w->o);
        core_map_put(ck->replay, k, (void *)w);
        core_free(k);
        unsigned long long mark = ck_num(json_object_get(
            json_array_get(files, w->o.src - 1), "offset"));
        if (w->o.first < mark) {
            owned_list *l = core_map_get(ck->owned, w->context);
            if (l == NULL) {
                l = core_calloc(1, sizeof *l);
                core_map_put(ck->owned, w->context, l);
            }
            core_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v);
            l->v[l->n++] = w;
        }
    }
    return 1;
}

json_t *core_live_checkpoint_outputs(const core_live_checkpoint *ck)
{
    return json_object_get(ck->before, "outputs");
}

json_t *core_live_checkpoint_plugins(const core_live_checkpoint *ck)
{
    return json_object_get(ck->before, "plugins");
}

void core_live_checkpoint_follow(core_live_checkpoint *ck, core_follow *f)
{
    core_grow((void **)&ck->follows, &ck->follows_cap, ck->nfollows + 1,
              sizeof *ck->follows);
    ck->follows[ck->nfollows++] = f;
    unsigned src = (unsigned)ck->nfollows;
    if (ck->before == NULL)
        return;
    size_t cap = ck->ends_cap;
    core_grow((void **)&ck->ends, &ck->ends_cap, src + 1, sizeof *ck->ends);
    memset(ck->ends + cap, 0, (ck->ends_cap - cap) * sizeof *ck->ends);
    json_t *at = json_array_get(json_object_get(ck->before, "files"), src - 1);
    const char *was = json_string_value(json_object_get(at, "path"));
    if (was == NULL || strcmp(was, f->path) != 0)
        return;
    core_follow_resume(f, ck_num(json_object_get(at, "dev")),
                       ck_num(json_object_get(at, "ino")),
                       ck_num(json_object_get(at, "offset")));
    core_note("resuming %s at byte %llu", f->path, f->offset);
    if (f->offset > 0)
        ck->ends[src] = ck_num(json_object_get(at, "end"));
}

void core_live_checkpoint_caught_up(core_live_checkpoint *ck, unsigned src)
{
    if (ck->ends && src < ck->ends_cap)
        ck->ends[src] = 0;
}

void core_live_checkpoint_attach(core_live_checkpoint *ck, core_pipeline *p)
{
    ck->p = p;
    if (p == NULL || !ck->cfg->checkpoint)
        return; /* nothing would prune the list of written sessions */
    /* the replay only after a crash: otherwise every event would ask
     * for nothing */
    core_pipeline_hooks h = {replay_skip, session_written,
                             ck->replay ? &ck->replay_fns : NULL, ck->clock,
                             ck};
    core_pipeline_hook(p, &h);
}

int core_live_checkpoint_save(core_live_checkpoint *ck, int force,
                              core_strbuf *why)
{
    core_pipeline *p = ck->p;
    if (!ck->cfg->checkpoint || p == NULL)
        return SYNTH_OK;
    core_pipeline_drain(p); /* what the checkpoint says is written, is */
    unsigned long long lines = core_pipeline_lines(p);
    unsigned long long records = core_pipeline_records(p);
    if (!force && lines == ck->marked_lines && records == ck->marked_records)
        return SYNTH_OK;
    json_t *outputs;
    if (core_pipeline_sync(p, &outputs, why) != SYNTH_OK)
        return SYNTH_EIO;
    json_t *files = json_array();
    unsigned long long *marks = core_calloc(ck->nfollows + 1, sizeof *marks);
    for (size_t i = 0; i < ck->nfollows; i++) {
        const core_follow *f = ck->follows[i];
        unsigned long long low = core_pipeline_watermark(p, (unsigned)i + 1);
        unsigned long long consumed = core_follow_consumed(f);
        marks[i] = low < consumed ? low : consumed;
        /* a crash during a replay: the run before's closes still stand */
        unsigned long long end = consumed;
        if (ck->ends && i + 1 < ck->ends_cap && ck->ends[i + 1] > end)
            end = ck->ends[i + 1];
        json_array_append_new(
            files, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "path",
                             f->path, "dev", (json_int_t)f->dev, "ino",
                             (json_int_t)f->ino, "offset",
                             (json_int_t)marks[i], "end", (json_int_t)end,
                             "read", (json_int_t)consumed));
    }
    /* sessions that end before the replay point will not come again */
    json_t *written = json_array();
    size_t kept = 0;
    for (size_t i = 0; i < ck->written.n; i++) {
        core_written *w = &ck->written.v[i];
        if (w->o.src >= 1 && w->o.src <= ck->nfollows &&
            w->o.last >= marks[w->o.src - 1]) {
            json_array_append_new(written, core_written_to_json(w));
            ck->written.v[kept++] = *w;
        } else {
            core_free(w->context);
        }
    }
    ck->written.n = kept;
    char *fp = core_checkpoint_fingerprint(ck->cfg);
    json_t *state = json_pack("{s:s, s:o, s:o, s:o, s:I, s:o*}", "fingerprint",
                              fp, "files", files, "outputs", outputs,
                              "written", written, "clock",
                              (json_int_t)core_pipeline_clock(p), "plugins",
                              core_pipeline_save(p));
    int rc = core_checkpoint_write(ck->cfg->output_dir, LIVE_CHECKPOINT,
                                   state, JSON_COMPACT, why);
    ck->marked_lines = lines;
    ck->marked_records = records;
    json_decref(state);
    core_free(fp);
    core_free(marks);
    return rc;
}

void core_live_checkpoint_reset(core_live_checkpoint *ck,
                                const core_config *cfg)
{
    ck->cfg = cfg;
    ck->p = NULL;
    written_clear(&ck->written);
    replay_forget(ck);
}

void core_live_checkpoint_free(core_live_checkpoint *ck)
{
    if (ck == NULL)
        return;
    written_clear(&ck->written);
    replay_forget(ck);
    core_free(ck->follows);
    core_free(ck);
}
