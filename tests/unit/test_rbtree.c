/* SPDX-License-Identifier: MIT */
/*
 * test_rbtree.c - the red-black tree (src/kernel/rbtree.c) against a sorted
 * array, with the three invariants checked after every operation:
 * black root, no red node with a red child, equal black height.
 */
#include "helpers.h"
#include <stdio.h>
#include <stdlib.h>

#include "rbtree.h"

struct item {
	struct rb_node node;
	long key;
};

#define RB_BLACK_BIT 1UL
static bool is_black(const struct rb_node *n)
{
	return !n || (n->__rb_parent_color & RB_BLACK_BIT);
}

/* Returns the black height of @n's subtree; fails the test on a violation. */
static int check_subtree(const struct rb_node *n, const struct rb_node *parent,
			 long *lo, bool have_lo, int *count)
{
	int lh, rh;

	if (!n)
		return 1;
	assert_ptr_equal(rb_parent(n), parent);
	if (!is_black(n)) {
		assert_true(is_black(n->rb_left));	/* no red-red */
		assert_true(is_black(n->rb_right));
	}
	lh = check_subtree(n->rb_left, n, lo, have_lo, count);
	/* in-order keys strictly increase */
	{
		const struct item *it = rb_entry(n, struct item, node);

		if (*count > 0)
			assert_true(it->key > *lo);
		*lo = it->key;
		(*count)++;
	}
	rh = check_subtree(n->rb_right, n, lo, true, count);
	assert_int_equal(lh, rh);			/* equal black height */
	return lh + (is_black(n) ? 1 : 0);
}

static void check_tree(struct rb_root *root, const long *keys, int n)
{
	long lo = 0;
	int count = 0, i;
	struct rb_node *node;

	assert_true(is_black(root->rb_node));
	if (root->rb_node)
		assert_null(rb_parent(root->rb_node));
	check_subtree(root->rb_node, NULL, &lo, false, &count);
	assert_int_equal(count, n);
	/* forward and backward iteration match the sorted array */
	for (i = 0, node = rb_first(root); node; node = rb_next(node), i++) {
		assert_true(i < n);
		assert_int_equal(rb_entry(node, struct item, node)->key, keys[i]);
	}
	assert_int_equal(i, n);
	for (i = n - 1, node = rb_last(root); node; node = rb_prev(node), i--)
		assert_int_equal(rb_entry(node, struct item, node)->key, keys[i]);
	assert_int_equal(i, -1);
}

static bool tree_insert(struct rb_root *root, struct item *it)
{
	struct rb_node **link = &root->rb_node, *parent = NULL;

	while (*link) {
		struct item *cur = rb_entry(*link, struct item, node);

		parent = *link;
		if (it->key < cur->key)
			link = &(*link)->rb_left;
		else if (it->key > cur->key)
			link = &(*link)->rb_right;
		else
			return false;
	}
	rb_link_node(&it->node, parent, link);
	rb_insert_color(&it->node, root);
	return true;
}

static struct item *tree_find(struct rb_root *root, long key)
{
	struct rb_node *n = root->rb_node;

	while (n) {
		struct item *cur = rb_entry(n, struct item, node);

		if (key < cur->key)
			n = n->rb_left;
		else if (key > cur->key)
			n = n->rb_right;
		else
			return cur;
	}
	return NULL;
}

