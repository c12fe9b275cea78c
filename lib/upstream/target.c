/* Original destination <-> SOCKS address, fake-ip aware. */
#include <string.h>
#include <sys/socket.h>

#include "upstream/fakeip.h"
#include "upstream/target.h"

long
t2s_target_from_ip(struct t2s_fakeip *fakeip, const ip_addr_t *ip,
                   uint16_t port, struct t2s_socks5_addr *a)
{
    const uint8_t *bytes;
    int family;
    long entry;

    memset(a, 0, sizeof(*a));
    a->port = port;
    if (IP_IS_V6(ip)) {
        family = AF_INET6;
        bytes = (const uint8_t *)ip_2_ip6(ip)->addr;
        a->atyp = T2S_SOCKS5_ATYP_IPV6;
        memcpy(a->u.v6, bytes, 16);
    } else {
        family = AF_INET;
        bytes = (const uint8_t *)&ip_2_ip4(ip)->addr;
        a->atyp = T2S_SOCKS5_ATYP_IPV4;
        memcpy(a->u.v4, bytes, 4);
    }
    if (fakeip == NULL || !t2s_fakeip_contains(fakeip, family, bytes))
        return -1;
    t2s_fakeip_tick(fakeip, t2s_fakeip_clock());
    entry = t2s_fakeip_lookup_addr(fakeip, family, bytes);
    if (entry < 0) {
        return -2;
    } else {
        size_t n;
        const char *name = t2s_fakeip_name(fakeip, entry, &n);

        a->atyp = T2S_SOCKS5_ATYP_DOMAIN;
        a->name_len = (uint8_t)n;
        memcpy(a->u.name, name, n);
    }
    return entry;
}

int
t2s_target_to_ip(struct t2s_fakeip *fakeip, const struct t2s_socks5_addr *a,
                 int v6, ip_addr_t *ip)
{
    uint8_t b4[4], b6[16];
    long entry;

    switch (a->atyp) {
    case T2S_SOCKS5_ATYP_IPV4:
        if (v6)
            return -1;
        IP_ADDR4(ip, a->u.v4[0], a->u.v4[1], a->u.v4[2], a->u.v4[3]);
        return 0;
    case T2S_SOCKS5_ATYP_IPV6:
        if (!v6)
            return -1;
        ip_addr_set_zero_ip6(ip);
        memcpy(ip_2_ip6(ip)->addr, a->u.v6, 16);
        return 0;
    default:
        if (fakeip == NULL || (v6 && !t2s_fakeip_has_v6(fakeip)))
            return -1;
        {
            char name[256];

            memcpy(name, a->u.name, a->name_len);
            name[a->name_len] = '\0';
            for (size_t i = 0; i < a->name_len; i++)
                if (name[i] >= 'A' && name[i] <= 'Z')
                    name[i] = (char)(name[i] - 'A' + 'a');
            t2s_fakeip_tick(fakeip, t2s_fakeip_clock());
            entry = t2s_fakeip_lookup_name(fakeip, name, a->name_len, b4,
                                           v6 ? b6 : NULL);
        }
        if (entry < 0)
            return -1;
        if (v6) {
            ip_addr_set_zero_ip6(ip);
            memcpy(ip_2_ip6(ip)->addr, b6, 16);
        } else {
            IP_ADDR4(ip, b4[0], b4[1], b4[2], b4[3]);
        }
        return 0;
    }
}
