/*
 * RFC 1961 per-message protection of one TCP session's relay (integrity
 * or confidentiality), a layer used only by sessions whose GSSAPI context
 * the handshake handed over (t2s_upstream_gssapi_take()); every other
 * session keeps the zero-copy paths of tcp_to_proxy.c and tcp_to_app.c.
 *
 * App -> proxy: up to the context's largest plaintext is copied from the
 * session's pbuf queue, wrapped into one mtyp 3 message and sent; the
 * bytes leave the queue (and lwIP's window opens by them) only once the
 * whole message is in the socket, so the queue's length still says
 * "something to send" to the session's checks and the window still holds
 * the app back. Proxy -> app: one message at a time, read only while
 * lwIP's send buffer has room for its largest plaintext (64 KiB) and the
 * memory budget allows; unwrapped and copied into lwIP. Buffers: one
 * message each way plus one plaintext, about 192 KiB per session, counted.
 */
#ifndef T2S_TCP_GSS_H
#define T2S_TCP_GSS_H

#include "tcp/tcp_session.h"

struct t2s_gssapi;
struct t2s_tcp_gss;

/* Gives s the context g (owned from here, also on failure). -1: no
 * memory. */
int t2s_tcp_gss_adopt(struct t2s_tcp_session *s, struct t2s_gssapi *g);

/* tcp_to_proxy.c's flush for such a session: 0, or -1 on a socket or
 * wrap failure. */
int t2s_tcp_gss_flush(struct t2s_tcp_session *s);

/* tcp_to_app.c's read for such a session (it may close the session). */
void t2s_tcp_gss_read(struct t2s_tcp_session *s);

/* Frees the layer and its context; NULL is a no-op. */
void t2s_tcp_gss_free(struct t2s_tcp_gss *gs);

#endif
