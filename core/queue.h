/*
 * queue.h -- a bounded queue of pointers between two threads.
 *
 * The pipeline's stages hand work over through these: the producer blocks
 * while the queue is full (so memory stays bounded), the consumer while it
 * is empty; close() ends the stream.  One lock per item, and items are
 * whole windows of lines or whole sessions, never single events.
 */
#ifndef CORE_QUEUE_H
#define CORE_QUEUE_H

#include <pthread.h>
#include <stddef.h>

#define CORE_QUEUE_MAX 64

typedef struct core_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full, idle;
    void *items[CORE_QUEUE_MAX];  /* owned by the queue while in it */
    size_t cap, head, n;
    size_t busy;                  /* popped, not yet core_queue_done */
    int closed;
} core_queue;

/* Set up an empty queue holding at most cap (<= CORE_QUEUE_MAX) items. */
void core_queue_init(core_queue *q, size_t cap);
/* Add item, waiting while the queue is full. */
void core_queue_push(core_queue *q, void *item);
/* Return the next item, waiting while the queue is empty; NULL once it is
 * closed and empty. */
void *core_queue_pop(core_queue *q);
/* The consumer finished the item it popped last (for
 * core_queue_wait_idle). */
void core_queue_done(core_queue *q);
/* Wait until every item pushed so far was popped and done. */
void core_queue_wait_idle(core_queue *q);
/* No more items will come: wake the consumer. */
void core_queue_close(core_queue *q);
/* Release the lock and conditions (the queue must be empty). */
void core_queue_destroy(core_queue *q);

/* The calling thread's CPU seconds so far (user + system), 0 when the
 * system cannot say: how the pipeline's stages share the work. */
double core_thread_cpu(void);

#endif
