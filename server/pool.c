/* server/pool.c: fixed-size block pools (one per size, per worker) and cbuf.
 *
 * Buffers are taken when a connection has bytes to hold and given back as
 * soon as they are empty, so an idle connection holds none and a busy
 * worker recycles the same warm blocks. */
#include "server/server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void pool_init(struct pool *p, size_t size, unsigned keep)
{
	p->free = NULL;
	p->size = size;
	p->nfree = 0;
	p->keep = keep;
}

void *pool_get(struct pool *p)
{
	void *b = p->free;
	if (b) {
		p->free = *(void **)b;
		p->nfree--;
		return b;
	}
	return malloc(p->size);
}

void pool_put(struct pool *p, void *b)
{
	if (!b)
		return;
	if (p->nfree >= p->keep) {
		free(b);
		return;
	}
	*(void **)b = p->free;
	p->free = b;
	p->nfree++;
}

void pool_destroy(struct pool *p)
{
	while (p->free) {
		void *n = *(void **)p->free;
		free(p->free);
		p->free = n;
	}
	p->nfree = 0;
}

int cbuf_ensure(struct cbuf *b, struct pool *pool)
{
	if (b->p)
		return 0;
	b->p = pool_get(pool);
	if (!b->p)
		return -ENOMEM;
	b->pool = pool;
	b->cap = (uint32_t)pool->size;
	b->off = b->len = 0;
	return 0;
}

void cbuf_compact(struct cbuf *b)
{
	if (b->off == 0)
		return;
	if (b->len > b->off)
		memmove(b->p, b->p + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

void cbuf_consume(struct cbuf *b, uint32_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

void cbuf_release(struct cbuf *b)
{
	if (b->p)
		pool_put(b->pool, b->p);
	b->p = NULL;
	b->off = b->len = b->cap = 0;
}

void cbuf_release_if_empty(struct cbuf *b)
{
	if (b->p && b->off == b->len)
		cbuf_release(b);
}
