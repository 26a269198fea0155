/* SPDX-License-Identifier: MIT */
/*
 * page_index.c - the page cache index: a 64-way radix tree from a page
 * offset (pgoff_t) to an item (a folio pointer in practice).
 *
 * This file owns the tree shape only: nodes, growing and shrinking the
 * height, and the walks.  It knows nothing of folios, reference counts or
 * locking; the page cache (filemap.c) calls it with mapping->i_pages_lock
 * held.  A large folio is entered once per page it covers, so a lookup of
 * any covered offset finds it.
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

#define PI_SHIFT	6
#define PI_SLOTS	(1UL << PI_SHIFT)
#define PI_MASK		(PI_SLOTS - 1)
#define PI_MAX_HEIGHT	DIV_ROUND_UP(64, PI_SHIFT)	/* 11 */

/*
 * struct pi_node - one interior or bottom node, malloc'd.
 * @count: occupied slots (invariant 1).
 */
struct pi_node {
	void *slots[PI_SLOTS];
	unsigned int count;
};

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

static struct pi_node *pi_node_alloc(void)
{
	return kzalloc(sizeof(struct pi_node));
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

		while (index > pi_max_index(h))
			h++;
		pi->root = pi_node_alloc();
		if (!pi->root)
			return -ENOMEM;
		pi->height = h;
		return 0;
	}
	while (index > pi_max_index(pi->height)) {
		struct pi_node *node = pi_node_alloc();

		if (!node)
			return -ENOMEM;
		/* The old tree becomes the first child of the new root. */
		node->slots[0] = pi->root;
		node->count = 1;
		pi->root = node;
		pi->height++;
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
			child = pi_node_alloc();
			if (!child) {
				*err = -ENOMEM;
				return NULL;
			}
			node->slots[off] = child;
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
		free(node);
		if (level == pi->height) {
			pi->root = NULL;
			pi->height = 0;
			return;
		}
		path[level]->slots[offs[level]] = NULL;
		path[level]->count--;
	}

	while (pi->height > 1) {
		struct pi_node *root = pi->root;

		if (root->count != 1 || !root->slots[0])
			break;
		pi->root = root->slots[0];
		pi->height--;
		free(root);
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
	*slot = NULL;
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
		*slot = item;
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
	*slot = item;
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
