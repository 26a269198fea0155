/* SPDX-License-Identifier: MIT */
/*
 * rdma_peer.c - remote peers: threads that drive a workload of remote READs
 * and WRITEs (rdma_rw.c) against a protection domain, as the far side of
 * an RDMA connection would, with their counters; and their reaping at
 * machine shutdown.
 *
 * A peer holds a reference on its PD's state (rdma_pd.c), never on the PD
 * file, so it keeps running after the owner closed the PD or exited and
 * from then on is refused (-EKEYREVOKED, -ENOKEY).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trace.h"
#include "rdma_internal.h"
#include "fault_inject.h"
#include "fs.h"
#include "init.h"
#include "rcu.h"
#include "kthread.h"

/*
 * struct pinmm_rdma_peer - one peer thread.  @node links it on
 * rdma_peers.list (under rdma_peers.lock) from start until the caller's
 * stop or wait, or until the shutdown of @machine reaps it.
 */
struct pinmm_rdma_peer {
	struct rdma_pd *pd;
	struct pinmm *machine;
	struct list_head node;
	struct pinmm_rdma_peer_cfg cfg;
	pthread_t thread;
	atomic_bool stop;
	atomic_bool done;
	atomic_long_t ops, reads, writes, refused, sweeps;
	atomic_int last_error;
	struct timespec t0, t1;
	unsigned char *buf;
};

/* Every peer not yet stopped, of every machine. */
static struct {
	struct mutex lock;
	struct list_head list;
} rdma_peers = { __MUTEX_INITIALIZER(rdma_peers.lock), LIST_HEAD_INIT(rdma_peers.list) };

static void rdma_peer_link(struct pinmm_rdma_peer *peer)
{
	mutex_lock(&rdma_peers.lock);
	list_add_tail(&peer->node, &rdma_peers.list);
	mutex_unlock(&rdma_peers.lock);
}

static void rdma_peer_unlink(struct pinmm_rdma_peer *peer)
{
	mutex_lock(&rdma_peers.lock);
	list_del_init(&peer->node);
	mutex_unlock(&rdma_peers.lock);
}

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) * 1e-9;
}

