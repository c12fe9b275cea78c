package hev.htproxy;

/* The natives as hev-socks5-tunnel registers them (and v2rayNG declares
 * them), plus our optional two. TEST-ONLY. */
public final class TProxyService {
    public static native boolean TProxyStartService(String configPath, int fd);
    public static native boolean TProxyStopService();
    public static native boolean TProxyIsRunning();
    public static native long[] TProxyGetStats();
    public static native boolean TProxySetProtector(Object service);
    public static native boolean TProxySetLogger(Object logger);
}
