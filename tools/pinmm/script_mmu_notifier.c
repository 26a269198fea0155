/* SPDX-License-Identifier: MIT */
/*
 * script_mmu_notifier.c - MMU interval notifiers in the scenario language:
 * `notify [P] ADDR LEN [log] -> N` inserts a notifier over a range that
 * records (and with `log` prints) every invalidation it is sent,
 * `unnotify N` removes it, and `show|expect notifier N` read what it
 * recorded: the count per event, the last event and its range, how many
 * were write-protections only (mmu_notifier_range_update_to_read_only()).
 * `mirror N ADDR NPAGES [write] -> X` is a device driver's mirror of the
 * range, built the way Linux drivers do with HMM: mmu_interval_read_begin(),
 * hmm_range_fault() under mmap_read_lock(), then mmu_interval_read_retry()
 * under the driver's lock, again from the start while an invalidation
 * collided; `expect notifier N stale` asks mmu_interval_check_retry()
 * whether an invalidation came since the last mirror.  `mmu_events EVENT
 * -> X` is the machine's count of invalidations of one kind.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pinmm/mmu_notifier.h>

#include "script_rdma.h"

#define NR_EVENTS (MMU_NOTIFY_EXCLUSIVE + 1)
#define NLOG 32			/* events a notifier remembers */

static const char *const event_names[NR_EVENTS] = {
	[MMU_NOTIFY_UNMAP] = "UNMAP", [MMU_NOTIFY_CLEAR] = "CLEAR",
	[MMU_NOTIFY_PROTECTION_VMA] = "PROTECTION_VMA",
	[MMU_NOTIFY_PROTECTION_PAGE] = "PROTECTION_PAGE",
	[MMU_NOTIFY_SOFT_DIRTY] = "SOFT_DIRTY", [MMU_NOTIFY_RELEASE] = "RELEASE",
	[MMU_NOTIFY_MIGRATE] = "MIGRATE", [MMU_NOTIFY_EXCLUSIVE] = "EXCLUSIVE",
};

struct nevent {
	enum mmu_notifier_event event;
	unsigned long start, end;
};

/* A script's interval notifier: records every invalidation it is sent. */
struct snotifier {
	struct mmu_interval_notifier sub;
	struct script *s;
	const char *name;
	bool log;			/* print each event as it arrives */
	bool inserted;
	pthread_mutex_t lock;		/* a leaf: taken inside ->invalidate */
	long events;
	long read_only;			/* of them, write-protections only */
	long per_event[NR_EVENTS];
	unsigned long mirror_seq;	/* read_begin() of the last good mirror */
	bool mirrored;
	struct nevent ring[NLOG];	/* the last NLOG events */
};

