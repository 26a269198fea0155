/* SPDX-License-Identifier: MIT */
/*
 * page_index.c - the page cache index: a 64-way radix tree from a page
 * offset (pgoff_t) to an item (a folio pointer in practice).
 *
 * This file owns the tree shape only: nodes, growing and shrinking the
 * height, and the walks.  It knows nothing of folios or reference counts;
 * the page cache (filemap.c) calls it with mapping->i_pages_lock held,
 * except page_index_load(), which runs under rcu_read_lock() alone (the
 * lockless page-cache lookup, doc/MEMORY-ORDERING.md (r)).  A large folio
 * is entered once per page it covers, so a lookup of any covered offset
 * finds it.
 *
 * For the lockless reader, the updaters (i_pages_lock held) keep three
 * rules: a node is filled in before it is published, by a release store of
 * the pointer to it (root or parent slot); every store to a slot or to the
 * root is a single atomic store (a reader sees the old or the new value);
 * a node is unlinked before it is freed, and freed only after an RCU grace
 * period (call_rcu()).  A node's level never changes, so a reader takes
 * the height from the root it loaded, not from @height.
 *
 * Shape:
 *  - height 0: the tree is empty and @root is NULL;
 *  - height h >= 1: @root is a node; a node at level l (1 = bottom) uses
 *    bits [6(l-1), 6l) of the offset to choose one of its 64 slots; slots of
 *    a level-1 node hold items, slots of higher nodes hold child nodes;
 *  - the tree covers offsets [0, 64^h), so any offset needs at most 11
 *    levels on a 64-bit machine.
 *
 * Invariants (checked with VM_BUG_ON):
 *  1. node->count is the number of non-NULL slots in the node;
 *  2. no node is empty: a node whose count drops to 0 is freed and
 *     unlinked from its parent (the root included: the tree is then empty);
 *  3. the root is never a node whose only occupied slot is slot 0 while the
 *     height is above 1 (the tree shrinks eagerly after deletions).
 */
#include <stdlib.h>
#include <errno.h>

#include "pagemap.h"
#include "rcu.h"

#define PI_SHIFT	6
#define PI_SLOTS	(1UL << PI_SHIFT)
#define PI_MASK		(PI_SLOTS - 1)
#define PI_MAX_HEIGHT	DIV_ROUND_UP(64, PI_SHIFT)	/* 11 */

/*
 * struct pi_node - one interior or bottom node, malloc'd.
 * @slots: items (level 1) or child nodes; written with pi_publish().
 * @count: occupied slots (invariant 1); i_pages_lock.
 * @level: 1 = bottom; set before the node is published, never changed.
 * @rcu: the deferred free (pi_node_free()).
 */
struct pi_node {
	void *slots[PI_SLOTS];
	unsigned int count;
	unsigned int level;
	struct rcu_head rcu;
};

/* Store a slot or the root: the release orders the node's contents first. */
static void pi_publish(void **where, void *value)
{
	__atomic_store_n(where, value, __ATOMIC_RELEASE);
}

/* The lockless reader's load of a slot or the root (pairs with the above). */
static void *pi_load(void *const *where)
{
	return __atomic_load_n(where, __ATOMIC_ACQUIRE);
}

static void pi_node_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct pi_node, rcu));
}

/* Free an unlinked node once no lockless reader can hold it. */
static void pi_node_free(struct pi_node *node)
{
	call_rcu(&node->rcu, pi_node_free_rcu);
}

/* The largest offset a tree of @height covers. */
static pgoff_t pi_max_index(unsigned int height)
{
	if (height * PI_SHIFT >= 64)
		return ~0UL;
	return (1UL << (height * PI_SHIFT)) - 1;
}

/* The slot of @index in a node at @level (1 = bottom). */
static unsigned int pi_offset(pgoff_t index, unsigned int level)
{
	return (unsigned int)((index >> ((level - 1) * PI_SHIFT)) & PI_MASK);
}

static struct pi_node *pi_node_alloc(unsigned int level)
{
	struct pi_node *node = kzalloc(sizeof(struct pi_node));

	if (node)
		node->level = level;
	return node;
}

/**
 * page_index_init() - make @pi an empty index.
 * @pi: the index.
 *
 * Context: any; @pi is not yet visible to anyone else.
 */
void page_index_init(struct page_index *pi)
{
	pi->root = NULL;
	pi->height = 0;
}

/* Add levels on top until the tree covers @index. */
static int pi_extend(struct page_index *pi, pgoff_t index)
{
	if (!pi->root) {
		unsigned int h = 1;
		struct pi_node *node;

		while (index > pi_max_index(h))
			h++;
		node = pi_node_alloc(h);
		if (!node)
			return -ENOMEM;
		pi->height = h;
		pi_publish(&pi->root, node);
		return 0;
	}
	while (index > pi_max_index(pi->height)) {
		struct pi_node *node = pi_node_alloc(pi->height + 1);

		if (!node)
			return -ENOMEM;
		/* The old tree becomes the first child of the new root. */
		node->slots[0] = pi->root;
		node->count = 1;
		pi->height++;
		pi_publish(&pi->root, node);
		VM_BUG_ON(pi->height > PI_MAX_HEIGHT);
	}
	return 0;
}

