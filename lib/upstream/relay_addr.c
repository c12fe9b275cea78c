/*
 * The relay address of a UDP association, from the ASSOCIATE reply's BND:
 * what is accepted, what it stands for. Pure: no I/O.
 */
#include <netinet/in.h>
#include <string.h>

#include "upstream/relay_addr.h"

/* What an address is, for the relay address checks. */
enum addr_class {
    ADDR_GLOBAL,    /* anything else */
    ADDR_UNSPEC,    /* 0.0.0.0, :: */
    ADDR_LOOPBACK,  /* 127/8, ::1 */
    ADDR_LINKLOCAL, /* 169.254/16, fe80::/10 */
    ADDR_GROUP,     /* multicast, 240/4 and broadcast */
};

static enum addr_class
class4(const uint8_t *b)
{
    if (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0)
        return ADDR_UNSPEC;
    if (b[0] == 127)
        return ADDR_LOOPBACK;
    if (b[0] == 169 && b[1] == 254)
        return ADDR_LINKLOCAL;
    return b[0] >= 224 ? ADDR_GROUP : ADDR_GLOBAL;
}

static enum addr_class
class6(const uint8_t *b)
{
    static const uint8_t zero[16], mapped[12] = {[10] = 0xff, [11] = 0xff};

    if (memcmp(b, mapped, 12) == 0)
        return class4(b + 12);
    if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
        return b[15] == 0 ? ADDR_UNSPEC : ADDR_LOOPBACK;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return ADDR_LINKLOCAL;
    return b[0] == 0xff ? ADDR_GROUP : ADDR_GLOBAL;
}

static enum addr_class
class_of(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return class4(
            (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr);
    return class6(
        (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static void
set_port(struct sockaddr_storage *ss, uint16_t port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

int
t2s_relay_addr_pick(const struct t2s_socks5_addr *bnd,
                    const struct sockaddr_storage *proxy, socklen_t proxy_len,
                    struct sockaddr_storage *ss, socklen_t *len)
{
    enum addr_class c, pc = class_of(proxy);

    memset(ss, 0, sizeof(*ss));
    if (bnd->port == 0)
        return -1;
    if (bnd->atyp == T2S_SOCKS5_ATYP_IPV4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, bnd->u.v4, 4);
        *len = sizeof(*s4);
        c = class4(bnd->u.v4);
    } else if (bnd->atyp == T2S_SOCKS5_ATYP_IPV6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, bnd->u.v6, 16);
        *len = sizeof(*s6);
        c = class6(bnd->u.v6);
        /* a link-local relay is on the proxy's own link */
        if (c == ADDR_LINKLOCAL && proxy->ss_family == AF_INET6)
            s6->sin6_scope_id =
                ((const struct sockaddr_in6 *)proxy)->sin6_scope_id;
    } else {
        return -1; /* a name: not resolved here */
    }
    if (c == ADDR_UNSPEC) {
        /* RFC 1928 practice (danted): the relay is on the proxy's address */
        *ss = *proxy;
        *len = proxy_len;
    } else if (c == ADDR_GROUP ||
               ((c == ADDR_LOOPBACK || c == ADDR_LINKLOCAL) && c != pc)) {
        /* not the proxy's: datagrams there would leave (or stay) where
         * the app's traffic must not go */
        return -1;
    }
    set_port(ss, bnd->port);
    return 0;
}
