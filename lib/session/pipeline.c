/* Pipelining learned per proxy (pipeline.h). */
#include "session/pipeline.h"

/* A proxy whose greeting offers "no authentication" alone. */
static int
candidate(const struct t2s_ctx *ctx, unsigned i)
{
    const struct t2s_proxy *p = t2s_config_proxy(ctx->cfg, i);

    return ctx->cfg->socks_pipeline == T2S_SOCKS_PIPELINE_AUTO &&
           ctx->pool != NULL && i < ctx->pool->n &&
           (p->scheme == T2S_PROXY_SOCKS5 || p->scheme == T2S_PROXY_SOCKS5H) &&
           p->user_len == 0 && p->gss_service[0] == '\0';
}

int
t2s_pipeline_choose(struct t2s_ctx *ctx, unsigned i, int *trial)
{
    *trial = 0;
    if (ctx->cfg->socks_pipeline != T2S_SOCKS_PIPELINE_AUTO)
        return ctx->cfg->socks_pipeline != 0;
    if (!candidate(ctx, i))
        return 0;
    switch (ctx->pool->slot[i].pipe) {
    case T2S_PIPELINE_TRIAL:
        *trial = 1;
        return 1;
    case T2S_PIPELINE_OK:
        return 1;
    default:
        return 0;
    }
}

void
t2s_pipeline_learn(struct t2s_ctx *ctx, unsigned i,
                   const struct t2s_upstream *up, int rc)
{
    uint8_t *st;

    if (!candidate(ctx, i))
        return;
    st = &ctx->pool->slot[i].pipe;
    if (*st == T2S_PIPELINE_NEVER)
        return;
    if (rc == T2S_UP_DONE || up->fail_kind == T2S_UP_FAIL_REPLY) {
        /* A reply to the request: without pipelining it means "no
         * authentication" was chosen; with it, the request was read. */
        *st = up->pipeline ? T2S_PIPELINE_OK : T2S_PIPELINE_TRIAL;
    } else if (up->pipeline && up->fail_kind == T2S_UP_FAIL_AUTH) {
        *st = T2S_PIPELINE_UNKNOWN;
    }
}

int
t2s_pipeline_waiting_reply(const struct t2s_upstream *up)
{
    return up->pipeline && up->request_sent && up->state == T2S_UP_REPLY;
}

void
t2s_pipeline_stalled(struct t2s_ctx *ctx, unsigned i)
{
    if (candidate(ctx, i))
        ctx->pool->slot[i].pipe = T2S_PIPELINE_NEVER;
}
