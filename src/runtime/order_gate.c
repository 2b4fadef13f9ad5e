/* order_gate.c — per-source sequence ordering for stateful transforms
 * (see order_gate.h). */
#include "order_gate.h"

#include <stdlib.h>
#include <string.h>

void sl_order_gate_init(sl_order_gate *g)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->turn, NULL);
    g->next_seq = NULL;
    g->n_sources = 0;
}

void sl_order_gate_destroy(sl_order_gate *g)
{
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->turn);
    free(g->next_seq);
}

void sl_order_gate_enter(sl_order_gate *g, const sl_batch *b)
{
    pthread_mutex_lock(&g->lock);
    size_t source = (size_t)b->source;
    if (source >= g->n_sources) {
        g->next_seq = realloc(g->next_seq, (source + 1) * sizeof *g->next_seq);
        if (!g->next_seq)
            abort();
        memset(g->next_seq + g->n_sources, 0, (source + 1 - g->n_sources) * sizeof *g->next_seq);
        g->n_sources = source + 1;
    }
    while (g->next_seq[source] != b->seq)
        pthread_cond_wait(&g->turn, &g->lock);
}

void sl_order_gate_leave(sl_order_gate *g, const sl_batch *b)
{
    g->next_seq[b->source]++;
    pthread_cond_broadcast(&g->turn);
    pthread_mutex_unlock(&g->lock);
}
