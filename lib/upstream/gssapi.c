/* RFC 1961 context establishment and subnegotiation; see gssapi.h. */
#ifdef T2S_HAVE_GSSAPI
#include <errno.h>
#include <ev.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "codec/gssapi_msg.h"
#include "core/mem.h"
#include "upstream/gssapi.h"
#include "upstream/upstream.h"

#define MSG_MAX (T2S_GSSAPI_MSG_HDR + T2S_GSSAPI_MSG_TOKEN_MAX)
enum phase { PH_AUTH, PH_PROT, PH_DONE, PH_REQ };

struct t2s_gssapi {
    gss_ctx_id_t ctx;
    gss_name_t target;
    gss_cred_id_t cred; /* from --proxy-gssapi-keytab, or none (default) */
    int phase;          /* enum phase */
    int complete;       /* gss_init_sec_context said COMPLETE */
    int want;           /* the level asked for */
    int level;          /* selected by the server */
    size_t max_plain;
    uint8_t *rep; /* t2s_gssapi_request(): where the reply goes */
    size_t rep_cap, *rep_len;
    size_t in_len, out_len, out_off;
    char err[T2S_GSSAPI_ERR_MAX];
    uint8_t in[MSG_MAX]; /* one message being received */
    uint8_t out[MSG_MAX];
};

/* "GSSAPI <what>: <major text>: <minor text>" into g->err. */
static void
gss_fail(struct t2s_gssapi *g, const char *what, OM_uint32 major,
         OM_uint32 minor)
{
    char mj[128] = "", mn[128] = "";
    OM_uint32 ctx = 0, m;
    gss_buffer_desc b = GSS_C_EMPTY_BUFFER;

    if (gss_display_status(&m, major, GSS_C_GSS_CODE, GSS_C_NO_OID, &ctx, &b) ==
        GSS_S_COMPLETE) {
        snprintf(mj, sizeof(mj), "%.*s", (int)b.length, (char *)b.value);
        gss_release_buffer(&m, &b);
    }
    ctx = 0;
    if (minor != 0 &&
        gss_display_status(&m, minor, GSS_C_MECH_CODE, GSS_C_NO_OID, &ctx,
                           &b) == GSS_S_COMPLETE) {
        /* MIT renders a minor code of no meaning as "Success" */
        if (!(b.length == 7 && memcmp(b.value, "Success", 7) == 0))
            snprintf(mn, sizeof(mn), ": %.*s", (int)b.length, (char *)b.value);
        gss_release_buffer(&m, &b);
    }
    snprintf(g->err, sizeof(g->err), "GSSAPI %s: %s%s", what, mj, mn);
}

static int
queue_msg(struct t2s_gssapi *g, uint8_t mtyp, const void *tok, size_t n)
{
    if (t2s_gssapi_msg_encode_hdr(g->out, mtyp, n) == 0) {
        snprintf(g->err, sizeof(g->err), "GSSAPI token of %zu bytes", n);
        return -1;
    }
    memcpy(g->out + T2S_GSSAPI_MSG_HDR, tok, n);
    g->out_len = T2S_GSSAPI_MSG_HDR + n;
    g->out_off = 0;
    return 0;
}

static int
import_target(struct t2s_gssapi *g, const struct t2s_proxy *p)
{
    char name[sizeof(p->gss_service) + sizeof(p->host) + 1];
    gss_buffer_desc b;
    gss_OID type = GSS_C_NT_HOSTBASED_SERVICE;
    OM_uint32 major, minor;

    if (strchr(p->gss_service, '/') != NULL) {
        type = (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME;
        snprintf(name, sizeof(name), "%s", p->gss_service);
    } else if (strchr(p->gss_service, '@') != NULL) {
        snprintf(name, sizeof(name), "%s", p->gss_service);
    } else {
        snprintf(name, sizeof(name), "%s@%s", p->gss_service, p->host);
    }
    b.value = name;
    b.length = strlen(name);
    major = gss_import_name(&minor, &b, type, &g->target);
    if (GSS_ERROR(major)) {
        gss_fail(g, "service name", major, minor);
        return -1;
    }
    return 0;
}

/*
 * --proxy-gssapi-keytab: initiator credentials from a client keytab (MIT's
 * credential store), their tickets kept in a memory ccache of this
 * process, so the user's own ccache is neither needed nor touched.
 */
static int
acquire_from_keytab(struct t2s_gssapi *g, const struct t2s_proxy *p)
{
    char kt[sizeof(p->gss_keytab) + 5];
    gss_key_value_element_desc el[2] = {{"client_keytab", kt},
                                        {"ccache", "MEMORY:tun2socks"}};
    gss_key_value_set_desc store = {2, el};
    OM_uint32 major, minor;

    snprintf(kt, sizeof(kt), "%s%s",
             strchr(p->gss_keytab, ':') != NULL ? "" : "FILE:", p->gss_keytab);
    major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE,
                                  GSS_C_NO_OID_SET, GSS_C_INITIATE, &store,
                                  &g->cred, NULL, NULL);
    if (GSS_ERROR(major)) {
        char what[sizeof(kt) + 16];

        snprintf(what, sizeof(what), "client keytab %s", kt);
        gss_fail(g, what, major, minor);
        return -1;
    }
    return 0;
}

