/* TUN device creation and configuration through ioctl(2). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tun/tun.h"

/* Packets the kernel may queue toward us on a TUN we create. */
#define T2S_TUN_TXQLEN 4096

/* Not exported by glibc's headers; the kernel's struct in6_ifreq. */
struct t2s_in6_ifreq {
    struct in6_addr addr;
    unsigned int prefixlen;
    int ifindex;
};

int
t2s_tun_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static const char *
perm_hint(int e)
{
    return (e == EPERM || e == EACCES) ? " (needs root or CAP_NET_ADMIN)" : "";
}

/*
 * With a virtio-net header on every packet and TUN_F_CSUM, the kernel
 * neither computes the TCP checksum of what apps send into the TUN nor
 * verifies what we write (we mark it "checksum needed" and local delivery
 * trusts it; a forwarded packet gets its checksum on the way out). With
 * TUN_F_TSO4/TSO6 on top, apps' TCP reaches us in super-packets of up to
 * 64 KiB (one per TSO burst, not one per MTU) and we may write such
 * segments, marked with the size to cut them at (codec/vnet.h).
 */
int
t2s_tun_offload(int fd)
{
    const unsigned long tso = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

    if (ioctl(fd, TUNSETOFFLOAD, tso) == 0)
        return T2S_TUN_OFFLOAD_CSUM | T2S_TUN_OFFLOAD_TSO;
    /* A kernel or device refusing TSO: checksums only. */
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) == 0)
        return T2S_TUN_OFFLOAD_CSUM;
    return 0;
}

int
t2s_tun_vnet_hdr_len(int fd)
{
    struct ifreq ifr;
    int len = 0;

    memset(&ifr, 0, sizeof(ifr));
    if (ioctl(fd, TUNGETIFF, &ifr) < 0 || !(ifr.ifr_flags & IFF_VNET_HDR))
        return 0;
    if (ioctl(fd, TUNGETVNETHDRSZ, &len) < 0 || len < T2S_VNET_HDR_MIN ||
        len > T2S_VNET_HDR_MAX)
        return -1;
    return len;
}

int
t2s_tun_open(const char *name, int *vnet_hdr_len, char *err, size_t errlen)
{
    struct ifreq ifr;
    int fd, e, rc;

    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        snprintf(err, errlen, "cannot open /dev/net/tun: %s%s", strerror(e),
                 perm_hint(e));
        return -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    *vnet_hdr_len = T2S_VNET_HDR_MIN;
    rc = ioctl(fd, TUNSETIFF, &ifr);
    if (rc < 0 && errno == EINVAL) {
        /* A kernel without virtio-net headers on TUN: plain packets. */
        ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
        *vnet_hdr_len = 0;
        rc = ioctl(fd, TUNSETIFF, &ifr);
    }
    if (rc < 0 || t2s_tun_set_nonblock(fd) < 0) {
        e = errno;
        snprintf(err, errlen, "cannot create TUN device '%s': %s%s", name,
                 strerror(e), perm_hint(e));
        close(fd);
        return -1;
    }
    return fd;
}

static int
ifreq_ioctl(int sock, unsigned long req, struct ifreq *ifr, const char *what,
            char *err, size_t errlen)
{
    if (ioctl(sock, req, ifr) == 0)
        return 0;
    snprintf(err, errlen, "cannot %s on '%s': %s%s", what, ifr->ifr_name,
             strerror(errno), perm_hint(errno));
    return -1;
}

static int
split_cidr(const char *cidr, char *addr, size_t addrlen, unsigned *prefix)
{
    const char *slash = strchr(cidr, '/');
    char *end;
    unsigned long p;

    if (slash == NULL || (size_t)(slash - cidr) >= addrlen)
        return -1;
    memcpy(addr, cidr, (size_t)(slash - cidr));
    addr[slash - cidr] = '\0';
    p = strtoul(slash + 1, &end, 10);
    if (*end != '\0' || slash[1] == '\0' || p > 128)
        return -1;
    *prefix = (unsigned)p;
    return 0;
}

static int
set_ipv4(int sock, const char *name, const char *cidr, char *err, size_t errlen)
{
    struct ifreq ifr;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    char addr[64];
    unsigned prefix;

    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    sin->sin_family = AF_INET;
    if (split_cidr(cidr, addr, sizeof(addr), &prefix) < 0 || prefix > 32 ||
        inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
        snprintf(err, errlen, "bad IPv4 address '%s'", cidr);
        return -1;
    }
    if (ifreq_ioctl(sock, SIOCSIFADDR, &ifr, "set IPv4 address", err, errlen) <
        0)
        return -1;
    sin->sin_addr.s_addr =
        prefix == 0 ? 0 : htonl(0xffffffffu << (32 - prefix));
    return ifreq_ioctl(sock, SIOCSIFNETMASK, &ifr, "set IPv4 netmask", err,
                       errlen);
}

static int
set_ipv6(const char *name, const char *cidr, char *err, size_t errlen)
{
    struct t2s_in6_ifreq req;
    char addr[64];
    unsigned prefix;
    int sock, rc = 0;

    memset(&req, 0, sizeof(req));
    if (split_cidr(cidr, addr, sizeof(addr), &prefix) < 0 ||
        inet_pton(AF_INET6, addr, &req.addr) != 1) {
        snprintf(err, errlen, "bad IPv6 address '%s'", cidr);
        return -1;
    }
    req.prefixlen = prefix;
    req.ifindex = (int)if_nametoindex(name);
    sock = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || (ioctl(sock, SIOCSIFADDR, &req) < 0 && errno != EEXIST)) {
        snprintf(err, errlen, "cannot set IPv6 address on '%s': %s%s", name,
                 strerror(errno), perm_hint(errno));
        rc = -1;
    }
    if (sock >= 0)
        close(sock);
    return rc;
}

static int
configure_link(int sock, const char *name, int mtu, char *err, size_t errlen)
{
    struct ifreq ifr;

    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ifr.ifr_mtu = mtu;
    if (ifreq_ioctl(sock, SIOCSIFMTU, &ifr, "set MTU", err, errlen) < 0)
        return -1;
    /* Bursts from hundreds of flows overflow the default 500-packet queue
     * between the kernel and us; drops there cost a retransmission
     * timeout. Best effort: the link works without it. */
    ifr.ifr_qlen = T2S_TUN_TXQLEN;
    (void)ioctl(sock, SIOCSIFTXQLEN, &ifr);
    if (ifreq_ioctl(sock, SIOCGIFFLAGS, &ifr, "read flags", err, errlen) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    return ifreq_ioctl(sock, SIOCSIFFLAGS, &ifr, "bring link up", err, errlen);
}

int
t2s_tun_configure(const char *name, int mtu, const char *ipv4, const char *ipv6,
                  char *err, size_t errlen)
{
    int sock, rc;

    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    rc = configure_link(sock, name, mtu, err, errlen);
    if (rc == 0 && ipv4 != NULL && ipv4[0] != '\0')
        rc = set_ipv4(sock, name, ipv4, err, errlen);
    close(sock);
    if (rc == 0 && ipv6 != NULL && ipv6[0] != '\0')
        rc = set_ipv6(name, ipv6, err, errlen);
    return rc;
}
