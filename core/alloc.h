/*
 * alloc.h -- the one allocation wrapper of core/.
 *
 * Every heap allocation in core/ goes through these functions.  Running out
 * of memory is not a recoverable condition for a batch tool: the wrappers
 * print one line and abort, so no caller checks for NULL (the Redis zmalloc
 * model).  core_free() and every core destructor accept NULL.
 */
#ifndef CORE_ALLOC_H
#define CORE_ALLOC_H

#include <stddef.h>

/* Return new memory (never NULL; aborts when memory is exhausted). */
void *core_malloc(size_t size);
void *core_calloc(size_t count, size_t size);
void *core_realloc(void *ptr, size_t size);
/* Return an owned copy of s (s must not be NULL). */
char *core_strdup(const char *s);
/* Return an owned, NUL-terminated copy of the first len bytes of s. */
char *core_strndup(const char *s, size_t len);
/* Free ptr; NULL is fine. */
void core_free(void *ptr);

/* Grow *array (of *cap elements of elem_size) so it holds at least need
 * elements; doubles the capacity.  Never fails (aborts on exhaustion). */
void core_grow(void **array, size_t *cap, size_t need, size_t elem_size);
/* The same for an array that starts in an inline buffer (on the stack or
 * in a struct): the first growth moves it to the heap.  Returns the array
 * (inline_buf or owned: free it when it is not inline_buf). */
void *core_grow_inline(void *array, const void *inline_buf, size_t *cap,
                       size_t need, size_t elem_size);

#endif