/*
 * Find the bottom slot of @index, creating the nodes on the way when
 * @create.  Return: the slot, NULL when absent (or -ENOMEM for @create, as
 * *err).  @path/@offs, when given, receive the node and slot used at each
 * level (index 0 = bottom).
 */
static void **pi_slot(struct page_index *pi, pgoff_t index, bool create,
		      int *err, struct pi_node **path, unsigned int *offs)
{
	struct pi_node *node;
	unsigned int level;

	if (create) {
		*err = pi_extend(pi, index);
		if (*err)
			return NULL;
	} else if (!pi->root || index > pi_max_index(pi->height)) {
		return NULL;
	}

	node = pi->root;
	for (level = pi->height; ; level--) {
		unsigned int off = pi_offset(index, level);

		if (path) {
			path[level - 1] = node;
			offs[level - 1] = off;
		}
		if (level == 1)
			return &node->slots[off];
		if (!node->slots[off]) {
			struct pi_node *child;

			if (!create)
				return NULL;
			child = pi_node_alloc(level - 1);
			if (!child) {
				*err = -ENOMEM;
				return NULL;
			}
			pi_publish(&node->slots[off], child);
			node->count++;
		}
		node = node->slots[off];
	}
}

/*
 * Drop the empty nodes of @path from @low upwards, then shrink the root
 * (invariants 2 and 3).  @path[l - 1] is the node used at level l and
 * @offs[l - 1] the slot taken in it.
 */
static void pi_prune(struct page_index *pi, struct pi_node **path,
		     unsigned int *offs, unsigned int low)
{
	unsigned int level;

	for (level = low; level <= pi->height; level++) {
		struct pi_node *node = path[level - 1];

		if (node->count)
			break;
		if (level == pi->height) {
			pi_publish(&pi->root, NULL);
			pi->height = 0;
			pi_node_free(node);
			return;
		}
		pi_publish(&path[level]->slots[offs[level]], NULL);
		path[level]->count--;
		pi_node_free(node);
	}

	while (pi->height > 1) {
		struct pi_node *root = pi->root;

		if (root->count != 1 || !root->slots[0])
			break;
		/* A reader still in the old root walks one level more. */
		pi_publish(&pi->root, root->slots[0]);
		pi->height--;
		pi_node_free(root);
	}
}

/*
 * After a failed insertion at @index: drop the empty nodes it may have left
 * on the path to @index, and any extra empty levels on top.
 */
static void pi_cleanup(struct page_index *pi, pgoff_t index)
{
	struct pi_node *path[PI_MAX_HEIGHT];
	unsigned int offs[PI_MAX_HEIGHT];
	struct pi_node *node = pi->root;
	unsigned int level;

	if (!node)
		return;
	if (index > pi_max_index(pi->height)) {
		/* Extending failed half way: only the new top levels can go. */
		path[pi->height - 1] = node;
		offs[pi->height - 1] = 0;
		pi_prune(pi, path, offs, pi->height);
		return;
	}
	for (level = pi->height; ; level--) {
		unsigned int off = pi_offset(index, level);

		path[level - 1] = node;
		offs[level - 1] = off;
		if (level == 1 || !node->slots[off])
			break;
		node = node->slots[off];
	}
	pi_prune(pi, path, offs, level);
}

/**
 * page_index_lookup() - the item at @index.
 * @pi: the index.
 * @index: page offset.
 *
 * Context: the owner's lock (mapping->i_pages_lock) held.
 * Return: the item, or NULL if there is none.
 */
void *page_index_lookup(struct page_index *pi, pgoff_t index)
{
	void **slot = pi_slot(pi, index, false, NULL, NULL, NULL);

	return slot ? *slot : NULL;
}

/**
 * page_index_load() - the item at @index, without the owner's lock.
 * @pi: the index.
 * @index: page offset.
 *
 * The walk loads the root and each slot once (acquire), takes the height
 * from the root node it loaded and never writes.  Whatever it returns was
 * in the slot at some moment during the call; it may be gone already, so
 * the caller must take a reference that fails on a freed or frozen item
 * and then load the slot again (filemap_get_entry()).
 *
 * Context: rcu_read_lock() held (nodes are freed after a grace period).
 * Return: the item, or NULL.
 */
void *page_index_load(struct page_index *pi, pgoff_t index)
{
	struct pi_node *node;

	WARN_ON_ONCE(!rcu_read_lock_held());
	node = pi_load(&pi->root);
	if (!node || index > pi_max_index(node->level))
		return NULL;
	for (;;) {
		unsigned int level = node->level;
		void *entry = pi_load(&node->slots[pi_offset(index, level)]);

		if (level == 1 || !entry)
			return entry;
		node = entry;
	}
}

/**
 * page_index_delete() - remove the item at @index.
 * @pi: the index.
 * @index: page offset.
 *
 * Frees every node the removal leaves empty.
 *
 * Context: the owner's lock held.
 * Return: the item that was there, or NULL if there was none.
 */
