/*
 * The stats socket (--stats-socket PATH): a Unix stream socket served by
 * the instance's own loop. Each connection sends one request line (or
 * nothing) and gets the counters, as core/stats_format.h answers that
 * line, then the connection is closed.
 *
 * Bounded: at most T2S_STATS_SOCKET_CLIENTS clients at once (one more is
 * closed at once); a request line of at most T2S_STATS_SOCKET_LINE bytes,
 * read for at most T2S_STATS_SOCKET_READ_S (a client that sends nothing,
 * or shuts down its side, gets JSON); the answer written without blocking
 * within T2S_STATS_SOCKET_WRITE_S, or the client is dropped. Nothing a
 * client does makes the loop wait.
 *
 * Owned by the instance (api/instance.c): opened in t2s_create() once the
 * loop exists, closed in t2s_destroy() before the loop goes. Loop thread
 * only.
 */
#ifndef T2S_STATS_SOCKET_H
#define T2S_STATS_SOCKET_H

#include <ev.h>
#include <stddef.h>

#include "t2s.h"

#define T2S_STATS_SOCKET_CLIENTS 8
#define T2S_STATS_SOCKET_LINE 1024  /* bytes of request kept */
#define T2S_STATS_SOCKET_READ_S 0.2 /* for the request line */
#define T2S_STATS_SOCKET_WRITE_S 1. /* for the answer to drain */

struct t2s_stats_socket;

/* Fills out with the counters to answer with (t2s_get_stats()), px[0..
 * *npx) with the proxies' (at most T2S_PROXY_MAX; *npx = 0: none shown). */
typedef void (*t2s_stats_socket_read_fn)(void *user, struct t2s_stats *out,
                                         struct t2s_proxy_stats *px,
                                         unsigned *npx);

/*
 * Listens on path: a stale socket there (nobody accepting) is removed
 * first; a live one, or a file that is not a socket, is an error. NULL
 * with one line in err on failure.
 */
struct t2s_stats_socket *t2s_stats_socket_open(struct ev_loop *loop,
                                               const char *path,
                                               t2s_stats_socket_read_fn fn,
                                               void *user, char *err,
                                               size_t errlen);

/* Closes every client and the socket, and removes path if it is still
 * ours. NULL is a no-op. */
void t2s_stats_socket_close(struct t2s_stats_socket *s);

#endif
