/*
 * synth_groups.h -- responses to the same prompt, gathered across sessions
 * and scored: what grpo writes as groups and the preference formats
 * (dpo, openai-dpo, kto) turn into pairs.  Header-only on the documented
 * session model and host API (synth_plugin.h); adds nothing to the ABI.
 *
 * A prompt is a user input, normalised (synth_prompt_key: case, white
 * space, trailing ?!.), so the same question asked in different sessions
 * lands in one group.  A group is released -- handed to the owner's
 * synth_group_fn -- when it reaches group_size responses; at the end of
 * the input (synth_groups_flush), or when more than max_pending prompts
 * wait (the oldest goes first), it is released too if it has
 * min_group_size responses and dropped otherwise (<name>.groups_too_small).
 * On release the responses are ranked by score (equal scores keep arrival
 * order) and the same text given twice is kept once, the best scored
 * (<name>.responses_merged); a group left with fewer than min_group_size
 * distinct texts is not handed on (<name>.groups_too_few_distinct): the
 * same answer twice carries no signal.
 *
 * The pending groups are the whole state: synth_groups_save() and
 * synth_groups_restore() make a live checkpoint of them (synth_plugin
 * save/restore).  A plugin holding groups is SYNTH_PLUGIN_SERIAL.
 */
#ifndef SYNTH_GROUPS_H
#define SYNTH_GROUPS_H

#include <ctype.h>
#include <math.h>

#include "synth_session.h"

/* The pending groups of a plugin instance.  pending maps a prompt key to
 * {"prompt": the first text seen, "context": the first session's context
 * line, "responses": [response...], "sessions": [session id...]}, oldest
 * first; a response is an object of the caller's with at least "text"
 * and "score" (a real), to which the groups add "n" (arrival order). */
typedef struct synth_groups {
    long long group_size, min_group_size, max_pending;
    const char *name; /* borrowed, static: the counters' prefix */
    json_t *pending;  /* owned */
} synth_groups;

/* What the owner does with a released group (borrowed): ranked is a new
 * array (borrowed here, freed after the call) of its distinct responses,
 * best first; merged how many identical texts were folded away.  Returns
 * SYNTH_OK or an error said through the host. */
typedef int (*synth_group_fn)(void *owner, synth_ctx *ctx, json_t *group,
                              json_t *ranked, size_t merged);

/* Lower case, single spaces, no surrounding space or trailing ?!.:
 * a new string (free() it), or NULL when out of memory. */
static inline char *synth_prompt_key(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1), *o = out;
    if (out == NULL)
        return NULL;
    int space = 0;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            space = o != out;
            continue;
        }
        if (space)
            *o++ = ' ';
        space = 0;
        *o++ = (char)tolower((unsigned char)*s);
    }
    while (o > out && strchr("?!.", o[-1]))
        o--;
    *o = '\0';
    return out;
}

static inline double synth_round3(double x)
{
    return floor(x * 1000.0 + 0.5) / 1000.0;
}

/* The score of a response text to prompt (both borrowed) in a session of
 * context line `context`: the mean of the scorers configured for
 * scorer_format on the record {instruction, response, system, context}
 * (host->score_as), halved for a failed response; without such a scorer,
 * success 0.5 + length up to 0.5 (400 characters).  Rounded to 0.001. */
static inline double synth_groups_score(const synth_host_api *host,
                                        synth_ctx *ctx,
                                        const char *scorer_format,
                                        const char *system, json_t *prompt,
                                        const char *context, json_t *text,
                                        int success)
{
    json_t *candidate = json_object();
    synth_set_ref(candidate, "instruction", prompt);
    synth_set_ref(candidate, "response", text);
    synth_set(candidate, "system", json_string(system));
    synth_set(candidate, "context", json_string(context));
    double s;
    int rc = host->score_as(ctx, scorer_format, candidate, &s);
    json_decref(candidate);
    if (rc != SYNTH_OK) {
        size_t chars = 0;
        for (const char *p = json_string_value(text); p && *p; p++)
            chars += ((unsigned char)*p & 0xC0) != 0x80;
        s = (success ? 0.5 : 0.0) + 0.5 * (chars >= 400 ? 1.0 : chars / 400.0);
    } else if (!success) {
        s *= 0.5;
    }
    return synth_round3(s);
}

