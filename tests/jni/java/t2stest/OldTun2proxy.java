package t2stest;

/* tun2proxy's natives with the MTU declared an int. TEST-ONLY. */
public final class OldTun2proxy {
    public static native int run(String cliArgs, int tunMtu);
    public static native int stop();
}
