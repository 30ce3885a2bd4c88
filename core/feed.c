/* feed.c -- windows of lines into the sessionizer, superseded partials
 * unparsed (see feed.h). */
#include "feed.h"
#include "alloc.h"
#include "log.h"
#include "map.h"
#include "prescan.h"
#include "strbuf.h"
#include "synth_plugin.h"

#include <string.h>

/* Up to four windows are alive at once with threads = 2 (one read, two
 * queued, one applied), each with its parsed events: 4096 lines / 1 MiB
 * held 8 MB more at the peak than this, for no speed (make bench), and
 * skips 1% fewer partials (their superseding line in the next window). */
#define WINDOW_LINES 1024
#define WINDOW_BYTES (256u * 1024u)
#define BAD_LINES_SHOWN 100

typedef struct {
    size_t off, len;              /* in the window's bytes */
    unsigned long long line_no;
    unsigned src;                 /* where the line came from (0: none) */
    unsigned long long pos;       /* its offset there */
    core_scan scan;
    int scanned;                  /* prescan succeeded */
} held_line;

/* One step for the sessionizer: a parsed line, or a note that a
 * superseded partial line was there (strings in the batch's arena). */
typedef struct {
    core_event ev;                /* owned parse; ev.context_id NULL for a
                                     note */
    size_t ctx, type, id;         /* arena offsets (type: SIZE_MAX = none) */
    core_ref ref;
    long long ts;
    unsigned src;                 /* the line's source and offset */
    unsigned long long pos;
} batch_item;

struct core_batch {
    batch_item *items;            /* owned */
    size_t n, cap;
    core_strbuf arena;            /* owned: NUL-separated strings */
};

struct core_feed {
    core_feed_deliver deliver;
    void *user;                   /* borrowed */
    core_batch *batch;            /* owned: the window being built */
    core_input_stats *st;         /* borrowed */
    int skip;
    const char *name;             /* borrowed: the current input */
    core_strbuf bytes;            /* the window's lines, back to back */
    held_line *lines;
    size_t n, cap;
    size_t *slots;                /* open addressing: line index + 1 */
    size_t nslots;
    core_strbuf why;
};

void core_batch_free(core_batch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++)
        core_event_clear(&b->items[i].ev);
    core_free(b->items);
    core_strbuf_free(&b->arena);
    core_free(b);
}

void core_batch_apply(core_batch *b, core_sessionizer *z)
{
    for (size_t i = 0; i < b->n; i++) {
        batch_item *it = &b->items[i];
        core_sessionizer_at(z, it->src, it->pos);
        if (it->ev.context_id) {
            core_sessionizer_add(z, &it->ev);
            /* free what the sessionizer did not keep while it is still in
             * the cache, not a window later */
            core_event_clear(&it->ev);
            continue;
        }
        const char *a = b->arena.data;
        core_sessionizer_touch(z, a + it->ctx,
                               it->type == (size_t)-1 ? NULL : a + it->type,
                               it->ref, a + it->id, it->ts);
    }
    core_batch_free(b);
}

static batch_item *batch_add(core_batch *b)
{
    /* a window's worth at once: growing by doubling copied the items
     * and faulted in fresh pages for every window */
    if (b->cap == 0)
        core_grow((void **)&b->items, &b->cap, WINDOW_LINES, sizeof *b->items);
    core_grow((void **)&b->items, &b->cap, b->n + 1, sizeof *b->items);
    batch_item *it = &b->items[b->n++];
    memset(it, 0, sizeof *it);
    return it;
}

static size_t arena_put(core_batch *b, const char *s, size_t n)
{
    size_t off = b->arena.len;
    core_strbuf_append(&b->arena, s, n);
    core_strbuf_append(&b->arena, "", 1); /* keep the NUL */
    return off;
}

core_feed *core_feed_new(int skip, core_feed_deliver deliver, void *user,
                         core_input_stats *stats)
{
    core_feed *f = core_calloc(1, sizeof *f);
    f->deliver = deliver;
    f->user = user;
    f->batch = core_calloc(1, sizeof *f->batch);
    f->st = stats;
    f->skip = skip;
    f->nslots = 2 * WINDOW_LINES * 2;
    f->slots = core_calloc(f->nslots, sizeof *f->slots);
    return f;
}

void core_feed_free(core_feed *f)
{
    if (f == NULL)
        return;
    core_strbuf_free(&f->bytes);
    core_strbuf_free(&f->why);
    core_batch_free(f->batch);
    core_free(f->lines);
    core_free(f->slots);
    core_free(f);
}

static void bad_line(core_feed *f, unsigned long long line_no,
                     const char *reason)
{
    if (f->st->bad++ < BAD_LINES_SHOWN)
        core_warn("%s:%llu: %s; line skipped", f->name, line_no, reason);
    else if (f->st->bad == BAD_LINES_SHOWN + 1)
        core_warn("more bad lines follow; they are counted, not shown");
}

