package t2stest;

/* hev-socks5-tunnel's natives before they returned boolean (older
 * v2rayNG and SocksTun declare these); loaded from libt2s-jni-compat.so,
 * built with this class's name. TEST-ONLY. */
public final class OldTProxyService {
    public static native void TProxyStartService(String configPath, int fd);
    public static native void TProxyStopService();
    public static native long[] TProxyGetStats();
}
