/* The process-wide memory budget (mem.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "core/fault.h"
#include "core/mem.h"

#define MIB ((size_t)1024 * 1024)
#define DEFAULT_MIN (32 * MIB)
#define DEFAULT_MAX (1024 * MIB)

/* Room in front of each counted allocation for its size; 16 bytes keep
 * the caller's pointer aligned for any type. */
#define HDR 16

static size_t used, peak, limit;

#ifdef T2S_FAULT_INJECTION
#define FAULT_ALLOC() t2s_fault_alloc_hit()
#else
#define FAULT_ALLOC() 0
#endif

static size_t
load(const size_t *v)
{
    return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void
store(size_t *v, size_t x)
{
    __atomic_store_n(v, x, __ATOMIC_RELAXED);
}

void
t2s_mem_set_limit(size_t n)
{
    store(&limit, n);
}

size_t
t2s_mem_limit(void)
{
    return load(&limit);
}

/* memory.max of the cgroup we run in (cgroup v2), or SIZE_MAX. */
static size_t
cgroup_max(void)
{
    char path[600], line[512];
    unsigned long long v;
    size_t max = SIZE_MAX;
    FILE *f = fopen("/proc/self/cgroup", "r");

    if (f == NULL)
        return max;
    /* "0::/some/path" on a unified hierarchy */
    if (fgets(line, sizeof(line), f) != NULL && strncmp(line, "0::", 3) == 0) {
        line[strcspn(line, "\n")] = '\0';
        snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", line + 3);
        fclose(f);
        f = fopen(path, "r");
        if (f != NULL && fscanf(f, "%llu", &v) == 1 && v < SIZE_MAX)
            max = (size_t)v; /* "max" does not scan: no limit */
    }
    if (f != NULL)
        fclose(f);
    return max;
}

size_t
t2s_mem_default_limit(void)
{
    struct sysinfo si;
    size_t avail = SIZE_MAX, cg = cgroup_max(), n;

    if (sysinfo(&si) == 0)
        avail = (size_t)si.totalram * si.mem_unit;
    if (cg < avail)
        avail = cg;
    n = avail / 8;
    if (n < DEFAULT_MIN)
        n = DEFAULT_MIN;
    if (n > DEFAULT_MAX)
        n = DEFAULT_MAX;
    return n;
}

size_t
t2s_mem_used(void)
{
    return load(&used);
}

size_t
t2s_mem_peak(void)
{
    return load(&peak);
}

void
t2s_mem_reset_peak(void)
{
    store(&peak, load(&used));
}

int
t2s_mem_admit(void)
{
    size_t l = load(&limit);

    return l == 0 || load(&used) < l - l / 8;
}

int
t2s_mem_over(void)
{
    size_t l = load(&limit);

    return l != 0 && load(&used) >= l;
}

int
t2s_mem_charge(size_t n)
{
    size_t l = load(&limit), u = load(&used);

    if (l != 0 && u + n > l + l / 8)
        return -1;
    store(&used, u + n);
    if (u + n > load(&peak))
        store(&peak, u + n);
    return 0;
}

void
t2s_mem_uncharge(size_t n)
{
    size_t u = load(&used);

    store(&used, u > n ? u - n : 0);
}

void *
t2s_mem_alloc(size_t n)
{
    size_t cost = n + T2S_MEM_OVERHEAD;
    unsigned char *p;

    if (FAULT_ALLOC() || n > SIZE_MAX - HDR - T2S_MEM_OVERHEAD ||
        t2s_mem_charge(cost) < 0) {
        errno = ENOMEM; /* as malloc(3): callers log strerror(errno) */
        return NULL;
    }
    p = malloc(n + HDR);
    if (p == NULL) {
        t2s_mem_uncharge(cost);
        return NULL;
    }
    memcpy(p, &cost, sizeof(cost));
    return p + HDR;
}

void *
t2s_mem_alloc_always(size_t n)
{
    size_t cost = n + T2S_MEM_OVERHEAD, u;
    unsigned char *p;

    if (n > SIZE_MAX - HDR - T2S_MEM_OVERHEAD)
        return NULL;
    p = malloc(n + HDR);
    if (p == NULL)
        return NULL;
    u = load(&used) + cost;
    store(&used, u);
    if (u > load(&peak))
        store(&peak, u);
    memcpy(p, &cost, sizeof(cost));
    return p + HDR;
}

void *
t2s_mem_calloc(size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    p = t2s_mem_alloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *
t2s_mem_realloc(void *ptr, size_t n)
{
    unsigned char *p = ptr, *np;
    size_t old, cost = n + T2S_MEM_OVERHEAD;

    if (p == NULL)
        return t2s_mem_alloc(n);
    if (FAULT_ALLOC() || n > SIZE_MAX - HDR - T2S_MEM_OVERHEAD)
        return NULL;
    p -= HDR;
    memcpy(&old, p, sizeof(old));
    if (cost > old && t2s_mem_charge(cost - old) < 0)
        return NULL;
    np = realloc(p, n + HDR);
    if (np == NULL) {
        if (cost > old)
            t2s_mem_uncharge(cost - old);
        return NULL;
    }
    if (cost < old)
        t2s_mem_uncharge(old - cost);
    memcpy(np, &cost, sizeof(cost));
    return np + HDR;
}

void
t2s_mem_free(void *ptr)
{
    unsigned char *p = ptr;
    size_t cost;

    if (p == NULL)
        return;
    p -= HDR;
    memcpy(&cost, p, sizeof(cost));
    t2s_mem_uncharge(cost);
    free(p);
}
