/* alloc.c -- allocation wrappers that abort on exhaustion (see alloc.h). */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void core_oom(size_t size)
{
    fprintf(stderr, "synthhost: fatal: out of memory allocating %zu bytes\n",
            size);
    abort();
}

void *core_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        core_oom(size);
    return p;
}

void *core_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        core_oom(count * size);
    return p;
}

void *core_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        core_oom(size);
    return p;
}

char *core_strndup(const char *s, size_t len)
{
    char *p = core_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *core_strdup(const char *s)
{
    return core_strndup(s, strlen(s));
}

void core_free(void *ptr)
{
    free(ptr);
}

void core_grow(void **array, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    *array = core_realloc(*array, n * elem_size);
    *cap = n;
}

void *core_grow_inline(void *array, const void *inline_buf, size_t *cap,
                       size_t need, size_t elem_size)
{
    if (need <= *cap)
        return array;
    if (array != inline_buf) {
        core_grow(&array, cap, need, elem_size);
        return array;
    }
    size_t old = *cap;
    void *heap = NULL;
    core_grow(&heap, cap, need, elem_size);
    memcpy(heap, array, old * elem_size);
    return heap;
}
