/*
 * synth_hash.h -- a fast 64-bit hash of bytes, header-only.
 *
 * For tables that live in memory only: the host's maps and the reader's
 * window, the scorers' duplicate sets.  Eight bytes at a time with a
 * multiply-xorshift mix; the value may change between versions, so
 * nothing persisted uses it (the host's core_hash, FNV-1a, is for that).
 */
#ifndef SYNTH_HASH_H
#define SYNTH_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Return the hash of s[0..n) (never 0). */
static inline uint64_t synth_hash64(const char *s, size_t n)
{
    const uint64_t k = 0x9E3779B97F4A7C15ULL;
    uint64_t h = 0x51afd7ed558ccdULL ^ (n * k), w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = (h ^ w) * k;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, s + i, n - i);
    h = (h ^ w) * k;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    return h ? h : 1;
}

#endif