static void *rdma_peer_thread(void *arg)
{
	struct pinmm_rdma_peer *peer = arg;
	const struct pinmm_rdma_peer_cfg *cfg = &peer->cfg;
	uint64_t rng = cfg->seed ? cfg->seed : 0x9e3779b97f4a7c15ULL;
	uint64_t off = 0;
	long sweep = 0;
	int filled = -1;

	pinmm_thread_enter();
	fail_task_set_name("rdma_peer");
	trace_thread_name(peer->pd->machine, "rdma peer");
	for (long i = 0; !atomic_load_explicit(&peer->stop, memory_order_relaxed); i++) {
		size_t n = (size_t)min((uint64_t)cfg->op_size, cfg->length - off);
		bool write;
		long ret;

		if (cfg->max_ops && i >= cfg->max_ops)
			break;
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		write = (int)(rng % 100) < cfg->write_pct;
		if (write) {
			int pat = cfg->pattern ? cfg->pattern : (int)(sweep % 255) + 1;

			if (pat != filled) {
				memset(peer->buf, pat, cfg->op_size);
				filled = pat;
			}
		}
		ret = rdma_remote_op(peer->pd, cfg->rkey, cfg->iova + off, peer->buf, n, write,
				     cfg->hold_us);
		if (ret < 0) {
			atomic_long_inc(&peer->refused);
			atomic_store(&peer->last_error, (int)-ret);
			if (cfg->stop_on_error)
				break;
		} else {
			atomic_long_inc(&peer->ops);
			atomic_long_inc(write ? &peer->writes : &peer->reads);
		}
		off += n;
		if (off >= cfg->length) {
			off = 0;
			sweep++;
			atomic_long_set(&peer->sweeps, sweep);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &peer->t1);
	atomic_store(&peer->done, true);
	lockdep_thread_exit(__func__);	/* a kernel thread ends holding nothing */
	return NULL;
}

/**
 * pinmm_rdma_peer_start() - a peer thread working on @pd of @p.
 * @p: the PD's process.
 * @pd: the PD descriptor.
 * @cfg: the workload.
 * @out: the peer.
 *
 * Context: any thread.
 * Return: 0, -EINVAL, -EBADF, -ESRCH, -ENOMEM, -EAGAIN.
 */
int pinmm_rdma_peer_start(struct pinmm_proc *p, int pd, const struct pinmm_rdma_peer_cfg *cfg,
			  struct pinmm_rdma_peer **out)
{
	struct pinmm_rdma_peer *peer;
	struct file *file;
	struct rdma_pd *d;

	if (!cfg || !out || !cfg->length || cfg->write_pct < 0 || cfg->write_pct > 100 ||
	    cfg->max_ops < 0)
		return -EINVAL;
	file = rdma_pd_fget(p, pd);
	if (IS_ERR(file))
		return (int)PTR_ERR(file);
	d = file->private_data;
	peer = kzalloc(sizeof(*peer));
	if (!peer) {
		fput(file);
		return -ENOMEM;
	}
	peer->cfg = *cfg;
	if (!peer->cfg.op_size)
		peer->cfg.op_size = PAGE_SIZE;
	peer->buf = kmalloc(peer->cfg.op_size);
	if (!peer->buf) {
		free(peer);
		fput(file);
		return -ENOMEM;
	}
	peer->pd = d;
	peer->machine = d->machine;
	INIT_LIST_HEAD(&peer->node);
	atomic_inc(&d->refs);
	fput(file);
	/* Here, not in the thread: progress() reads it without a lock. */
	clock_gettime(CLOCK_MONOTONIC, &peer->t0);
	if (kthread_start(&peer->thread, rdma_peer_thread, peer)) {
		rdma_pd_put(d);
		free(peer->buf);
		free(peer);
		return -EAGAIN;
	}
	rdma_peer_link(peer);
	*out = peer;
	return 0;
}

/**
 * pinmm_rdma_peer_progress() - the counters of a running (or finished) peer.
 * @peer: the peer.
 * @out: filled in.
 *
 * Context: any thread; lockless reads.
 * Return: 0, -EINVAL.
 */
int pinmm_rdma_peer_progress(struct pinmm_rdma_peer *peer, struct pinmm_rdma_peer_stats *out)
{
	struct timespec now;

	if (!peer || !out)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	*out = (struct pinmm_rdma_peer_stats){
		.ops = atomic_long_read(&peer->ops),
		.reads = atomic_long_read(&peer->reads),
		.writes = atomic_long_read(&peer->writes),
		.refused = atomic_long_read(&peer->refused),
		.last_error = atomic_load(&peer->last_error),
		.sweeps = atomic_long_read(&peer->sweeps),
	};
	if (atomic_load(&peer->done))
		now = peer->t1;
	out->seconds = ts_diff(&peer->t0, &now);
	return 0;
}

/* Join a peer told to stop (or finishing on its own), report, free it. */
static void rdma_peer_reap(struct pinmm_rdma_peer *peer, struct pinmm_rdma_peer_stats *out)
{
	kthread_join(peer->thread);
	if (out)
		pinmm_rdma_peer_progress(peer, out);
	rdma_pd_put(peer->pd);
	free(peer->buf);
	free(peer);
}

/**
 * pinmm_rdma_peer_stop() - stop, join, report and free @peer.
 * @peer: the peer.
 * @out: final counters, or NULL.
 *
 * Context: any thread.
 * Return: 0, -EINVAL.
 */
int pinmm_rdma_peer_stop(struct pinmm_rdma_peer *peer, struct pinmm_rdma_peer_stats *out)
{
	if (!peer)
		return -EINVAL;
	rdma_peer_unlink(peer);
	atomic_store(&peer->stop, true);
	rdma_peer_reap(peer, out);
	return 0;
}

/**
 * pinmm_rdma_peer_wait() - wait for @peer to finish its workload, then
 * stop it.
 * @peer: the peer (max_ops or stop_on_error set).
 * @out: final counters, or NULL.
 *
 * Context: any thread.
 * Return: 0, -EINVAL.
 */
int pinmm_rdma_peer_wait(struct pinmm_rdma_peer *peer, struct pinmm_rdma_peer_stats *out)
{
	if (!peer || (!peer->cfg.max_ops && !peer->cfg.stop_on_error))
		return -EINVAL;
	rdma_peer_unlink(peer);
	rdma_peer_reap(peer, out);
	return 0;
}

/*
 * rdma_shutdown() - machine shutdown (->shutdown of the "rdma" initcall):
 * stop and reap every peer of @m the caller left running, before the
 * processes exit (their PDs' last closes then deregister every region).
 * A peer handle is invalid afterwards.  Context: pinmm_shutdown(); no
 * other thread uses @m.
 */
static void rdma_shutdown(struct pinmm *m)
{
	struct pinmm_rdma_peer *peer, *tmp;
	LIST_HEAD(reap);

	mutex_lock(&rdma_peers.lock);
	list_for_each_entry_safe(peer, tmp, &rdma_peers.list, node)
		if (peer->machine == m)
			list_move_tail(&peer->node, &reap);
	mutex_unlock(&rdma_peers.lock);
	list_for_each_entry_safe(peer, tmp, &reap, node) {
		list_del_init(&peer->node);
		atomic_store(&peer->stop, true);
		rdma_peer_reap(peer, NULL);
	}
}

pinmm_initcall(rdma, INITCALL_DRIVERS(1), NULL, rdma_shutdown, NULL);
