/*
 * A scripted SOCKS5 server for the component tests. Each accepted
 * connection runs one script (the i-th connection the i-th script, the
 * last one repeating) in its own thread and records what it saw.
 */
#ifndef T2S_TEST_FAKE_PROXY_H
#define T2S_TEST_FAKE_PROXY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum fp_op {
    FP_END = 0,      /* close normally (FIN) */
    FP_GREETING,     /* read VER NMETHODS METHODS */
    FP_METHOD,       /* send 05 <arg> */
    FP_AUTH,         /* read the RFC 1929 username/password request */
    FP_AUTH_REPLY,   /* send 01 <arg> */
    FP_REQUEST,      /* read a request */
    FP_REPLY,        /* send 05 <arg> 00 <arg2: ATYP 1, 3 or 4> BND */
    FP_SEND,         /* send data/len */
    FP_SEND_PATTERN, /* send arg bytes of pattern_byte() */
    FP_ECHO,         /* echo until EOF */
    FP_READ,         /* read exactly arg bytes */
    FP_READ_EOF,     /* read until EOF */
    FP_SHUT_WR,      /* shutdown(SHUT_WR) */
    FP_RESET,        /* close with SO_LINGER 0 (RST), end */
    FP_STALL,        /* never answer: read and discard until EOF */
    FP_WAIT_GATE,    /* wait for fp_open_gate() */
    FP_RAW,          /* send data/len, ignoring the byte-wise mode */
};

struct fp_step {
    enum fp_op op;
    unsigned arg;
    unsigned arg2;
    const void *data;
    size_t len;
};

/* Script steps: no argument, one or two arguments, data. */
#define FP(op)                                                                 \
    {                                                                          \
        (op), 0, 0, NULL, 0                                                    \
    }
#define FPA(op, a)                                                             \
    {                                                                          \
        (op), (a), 0, NULL, 0                                                  \
    }
#define FPA2(op, a, b)                                                         \
    {                                                                          \
        (op), (a), (b), NULL, 0                                                \
    }
#define FPD(op, d, n)                                                          \
    {                                                                          \
        (op), 0, 0, (d), (n)                                                   \
    }

/* Greeting, "no auth", request, reply REP with BND of type atyp. */
#define FP_HANDSHAKE(rep, atyp)                                                \
    {FP_GREETING, 0, 0, NULL, 0}, {FP_METHOD, 0, 0, NULL, 0},                  \
        {FP_REQUEST, 0, 0, NULL, 0},                                           \
    {                                                                          \
        FP_REPLY, (rep), (atyp), NULL, 0                                       \
    }

#define FP_MAX_CONNS 32

struct fp_conn {
    int fd;
    uint8_t methods[255];
    size_t nmethods;
    int greeted;
    char user[256], pass[256];
    int authed;
    uint8_t req_cmd, req_atyp;
    uint8_t req_addr[256];
    size_t req_addr_len;
    uint16_t req_port;
    int requested;
    uint8_t *rx; /* bytes received after the request */
    size_t rx_len, rx_cap;
    int eof;     /* read returned 0 */
    int reset;   /* read failed (ECONNRESET) */
    int aborted; /* a step failed: the script did not complete */
    int done;    /* the script ended and the socket is closed */
};

struct fake_proxy {
    int lfd;
    int family; /* 4 or 6 */
    uint16_t port;
    int bytewise; /* send handshake replies one byte per write */
    int rcvbuf;   /* SO_RCVBUF for accepted sockets; 0: default */
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop_pipe[2];
    int gate;
    int stopping;
    const struct fp_step *scripts[FP_MAX_CONNS];
    size_t nscripts;
    struct fp_conn conns[FP_MAX_CONNS];
    pthread_t threads[FP_MAX_CONNS];
    size_t nconns;
};

/* Listens on 127.0.0.1 or ::1, ephemeral port. scripts: NULL-terminated. */
void fp_start(struct fake_proxy *px, int family, int bytewise,
              const struct fp_step *const *scripts);

/* "socks5://[user:pass@]127.0.0.1:port" */
void fp_url(const struct fake_proxy *px, const char *userinfo, char *buf,
            size_t len);

void fp_open_gate(struct fake_proxy *px);

/* Waits (up to timeout_ms) for: n connections accepted / connection i
 * received n bytes / connection i done. 0 or -1. */
int fp_wait_conns(struct fake_proxy *px, size_t n, int timeout_ms);
int fp_wait_rx(struct fake_proxy *px, size_t i, size_t n, int timeout_ms);
int fp_wait_done(struct fake_proxy *px, size_t i, int timeout_ms);

/* Copy of connection i's record (rx stays owned by px). */
struct fp_conn fp_get(struct fake_proxy *px, size_t i);

/* Stops every thread, closes everything, frees. */
void fp_stop(struct fake_proxy *px);

#endif
