/*
 * struct t2s_config: its defaults and access by key through the option
 * table (options.h). One table drives the command line, the config file,
 * --help and --print-config, so they cannot drift apart.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/options.h"
#include "config/value.h"
#include "core/log.h"

/*
 * Idle TCP sessions: the kernel's connection tracking keeps an established
 * TCP flow for 5 days (nf_conntrack_tcp_timeout_established = 432000 s), so
 * an idle SSH session through a Linux NAT survives a weekend; through
 * tun2socks it must too. Sessions are counted in --max-conns, so stale ones
 * cost a descriptor and a pcb each, not unbounded memory.
 */
#define IDLE_TIMEOUT_DEFAULT_S 432000u

void
t2s_config_init(struct t2s_config *c)
{
    memset(c, 0, sizeof(*c));
    c->tun_fd = -1;
    c->mtu = 65535;
    c->loglevel = T2S_LOG_INFO;
    c->connect_timeout_ms = 10000;
    c->idle_timeout_ms = IDLE_TIMEOUT_DEFAULT_S * 1000u;
    c->socks_pipeline = T2S_SOCKS_PIPELINE_AUTO;
    c->dns_mode = T2S_DNS_RELAY;
    memcpy(c->dns_addr4, (const uint8_t[]){198, 18, 0, 2}, 4);
    memcpy(
        c->dns_addr6,
        (const uint8_t[]){0xfd, 0, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2},
        16);
    memcpy(c->fake_net4, (const uint8_t[]){198, 18, 128, 0}, 4);
    c->fake_prefix4 = 17;
    memcpy(c->fake_net6,
           (const uint8_t[]){0xfd, 0, 0, 0x18, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0,
                             0, 0, 0},
           16);
    c->fake_prefix6 = 112;
    c->udp_timeout_ms = 120000;
    c->dns_timeout_ms = 10000;
}

struct t2s_config *
t2s_config_new(void)
{
    struct t2s_config *c = calloc(1, sizeof(*c));

    if (c != NULL)
        t2s_config_init(c);
    return c;
}

void
t2s_config_free(struct t2s_config *c)
{
    if (c == NULL)
        return;
    t2s_config_forget_proxies(c);
    free(c);
}

void
t2s_config_forget_passwords(struct t2s_config *c)
{
    for (unsigned i = 0; i < T2S_PROXY_MAX; i++) {
        struct t2s_proxy *p = t2s_config_proxy_mut(c, i);

        explicit_bzero(p->pass, sizeof(p->pass));
    }
}

void
t2s_config_forget_proxies(struct t2s_config *c)
{
    explicit_bzero(&c->proxy, sizeof(c->proxy));
    explicit_bzero(c->proxy_more, sizeof(c->proxy_more));
    c->proxy_count = 0;
    c->proxy_given = 0;
}

int
t2s_config_set(struct t2s_config *c, const char *key, const char *value,
               char *err, size_t errlen)
{
    const struct t2s_option *o = t2s_options_find(key, strlen(key));

    if (o == NULL)
        return t2s_value_err(err, errlen, "unknown option '%.64s'", key);
    if (value == NULL)
        return t2s_value_err(err, errlen, "option '%s' needs a value", o->name);
    return o->set(c, value, err, errlen);
}

int
t2s_config_get(const struct t2s_config *c, const char *key, unsigned i,
               char *out, size_t outlen)
{
    const struct t2s_option *o = t2s_options_find(key, strlen(key));

    if (outlen == 0)
        return 0;
    out[0] = '\0';
    return o != NULL && o->get(c, i, out, outlen);
}

int
t2s_config_reset(struct t2s_config *c, const char *key, char *err,
                 size_t errlen)
{
    const struct t2s_option *o = t2s_options_find(key, strlen(key));
    struct t2s_config d;

    if (o == NULL)
        return t2s_value_err(err, errlen, "unknown option '%.64s'", key);
    if (o->reset_len == 0)
        return o->set(c, "", err, errlen); /* its own "bad value" line */
    t2s_config_init(&d);
    memcpy((char *)c + o->reset_off, (const char *)&d + o->reset_off,
           o->reset_len);
    return 0;
}

/* The embedding API's hooks on a config (t2s.h). */

void
t2s_config_set_log(struct t2s_config *c, t2s_log_fn fn, void *user)
{
    c->log_fn = fn;
    c->log_user = fn != NULL ? user : NULL;
}

void
t2s_config_set_socket_hook(struct t2s_config *c, t2s_socket_fn fn, void *user)
{
    c->socket_fn = fn;
    c->socket_user = fn != NULL ? user : NULL;
}