/* One gss_init_sec_context() step with the server's token (NULL first). */
static int
init_step(struct t2s_gssapi *g, const uint8_t *tok, size_t n)
{
    gss_buffer_desc in = {n, (void *)(uintptr_t)tok};
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor, flags = 0;
    int rc = 0;

    major = gss_init_sec_context(
        &minor, g->cred, &g->ctx, g->target, GSS_C_NO_OID,
        GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG |
            GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG,
        0, GSS_C_NO_CHANNEL_BINDINGS, tok != NULL ? &in : GSS_C_NO_BUFFER, NULL,
        &out, &flags, NULL);
    if (GSS_ERROR(major)) {
        gss_fail(g, "context", major, minor);
        rc = -1;
    } else {
        g->complete = major == GSS_S_COMPLETE;
        if (out.length > 0)
            rc = queue_msg(g, T2S_GSSAPI_MSG_AUTH, out.value, out.length);
    }
    gss_release_buffer(&minor, &out);
    return rc;
}

/* The subnegotiation request: our level byte, integrity-protected. */
static int
queue_level(struct t2s_gssapi *g)
{
    uint8_t lvl = (uint8_t)g->want;
    gss_buffer_desc in = {1, &lvl}, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor;
    int rc;

    major = gss_wrap(&minor, g->ctx, 0, GSS_C_QOP_DEFAULT, &in, NULL, &out);
    if (GSS_ERROR(major)) {
        gss_fail(g, "wrap", major, minor);
        return -1;
    }
    rc = queue_msg(g, T2S_GSSAPI_MSG_PROT, out.value, out.length);
    gss_release_buffer(&minor, &out);
    return rc;
}

static int
take_level(struct t2s_gssapi *g, const uint8_t *tok, size_t n)
{
    gss_buffer_desc in = {n, (void *)(uintptr_t)tok}, out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor, max = 0;

    major = gss_unwrap(&minor, g->ctx, &in, &out, NULL, NULL);
    if (GSS_ERROR(major)) {
        gss_fail(g, "protection-level reply", major, minor);
        return -1;
    }
    g->level = out.length == 1 ? ((const uint8_t *)out.value)[0] : -1;
    gss_release_buffer(&minor, &out);
    if (g->level < T2S_GSSAPI_LEVEL_CLEAR ||
        g->level > T2S_GSSAPI_LEVEL_CONFIDENTIALITY) {
        snprintf(g->err, sizeof(g->err),
                 "GSSAPI: the proxy selected protection level %d (not "
                 "clear, integrity or confidentiality)",
                 g->level);
        return -1;
    }
    if (g->level == T2S_GSSAPI_LEVEL_CLEAR)
        return 0;
    /* the largest plaintext whose wrapped token fits a message */
    major = gss_wrap_size_limit(
        &minor, g->ctx, g->level == T2S_GSSAPI_LEVEL_CONFIDENTIALITY,
        GSS_C_QOP_DEFAULT, T2S_GSSAPI_MSG_TOKEN_MAX, &max);
    if (GSS_ERROR(major) || max == 0) {
        gss_fail(g, "wrap size limit", major, minor);
        return -1;
    }
    g->max_plain = max;
    return 0;
}

