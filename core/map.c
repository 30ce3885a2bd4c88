/* map.c -- string-keyed open-addressing hash map (see map.h).
 *
 * Linear probing with backward-shift deletion, so there are no tombstones
 * and lookups stay short however many sessions come and go. */
#include "map.h"
#include "synth_hash.h"
#include "alloc.h"

#include <string.h>

typedef struct {
    char *key;                /* owned; NULL = empty slot */
    unsigned long long hash;
    void *value;              /* borrowed from the caller */
} map_slot;

struct core_map {
    map_slot *slots;
    size_t cap;   /* power of two */
    size_t size;
};

unsigned long long core_hash(const char *s, size_t len)
{
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

unsigned long long core_hash_mem(const char *s, size_t len)
{
    return synth_hash64(s, len);
}

core_map *core_map_new(void)
{
    core_map *m = core_calloc(1, sizeof *m);
    m->cap = 16;
    m->slots = core_calloc(m->cap, sizeof *m->slots);
    return m;
}

void core_map_free(core_map *m, void (*free_value)(void *))
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key == NULL)
            continue;
        if (free_value)
            free_value(m->slots[i].value);
        core_free(m->slots[i].key);
    }
    core_free(m->slots);
    core_free(m);
}

/* Return the slot index holding key, or the empty slot where it would go. */
static size_t map_find(const core_map *m, const char *key,
                       unsigned long long hash)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)hash & mask;
    while (m->slots[i].key != NULL) {
        if (m->slots[i].hash == hash && strcmp(m->slots[i].key, key) == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static void map_resize(core_map *m, size_t cap)
{
    map_slot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = core_calloc(cap, sizeof *m->slots);
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].key == NULL)
            continue;
        size_t j = (size_t)old[i].hash & (cap - 1);
        while (m->slots[j].key != NULL)
            j = (j + 1) & (cap - 1);
        m->slots[j] = old[i];
    }
    core_free(old);
}

void *core_map_get(const core_map *m, const char *key)
{
    size_t i = map_find(m, key, core_hash_mem(key, strlen(key)));
    return m->slots[i].key ? m->slots[i].value : NULL;
}

void core_map_put(core_map *m, const char *key, void *value)
{
    if ((m->size + 1) * 4 > m->cap * 3)
        map_resize(m, m->cap * 2);
    unsigned long long h = core_hash_mem(key, strlen(key));
    size_t i = map_find(m, key, h);
    if (m->slots[i].key == NULL) {
        m->slots[i].key = core_strdup(key);
        m->slots[i].hash = h;
        m->size++;
    }
    m->slots[i].value = value;
}

void *core_map_remove(core_map *m, const char *key)
{
    size_t mask = m->cap - 1;
    size_t i = map_find(m, key, core_hash_mem(key, strlen(key)));
    if (m->slots[i].key == NULL)
        return NULL;
    void *value = m->slots[i].value;
    core_free(m->slots[i].key);
    m->slots[i].key = NULL;
    m->size--;
    /* Backward shift: move later entries of the probe run into the hole
     * when their home slot is not between the hole and themselves. */
    size_t hole = i;
    size_t j = (i + 1) & mask;
    while (m->slots[j].key != NULL) {
        size_t home = (size_t)m->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->slots[hole] = m->slots[j];
            m->slots[j].key = NULL;
            hole = j;
        }
        j = (j + 1) & mask;
    }
    return value;
}

size_t core_map_size(const core_map *m)
{
    return m->size;
}

int core_map_next(const core_map *m, size_t *pos, const char **key,
                  void **value)
{
    while (*pos < m->cap) {
        map_slot *s = &m->slots[(*pos)++];
        if (s->key != NULL) {
            *key = s->key;
            *value = s->value;
            return 1;
        }
    }
    return 0;
}
