/*
 * pseudonymize -- replaces user identities with stable pseudonyms (the
 * spec's anonymize_users):
 *
 *   privacy = {
 *     anonymize_users = true;
 *     key_file = "synthhost.key";          # relative to the config file
 *     user_patterns = ["(?<![\\w.])@[A-Za-z0-9_]{2,32}"];
 *   };
 *
 * What is a user identity: the user of object content ({user, text}), the
 * key of a context id ("discord.channel:1171310082775617589",
 * "cli:jane.doe"; for the context types in context_types), and every match
 * of user_patterns.  Each becomes <pseudonym_prefix><16 hex digits>, and
 * every other occurrence of the same name in the session's strings is
 * replaced too ("0xnullptr said ..."), so the same user gets the same
 * pseudonym in every record, file and run that uses the same key.
 *
 * The pseudonym is a keyed BLAKE2b hash (libsodium crypto_generichash) of
 * the name: without the key nobody can reverse it or test a guess.  The key
 * is 32 random bytes kept as hex in key_file; when the file does not exist
 * a key is made and the first session writes it with mode 0600 (a run
 * stopped by a config error writes nothing), and a key file that other
 * users can read is refused.
 *
 * Privacy plugins run redact first (its SYNTH_PLUGIN_FIRST: e-mails,
 * phones, keys are gone before names are looked for), then this one,
 * then timestamps (SYNTH_PLUGIN_LAST).
 */
#include "synth_options.h"
#include "synth_pii.h"
#include "synth_plugin.h"
#include "synth_session.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pcre2.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

static const synth_host_api *host;

typedef struct {
    unsigned char key[crypto_generichash_KEYBYTES];
    /* a key made in create() for a key_file that did not exist: written
     * by the first session, so a run that stops on a config error (or
     * pseudonymises nothing) leaves no file behind; NULL once written */
    const char *unwritten;   /* borrowed option, or NULL */
    pthread_mutex_t lock;    /* guards unwritten and the write */
    const char *prefix;      /* borrowed option */
    json_t *context_types;   /* borrowed option: globs */
    const char *key_file;    /* borrowed option */
    json_t *user_patterns;   /* borrowed option */
    pcre2_code **patterns;   /* owned */
    size_t npatterns;
    int enabled;
} anon_state;

static const synth_option anon_options[] = {
    {"anonymize_users", SYNTH_OPT_BOOL, 0, "false",
     "replace user identities with keyed pseudonyms"},
    {"key_file", SYNTH_OPT_PATH, 0, "synthhost.key",
     "the pseudonym key (hex); created with mode 0600 when missing"},
    {"user_patterns", SYNTH_OPT_LIST, 0, "[]",
     "PCRE2 patterns whose matches are user names, e.g. \"@[a-z0-9_]+\""},
    {"pseudonym_prefix", SYNTH_OPT_STRING, 0, "user_",
     "text before the pseudonym's hex digits"},
    {"context_types", SYNTH_OPT_LIST, 0, "[\"*\"]",
     "context types (globs) whose context id key is a user or channel id"},
    {NULL, 0, 0, NULL, NULL}};

static const synth_option_field anon_fields[] = {
    SYNTH_FIELD(anon_state, enabled, "anonymize_users"),
    SYNTH_FIELD(anon_state, key_file, "key_file"),
    SYNTH_FIELD(anon_state, user_patterns, "user_patterns"),
    SYNTH_FIELD(anon_state, prefix, "pseudonym_prefix"),
    SYNTH_FIELD(anon_state, context_types, "context_types"),
    SYNTH_FIELD_END};

static void anon_destroy(void *instance)
{
    anon_state *st = instance;
    if (st == NULL)
        return;
    for (size_t i = 0; i < st->npatterns; i++)
        pcre2_code_free(st->patterns[i]);
    free(st->patterns);
    sodium_memzero(st->key, sizeof st->key);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

/* Read the key of an existing key file into st.  Returns 0, or -1 with
 * why (a line of text). */
static int read_key(anon_state *st, const char *path, char *why, size_t wl)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || (sb.st_mode & 077) != 0) {
        snprintf(why, wl, "%s can be read by other users (mode %03o): chmod "
                          "600 it",
                 path, (unsigned)(sb.st_mode & 0777));
        return -1;
    }
    FILE *f = fopen(path, "r");
    char text[256] = "";
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' ||
                     text[n - 1] == ' '))
        text[--n] = '\0';
    if (n != 2 * sizeof st->key) {
        snprintf(why, wl, "%s does not hold a %zu-digit hex key", path,
                 2 * sizeof st->key);
        return -1;
    }
    size_t got = 0;
    const char *end = NULL;
    int bad = sodium_hex2bin(st->key, sizeof st->key, text, n, NULL, &got,
                             &end) != 0 ||
              got != sizeof st->key || end != text + n;
    sodium_memzero(text, sizeof text);
    if (bad) {
        snprintf(why, wl, "%s does not hold a hex key", path);
        return -1;
    }
    return 0;
}