struct t2s_gssapi *
t2s_gssapi_start(const struct t2s_proxy *p, char *err, size_t errlen)
{
    struct t2s_gssapi *g = t2s_mem_alloc(sizeof(*g));

    if (g == NULL) {
        snprintf(err, errlen, "GSSAPI: out of memory");
        return NULL;
    }
    memset(g, 0, offsetof(struct t2s_gssapi, in));
    g->ctx = GSS_C_NO_CONTEXT;
    g->want =
        p->gss_level > 0 ? p->gss_level - 1 : T2S_GSSAPI_LEVEL_CONFIDENTIALITY;
    g->target = GSS_C_NO_NAME;
    g->cred = GSS_C_NO_CREDENTIAL;
    if ((p->gss_keytab[0] != '\0' && acquire_from_keytab(g, p) < 0) ||
        import_target(g, p) < 0 || init_step(g, NULL, 0) < 0) {
        snprintf(err, errlen, "%s", g->err);
        t2s_gssapi_free(g);
        return NULL;
    }
    return g;
}

/* One whole message in in[]: act on it. */
static int
handle_msg(struct t2s_gssapi *g, const uint8_t *tok, size_t n)
{
    if (g->phase == PH_REQ) {
        size_t len;

        if (t2s_gssapi_unwrap(g, tok, n, g->in, &len) < 0)
            return -1;
        if (len > g->rep_cap) {
            snprintf(g->err, sizeof(g->err),
                     "GSSAPI: a SOCKS reply of %zu bytes", len);
            return -1;
        }
        memcpy(g->rep, g->in, len);
        *g->rep_len = len;
        g->phase = PH_DONE;
        return 0;
    }
    if (g->phase == PH_PROT) {
        if (take_level(g, tok, n) < 0)
            return -1;
        g->phase = PH_DONE;
        return 0;
    }
    if (!g->complete) {
        if (n == 0) {
            snprintf(g->err, sizeof(g->err),
                     "GSSAPI: the proxy sent an empty token mid-exchange");
            return -1;
        }
        if (init_step(g, tok, n) < 0)
            return -1;
    } else if (n > 0) {
        snprintf(g->err, sizeof(g->err),
                 "GSSAPI: the proxy sent a token after the context was "
                 "complete");
        return -1;
    }
    if (g->complete && g->out_len == 0) {
        g->phase = PH_PROT;
        return queue_level(g);
    }
    return 0;
}

static int
flush(struct t2s_gssapi *g, int fd, int *want)
{
    while (g->out_off < g->out_len) {
        ssize_t n = send(fd, g->out + g->out_off, g->out_len - g->out_off,
                         MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                *want = EV_WRITE;
                return T2S_UP_AGAIN;
            }
            snprintf(g->err, sizeof(g->err), "GSSAPI: send: %s",
                     strerror(errno));
            return T2S_UP_FAIL;
        }
        g->out_off += (size_t)n;
    }
    g->out_len = g->out_off = 0;
    return T2S_UP_DONE;
}

