/* SPDX-License-Identifier: MIT */
/*
 * rbtree.c - intrusive red-black trees with the kernel's interface
 * (rbtree.h).  The textbook algorithm (Cormen et al.), without sentinel
 * nodes: a NULL child is black.  The colour is bit 0 of __rb_parent_color,
 * 0 for red (so rb_link_node() links a red node) and 1 for black.
 *
 * Invariants: (1) the root is black; (2) a red node has no red child;
 * (3) every path from a node down to a NULL child crosses the same number
 * of black nodes.  Callers serialise all operations on one tree.
 */
#include "rbtree.h"

#define RB_RED		0UL
#define RB_BLACK	1UL

static inline unsigned long rb_color(const struct rb_node *n)
{
	return n->__rb_parent_color & 1;
}
static inline bool rb_is_red(const struct rb_node *n)
{
	return n && rb_color(n) == RB_RED;
}
static inline bool rb_is_black(const struct rb_node *n)
{
	return !n || rb_color(n) == RB_BLACK;
}
static inline void rb_set_parent(struct rb_node *n, struct rb_node *p)
{
	n->__rb_parent_color = rb_color(n) | (unsigned long)p;
}
static inline void rb_set_color(struct rb_node *n, unsigned long color)
{
	n->__rb_parent_color = (n->__rb_parent_color & ~1UL) | color;
}

/* Make @parent (or the root, if @parent is NULL) point to @new instead of @old. */
static inline void rb_change_child(struct rb_node *old, struct rb_node *new,
				   struct rb_node *parent, struct rb_root *root)
{
	if (!parent)
		root->rb_node = new;
	else if (parent->rb_left == old)
		parent->rb_left = new;
	else
		parent->rb_right = new;
}

/*
 *     x              y
 *    / \            / \
 *   a   y   ==>    x   c
 *      / \        / \
 *     b   c      a   b
 */
static void rb_rotate_left(struct rb_node *x, struct rb_root *root)
{
	struct rb_node *y = x->rb_right;
	struct rb_node *parent = rb_parent(x);

	x->rb_right = y->rb_left;
	if (y->rb_left)
		rb_set_parent(y->rb_left, x);
	rb_set_parent(y, parent);
	rb_change_child(x, y, parent, root);
	y->rb_left = x;
	rb_set_parent(x, y);
}

/* The mirror image of rb_rotate_left(). */
static void rb_rotate_right(struct rb_node *x, struct rb_root *root)
{
	struct rb_node *y = x->rb_left;
	struct rb_node *parent = rb_parent(x);

	x->rb_left = y->rb_right;
	if (y->rb_right)
		rb_set_parent(y->rb_right, x);
	rb_set_parent(y, parent);
	rb_change_child(x, y, parent, root);
	y->rb_right = x;
	rb_set_parent(x, y);
}

/**
 * rb_insert_color() - rebalance after rb_link_node() linked @node (red).
 * @node: the node just linked
 * @root: its tree
 *
 * Context: the caller serialises access to @root.
 */
void rb_insert_color(struct rb_node *node, struct rb_root *root)
{
	struct rb_node *parent, *gparent, *uncle;

	while ((parent = rb_parent(node)) && rb_is_red(parent)) {
		/* A red parent is never the root, so the grandparent exists. */
		gparent = rb_parent(parent);
		if (parent == gparent->rb_left) {
			uncle = gparent->rb_right;
			if (rb_is_red(uncle)) {
				/* Push the blackness down from the grandparent. */
				rb_set_color(parent, RB_BLACK);
				rb_set_color(uncle, RB_BLACK);
				rb_set_color(gparent, RB_RED);
				node = gparent;
				continue;
			}
			if (node == parent->rb_right) {
				/* Inner grandchild: turn it into the outer case. */
				rb_rotate_left(parent, root);
				node = parent;
				parent = rb_parent(node);
			}
			rb_set_color(parent, RB_BLACK);
			rb_set_color(gparent, RB_RED);
			rb_rotate_right(gparent, root);
		} else {
			uncle = gparent->rb_left;
			if (rb_is_red(uncle)) {
				rb_set_color(parent, RB_BLACK);
				rb_set_color(uncle, RB_BLACK);
				rb_set_color(gparent, RB_RED);
				node = gparent;
				continue;
			}
			if (node == parent->rb_left) {
				rb_rotate_right(parent, root);
				node = parent;
				parent = rb_parent(node);
			}
			rb_set_color(parent, RB_BLACK);
			rb_set_color(gparent, RB_RED);
			rb_rotate_left(gparent, root);
		}
	}
	rb_set_color(root->rb_node, RB_BLACK);
}

