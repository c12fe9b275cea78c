/*
 * SOCKS5 GSSAPI method (RFC 1961) through the system GSS-API library (MIT
 * Kerberos): the context establishment (gss_init_sec_context with mutual
 * authentication, tokens in mtyp 1 messages) and the protection-level
 * subnegotiation (mtyp 2, the level byte wrapped). One struct per
 * handshake, owned by struct t2s_upstream (upstream.h), freed by it; like
 * the upstream driver it owns no watcher: t2s_gssapi_io() is called when
 * the socket is ready in the direction last asked for.
 *
 * Levels: this client asks for Dante's "clear" (0: authentication only,
 * the connection then continues without encapsulation, which is not an
 * RFC level); a server that answers integrity or confidentiality fails
 * the handshake with a clear message (per-message protection of the
 * relay is not implemented yet). Compiled only with T2S_HAVE_GSSAPI.
 */
#ifndef T2S_UPSTREAM_GSSAPI_H
#define T2S_UPSTREAM_GSSAPI_H

#include <stddef.h>

#include "config/proxy_url.h"

struct t2s_gssapi;

/* Room for any reason t2s_gssapi_start() or t2s_gssapi_error() gives. */
#define T2S_GSSAPI_ERR_MAX 320

/*
 * Starts a context toward p's service (p->gss_service: "svc" is the
 * host-based name svc@p->host, "svc@host" host-based as given, a name
 * with '/' a Kerberos principal) and queues the first token. NULL with a
 * one-line reason in err (no credentials, unknown server, no memory).
 */
struct t2s_gssapi *t2s_gssapi_start(const struct t2s_proxy *p, char *err,
                                    size_t errlen);

/* Advances the exchange on fd: T2S_UP_AGAIN (wait for *want), T2S_UP_DONE
 * (context and level agreed) or T2S_UP_FAIL (t2s_gssapi_error()). */
int t2s_gssapi_io(struct t2s_gssapi *g, int fd, int *want);

/* The level the server selected (T2S_GSSAPI_LEVEL_*), after DONE. */
int t2s_gssapi_level(const struct t2s_gssapi *g);

/* The one-line reason of a failure (never a secret). */
const char *t2s_gssapi_error(const struct t2s_gssapi *g);

/* Deletes the context and frees g; NULL is a no-op. */
void t2s_gssapi_free(struct t2s_gssapi *g);

#endif
