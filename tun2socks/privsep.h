/*
 * Privileges of the program (not part of the library): started as root,
 * tun2socks needs root only to create and configure the TUN and to run the
 * route script. The process that handles packets then runs as --user
 * (default "nobody") with no capability beyond what its options need:
 * CAP_NET_ADMIN for --fwmark (SO_MARK), CAP_NET_RAW for --interface
 * (SO_BINDTODEVICE). With --route a root parent that does nothing else
 * waits for that worker and runs the script's "down" (privilege separation
 * as OpenSSH does it).
 * Built without libcap-ng (-DT2S_CAPNG=OFF; Android has none), the user
 * change is plain setgroups/setgid/setuid, which keeps no capability:
 * t2s_privsep_plan() then refuses --fwmark or --interface with a --user
 * other than root, and without a user change capabilities stay as held.
 */
#ifndef T2S_PRIVSEP_H
#define T2S_PRIVSEP_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "config/config.h"

struct t2s_privsep {
    int change_id;      /* switch to uid/gid (started as root) */
    uid_t uid;          /* target user, when change_id */
    gid_t gid;          /* its primary group */
    char name[64];      /* for messages */
    int keep_net_admin; /* --fwmark */
    int keep_net_raw;   /* --interface */
};

/*
 * Makes the process non-dumpable (no core file, no ptrace, /proc/PID files
 * owned by root): the password lives in its memory. Call first in main().
 */
void t2s_privsep_protect(void);

/*
 * Decides from c, user (--user; "" when not given) and the current
 * credentials what t2s_privsep_drop() will
 * do; looks the user up now, before any setup. Returns 0, or -1 with one
 * line in err (unknown user, --user without root).
 */
int t2s_privsep_plan(const struct t2s_config *c, const char *user,
                     struct t2s_privsep *p, char *err, size_t errlen);

/* The user without --user when started as root. */
extern const char t2s_privsep_default_user[];

/*
 * Irreversibly switches to p's user (when change_id), keeps only p's
 * capabilities (effective and permitted; none inheritable, ambient or in
 * the bounding set when that can be cleared) and sets no_new_privs.
 * Returns 0, or -1 with one line in err: the caller must then exit.
 */
int t2s_privsep_drop(const struct t2s_privsep *p, char *err, size_t errlen);

/*
 * --route parent: after fork() returned worker (with signals blocked),
 * closes every descriptor above 2, forwards SIGINT, SIGTERM, SIGHUP and
 * SIGUSR1 to the worker, restores the signal mask to *mask, waits until the
 * worker exits and returns its exit code (1 when it was killed).
 */
int t2s_privsep_wait(pid_t worker, const sigset_t *mask);

#endif
