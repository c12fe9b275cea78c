/* Proxy address resolution; see proxy_addr.h. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "config/proxy_addr.h"
#include "config/value.h"

static int
usable_addr(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);

        return a != 0 && a != 0xffffffffu && (a >> 28) != 0xe;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a =
            &((const struct sockaddr_in6 *)sa)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a)) {
            uint32_t v4 = (uint32_t)a->s6_addr[12] << 24 |
                          (uint32_t)a->s6_addr[13] << 16 |
                          (uint32_t)a->s6_addr[14] << 8 | a->s6_addr[15];

            return v4 != 0 && v4 != 0xffffffffu && (v4 >> 28) != 0xe;
        }
        return !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_MULTICAST(a);
    }
    return 0;
}

int
t2s_proxy_addr_resolve(struct t2s_proxy *p, char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char port[8];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(port, sizeof(port), "%u", (unsigned)p->port);
    rc = getaddrinfo(p->host, port, &hints, &res);
    if (rc == EAI_NONAME) {
        hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
        rc = getaddrinfo(p->host, port, &hints, &res);
    }
    if (rc != 0 || res == NULL)
        return t2s_value_err(
            err, errlen, "cannot resolve proxy host '%s': %s", p->host,
            rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
    if (!usable_addr(res->ai_addr) || res->ai_addrlen > sizeof(p->addr)) {
        freeaddrinfo(res);
        return t2s_value_err(
            err, errlen, "proxy address '%s' is not a usable unicast address",
            p->host);
    }
    memcpy(&p->addr, res->ai_addr, res->ai_addrlen);
    p->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}