/* Sets up g (its counters named <name>.*).  Returns SYNTH_OK or
 * SYNTH_ENOMEM. */
static inline int synth_groups_init(synth_groups *g, const char *name,
                                    long long group_size,
                                    long long min_group_size,
                                    long long max_pending)
{
    g->name = name;
    g->group_size = group_size;
    g->min_group_size = min_group_size;
    g->max_pending = max_pending;
    g->pending = json_object();
    return g->pending ? SYNTH_OK : SYNTH_ENOMEM;
}

/* Frees what g owns; NULL-safe. */
static inline void synth_groups_free(synth_groups *g)
{
    if (g == NULL)
        return;
    json_decref(g->pending);
    g->pending = NULL;
}

static inline void synth_groups_count(const synth_host_api *host,
                                      synth_ctx *ctx, const synth_groups *g,
                                      const char *what, long long n)
{
    char name[96];
    snprintf(name, sizeof name, "%.40s.%s", g->name, what);
    host->count(ctx, name, n);
}

static inline int synth_groups_by_score(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    double sx = json_real_value(json_object_get(x, "score"));
    double sy = json_real_value(json_object_get(y, "score"));
    if (sx != sy)
        return sx < sy ? 1 : -1;
    json_int_t nx = json_integer_value(json_object_get(x, "n"));
    json_int_t ny = json_integer_value(json_object_get(y, "n"));
    return (nx > ny) - (nx < ny);
}

/* The distinct responses of group (borrowed), best first: a new array;
 * *merged is set to how many identical texts were folded into a better
 * (or earlier) one.  NULL when out of memory. */
static inline json_t *synth_groups_rank(const json_t *group, size_t *merged)
{
    json_t *list = json_object_get(group, "responses");
    size_t n = json_array_size(list), distinct = 0;
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(list, i);
    qsort(v, n, sizeof *v, synth_groups_by_score);
    json_t *ranked = json_array();
    *merged = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < distinct && !seen; j++)
            seen = json_equal(json_object_get(v[j], "text"),
                              json_object_get(v[i], "text"));
        if (seen) {
            (*merged)++;
        } else {
            v[distinct++] = v[i];
            json_array_append(ranked, v[i]);
        }
    }
    free(v);
    return ranked;
}

/* Release the group under key (see the header comment) and forget it.
 * Returns SYNTH_OK or what fn returned. */
static inline int synth_groups_release(synth_groups *g,
                                       const synth_host_api *host,
                                       synth_ctx *ctx, const char *key,
                                       synth_group_fn fn, void *owner)
{
    json_t *group = json_incref(json_object_get(g->pending, key));
    json_object_del(g->pending, key);
    int rc = SYNTH_OK;
    size_t merged = 0;
    json_t *ranked = NULL;
    if ((long long)json_array_size(json_object_get(group, "responses")) <
        g->min_group_size) {
        synth_groups_count(host, ctx, g, "groups_too_small", 1);
    } else if ((ranked = synth_groups_rank(group, &merged)) == NULL) {
        rc = host->error(ctx, SYNTH_ENOMEM, "out of memory");
    } else if ((long long)json_array_size(ranked) < g->min_group_size) {
        synth_groups_count(host, ctx, g, "groups_too_few_distinct", 1);
    } else {
        if (merged)
            synth_groups_count(host, ctx, g, "responses_merged",
                               (long long)merged);
        rc = fn(owner, ctx, group, ranked, merged);
    }
    json_decref(ranked);
    json_decref(group);
    return rc;
}

