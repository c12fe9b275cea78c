/*
 * What tun2socks needs from lwIP's TCP beyond the raw API, in one place:
 * the functions here read lwIP's private pcb lists so no other module has
 * to. Loop thread only (lwIP is not thread-safe).
 */
#ifndef T2S_TCP_EXT_H
#define T2S_TCP_EXT_H

#include <stddef.h>

/*
 * Orphans: active pcbs no session owns any more (their callback argument
 * is NULL): closing handshakes lwIP finishes alone, such as a CLOSING pcb
 * still delivering data to a slow app. TIME_WAIT pcbs are not counted
 * (they hold no data and a new SYN replaces them). With shed nonzero,
 * every orphan that still holds data is aborted (RST to the app) and not
 * counted. Returns the number of orphans left. O(active pcbs).
 */
size_t t2s_tcp_ext_orphans(int shed);

#endif