/* rdma_notifier_free() - remove @n from its mm if inserted, and free it. */
void rdma_notifier_free(struct snotifier *n)
{
	if (!n)
		return;
	if (n->inserted)
		mmu_interval_notifier_remove(&n->sub);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static void nevent_text(const struct nevent *e, char *buf, size_t len)
{
	if (e->end - e->start >= (1UL << 40))
		snprintf(buf, len, "%s [%#lx, %#lx) (the whole address space)",
			 event_names[e->event], e->start, e->end);
	else
		snprintf(buf, len, "%s [%#lx, %#lx) %lu page%s", event_names[e->event], e->start,
			 e->end, (e->end - e->start) / 4096, e->end - e->start == 4096 ? "" : "s");
}

/*
 * ->invalidate: record the event.  Runs inside the mm operation (mmap or
 * rmap locks held, possibly in a peer's thread); the lock is a leaf.
 */
static bool snotifier_invalidate(struct mmu_interval_notifier *sub,
				 const struct mmu_notifier_range *range, unsigned long cur_seq)
{
	struct snotifier *n = (struct snotifier *)sub;	/* first member */
	struct nevent e = { range->event, range->start, range->end };

	pthread_mutex_lock(&n->lock);
	mmu_interval_set_seq(sub, cur_seq);
	if (e.event < NR_EVENTS)
		n->per_event[e.event]++;
	n->read_only += mmu_notifier_range_update_to_read_only(range);
	n->ring[n->events % NLOG] = e;
	n->events++;
	pthread_mutex_unlock(&n->lock);
	if (n->log) {
		char text[96];

		nevent_text(&e, text, sizeof(text));
		script_out(n->s, "  notifier %s: %s\n", n->name, text);
	}
	return true;
}

static const struct mmu_interval_notifier_ops snotifier_ops = {
	.invalidate = snotifier_invalidate,
};

/* notify [P] ADDR LEN [log] -> N */
int rdma_cmd_notify(struct script *s, int argc, char **argv)
{
	struct pinmm_proc *p;
	struct snotifier *n;
	long long addr, len;
	struct obj *o;
	bool log = false;
	int i = 1, ret;

	if (arg_proc(s, argc, argv, &i, &p))
		return SCRIPT_SYNTAX;
	if (argc - i == 3 && !strcmp(argv[argc - 1], "log")) {
		log = true;
		argc--;
	}
	if (argc - i != 2 || arg_int(s, argv[i], &addr) || arg_int(s, argv[i + 1], &len))
		return script_syntax(s, "usage: %s", script_find_cmd("notify")->usage);
	if (!pinmm_proc_mm(p))
		return -ESRCH;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	pthread_mutex_init(&n->lock, NULL);
	n->s = s;
	n->log = log;
	ret = mmu_interval_notifier_insert(&n->sub, pinmm_proc_mm(p), (unsigned long)addr,
					   (unsigned long)len, &snotifier_ops);
	if (ret || !(o = rdma_obj_new(s, OBJ_NOTIFIER))) {
		n->inserted = !ret;
		rdma_notifier_free(n);
		return ret ? ret : -ENOMEM;
	}
	n->inserted = true;
	n->name = o->name;
	o->notif = n;
	o->val = rdma_next_id(s);
	return var_bind_int(s, o->val);
}

/* unnotify N: remove the notifier and forget it. */
int rdma_cmd_unnotify(struct script *s, int argc, char **argv)
{
	struct obj *o;

	if (argc != 2)
		return script_syntax(s, "usage: unnotify N");
	if (rdma_obj_arg(s, argv[1], OBJ_NOTIFIER, &o))
		return SCRIPT_SYNTAX;
	rdma_obj_free(s, o);
	return 0;
}

/* ---- a device mirror through HMM ------------------------------------------------------- */

/* At most this many hmm_range_fault() rounds before giving up with EBUSY. */
#define MIRROR_TRIES 1000

/* Count the VALID entries of @pfns (with @writable: also WRITE) behind a page. */
static long mirror_count(struct mm_struct *mm, const unsigned long *pfns, long npages,
			 bool writable)
{
	long valid = 0;

	for (long k = 0; k < npages; k++)
		if ((pfns[k] & HMM_PFN_VALID) && (!writable || (pfns[k] & HMM_PFN_WRITE)) &&
		    hmm_pfn_to_page(mm, pfns[k]))
			valid++;
	return valid;
}

/* mirror N ADDR NPAGES [write] -> X: X = pages mirrored (VALID, and WRITE if asked). */
int rdma_cmd_mirror(struct script *s, int argc, char **argv)
{
	struct hmm_range range = { 0 };
	long long addr, npages;
	struct snotifier *n;
	struct obj *o;
	bool write = argc == 5 && !strcmp(argv[4], "write");
	int ret = -EBUSY;

	if (argc != 4 && !write)
		return script_syntax(s, "usage: %s", script_find_cmd("mirror")->usage);
	if (rdma_obj_arg(s, argv[1], OBJ_NOTIFIER, &o) || arg_int(s, argv[2], &addr) ||
	    arg_int(s, argv[3], &npages))
		return SCRIPT_SYNTAX;
	if (npages < 1 || npages > 4096)
		return script_syntax(s, "mirror: NPAGES %lld outside 1..4096", npages);
	if (addr < 0 || (unsigned long long)addr > ~0UL - (unsigned long long)npages * 4096)
		return -EINVAL;
	n = o->notif;
	range.hmm_pfns = calloc((size_t)npages, sizeof(*range.hmm_pfns));
	if (!range.hmm_pfns)
		return -ENOMEM;
	range.notifier = &n->sub;
	range.start = (unsigned long)addr;
	range.end = range.start + (unsigned long)npages * 4096;
	range.default_flags = HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0);
	for (int tries = 0; tries < MIRROR_TRIES && ret == -EBUSY; tries++) {
		range.notifier_seq = mmu_interval_read_begin(&n->sub);
		mmap_read_lock(n->sub.mm);
		ret = hmm_range_fault(&range);
		mmap_read_unlock(n->sub.mm);
		if (ret)
			continue;
		pthread_mutex_lock(&n->lock);	/* the lock ->invalidate takes */
		if (mmu_interval_read_retry(&n->sub, range.notifier_seq)) {
			ret = -EBUSY;
		} else {
			n->mirror_seq = range.notifier_seq;
			n->mirrored = true;
		}
		pthread_mutex_unlock(&n->lock);
	}
	if (!ret)
		ret = var_bind_int(s, mirror_count(n->sub.mm, range.hmm_pfns, (long)npages, write));
	free(range.hmm_pfns);
	return ret;
}