/* Release the oldest pending group.  Returns as synth_groups_release. */
static inline int synth_groups_release_oldest(synth_groups *g,
                                              const synth_host_api *host,
                                              synth_ctx *ctx,
                                              synth_group_fn fn, void *owner)
{
    char *oldest = strdup(json_object_iter_key(json_object_iter(g->pending)));
    int rc = oldest ? synth_groups_release(g, host, ctx, oldest, fn, owner)
                    : host->error(ctx, SYNTH_ENOMEM, "out of memory");
    free(oldest);
    return rc;
}

/* The group of prompt (borrowed: the group keeps the first text seen),
 * made when new -- releasing the oldest first when max_pending are held
 * -- with context as its context line.  *key is set to the prompt's key
 * (free() it).  Returns the group (borrowed from g), or NULL after an
 * error said through the host (*key then NULL). */
static inline json_t *synth_groups_find(synth_groups *g,
                                        const synth_host_api *host,
                                        synth_ctx *ctx, const char *prompt,
                                        const char *context, char **key,
                                        synth_group_fn fn, void *owner)
{
    if ((*key = synth_prompt_key(prompt)) == NULL) {
        host->error(ctx, SYNTH_ENOMEM, "out of memory");
        return NULL;
    }
    json_t *group = json_object_get(g->pending, *key);
    if (group != NULL)
        return group;
    if ((long long)json_object_size(g->pending) >= g->max_pending &&
        synth_groups_release_oldest(g, host, ctx, fn, owner) != SYNTH_OK) {
        free(*key);
        *key = NULL;
        return NULL;
    }
    group = json_pack("{s:s, s:s, s:[], s:[]}", "prompt", prompt, "context",
                      context, "responses", "sessions");
    json_object_set_new(g->pending, *key, group);
    return group;
}

/* Add response (stolen) of session_id (borrowed) to the group under key
 * (from synth_groups_find), releasing the group when it is full.
 * Returns SYNTH_OK or what the release returned. */
static inline int synth_groups_add(synth_groups *g, const synth_host_api *host,
                                   synth_ctx *ctx, const char *key,
                                   json_t *response, json_t *session_id,
                                   synth_group_fn fn, void *owner)
{
    json_t *group = json_object_get(g->pending, key);
    json_t *list = json_object_get(group, "responses");
    synth_set(response, "n", json_integer((json_int_t)json_array_size(list)));
    json_array_append_new(list, response);
    json_array_append(json_object_get(group, "sessions"), session_id);
    if ((long long)json_array_size(list) >= g->group_size)
        return synth_groups_release(g, host, ctx, key, fn, owner);
    return SYNTH_OK;
}

/* Release every pending group, oldest first (end of input).  Returns
 * SYNTH_OK or the first error. */
static inline int synth_groups_flush(synth_groups *g,
                                     const synth_host_api *host,
                                     synth_ctx *ctx, synth_group_fn fn,
                                     void *owner)
{
    while (json_object_size(g->pending) > 0) {
        int rc = synth_groups_release_oldest(g, host, ctx, fn, owner);
        if (rc != SYNTH_OK)
            return rc;
    }
    return SYNTH_OK;
}

/* The pending groups as JSON for a checkpoint (new reference), or NULL
 * when none wait. */
static inline json_t *synth_groups_save(const synth_groups *g)
{
    return json_object_size(g->pending) ? json_deep_copy(g->pending) : NULL;
}

/* Make g's pending groups what synth_groups_save returned (borrowed).
 * Returns SYNTH_OK, or SYNTH_EINVAL / SYNTH_ENOMEM after host->error. */
static inline int synth_groups_restore(synth_groups *g,
                                       const synth_host_api *host,
                                       synth_ctx *ctx, json_t *state)
{
    const char *key;
    json_t *group;
    if (!json_is_object(state))
        return host->error(ctx, SYNTH_EINVAL, "saved state is not an object");
    json_object_foreach(state, key, group)
        if (!json_is_array(json_object_get(group, "responses")))
            return host->error(ctx, SYNTH_EINVAL,
                               "saved group \"%s\" has no responses", key);
    json_t *copy = json_deep_copy(state); /* key order: oldest first */
    if (copy == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    json_decref(g->pending);
    g->pending = copy;
    return SYNTH_OK;
}

#endif
