/*
 * Fuzz target for configuration parsing: the input is parsed as a proxy
 * URL and, through a memfd, as a config file. Neither may crash, and an
 * error message must never contain the password of an accepted URL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct t2s_config c;
    char err[512], path[64];
    char *s = malloc(size + 1);
    int fd;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    t2s_config_init(&c);
    if (t2s_config_parse_proxy_url(s, &c.proxy, err, sizeof(err)) == 0) {
        if (c.proxy.port == 0 || c.proxy.host[0] == '\0' ||
            c.proxy.user_len > 255 || c.proxy.pass_len > 255)
            abort();
    } else if (strlen(err) == 0 || strchr(err, '\n') != NULL) {
        abort();
    }
    fd = memfd_create("t2s-fuzz-config", 0);
    if (fd >= 0) {
        if (write(fd, data, size) == (ssize_t)size) {
            snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
            t2s_config_init(&c);
            if (t2s_config_load_file(&c, path, err, sizeof(err)) != 0 &&
                strlen(err) == 0)
                abort();
        }
        close(fd);
    }
    free(s);
    return 0;
}
