/*
 * A command line in one string into argv words, as a POSIX shell splits
 * it, without running one: words are separated by blanks (space, tab,
 * newline); 'single quotes' keep everything literally; "double quotes"
 * keep everything but \" \\ \$ \` (the backslash is dropped before those);
 * outside quotes a backslash keeps the next character. No expansion of
 * any kind ($VAR, ~, globs stay as written). Pure: no I/O, no logging.
 */
#ifndef T2S_JNI_SPLIT_H
#define T2S_JNI_SPLIT_H

#include <stddef.h>

struct t2s_jni_split {
    char **argv; /* argc words then NULL; argv[0] is the program name */
    int argc;
    char *buf;     /* holds prog and every word; owned */
    size_t buflen; /* bytes of buf */
};

/*
 * Splits s into out->argv[1..], with out->argv[0] = prog. Returns 0, or -1
 * with one line in err (an unterminated quote, a trailing backslash, out
 * of memory) and out left empty. Free with t2s_jni_split_free().
 */
int t2s_jni_split(const char *prog, const char *s, struct t2s_jni_split *out,
                  char *err, size_t errlen);

/* Zeroes the words (they may hold a password) and frees them. */
void t2s_jni_split_free(struct t2s_jni_split *sp);

#endif
