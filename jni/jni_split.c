/* Shell-like word splitting; see jni_split.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jni_split.h"

enum quote { Q_NONE, Q_SINGLE, Q_DOUBLE };

static int
is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A backslash inside double quotes escapes only these. */
static int
dq_escapable(char c)
{
    return c == '"' || c == '\\' || c == '$' || c == '`' || c == '\n';
}

/*
 * One pass over s: writes the words, each NUL-terminated, into buf (at most
 * strlen(s) + 1 bytes per the whole input) and counts them. Returns the
 * count or -1 with err set.
 */
static int
scan(const char *s, char *buf, char *err, size_t errlen)
{
    enum quote q = Q_NONE;
    int words = 0, in_word = 0;
    char *w = buf;

    for (; *s != '\0'; s++) {
        char c = *s;

        if (q == Q_SINGLE) {
            if (c == '\'')
                q = Q_NONE;
            else
                *w++ = c;
            continue;
        }
        if (q == Q_DOUBLE) {
            if (c == '"')
                q = Q_NONE;
            else if (c == '\\' && dq_escapable(s[1]))
                *w++ = *++s;
            else
                *w++ = c;
            continue;
        }
        if (is_blank(c)) {
            if (in_word) {
                *w++ = '\0';
                words++;
                in_word = 0;
            }
            continue;
        }
        in_word = 1;
        if (c == '\'') {
            q = Q_SINGLE;
        } else if (c == '"') {
            q = Q_DOUBLE;
        } else if (c == '\\') {
            if (s[1] == '\0') {
                snprintf(err, errlen, "argument string ends with a backslash");
                return -1;
            }
            *w++ = *++s;
        } else {
            *w++ = c;
        }
    }
    if (q != Q_NONE) {
        snprintf(err, errlen, "unterminated %s quote in the argument string",
                 q == Q_SINGLE ? "single" : "double");
        return -1;
    }
    if (in_word) {
        *w = '\0';
        words++;
    }
    return words;
}

int
t2s_jni_split(const char *prog, const char *s, struct t2s_jni_split *out,
              char *err, size_t errlen)
{
    size_t plen = strlen(prog) + 1;
    int n, i;
    char *p;

    memset(out, 0, sizeof(*out));
    /* prog, then the words: never longer than s itself */
    out->buflen = plen + strlen(s) + 1;
    out->buf = calloc(1, out->buflen);
    if (out->buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(out->buf, prog, plen);
    n = scan(s, out->buf + plen, err, errlen);
    if (n < 0 || (out->argv = calloc((size_t)n + 2, sizeof(char *))) == NULL) {
        if (n >= 0)
            snprintf(err, errlen, "out of memory");
        t2s_jni_split_free(out);
        return -1;
    }
    for (i = 0, p = out->buf; i <= n; i++, p += strlen(p) + 1)
        out->argv[i] = p;
    out->argc = n + 1;
    return 0;
}

void
t2s_jni_split_free(struct t2s_jni_split *sp)
{
    if (sp->buf != NULL) {
        explicit_bzero(sp->buf, sp->buflen);
        free(sp->buf);
    }
    free(sp->argv);
    memset(sp, 0, sizeof(*sp));
}
