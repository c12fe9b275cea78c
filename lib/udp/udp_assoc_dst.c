/*
 * The destinations an association remembers, so a reply carrying the real
 * address of a name the app reached through a fake address comes back from
 * that fake address (fake-ip mode).
 */
#include <string.h>

#include "upstream/fakeip.h"
#include "udp/udp_assoc_impl.h"
#include "upstream/target.h"

static int
same_ip(const ip_addr_t *x, const ip_addr_t *y)
{
    if (IP_IS_V6(x) != IP_IS_V6(y))
        return 0;
    if (IP_IS_V6(x))
        return memcmp(ip_2_ip6(x)->addr, ip_2_ip6(y)->addr, 16) == 0;
    return ip_2_ip4(x)->addr == ip_2_ip4(y)->addr;
}

/* Puts the fake destination (entry, port) first, taking a reference when
 * it is new and dropping the oldest (and its reference) when full. */
static void
remember_fake(struct t2s_udp_assoc *a, long entry, uint16_t port)
{
    struct assoc_fake_dst d = {.entry = entry, .port = port};
    struct t2s_fakeip *fakeip = a->as->fakeip;
    unsigned i;

    for (i = 0; i < a->nfakes; i++)
        if (a->fakes[i].entry == entry && a->fakes[i].port == port)
            break;
    if (i < a->nfakes) {
        d = a->fakes[i]; /* known: keep its reference and binding */
    } else {
        if (a->nfakes == ASSOC_FAKES)
            t2s_fakeip_unref(fakeip, a->fakes[--a->nfakes].entry);
        t2s_fakeip_ref(fakeip, entry);
        i = a->nfakes++;
    }
    memmove(&a->fakes[1], &a->fakes[0], i * sizeof(a->fakes[0]));
    a->fakes[0] = d;
}

static void
remember_real(struct t2s_udp_assoc *a, const ip_addr_t *ip, uint16_t port)
{
    struct assoc_real_dst d = {.port = port};
    unsigned i;

    ip_addr_copy(d.addr, *ip);
    for (i = 0; i < a->nreals; i++)
        if (a->reals[i].port == port && same_ip(&a->reals[i].addr, ip))
            break;
    if (i == a->nreals) {
        if (a->nreals < ASSOC_REALS)
            a->nreals++;
        i = a->nreals - 1;
    }
    memmove(&a->reals[1], &a->reals[0], i * sizeof(a->reals[0]));
    a->reals[0] = d;
}

void
t2s_udp_assoc_dst_note(struct t2s_udp_assoc *a, long entry,
                       const ip_addr_t *dst, uint16_t port)
{
    if (entry >= 0)
        remember_fake(a, entry, port);
    else if (a->as->fakeip != NULL)
        remember_real(a, dst, port);
}

void
t2s_udp_assoc_dst_release(struct t2s_udp_assoc *a)
{
    for (unsigned i = 0; i < a->nfakes; i++)
        t2s_fakeip_unref(a->as->fakeip, a->fakes[i].entry);
    a->nfakes = 0;
}

/* The SOCKS address of a reply as an lwIP address (IPv4/IPv6 only). */
static void
s5_to_ip(const struct t2s_socks5_addr *from, ip_addr_t *ip)
{
    if (from->atyp == T2S_SOCKS5_ATYP_IPV4) {
        IP_ADDR4(ip, from->u.v4[0], from->u.v4[1], from->u.v4[2],
                 from->u.v4[3]);
    } else {
        ip_addr_set_zero_ip6(ip);
        memcpy(ip_2_ip6(ip)->addr, from->u.v6, 16);
    }
}

/*
 * Which fake destination a reply from the real (ip, port) answers: the
 * index in fakes, -1 for none (the reply keeps its real address), -2 when
 * it cannot be told (several names on that port could have sent it).
 * Attribution goes by address and port: an address the app itself sent
 * to is itself; the only name on that port is that name; otherwise the
 * name this address answered for before, or else the one name on that
 * port that has not answered yet (and this address is bound to it).
 */
static int
fake_for_reply(struct t2s_udp_assoc *a, const ip_addr_t *ip, uint16_t port)
{
    int only = -1, unbound = -1, on_port = 0, n_unbound = 0;

    for (unsigned i = 0; i < a->nreals; i++)
        if (a->reals[i].port == port && same_ip(&a->reals[i].addr, ip))
            return -1;
    for (unsigned i = 0; i < a->nfakes; i++) {
        struct assoc_fake_dst *d = &a->fakes[i];

        if (d->port != port)
            continue;
        on_port++;
        only = (int)i;
        if (d->bound && same_ip(&d->addr, ip))
            return (int)i;
        if (!d->bound) {
            n_unbound++;
            unbound = (int)i;
        }
    }
    if (on_port == 0)
        return -1;
    if (on_port > 1 && n_unbound != 1)
        return -2;
    if (on_port > 1)
        only = unbound;
    a->fakes[only].bound = 1;
    ip_addr_copy(a->fakes[only].addr, *ip);
    return only;
}

int
t2s_udp_assoc_dst_reply_source(struct t2s_udp_assoc *a,
                               const struct t2s_socks5_addr *from,
                               ip_addr_t *src)
{
    struct t2s_fakeip *fakeip = a->as->fakeip;
    int v6 = IP_IS_V6(&a->app);
    struct t2s_socks5_addr name = {.atyp = T2S_SOCKS5_ATYP_DOMAIN};
    const char *s;
    ip_addr_t ip;
    size_t n;
    int i;

    if (fakeip == NULL || from->atyp == T2S_SOCKS5_ATYP_DOMAIN ||
        a->nfakes == 0)
        return t2s_target_to_ip(fakeip, from, v6, src);
    /* fake-ip: the proxy resolved the name and answers with the real
     * address; the app expects the fake one it sent to. */
    s5_to_ip(from, &ip);
    i = fake_for_reply(a, &ip, from->port);
    if (i == -2)
        return -2;
    if (i < 0)
        return t2s_target_to_ip(fakeip, from, v6, src);
    s = t2s_fakeip_name(fakeip, a->fakes[i].entry, &n);
    if (s == NULL)
        return -1;
    name.name_len = (uint8_t)n;
    memcpy(name.u.name, s, n);
    return t2s_target_to_ip(fakeip, &name, v6, src);
}
