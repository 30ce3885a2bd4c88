/* queue.c -- bounded pointer queue between threads (see queue.h). */
#include "queue.h"

#include <sys/resource.h>

void core_queue_init(core_queue *q, size_t cap)
{
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    pthread_cond_init(&q->idle, NULL);
    q->busy = 0;
    q->cap = cap > CORE_QUEUE_MAX || cap == 0 ? CORE_QUEUE_MAX : cap;
    q->head = q->n = 0;
    q->closed = 0;
}

void core_queue_push(core_queue *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    while (q->n == q->cap)
        pthread_cond_wait(&q->not_full, &q->lock);
    q->items[(q->head + q->n) % q->cap] = item;
    q->n++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

void *core_queue_pop(core_queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->n == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->lock);
    void *item = NULL;
    if (q->n > 0) {
        item = q->items[q->head];
        q->head = (q->head + 1) % q->cap;
        q->n--;
        q->busy++;
        pthread_cond_signal(&q->not_full);
    }
    pthread_mutex_unlock(&q->lock);
    return item;
}

void core_queue_done(core_queue *q)
{
    pthread_mutex_lock(&q->lock);
    if (q->busy > 0 && --q->busy == 0 && q->n == 0)
        pthread_cond_broadcast(&q->idle);
    pthread_mutex_unlock(&q->lock);
}

void core_queue_wait_idle(core_queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->n > 0 || q->busy > 0)
        pthread_cond_wait(&q->idle, &q->lock);
    pthread_mutex_unlock(&q->lock);
}

void core_queue_close(core_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = 1;
    pthread_cond_broadcast(&q->not_empty);
    pthread_mutex_unlock(&q->lock);
}

void core_queue_destroy(core_queue *q)
{
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->idle);
}

/* This thread's CPU seconds so far (user + system). */
double core_thread_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
