package com.github.shadowsocks.bg;

/* The natives as tun2proxy exports them, plus our optional two.
 * TEST-ONLY. */
public final class Tun2proxy {
    public static native int run(String cliArgs, char tunMtu);
    public static native int stop();
    public static native boolean setProtector(Object service);
    public static native boolean setLogger(Object logger);
}
