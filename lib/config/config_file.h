/*
 * The config file: "key = value" lines, '#' comments, blank lines. Keys are
 * those of t2s_config_set(); an empty value resets an optional key (see
 * t2s_config_reset()). Unknown keys and malformed lines are errors naming
 * the file and line. A file that holds a password must not be readable by
 * group or others (as OpenSSH refuses such a private key).
 */
#ifndef T2S_CONFIG_FILE_H
#define T2S_CONFIG_FILE_H

#include <stddef.h>

struct t2s_config;

/* Returned by a t2s_config_file_key_fn for a key it does not know. */
#define T2S_CONFIG_FILE_UNKNOWN 1

/*
 * Called for a key that is not the library's (the program's own options).
 * Returns 0, -1 with one line in err, or T2S_CONFIG_FILE_UNKNOWN.
 */
typedef int (*t2s_config_file_key_fn)(void *ctx, const char *key,
                                      const char *value, char *err,
                                      size_t errlen);

/*
 * Applies the file at path to c, line by line; keys the library does not
 * know go to other(ctx, ...) when other is not NULL. Stops at the first
 * error. Returns 0 or -1 with one line in err.
 */
int t2s_config_file_read(struct t2s_config *c, const char *path,
                         t2s_config_file_key_fn other, void *ctx, char *err,
                         size_t errlen);

/* t2s_config_file_read() with the library's keys only. */
int t2s_config_load_file(struct t2s_config *c, const char *path, char *err,
                         size_t errlen);

/* Group or others may read fd (or fstat failed): a file that holds a
 * password must not be such a file. */
int t2s_config_file_shared(int fd);

#endif
