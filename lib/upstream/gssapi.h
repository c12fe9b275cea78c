/*
 * SOCKS5 GSSAPI method (RFC 1961) through the system GSS-API library (MIT
 * Kerberos): the context establishment (gss_init_sec_context with mutual
 * authentication, tokens in mtyp 1 messages) and the protection-level
 * subnegotiation (mtyp 2, the level byte wrapped). One struct per
 * handshake, owned by struct t2s_upstream (upstream.h), freed by it; like
 * the upstream driver it owns no watcher: t2s_gssapi_io() is called when
 * the socket is ready in the direction last asked for.
 *
 * Levels: the client asks for the level of the proxy's configuration
 * (p->gss_level: confidentiality by default; Dante's "clear" is its own
 * level 0, authentication only, after which the connection continues
 * without encapsulation) and accepts what the server selects among clear,
 * integrity and confidentiality. Compiled only with T2S_HAVE_GSSAPI.
 */
#ifndef T2S_UPSTREAM_GSSAPI_H
#define T2S_UPSTREAM_GSSAPI_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * Integrity and confidentiality: the SOCKS request goes wrapped in an mtyp
 * 3 message and the reply comes back in one. Queues req (wrapped); the
 * following t2s_gssapi_io() calls return DONE once the reply's plaintext
 * (at most cap bytes) is in rep, *rep_len its length. -1 (error()) when
 * wrapping fails.
 */
int t2s_gssapi_request(struct t2s_gssapi *g, const uint8_t *req, size_t n,
                       uint8_t *rep, size_t cap, size_t *rep_len);

/* Per-message protection at the agreed level (1: integrity, 2: also
 * confidentiality). wrap: n <= t2s_gssapi_max_plain() bytes into a whole
 * mtyp 3 message in frame (room T2S_GSSAPI_FRAME_MAX), *frame_len its
 * size. unwrap: a message's token into out (room T2S_GSSAPI_FRAME_MAX).
 * 0, or -1 with error() set (a forged, replayed or reordered message, or
 * one without confidentiality where it was agreed). */
#define T2S_GSSAPI_FRAME_MAX (4 + 65535)
size_t t2s_gssapi_max_plain(const struct t2s_gssapi *g);
int t2s_gssapi_wrap(struct t2s_gssapi *g, const uint8_t *plain, size_t n,
                    uint8_t *frame, size_t *frame_len);
int t2s_gssapi_unwrap(struct t2s_gssapi *g, const uint8_t *tok, size_t n,
                      uint8_t *out, size_t *out_len);

/* The level the server selected (T2S_GSSAPI_LEVEL_*), after DONE. */
int t2s_gssapi_level(const struct t2s_gssapi *g);

/* The one-line reason of a failure (never a secret). */
const char *t2s_gssapi_error(const struct t2s_gssapi *g);

/* Deletes the context and frees g; NULL is a no-op. */
void t2s_gssapi_free(struct t2s_gssapi *g);

#endif
