/* SPDX-License-Identifier: MIT */
/*
 * daemon/disk/completions.c: the disk thread's io_uring completion loop (disk-private.h).
 *
 * Its own file so that the two who reap — the disk thread's loop (disk.c) and a recording's
 * file waiting for its chain (wfile.c) — reach it without calling one another: each
 * operation's user_data is a struct disk_op whose maker says how it completes.
 */
#include <liburing.h>
#include <pthread.h>

#include "daemon/disk/disk-private.h"

/* Then wakes a control thread waiting for an operation to complete (d->idle). */
void disk_reap(struct disk *d)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&d->uring, head, cqe)
	{
		/* without IORING_FEAT_EXT_ARG (kernels before 5.11) liburing's own wait timeout
		 * completes here too, under its own user_data: no op's */
		if (cqe->user_data != LIBURING_UDATA_TIMEOUT) {
			struct disk_op *op = io_uring_cqe_get_data(cqe);

			op->complete(op, cqe->res);
		}
		n++;
	}
	io_uring_cq_advance(&d->uring, n);
	if (n)
		pthread_cond_broadcast(&d->idle);
}
