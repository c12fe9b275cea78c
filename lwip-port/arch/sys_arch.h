/* NO_SYS build: no threads, semaphores or mailboxes. */
#ifndef T2S_LWIP_ARCH_SYS_ARCH_H
#define T2S_LWIP_ARCH_SYS_ARCH_H
#endif
