/*
 * Intrusive doubly linked lists: the node lives inside the object, so
 * linking and unlinking never allocate. A list head is a node linked to
 * itself; t2s_list_del() leaves the node linked to itself too, so deleting
 * twice is harmless. Used by every kind of session (lib/session/).
 */
#ifndef T2S_LIST_H
#define T2S_LIST_H

#include <stddef.h>

struct t2s_list {
    struct t2s_list *next;
    struct t2s_list *prev;
};

/* The object of type containing node ptr as its member. */
#define T2S_CONTAINER_OF(ptr, type, member)                                    \
    ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void
t2s_list_init(struct t2s_list *h)
{
    h->next = h->prev = h;
}

static inline int
t2s_list_empty(const struct t2s_list *h)
{
    return h->next == h;
}

/* Links n first in h. */
static inline void
t2s_list_add(struct t2s_list *h, struct t2s_list *n)
{
    n->next = h->next;
    n->prev = h;
    h->next->prev = n;
    h->next = n;
}

/* Unlinks n (if linked) and leaves it linked to itself. */
static inline void
t2s_list_del(struct t2s_list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

/* The first node of h, or NULL when h is empty. */
static inline struct t2s_list *
t2s_list_first(const struct t2s_list *h)
{
    return t2s_list_empty(h) ? NULL : h->next;
}

#endif
