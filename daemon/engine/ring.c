/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/ring.c: the SPSC ring.
 *
 * head counts records ever pushed, tail records ever popped; both only grow (wrapping at 2^32,
 * which unsigned arithmetic makes harmless) and index the slots modulo the power-of-two capacity.
 * head and tail sit on separate cache lines so producer and consumer do not bounce one line.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/el-macros.h"
#include "daemon/engine/ring.h"

struct eng_ring {
	_Alignas(64) _Atomic uint32_t head; /* written by the producer only */
	_Alignas(64) _Atomic uint32_t tail; /* written by the consumer only */
	_Alignas(64) uint32_t mask;
	size_t record_size;
	unsigned char *slots; /* owned: (mask + 1) * record_size bytes */
};

int eng_ring_new(size_t record_size, size_t capacity, struct eng_ring **ret)
{
	struct eng_ring *r;
	size_t cap = 1;

	if (record_size == 0 || capacity == 0 || capacity > (1u << 20) || !ret)
		return -EINVAL;
	while (cap < capacity)
		cap <<= 1;
	r = aligned_alloc(64, EL_ALIGN_UP(sizeof(*r), 64));
	if (!r)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	r->slots = calloc(cap, record_size);
	if (!r->slots) {
		free(r);
		return -ENOMEM;
	}
	r->mask = (uint32_t)(cap - 1);
	r->record_size = record_size;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	*ret = r;
	return 0;
}

struct eng_ring *eng_ring_free(struct eng_ring *r)
{
	if (!r)
		return NULL;
	free(r->slots);
	free(r);
	return NULL;
}

EL_RT int eng_ring_push(struct eng_ring *r, const void *record)
{
	/* relaxed: only this thread writes head */
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	/* acquire: pairs with the consumer's release of tail, so the slot is really free */
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (h - t > r->mask)
		return -ENOSPC;
	memcpy(r->slots + (size_t)(h & r->mask) * r->record_size, record, r->record_size);
	/* release: publish the slot's bytes before the consumer can see the new head */
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return 0;
}

EL_RT int eng_ring_pop(struct eng_ring *r, void *ret_record)
{
	/* relaxed: only this thread writes tail */
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	/* acquire: pairs with the producer's release of head, so the slot's bytes are visible */
	uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);

	if (h == t)
		return -EAGAIN;
	memcpy(ret_record, r->slots + (size_t)(t & r->mask) * r->record_size, r->record_size);
	/* release: the slot is copied out before the producer may overwrite it */
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return 0;
}

size_t eng_ring_get_count(const struct eng_ring *r)
{
	/* acquire on both: a consistent-enough snapshot for statistics */
	uint32_t h = atomic_load_explicit(&((struct eng_ring *)r)->head, memory_order_acquire);
	uint32_t t = atomic_load_explicit(&((struct eng_ring *)r)->tail, memory_order_acquire);

	return h - t;
}
