/* lwIP assertions without abort(), and lwIP's idle check (lwip_guard.h). */
#include <stdlib.h>

#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "core/log.h"
#include "lwip_guard.h"

/* The entry point running lwIP now, or NULL; set once lwIP is broken. */
static jmp_buf *armed;
static int broken;

void
t2s_lwip_guard_arm(jmp_buf *jb)
{
    armed = jb;
}

void
t2s_lwip_guard_disarm(void)
{
    armed = NULL;
}

int
t2s_lwip_guard_broken(void)
{
    return broken;
}

int
t2s_lwip_guard_idle(void)
{
    return tcp_active_pcbs == NULL && tcp_tw_pcbs == NULL &&
           tcp_bound_pcbs == NULL && tcp_listen_pcbs.listen_pcbs == NULL &&
           udp_pcbs == NULL && netif_default == NULL;
}

void
t2s_lwip_guard_assert(const char *msg, const char *file, int line)
{
    jmp_buf *jb = armed;

    t2s_log(T2S_LOG_ERROR, "lwIP assertion \"%s\" failed at %s:%d", msg, file,
            line);
    broken = 1;
    armed = NULL;
    if (jb == NULL)
        abort(); /* not through the library: see lwip_guard.h */
    longjmp(*jb, 1);
}