/* Reads at most the rest of one message (nothing of what follows it). */
static int
fill(struct t2s_gssapi *g, int fd, uint8_t mtyp)
{
    const uint8_t *tok;
    size_t need = T2S_GSSAPI_MSG_HDR, n, used;
    ssize_t r;
    int rc;

    rc = t2s_gssapi_msg_decode(g->in, g->in_len, mtyp, &tok, &n, &used);
    if (rc < 0) {
        snprintf(g->err, sizeof(g->err), "%s", t2s_gssapi_msg_status_str(rc));
        return T2S_UP_FAIL;
    }
    if (rc == T2S_GSSAPI_MSG_OK) {
        g->in_len = 0;
        return handle_msg(g, tok, n) < 0 ? T2S_UP_FAIL : T2S_UP_DONE;
    }
    if (g->in_len >= T2S_GSSAPI_MSG_HDR)
        need += ((size_t)g->in[2] << 8) | g->in[3];
    r = recv(fd, g->in + g->in_len, need - g->in_len, 0);
    if (r > 0) {
        g->in_len += (size_t)r;
        return fill(g, fd, mtyp);
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return T2S_UP_AGAIN;
    snprintf(g->err, sizeof(g->err),
             "GSSAPI: the proxy closed the connection during the %s%s%s%s",
             g->phase == PH_AUTH   ? "context establishment"
             : g->phase == PH_PROT ? "protection-level subnegotiation"
                                   : "SOCKS request",
             r < 0 ? ": " : "", r < 0 ? strerror(errno) : "",
             g->phase == PH_AUTH && g->out_len == 0
                 ? " (does the proxy hold a key for this service name?)"
                 : "");
    return T2S_UP_FAIL;
}

int
t2s_gssapi_io(struct t2s_gssapi *g, int fd, int *want)
{
    int rc;

    for (;;) {
        rc = flush(g, fd, want);
        if (rc != T2S_UP_DONE)
            return rc;
        if (g->phase == PH_DONE)
            return T2S_UP_DONE;
        rc = fill(g, fd,
                  g->phase == PH_AUTH   ? T2S_GSSAPI_MSG_AUTH
                  : g->phase == PH_PROT ? T2S_GSSAPI_MSG_PROT
                                        : T2S_GSSAPI_MSG_DATA);
        if (rc == T2S_UP_AGAIN)
            *want = EV_READ;
        if (rc != T2S_UP_DONE)
            return rc;
    }
}

int
t2s_gssapi_wrap(struct t2s_gssapi *g, const uint8_t *plain, size_t n,
                uint8_t *frame, size_t *frame_len)
{
    gss_buffer_desc in = {n, (void *)(uintptr_t)plain};
    gss_buffer_desc out = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor;
    int conf = g->level == T2S_GSSAPI_LEVEL_CONFIDENTIALITY, rc = -1;

    major = gss_wrap(&minor, g->ctx, conf, GSS_C_QOP_DEFAULT, &in, NULL, &out);
    if (GSS_ERROR(major)) {
        gss_fail(g, "wrap", major, minor);
    } else if (t2s_gssapi_msg_encode_hdr(frame, T2S_GSSAPI_MSG_DATA,
                                         out.length) == 0) {
        snprintf(g->err, sizeof(g->err), "GSSAPI: a wrapped token of %zu bytes",
                 out.length);
    } else {
        memcpy(frame + T2S_GSSAPI_MSG_HDR, out.value, out.length);
        *frame_len = T2S_GSSAPI_MSG_HDR + out.length;
        rc = 0;
    }
    gss_release_buffer(&minor, &out);
    return rc;
}

int
t2s_gssapi_unwrap(struct t2s_gssapi *g, const uint8_t *tok, size_t n,
                  uint8_t *out, size_t *out_len)
{
    gss_buffer_desc in = {n, (void *)(uintptr_t)tok};
    gss_buffer_desc plain = GSS_C_EMPTY_BUFFER;
    OM_uint32 major, minor;
    int conf = 0, rc = -1;

    major = gss_unwrap(&minor, g->ctx, &in, &plain, &conf, NULL);
    if (GSS_ERROR(major) || major != GSS_S_COMPLETE) {
        /* supplementary bits too: a replayed, duplicate or reordered
         * message is refused, as TCP never produces one */
        gss_fail(g, "unwrap", major, minor);
    } else if (g->level == T2S_GSSAPI_LEVEL_CONFIDENTIALITY && !conf) {
        snprintf(g->err, sizeof(g->err),
                 "GSSAPI: a message without the agreed confidentiality");
    } else if (plain.length > T2S_GSSAPI_MSG_TOKEN_MAX) {
        snprintf(g->err, sizeof(g->err),
                 "GSSAPI: an unwrapped message of %zu "
                 "bytes",
                 plain.length);
    } else {
        memcpy(out, plain.value, plain.length);
        *out_len = plain.length;
        rc = 0;
    }
    gss_release_buffer(&minor, &plain);
    return rc;
}

int
t2s_gssapi_request(struct t2s_gssapi *g, const uint8_t *req, size_t n,
                   uint8_t *rep, size_t cap, size_t *rep_len)
{
    if (t2s_gssapi_wrap(g, req, n, g->out, &g->out_len) < 0)
        return -1;
    g->out_off = 0;
    g->rep = rep;
    g->rep_cap = cap;
    g->rep_len = rep_len;
    g->phase = PH_REQ;
    return 0;
}

size_t
t2s_gssapi_max_plain(const struct t2s_gssapi *g)
{
    return g->max_plain;
}

int
t2s_gssapi_level(const struct t2s_gssapi *g)
{
    return g->level;
}

const char *
t2s_gssapi_error(const struct t2s_gssapi *g)
{
    return g->err;
}

void
t2s_gssapi_free(struct t2s_gssapi *g)
{
    OM_uint32 minor;

    if (g == NULL)
        return;
    if (g->ctx != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&minor, &g->ctx, GSS_C_NO_BUFFER);
    if (g->target != GSS_C_NO_NAME)
        gss_release_name(&minor, &g->target);
    if (g->cred != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&minor, &g->cred);
    t2s_mem_free(g);
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int t2s_gssapi_disabled;
#endif
