/* Descriptor accounting for component tests: what a test holds open. */
#ifndef T2S_TEST_FDS_H
#define T2S_TEST_FDS_H

/* Descriptors open in this process now (the listing's own excluded). */
int count_fds(void);

#endif
