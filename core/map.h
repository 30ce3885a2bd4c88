/*
 * map.h -- a string-keyed hash map (open addressing, linear probing).
 *
 * Keys are copied into the map (owned by it); values are opaque pointers
 * the map never frees except through the destructor handed to
 * core_map_free().  Not thread-safe: one owner at a time.
 */
#ifndef CORE_MAP_H
#define CORE_MAP_H

#include <stddef.h>

typedef struct core_map core_map;

/* Return a new empty map (never NULL). */
core_map *core_map_new(void);
/* Free the map and its keys; calls free_value on each value if not NULL.
 * NULL-safe. */
void core_map_free(core_map *m, void (*free_value)(void *));
/* Return the value stored under key, or NULL when absent. */
void *core_map_get(const core_map *m, const char *key);
/* Store value under key, replacing (not freeing) any previous value. */
void core_map_put(core_map *m, const char *key, void *value);
/* Remove key; return its value, or NULL when it was absent. */
void *core_map_remove(core_map *m, const char *key);
/* Return the number of keys. */
size_t core_map_size(const core_map *m);
/* Iterate: start with *pos = 0; returns 1 and sets *key and *value (both
 * borrowed) while entries remain, 0 at the end.  The map must not change
 * during an iteration. */
int core_map_next(const core_map *m, size_t *pos, const char **key,
                  void **value);

/* Return the 64-bit FNV-1a hash of len bytes: stable across versions,
 * for what is kept (checkpoint fingerprints, sketches). */
unsigned long long core_hash(const char *s, size_t len);
/* Return a 64-bit hash of len bytes, eight at a time: for tables that
 * live in memory only (it may change between versions).  The map and the
 * reader's window hash every event's ids with it. */
unsigned long long core_hash_mem(const char *s, size_t len);

#endif
