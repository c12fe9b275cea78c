/* May root run a route-script from a config file; see route_trust.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/value.h"
#include "route_trust.h"

/* Owned by root and writable by no one else (sticky directories are). */
static int
root_only(const char *path, int is_dir, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return t2s_value_err(err, errlen,
                             "route-script: cannot check %.200s: %s", path,
                             strerror(errno));
    if (st.st_uid != 0)
        return t2s_value_err(
            err, errlen,
            "route-script from a config file: %.200s is not owned by "
            "root",
            path);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
        !(is_dir && (st.st_mode & S_ISVTX) != 0))
        return t2s_value_err(
            err, errlen,
            "route-script from a config file: %.200s is writable by "
            "group or others",
            path);
    return 0;
}

int
t2s_route_trust_check(const struct t2s_opts *o, char *err, size_t errlen)
{
    char *real, *slash;
    int rc;

    if (!o->route_script_from_file || geteuid() != 0)
        return 0;
    real = realpath(o->route_script, NULL);
    if (real == NULL)
        return t2s_value_err(err, errlen, "route-script %.200s: %s",
                             o->route_script, strerror(errno));
    rc = root_only(real, 0, err, errlen);
    /* every directory up to / (realpath: no symlinks, no '..') */
    while (rc == 0 && (slash = strrchr(real, '/')) != NULL) {
        slash[slash == real ? 1 : 0] = '\0';
        rc = root_only(real, 1, err, errlen);
        if (slash == real)
            break;
    }
    free(real);
    return rc;
}
