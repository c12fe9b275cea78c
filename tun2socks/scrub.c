/* Secrets in argv and the environment; see scrub.h. */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "scrub.h"

/* '*' over the password of scheme://user:pass@host (in place). */
static void
mask_url_password(char *url)
{
    char *s = strstr(url, "://"), *at, *colon;

    if (s == NULL)
        return;
    s += 3;
    at = strrchr(s, '@');
    if (at == NULL)
        return;
    colon = memchr(s, ':', (size_t)(at - s));
    if (colon != NULL)
        memset(colon + 1, '*', (size_t)(at - colon - 1));
}

void
t2s_scrub_argv(int argc, char **argv)
{
    /* The same walk as t2s_args_parse: only values of --proxy. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            i++;
        } else if (strcmp(argv[i], "--proxy") == 0) {
            if (i + 1 < argc)
                mask_url_password(argv[++i]);
        } else if (strncmp(argv[i], "--proxy=", 8) == 0) {
            mask_url_password(argv[i] + 8);
        } else if (t2s_args_takes_value(argv[i])) {
            i++; /* its value is not an option */
        }
    }
}

extern char **environ;

#define ENV_DUP_MAX 8

/* Unsets name and zeroes its "name=value" strings in place. */
static void
scrub_env_var(const char *name)
{
    char *found[ENV_DUP_MAX];
    size_t n = strlen(name), k = 0;

    for (char **e = environ; e != NULL && *e != NULL && k < ENV_DUP_MAX; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            found[k++] = *e;
    /* unsetenv compares names: zero the strings only afterwards */
    unsetenv(name);
    for (size_t i = 0; i < k; i++)
        explicit_bzero(found[i], strlen(found[i]));
}

void
t2s_scrub_environment(void)
{
    static const char proxy[] = "TUN2SOCKS_PROXY";

    scrub_env_var("TUN2SOCKS_PROXY_AUTH");
    for (char **e = environ; e != NULL && *e != NULL; e++)
        if (strncmp(*e, proxy, sizeof(proxy) - 1) == 0 &&
            (*e)[sizeof(proxy) - 1] == '=')
            mask_url_password(*e + sizeof(proxy));
}
