/* Privilege drop and the --route parent; see privsep.h. */
#ifdef T2S_HAVE_CAPNG
#include <cap-ng.h>
#include <linux/capability.h>
#endif
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privsep.h"

/* Like dnsmasq: the account meant for daemons that need no files. */
const char t2s_privsep_default_user[] = "nobody";

void
t2s_privsep_protect(void)
{
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static int
lookup_user(const char *name, struct t2s_privsep *p, char *err, size_t errlen)
{
    struct passwd *pw;

    errno = 0;
    pw = getpwnam(name);
    if (pw == NULL) {
        snprintf(err, errlen, "--user %s: %s", name,
                 errno != 0 ? strerror(errno) : "no such user");
        return -1;
    }
    p->uid = pw->pw_uid;
    p->gid = pw->pw_gid;
    return 0;
}

int
t2s_privsep_plan(const struct t2s_config *c, const char *user,
                 struct t2s_privsep *p, char *err, size_t errlen)
{
    const char *name = user[0] != '\0' ? user : t2s_privsep_default_user;

    memset(p, 0, sizeof(*p));
    p->keep_net_admin = c->fwmark != 0;
    p->keep_net_raw = c->bind_iface[0] != '\0';
    snprintf(p->name, sizeof(p->name), "%s", name);
    if (geteuid() != 0) {
        /* Not root (e.g. a systemd unit with AmbientCapabilities=): keep
         * the user, drop the capabilities that are not needed. */
        if (user[0] == '\0')
            return 0;
        if (lookup_user(name, p, err, errlen) < 0)
            return -1;
        if (p->uid != geteuid()) {
            snprintf(err, errlen, "--user %s needs tun2socks to start as root",
                     name);
            return -1;
        }
        return 0;
    }
    if (lookup_user(name, p, err, errlen) < 0)
        return -1;
    p->change_id = p->uid != 0;
#ifndef T2S_HAVE_CAPNG
    if (p->change_id && (p->keep_net_admin || p->keep_net_raw)) {
        snprintf(err, errlen,
                 "%s as --user %s needs capabilities kept across the user "
                 "change, and this build has no libcap-ng: use --user root",
                 p->keep_net_admin ? "--fwmark" : "--interface", name);
        return -1;
    }
#endif
    return 0;
}

#ifdef T2S_HAVE_CAPNG
static int
drop_ids_and_caps(const struct t2s_privsep *p, char *err, size_t errlen)
{
    int rc, bounds, admin, raw;

    if (capng_get_caps_process() != 0) {
        snprintf(err, errlen, "cannot read the process's capabilities");
        return -1;
    }
    /* only what is held: asking for more would fail the whole drop (a
     * user without CAP_NET_ADMIN then sees SO_MARK fail per connection,
     * as before) */
    admin = capng_have_capability(CAPNG_PERMITTED, CAP_NET_ADMIN);
    raw = capng_have_capability(CAPNG_PERMITTED, CAP_NET_RAW);
    /* Clearing the bounding set needs CAP_SETPCAP (root has it; a unit
     * with only ambient capabilities does not, and its bounding set is
     * already narrow). */
    bounds = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
    capng_clear(CAPNG_SELECT_ALL);
    if (p->keep_net_admin && admin)
        capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
                     CAP_NET_ADMIN);
    if (p->keep_net_raw && raw)
        capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_RAW);
    if (p->change_id)
        rc = capng_change_id((int)p->uid, (int)p->gid,
                             CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING |
                                 CAPNG_CLEAR_AMBIENT);
    else
        rc = capng_apply(bounds ? CAPNG_SELECT_ALL
                                : CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
    if (rc != 0) {
        snprintf(err, errlen,
                 "cannot drop privileges to %s (libcap-ng error %d)%s",
                 p->change_id ? p->name : "the needed capabilities", rc,
                 p->change_id ? "; --user root stays root" : "");
        return -1;
    }
    return 0;
}
#else
/*
 * Without libcap-ng (Android's NDK has none): the user change alone, by
 * setgroups/setgid/setuid, which clears every capability (plan refused the
 * options that would need one kept). Without a change, the capabilities
 * stay as they are: an app's process holds none.
 */
static int
drop_ids_and_caps(const struct t2s_privsep *p, char *err, size_t errlen)
{
    if (!p->change_id)
        return 0;
    if (setgroups(0, NULL) != 0 || setgid(p->gid) != 0 || setuid(p->uid) != 0) {
        snprintf(err, errlen, "cannot drop privileges to %s: %s", p->name,
                 strerror(errno));
        return -1;
    }
    return 0;
}
#endif

int
t2s_privsep_drop(const struct t2s_privsep *p, char *err, size_t errlen)
{
    if (drop_ids_and_caps(p, err, errlen) < 0)
        return -1;
    if (p->change_id && (getuid() != p->uid || geteuid() != p->uid)) {
        snprintf(err, errlen, "cannot drop privileges to %s", p->name);
        return -1;
    }
    /* Nothing this process could exec may give privileges back. */
    (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    /* A change of credentials resets it: set it again. */
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return 0;
}

static volatile sig_atomic_t worker_pid;

static void
forward_signal(int sig)
{
    if (worker_pid > 0)
        kill((pid_t)worker_pid, sig);
}

int
t2s_privsep_wait(pid_t worker, const sigset_t *mask)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
    struct sigaction sa;
    int status;
    pid_t w;

    closefrom(3); /* the TUN, the loop: all the worker's */
    worker_pid = worker;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    sigprocmask(SIG_SETMASK, mask, NULL);
    do
        w = waitpid(worker, &status, 0);
    while (w < 0 && errno == EINTR);
    worker_pid = 0;
    if (w < 0 || !WIFEXITED(status))
        return 1;
    return WEXITSTATUS(status);
}