/* The key for key_file at path: read when the file exists; else made now
 * and written by the first session (write_key), once create() found the
 * directory writable.  Returns SYNTH_OK or a config error at key_file. */
static int load_key(anon_state *st, synth_ctx *ctx, const char *path)
{
    char why[512];
    if (access(path, F_OK) == 0)
        return read_key(st, path, why, sizeof why) == 0
                   ? SYNTH_OK
                   : host->opt_error(ctx, "key_file", -1, "%s", why);
    const char *slash = strrchr(path, '/');
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1,
             slash ? (slash == path ? "/" : path) : ".");
    if (errno != ENOENT || access(dir, W_OK | X_OK) != 0)
        return host->opt_error(ctx, "key_file", -1, "cannot create %s: %s",
                               path, strerror(errno));
    randombytes_buf(st->key, sizeof st->key);
    st->unwritten = path;
    return SYNTH_OK;
}

/* The first session writes the key create() made (mode 0600, never over a
 * file: one that appeared since is read instead, before any pseudonym is
 * made with ours).  Returns SYNTH_OK, or an error said through ctx. */
static int write_key(anon_state *st, synth_ctx *ctx)
{
    int rc = SYNTH_OK;
    char why[512] = "";
    pthread_mutex_lock(&st->lock);
    const char *path = st->unwritten;
    if (path) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            char hex[2 * sizeof st->key + 2];
            sodium_bin2hex(hex, sizeof hex, st->key, sizeof st->key);
            strcat(hex, "\n");
            ssize_t n = write(fd, hex, strlen(hex));
            int bad = n != (ssize_t)strlen(hex) || fsync(fd) != 0;
            sodium_memzero(hex, sizeof hex);
            close(fd);
            if (bad) {
                unlink(path);
                snprintf(why, sizeof why, "cannot write %s: %s", path,
                         strerror(errno));
            } else {
                host->log(ctx, SYNTH_LOG_INFO,
                          "created a new pseudonym key in %s", path);
            }
        } else if (errno != EEXIST) {
            snprintf(why, sizeof why, "cannot create %s: %s", path,
                     strerror(errno));
        } else {
            read_key(st, path, why, sizeof why);
        }
        if (why[0])
            rc = host->error(ctx, SYNTH_EIO, "%s", why);
        else
            st->unwritten = NULL;
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

static int anon_create(synth_ctx *ctx, void **instance)
{
    anon_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    pthread_mutex_init(&st->lock, NULL);
    int rc = synth_options_fill(host, ctx, anon_options, anon_fields, st);
    if (rc != SYNTH_OK) {
        anon_destroy(st);
        return rc;
    }
    const char *key_file = st->key_file;
    json_t *patterns = st->user_patterns;
    if (!st->enabled) {
        *instance = st;
        return SYNTH_OK;
    }
    if (sodium_init() < 0) {
        anon_destroy(st);
        return host->error(ctx, SYNTH_EPLUGIN, "libsodium failed to start");
    }
    rc = load_key(st, ctx, key_file);
    st->patterns = calloc(json_array_size(patterns) + 1, sizeof *st->patterns);
    size_t i;
    json_t *p;
    json_array_foreach(patterns, i, p) {
        if (rc != SYNTH_OK)
            break;
        int err;
        PCRE2_SIZE off;
        pcre2_code *code = pcre2_compile((PCRE2_SPTR)json_string_value(p),
                                         PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                         &err, &off, NULL);
        if (code == NULL) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            rc = host->opt_error(ctx, "user_patterns", (int)i,
                                 "invalid pattern at offset %zu: %s",
                                 (size_t)off, (const char *)msg);
            break;
        }
        if (getenv("SYNTH_NO_JIT") == NULL) /* see privacy-redact */
            pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
        st->patterns[st->npatterns++] = code;
    }
    if (rc != SYNTH_OK) {
        anon_destroy(st);
        return rc;
    }
    *instance = st;
    return SYNTH_OK;
}

