/* Android (NDK) builds only: what android_compat.h declares. */
#include "core/android_compat.h"

#ifdef __ANDROID__
#include <unistd.h>

void
t2s_android_compat_closefrom(int low)
{
    long max = sysconf(_SC_OPEN_MAX);

    for (long fd = low; fd < max; fd++)
        (void)close((int)fd);
}
#else
/* ISO C wants at least one declaration in a file */
typedef int t2s_android_compat_unused;
#endif