void *page_index_delete(struct page_index *pi, pgoff_t index)
{
	struct pi_node *path[PI_MAX_HEIGHT];
	unsigned int offs[PI_MAX_HEIGHT];
	void **slot, *old;

	slot = pi_slot(pi, index, false, NULL, path, offs);
	if (!slot || !*slot)
		return NULL;
	old = *slot;
	pi_publish(slot, NULL);
	path[0]->count--;
	pi_prune(pi, path, offs, 1);
	return old;
}

/**
 * page_index_insert() - enter @item at the @nr offsets from @index on.
 * @pi: the index.
 * @index: first page offset.
 * @nr: number of offsets (the pages of a folio).
 * @item: non-NULL item.
 *
 * All or nothing: on failure the index is as it was.
 *
 * Context: the owner's lock held.
 * Return: 0; -EEXIST if one of the offsets is taken; -ENOMEM; -EINVAL if
 * the range wraps past the last offset.
 */
int page_index_insert(struct page_index *pi, pgoff_t index, unsigned long nr,
		      void *item)
{
	unsigned long i;
	int err = 0;

	VM_BUG_ON(!item || !nr);
	if (index + (nr - 1) < index)
		return -EINVAL;
	for (i = 0; i < nr; i++)
		if (page_index_lookup(pi, index + i))
			return -EEXIST;

	for (i = 0; i < nr; i++) {
		struct pi_node *path[PI_MAX_HEIGHT];
		unsigned int offs[PI_MAX_HEIGHT];
		void **slot = pi_slot(pi, index + i, true, &err, path, offs);

		if (!slot)
			goto undo;
		pi_publish(slot, item);
		path[0]->count++;
	}
	return 0;

undo:
	pi_cleanup(pi, index + i);
	while (i--)
		page_index_delete(pi, index + i);
	return err;
}

/**
 * page_index_replace() - change the item of an occupied offset.
 * @pi: the index.
 * @index: page offset.
 * @item: the new non-NULL item.
 *
 * Used when a large folio is split: each page's offset is pointed at the
 * small folio it became.
 *
 * Context: the owner's lock held.
 * Return: the previous item, or NULL (and nothing stored) if @index was
 * empty.
 */
void *page_index_replace(struct page_index *pi, pgoff_t index, void *item)
{
	void **slot = pi_slot(pi, index, false, NULL, NULL, NULL);
	void *old;

	VM_BUG_ON(!item);
	if (!slot || !*slot)
		return NULL;
	old = *slot;
	pi_publish(slot, item);
	return old;
}

/*
 * Depth-first search under @node (at @level, covering offsets from @base)
 * for the first item at an offset in [start, last].
 */
static void *pi_find(struct pi_node *node, unsigned int level, pgoff_t base,
		     pgoff_t start, pgoff_t last, pgoff_t *found)
{
	unsigned int shift = (level - 1) * PI_SHIFT;
	unsigned int off = start > base ? (unsigned int)((start - base) >> shift) : 0;

	for (; off < PI_SLOTS; off++) {
		pgoff_t child = base + ((pgoff_t)off << shift);
		void *entry = node->slots[off];

		/* Past the end of the offset space (only at the top level). */
		if (off && child <= base)
			break;
		if (child > last)
			break;
		if (!entry)
			continue;
		if (level == 1) {
			*found = child;
			return entry;
		}
		entry = pi_find(entry, level - 1, child, start > child ? start : child,
				last, found);
		if (entry)
			return entry;
	}
	return NULL;
}

/**
 * page_index_next() - the first item at an offset in [*@index, @last].
 * @pi: the index.
 * @index: in: where to start; out: the offset of the item found.
 * @last: last offset to consider (inclusive).
 *
 * Iterate with: for (i = start; (it = page_index_next(pi, &i, last)); i++)
 * (taking care not to wrap after ~0UL).
 *
 * Context: the owner's lock held.
 * Return: the item, or NULL when the range holds none (*@index unchanged).
 */
void *page_index_next(struct page_index *pi, pgoff_t *index, pgoff_t last)
{
	pgoff_t found;
	void *entry;

	if (!pi->root || *index > last || *index > pi_max_index(pi->height))
		return NULL;
	entry = pi_find(pi->root, pi->height, 0, *index, last, &found);
	if (entry)
		*index = found;
	return entry;
}

static void pi_free(struct pi_node *node, unsigned int level)
{
	if (level > 1) {
		for (unsigned int i = 0; i < PI_SLOTS; i++)
			if (node->slots[i])
				pi_free(node->slots[i], level - 1);
	}
	free(node);
}

/**
 * page_index_destroy() - free every node; the items are not touched.
 * @pi: the index; empty afterwards.
 *
 * Context: nobody else can reach @pi (inode eviction).
 */
void page_index_destroy(struct page_index *pi)
{
	if (pi->root)
		pi_free(pi->root, pi->height);
	page_index_init(pi);
}

/**
 * page_index_empty() - does @pi hold no item?
 * @pi: the index.
 *
 * Context: the owner's lock held, or a racy hint.
 * Return: true when empty.
 */
bool page_index_empty(const struct page_index *pi)
{
	return pi->root == NULL;
}
