/* SPDX-License-Identifier: MIT */
/*
 * daemon/engine/ring.h: a single-producer single-consumer lock-free ring of fixed-size records.
 *
 * The one way data crosses between the control thread and the RT thread (commands one way,
 * events the other). Roles are fixed: exactly one thread pushes, exactly one pops (JACK
 * ringbuffer.h's contract). Neither side ever blocks or allocates; a full ring refuses the push.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct eng_ring;

/*
 * Thread: control. A ring of at least capacity records of record_size bytes (capacity is
 * rounded up to a power of two). 0 with *ret; -EINVAL (zero sizes, capacity > 2^20); -ENOMEM.
 */
int eng_ring_new(size_t record_size, size_t capacity, struct eng_ring **ret);

/* Thread: control, when neither side uses the ring any more. Accepts NULL; returns NULL. */
struct eng_ring *eng_ring_free(struct eng_ring *r);

/* Thread: producer (may be RT). Copies one record in. 0, or -ENOSPC when full; never blocks. */
int eng_ring_push(struct eng_ring *r, const void *record);

/* Thread: consumer (may be RT). Copies the oldest record out. 0, or -EAGAIN when empty. */
int eng_ring_pop(struct eng_ring *r, void *ret_record);

/* Thread: any. Records waiting (a snapshot; exact only for the consumer). */
size_t eng_ring_get_count(const struct eng_ring *r);
