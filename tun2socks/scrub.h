/*
 * Secrets in the process image (what ps, /proc/PID/cmdline and
 * /proc/PID/environ show): overwritten in place once parsed.
 */
#ifndef T2S_SCRUB_H
#define T2S_SCRUB_H

/*
 * Overwrites with '*' the password of every proxy URL given to --proxy in
 * argv (the rest stays readable). Call after t2s_args_parse(): the config
 * holds a copy.
 */
void t2s_scrub_argv(int argc, char **argv);

/*
 * Removes TUN2SOCKS_PROXY_AUTH from the environment and zeroes its bytes
 * where they are (the initial environment block is what /proc/PID/environ
 * shows; unsetenv alone leaves it there), and masks the password of a URL
 * in TUN2SOCKS_PROXY the same way. Children inherit neither. Not thread-safe
 * (as setenv); call once, early, after t2s_args_parse().
 */
void t2s_scrub_environment(void);

#endif