/*
 * A black node was removed above @node (possibly NULL), whose parent is
 * @parent: every path through @node is one black short.  Restore (3).
 */
static void rb_erase_fixup(struct rb_node *node, struct rb_node *parent,
			   struct rb_root *root)
{
	struct rb_node *sib;

	while (node != root->rb_node && rb_is_black(node)) {
		if (node == parent->rb_left) {
			/* The short side has black height >= 1 on the other: sib exists. */
			sib = parent->rb_right;
			if (rb_is_red(sib)) {
				rb_set_color(sib, RB_BLACK);
				rb_set_color(parent, RB_RED);
				rb_rotate_left(parent, root);
				sib = parent->rb_right;
			}
			if (rb_is_black(sib->rb_left) && rb_is_black(sib->rb_right)) {
				/* Shorten the sibling too and move the deficit up. */
				rb_set_color(sib, RB_RED);
				node = parent;
				parent = rb_parent(node);
				continue;
			}
			if (rb_is_black(sib->rb_right)) {
				rb_set_color(sib->rb_left, RB_BLACK);
				rb_set_color(sib, RB_RED);
				rb_rotate_right(sib, root);
				sib = parent->rb_right;
			}
			rb_set_color(sib, rb_color(parent));
			rb_set_color(parent, RB_BLACK);
			rb_set_color(sib->rb_right, RB_BLACK);
			rb_rotate_left(parent, root);
			node = root->rb_node;
			break;
		} else {
			sib = parent->rb_left;
			if (rb_is_red(sib)) {
				rb_set_color(sib, RB_BLACK);
				rb_set_color(parent, RB_RED);
				rb_rotate_right(parent, root);
				sib = parent->rb_left;
			}
			if (rb_is_black(sib->rb_left) && rb_is_black(sib->rb_right)) {
				rb_set_color(sib, RB_RED);
				node = parent;
				parent = rb_parent(node);
				continue;
			}
			if (rb_is_black(sib->rb_left)) {
				rb_set_color(sib->rb_right, RB_BLACK);
				rb_set_color(sib, RB_RED);
				rb_rotate_left(sib, root);
				sib = parent->rb_left;
			}
			rb_set_color(sib, rb_color(parent));
			rb_set_color(parent, RB_BLACK);
			rb_set_color(sib->rb_left, RB_BLACK);
			rb_rotate_right(parent, root);
			node = root->rb_node;
			break;
		}
	}
	if (node)
		rb_set_color(node, RB_BLACK);
}

/**
 * rb_erase() - unlink @node from @root and rebalance.
 * @node: a node in @root
 * @root: the tree
 *
 * @node's own fields are left stale; use RB_CLEAR_NODE() to mark it unlinked.
 * Context: the caller serialises access to @root.
 */