/* prefix + 16 hex digits of BLAKE2b-keyed("synthhost-user:" + name). */
static json_t *pseudonym(const anon_state *st, const char *name, size_t n)
{
    static const char domain[] = "synthhost-user:";
    unsigned char out[crypto_generichash_BYTES_MIN];
    crypto_generichash_state h;
    crypto_generichash_init(&h, st->key, sizeof st->key, sizeof out);
    crypto_generichash_update(&h, (const unsigned char *)domain,
                              sizeof domain - 1);
    crypto_generichash_update(&h, (const unsigned char *)name, n);
    crypto_generichash_final(&h, out, sizeof out);
    char hex[2 * 8 + 1];
    sodium_bin2hex(hex, sizeof hex, out, 8);
    size_t pl = strlen(st->prefix);
    char *s = malloc(pl + sizeof hex);
    if (s == NULL)
        return NULL;
    memcpy(s, st->prefix, pl);
    memcpy(s + pl, hex, sizeof hex);
    json_t *r = json_string(s);
    free(s);
    return r;
}

/* ---- finding and replacing names ---------------------------------------- */

/* names: object name -> pseudonym (JSON strings). */
static void remember(const anon_state *st, json_t *names, const char *name)
{
    if (name == NULL || strlen(name) < 2 || json_object_get(names, name))
        return;
    json_t *p = pseudonym(st, name, strlen(name));
    if (p)
        json_object_set_new(names, name, p);
}

static const char *const user_keys[] = {"user", "username", "author",
                                        "sender", "from", NULL};

/* Collect the users of object content (and of their nested objects). */
static void collect_content_users(const anon_state *st, json_t *names,
                                  json_t *content)
{
    if (!json_is_object(content))
        return;
    for (int i = 0; user_keys[i]; i++) {
        json_t *u = json_object_get(content, user_keys[i]);
        if (json_is_string(u))
            remember(st, names, json_string_value(u));
        else if (json_is_object(u)) {
            remember(st, names, synth_str(u, "name"));
            remember(st, names, synth_str(u, "username"));
            remember(st, names, synth_str(u, "id"));
        }
    }
}

static int word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

/* Is s[at..at+n) a whole word of s (a name inside "same" is not "sam")? */
static int whole_word(const char *s, const char *at, size_t n)
{
    return (at == s || !word_char(at[-1]) || !word_char(at[0])) &&
           (!word_char(at[n]) || !word_char(at[n - 1]));
}

/* The names of a session and their pseudonyms, longest first (borrowed
 * from the names object), walked for every string of the session. */
typedef struct {
    const char *from, *to;
    size_t fl, tl;
} name_pair;

typedef struct {
    name_pair *v;         /* owned */
    size_t n, shortest;
} name_set;

static int by_length_desc(const void *a, const void *b)
{
    size_t la = ((const name_pair *)a)->fl, lb = ((const name_pair *)b)->fl;
    return la < lb ? 1 : la > lb ? -1 : 0;
}

/* Replace every whole-word occurrence of the known names in s[0..len),
 * longest first so a name inside a longer one is not split.  Returns a new
 * string (malloc'd) or NULL when nothing changed. */
static char *replace_names(const char *s, size_t len, const name_set *set,
                           long long *mentions)
{
    if (len < set->shortest) /* most strings of a session hold no name */
        return NULL;
    char *cur = NULL;
    for (size_t i = 0; i < set->n; i++) {
        const char *src = cur ? cur : s;
        const char *from = set->v[i].from, *to = set->v[i].to;
        size_t fl = set->v[i].fl, tl = set->v[i].tl, count = 0;
        for (const char *p = strstr(src, from); p; p = strstr(p + 1, from))
            count++;
        if (count == 0)
            continue;
        char *out = malloc(strlen(src) + count * tl + 1), *o = out;
        if (out == NULL)
            return cur; /* keep what was replaced so far */
        const char *p = src, *q;
        size_t done = 0;
        while ((q = strstr(p, from)) != NULL) {
            size_t take = whole_word(src, q, fl) ? fl : 1;
            memcpy(o, p, (size_t)(q - p));
            o += q - p;
            if (take == fl) {
                memcpy(o, to, tl);
                o += tl;
                done++;
            } else {
                *o++ = *q;
            }
            p = q + take;
        }
        strcpy(o, p);
        if (done == 0) {
            free(out);
            continue;
        }
        *mentions += (long long)done;
        free(cur);
        cur = out;
    }
    return cur;
}

static void replace_in(json_t *v, const name_set *set, long long *mentions,
                       int skip_ids)
{
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_string(v)) {
        char *r = replace_names(json_string_value(v), json_string_length(v),
                                set, mentions);
        if (r)
            json_string_set_nocheck(v, r); /* valid pieces, valid text */
        free(r);
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) replace_in(x, set, mentions, skip_ids);
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, x) {
            if (!(skip_ids && strcmp(k, "id") == 0))
                replace_in(x, set, mentions, skip_ids);
        }
    }
}