void core_feed_overlong(core_feed *f, const char *name,
                        unsigned long long line_no, size_t limit)
{
    f->name = name;
    f->st->lines++;
    core_strbuf msg = {0};
    core_strbuf_printf(&msg, "line longer than max_line_bytes (%zu)", limit);
    bad_line(f, line_no, msg.data);
    core_strbuf_free(&msg);
}

/* Parse one line into the batch. */
static void parse_line(core_feed *f, const char *line, size_t len,
                       unsigned long long line_no, unsigned src,
                       unsigned long long pos)
{
    core_event ev;
    core_strbuf_reset(&f->why);
    if (core_event_parse(line, len, &ev, &f->why) != SYNTH_OK) {
        bad_line(f, line_no, core_strbuf_str(&f->why));
        return;
    }
    f->st->parsed++;
    f->st->repaired += (unsigned long long)ev.repaired;
    batch_item *it = batch_add(f->batch);
    it->ev = ev;
    it->src = src;
    it->pos = pos;
}

static int streamed(core_ref ref)
{
    return ref == CORE_REF_THOUGHT || ref == CORE_REF_ACTION_CALL ||
           ref == CORE_REF_OUTPUT;
}

static unsigned long long key_hash(const core_scan *s)
{
    return core_hash_mem(s->ctx, s->ctx_len) * 31 ^
           core_hash_mem(s->id, s->id_len);
}

static int same_key(const core_scan *a, const core_scan *b)
{
    return a->ctx_len == b->ctx_len && a->id_len == b->id_len &&
           memcmp(a->ctx, b->ctx, a->ctx_len) == 0 &&
           memcmp(a->id, b->id, a->id_len) == 0;
}

/* The slot of the element of line i (its last line so far, or empty). */
static size_t *slot_of(core_feed *f, size_t i)
{
    const core_scan *s = &f->lines[i].scan;
    size_t mask = f->nslots - 1;
    size_t k = (size_t)key_hash(s) & mask;
    while (f->slots[k] != 0 && !same_key(&f->lines[f->slots[k] - 1].scan, s))
        k = (k + 1) & mask;
    return &f->slots[k];
}

void core_feed_flush(core_feed *f)
{
    /* the spans point into f->bytes: fix them up now that it is stable */
    for (size_t i = 0; i < f->n; i++) {
        held_line *h = &f->lines[i];
        const char *text = f->bytes.data + h->off;
        h->scanned = f->skip && core_prescan(text, h->len, &h->scan) ==
                                    SYNTH_OK;
        (void)text;
        if (h->scanned && streamed(h->scan.ref) && h->scan.id)
            *slot_of(f, i) = i + 1; /* the last line of each element */
    }
    core_batch *b = f->batch;
    for (size_t i = 0; i < f->n; i++) {
        held_line *h = &f->lines[i];
        const char *text = f->bytes.data + h->off;
        int superseded = h->scanned && streamed(h->scan.ref) &&
                         h->scan.id && !h->scan.done &&
                         *slot_of(f, i) != i + 1;
        if (superseded) {
            f->st->skipped++;
            batch_item *it = batch_add(b);
            it->ctx = arena_put(b, h->scan.ctx, h->scan.ctx_len);
            it->type = h->scan.type
                           ? arena_put(b, h->scan.type, h->scan.type_len)
                           : (size_t)-1;
            it->id = arena_put(b, h->scan.id, h->scan.id_len);
            it->ref = h->scan.ref;
            it->ts = h->scan.ts;
            it->src = h->src;
            it->pos = h->pos;
        } else {
            parse_line(f, text, h->len, h->line_no, h->src, h->pos);
        }
    }
    memset(f->slots, 0, f->nslots * sizeof *f->slots);
    f->n = 0;
    core_strbuf_reset(&f->bytes);
    if (b->n > 0) {
        f->batch = core_calloc(1, sizeof *f->batch);
        f->deliver(b, f->user);
    }
}

void core_feed_line(core_feed *f, const char *name, unsigned long long line_no,
                    unsigned src, unsigned long long off, const char *line,
                    size_t len)
{
    f->name = name;
    f->st->lines++;
    size_t k = 0;
    while (k < len && (line[k] == ' ' || line[k] == '\t'))
        k++;
    if (k == len) {
        f->st->blank++;
        return;
    }
    core_grow((void **)&f->lines, &f->cap, f->n + 1, sizeof *f->lines);
    held_line *h = &f->lines[f->n++];
    memset(h, 0, sizeof *h);
    h->off = f->bytes.len;
    h->len = len;
    h->line_no = line_no;
    h->src = src;
    h->pos = off;
    core_strbuf_append(&f->bytes, line, len);
    if (f->n >= WINDOW_LINES || f->bytes.len >= WINDOW_BYTES)
        core_feed_flush(f);
}