void rb_erase(struct rb_node *node, struct rb_root *root)
{
	struct rb_node *child, *parent;
	unsigned long color;

	if (!node->rb_left || !node->rb_right) {
		/* At most one child: splice @node out. */
		child = node->rb_left ? node->rb_left : node->rb_right;
		parent = rb_parent(node);
		color = rb_color(node);
		if (child)
			rb_set_parent(child, parent);
		rb_change_child(node, child, parent, root);
	} else {
		/*
		 * Two children: the successor (leftmost of the right subtree,
		 * no left child) is spliced out of its place and takes over
		 * @node's place and colour; the lost colour is the successor's.
		 */
		struct rb_node *succ = node->rb_right;

		while (succ->rb_left)
			succ = succ->rb_left;
		child = succ->rb_right;
		color = rb_color(succ);
		if (succ == node->rb_right) {
			parent = succ;
		} else {
			parent = rb_parent(succ);
			parent->rb_left = child;
			if (child)
				rb_set_parent(child, parent);
			succ->rb_right = node->rb_right;
			rb_set_parent(node->rb_right, succ);
		}
		succ->rb_left = node->rb_left;
		rb_set_parent(node->rb_left, succ);
		succ->__rb_parent_color = node->__rb_parent_color;
		rb_change_child(node, succ, rb_parent(node), root);
	}
	if (color == RB_BLACK)
		rb_erase_fixup(child, parent, root);
}

/**
 * rb_replace_node() - put @new where @victim is, without rebalancing.
 * @victim: a node in @root
 * @new: a node not in any tree, with the same key as @victim
 * @root: the tree
 *
 * Context: the caller serialises access to @root.
 */
void rb_replace_node(struct rb_node *victim, struct rb_node *new, struct rb_root *root)
{
	struct rb_node *parent = rb_parent(victim);

	*new = *victim;
	if (victim->rb_left)
		rb_set_parent(victim->rb_left, new);
	if (victim->rb_right)
		rb_set_parent(victim->rb_right, new);
	rb_change_child(victim, new, parent, root);
}

/**
 * rb_first() - the leftmost (smallest) node.
 * @root: the tree
 *
 * Context: the caller serialises against writers of @root.
 * Return: the node, or NULL for an empty tree.
 */
struct rb_node *rb_first(const struct rb_root *root)
{
	struct rb_node *n = root->rb_node;

	if (!n)
		return NULL;
	while (n->rb_left)
		n = n->rb_left;
	return n;
}

/**
 * rb_last() - the rightmost (largest) node.
 * @root: the tree
 *
 * Context: the caller serialises against writers of @root.
 * Return: the node, or NULL for an empty tree.
 */
struct rb_node *rb_last(const struct rb_root *root)
{
	struct rb_node *n = root->rb_node;

	if (!n)
		return NULL;
	while (n->rb_right)
		n = n->rb_right;
	return n;
}

/**
 * rb_next() - the in-order successor of @node.
 * @node: a node in a tree
 *
 * Context: the caller serialises against writers of the tree.
 * Return: the successor, or NULL if @node is the last (or not in a tree).
 */
struct rb_node *rb_next(const struct rb_node *node)
{
	struct rb_node *parent;

	if (RB_EMPTY_NODE(node))
		return NULL;
	if (node->rb_right) {
		node = node->rb_right;
		while (node->rb_left)
			node = node->rb_left;
		return (struct rb_node *)node;
	}
	/* Climb while we are a right child; the first left-child edge wins. */
	while ((parent = rb_parent(node)) && node == parent->rb_right)
		node = parent;
	return parent;
}

/**
 * rb_prev() - the in-order predecessor of @node.
 * @node: a node in a tree
 *
 * Context: the caller serialises against writers of the tree.
 * Return: the predecessor, or NULL if @node is the first (or not in a tree).
 */
struct rb_node *rb_prev(const struct rb_node *node)
{
	struct rb_node *parent;

	if (RB_EMPTY_NODE(node))
		return NULL;
	if (node->rb_left) {
		node = node->rb_left;
		while (node->rb_right)
			node = node->rb_right;
		return (struct rb_node *)node;
	}
	while ((parent = rb_parent(node)) && node == parent->rb_left)
		node = parent;
	return parent;
}