/* Sorted array model. */
static int arr_find(const long *a, int n, long key)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (a[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void test_empty(void **state)
{
	struct rb_root root = RB_ROOT;
	struct item it = { .key = 1 };

	(void)state;
	assert_true(RB_EMPTY_ROOT(&root));
	assert_null(rb_first(&root));
	assert_null(rb_last(&root));
	RB_CLEAR_NODE(&it.node);
	assert_true(RB_EMPTY_NODE(&it.node));
	assert_null(rb_next(&it.node));
	assert_null(rb_prev(&it.node));
	assert_true(tree_insert(&root, &it));
	assert_false(RB_EMPTY_NODE(&it.node));
	assert_ptr_equal(rb_first(&root), &it.node);
	assert_ptr_equal(rb_last(&root), &it.node);
	rb_erase(&it.node, &root);
	assert_true(RB_EMPTY_ROOT(&root));
}

#define NKEYS 2048

static void run_random(unsigned seed, int ops)
{
	static struct item items[NKEYS];
	static long keys[NKEYS];
	struct rb_root root = RB_ROOT;
	int n = 0;

	print_message("# rbtree seed %u\n", seed);
	srand(seed);
	for (int i = 0; i < NKEYS; i++) {
		items[i].key = i;
		RB_CLEAR_NODE(&items[i].node);
	}
	for (int op = 0; op < ops; op++) {
		int k = rand() % NKEYS;
		struct item *it = &items[k];
		int pos = arr_find(keys, n, k);
		bool present = pos < n && keys[pos] == k;

		/* Bias towards inserting in the first half, erasing in the second. */
		bool insert = (rand() % 100) < (op < ops / 2 ? 65 : 35);

		if (insert && !present) {
			assert_true(tree_insert(&root, it));
			memmove(&keys[pos + 1], &keys[pos], (size_t)(n - pos) * sizeof(long));
			keys[pos] = k;
			n++;
		} else if (!insert && present) {
			assert_ptr_equal(tree_find(&root, k), it);
			rb_erase(&it->node, &root);
			RB_CLEAR_NODE(&it->node);
			memmove(&keys[pos], &keys[pos + 1], (size_t)(n - pos - 1) * sizeof(long));
			n--;
			assert_null(tree_find(&root, k));
		} else if (insert && present) {
			assert_false(tree_insert(&root, &(struct item){ .key = k }));
		}
		if (op % 7 == 0 || n < 64)
			check_tree(&root, keys, n);
	}
	check_tree(&root, keys, n);
	/* Erase everything in random order. */
	while (n) {
		int pos = rand() % n;

		rb_erase(&items[keys[pos]].node, &root);
		memmove(&keys[pos], &keys[pos + 1], (size_t)(n - pos - 1) * sizeof(long));
		n--;
		check_tree(&root, keys, n);
	}
	assert_true(RB_EMPTY_ROOT(&root));
}

static void test_random(void **state)
{
	(void)state;
	const char *s = getenv("PINMM_SEED");
	unsigned seed = s ? (unsigned)strtoul(s, NULL, 0) : 12345;

	for (unsigned i = 0; i < 4; i++)
		run_random(seed + i, 20000);
}

static void test_sequential(void **state)
{
	static struct item items[1000];
	static long keys[1000];
	struct rb_root root = RB_ROOT;

	(void)state;
	/* Ascending inserts, then erase from the front: the rotation-heavy cases. */
	for (int i = 0; i < 1000; i++) {
		items[i].key = keys[i] = i;
		assert_true(tree_insert(&root, &items[i]));
	}
	check_tree(&root, keys, 1000);
	for (int i = 0; i < 1000; i++) {
		rb_erase(&items[i].node, &root);
		check_tree(&root, keys + i + 1, 999 - i);
	}
	/* Descending inserts, then erase from the back. */
	for (int i = 999; i >= 0; i--)
		assert_true(tree_insert(&root, &items[i]));
	check_tree(&root, keys, 1000);
	for (int i = 999; i >= 0; i--) {
		rb_erase(&items[i].node, &root);
		check_tree(&root, keys, i);
	}
	assert_true(RB_EMPTY_ROOT(&root));
}

static void test_replace(void **state)
{
	static struct item items[100], repl[100];
	static long keys[100];
	struct rb_root root = RB_ROOT;

	(void)state;
	for (int i = 0; i < 100; i++) {
		items[i].key = keys[i] = i * 3;
		assert_true(tree_insert(&root, &items[i]));
	}
	for (int i = 0; i < 100; i += 2) {
		repl[i].key = items[i].key;
		rb_replace_node(&items[i].node, &repl[i].node, &root);
		assert_ptr_equal(tree_find(&root, keys[i]), &repl[i]);
	}
	check_tree(&root, keys, 100);
	/* The tree still rebalances correctly after replacements. */
	for (int i = 0; i < 100; i++)
		rb_erase(i % 2 ? &items[i].node : &repl[i].node, &root);
	assert_true(RB_EMPTY_ROOT(&root));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_sequential),
		cmocka_unit_test(test_replace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