/* mmu_events EVENT -> X: pinmm_mmu_notifier_events() of the machine. */
int rdma_cmd_mmu_events(struct script *s, int argc, char **argv)
{
	long v;

	if (argc != 2)
		return script_syntax(s, "usage: %s", script_find_cmd("mmu_events")->usage);
	if (script_need_machine(s))
		return SCRIPT_SYNTAX;
	for (int e = 0; e < NR_EVENTS; e++) {
		if (strcasecmp(argv[1], event_names[e]))
			continue;
		v = pinmm_mmu_notifier_events(s->m, (enum mmu_notifier_event)e);
		return v < 0 ? (int)v : var_bind_int(s, v);
	}
	return script_syntax(s, "mmu_events: no event '%s' (UNMAP, CLEAR, PROTECTION_VMA, ...)",
			     argv[1]);
}

/* ---- observables -------------------------------------------------------------------- */

/* rdma_notifier_fields() - the observables of @nt.  Return: their number. */
int rdma_notifier_fields(struct snotifier *nt, struct field *f)
{
	struct nevent last = { 0 };
	int n = 0;

	pthread_mutex_lock(&nt->lock);
	if (nt->events)
		last = nt->ring[(nt->events - 1) % NLOG];
	f[n++] = (struct field)FIELD("events", nt->events);
	f[n++] = (struct field){ "last", 0, nt->events ? event_names[last.event] : "NONE" };
	f[n++] = (struct field)FIELD("last_start", last.start);
	f[n++] = (struct field)FIELD("last_end", last.end);
	f[n++] = (struct field)FIELD("read_only", nt->read_only);
	f[n++] = (struct field)FLAG("stale", nt->mirrored &&
				     mmu_interval_check_retry(&nt->sub, nt->mirror_seq));
	/* per event, by name: unmap>=1, PROTECTION_VMA==0 (names match any case) */
	for (int e = 0; e < NR_EVENTS; e++)
		f[n++] = (struct field)FIELD(event_names[e], nt->per_event[e]);
	pthread_mutex_unlock(&nt->lock);
	return n;
}

/* show notifier N under run --json: the range, the fields, the events remembered. */
static void notifier_json(struct script *s, struct obj *o, const struct nevent *ring,
			  long events)
{
	struct json_object *d = show_json_named(s, o->name), *log = json_object_new_array();
	struct field f[MAX_FIELDS];
	int n = rdma_notifier_fields(o->notif, f);

	jset_int(d, "start", (long long)o->notif->sub.start);
	jset_int(d, "end", (long long)o->notif->sub.last + 1);
	fields_json(d, f, n);
	for (long k = events > NLOG ? events - NLOG : 0; k < events; k++) {
		const struct nevent *e = &ring[k % NLOG];
		struct json_object *r = json_object_new_object();

		jset_int(r, "n", k + 1);
		jset_str(r, "event", event_names[e->event]);
		jset_int(r, "start", (long long)e->start);
		jset_int(r, "end", (long long)e->end);
		json_object_array_add(log, r);
	}
	jset(d, "log", log);
	script_json_show(s, "notifier", d);
}

/* show notifier N: its range and the last NLOG events. */
int rdma_show_notifier(struct script *s, struct obj *o)
{
	struct snotifier *nt = o->notif;
	struct nevent ring[NLOG];
	long events, first;

	pthread_mutex_lock(&nt->lock);
	events = nt->events;
	memcpy(ring, nt->ring, sizeof(ring));
	pthread_mutex_unlock(&nt->lock);
	script_out(s, "notifier %s: [%#lx, %#lx], %ld event%s\n", o->name, nt->sub.start,
		   nt->sub.last + 1, events, events == 1 ? "" : "s");
	first = events > NLOG ? events - NLOG : 0;
	for (long k = first; k < events; k++) {
		char text[96];

		nevent_text(&ring[k % NLOG], text, sizeof(text));
		script_out(s, "  %ld: %s\n", k + 1, text);
	}
	if (script_json_on(s))
		notifier_json(s, o, ring, events);
	return 0;
}