/* Collect matches of user_patterns in every string of v. */
static void collect_pattern_users(const anon_state *st, json_t *names,
                                  json_t *v, pcre2_match_data *md)
{
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        for (size_t p = 0; p < st->npatterns; p++) {
            size_t at = 0;
            while (at < n && pcre2_match(st->patterns[p], (PCRE2_SPTR)s, n, at,
                                         PCRE2_NO_UTF_CHECK, md, NULL) >= 0) {
                PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
                if (ov[1] > ov[0]) {
                    char *name = strndup(s + ov[0], ov[1] - ov[0]);
                    remember(st, names, name);
                    free(name);
                    at = ov[1];
                } else {
                    at = ov[1] + 1;
                }
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x) collect_pattern_users(st, names, x, md);
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, x) collect_pattern_users(st, names, x, md);
    }
}

static int context_type_selected(const anon_state *st, const char *type)
{
    size_t i;
    json_t *g;
    json_array_foreach(st->context_types, i, g) {
        if (type && fnmatch(json_string_value(g), type, 0) == 0)
            return 1;
    }
    return 0;
}

static int anon_session(void *instance, synth_ctx *ctx, json_t *session)
{
    anon_state *st = instance;
    if (!st->enabled)
        return SYNTH_OK;
    if (write_key(st, ctx) != SYNTH_OK)
        return SYNTH_EIO; /* the session is dropped, never passed on */
    json_t *names = json_object();
    /* 1. who: the context id's key, content users, pattern matches */
    const char *sid = synth_str(session, "id");
    const char *type = synth_str(session, "type");
    const char *colon = sid ? strchr(sid, ':') : NULL;
    char *new_id = NULL;
    if (colon && colon[1] && context_type_selected(st, type)) {
        remember(st, names, colon + 1);
        /* a key too short to replace in text (one character: "cli:z") is
         * still pseudonymised in the id */
        json_t *p = json_incref(json_object_get(names, colon + 1));
        if (p == NULL)
            p = pseudonym(st, colon + 1, strlen(colon + 1));
        size_t tl = (size_t)(colon - sid) + 1;
        new_id = p ? malloc(tl + json_string_length(p) + 1) : NULL;
        if (new_id == NULL) {
            /* never pass the session on with its real id */
            json_decref(p);
            json_decref(names);
            return host->error(ctx, SYNTH_ENOMEM, "out of memory");
        }
        memcpy(new_id, sid, tl);
        strcpy(new_id + tl, json_string_value(p));
        json_decref(p);
    }
    size_t i;
    json_t *turn;
    json_array_foreach(json_object_get(session, "turns"), i, turn) {
        json_t *in = json_object_get(turn, "input");
        remember(st, names, synth_str(in, "user"));
        collect_content_users(st, names, json_object_get(in, "content"));
    }
    if (st->npatterns) {
        pcre2_match_data *md = pcre2_match_data_create(1, NULL);
        if (md == NULL) {
            json_decref(names);
            free(new_id);
            return host->error(ctx, SYNTH_ENOMEM, "out of memory");
        }
        collect_pattern_users(st, names, session, md);
        pcre2_match_data_free(md);
    }
    /* 2. replace every occurrence, longest names first */
    name_set set = {malloc((json_object_size(names) + 1) * sizeof *set.v), 0,
                    (size_t)-1};
    if (set.v == NULL) {
        json_decref(names);
        free(new_id);
        return host->error(ctx, SYNTH_ENOMEM, "out of memory");
    }
    const char *k;
    json_t *v;
    json_object_foreach(names, k, v) {
        name_pair *np = &set.v[set.n++];
        np->from = k;
        np->fl = strlen(k);
        np->to = json_string_value(v);
        np->tl = json_string_length(v);
        if (np->fl < set.shortest)
            set.shortest = np->fl;
    }
    if (set.n > 1)
        qsort(set.v, set.n, sizeof *set.v, by_length_desc);
    long long mentions = 0;
    replace_in(session, &set, &mentions, 1);
    free(set.v);
    if (new_id)
        json_object_set_new(session, "id", json_string(new_id));
    host->count(ctx, "pseudonymized.users", (long long)json_object_size(names));
    host->count(ctx, "pseudonymized.mentions", mentions);
    synth_pii_tally(session, "user", mentions + (new_id != NULL));
    free(new_id);
    json_decref(names);
    return SYNTH_OK;
}

static const synth_plugin anon_plugin = {
    SYNTH_PLUGIN_HEADER,
    .kind = SYNTH_KIND_PRIVACY,
    .name = "pseudonymize",
    .version = "1.0.0",
    .description = "replaces user names and ids with keyed pseudonyms "
                   "(BLAKE2b), the same in every run with the same key",
    .options = anon_options,
    .create = anon_create,
    .destroy = anon_destroy,
    .session = anon_session,
};

SYNTH_PLUGIN_ENTRY(anon_plugin, host)
