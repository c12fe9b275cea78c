import com.github.shadowsocks.bg.Tun2proxy;
import hev.htproxy.TProxyService;
import t2stest.OldTProxyService;
import t2stest.OldTun2proxy;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/*
 * libt2s-jni.so in a real JVM, as a VPN app uses it (run by
 * tests/jni/test_jni.sh in a network namespace, with a TUN descriptor
 * open): both JNI shapes, the protect callback, the log callback, the
 * counters, start/stop cycles without a descriptor or a thread left
 * behind, and bad input. Every check failing throws: exit status 1.
 *
 * The namespace lets a socket reach the proxy only when it carries the
 * mark that protect() sets here (as VpnService.protect() takes a socket
 * out of the VPN on Android).
 */
public final class JniTest {
    static native String fdInfo(int fd);
    static native boolean markFd(int fd, int mark);
    static native int openDevNull();
    static native void closeFd(int fd);

    static int tunFd, mark, cycles;
    static String proxy, server, bigSha, smallSha, work;
    static int bigPort, smallPort;

    /* Every line the library logged, through the registered logger. */
    static final List<String> lines = new ArrayList<>();

    public static final class Logger {
        public void log(int level, String line) {
            synchronized (lines) {
                lines.add(level + " " + line);
            }
            if (System.getenv("JNI_TEST_VERBOSE") != null)
                System.out.println("log: " + level + " " + line);
        }
    }

    /* protect(fd) of a VpnService: checks the socket, marks it. */
    public static final class Protector {
        final boolean answer;
        final List<String> seen = new ArrayList<>();

        Protector(boolean answer) {
            this.answer = answer;
        }

        public boolean protect(int fd) {
            String info = fdInfo(fd);
            synchronized (seen) {
                seen.add(fd + " " + info);
            }
            if (answer && !markFd(fd, mark))
                throw new IllegalStateException("SO_MARK failed");
            return answer;
        }

        List<String> seen() {
            synchronized (seen) {
                return new ArrayList<>(seen);
            }
        }
    }

    static void check(boolean ok, String what) {
        if (!ok)
            throw new AssertionError(what);
    }

    static void ok(String what) {
        System.out.println("ok: " + what);
    }

    static List<String> linesSince(int from) {
        synchronized (lines) {
            return new ArrayList<>(lines.subList(from, lines.size()));
        }
    }

    static int lineCount() {
        synchronized (lines) {
            return lines.size();
        }
    }

    static boolean logged(int from, String text) {
        for (String l : linesSince(from))
            if (l.contains(text))
                return true;
        return false;
    }

    /* "SHA256HEX SIZE" of everything the server sends, as tcptool.py. */
    static String download(int port) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        long n = 0;
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(server, port), 10000);
            s.setSoTimeout(20000);
            InputStream in = s.getInputStream();
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; n += r)
                md.update(buf, 0, r);
        }
        StringBuilder sb = new StringBuilder();
        for (byte b : md.digest())
            sb.append(String.format("%02x", b));
        return sb + " " + n;
    }

    static int count(String dir) {
        String[] names = new File(dir).list();
        return names == null ? -1 : names.length;
    }

    /* Threads of this process named like the instance thread. */
    static int instanceThreads() throws IOException {
        int n = 0;
        File[] tasks = new File("/proc/self/task").listFiles();
        for (File t : tasks == null ? new File[0] : tasks) {
            try {
                String comm = Files.readString(new File(t, "comm").toPath());
                if (comm.trim().equals("t2s-jni"))
                    n++;
            } catch (IOException gone) {
                // the thread ended while listed
            }
        }
        return n;
    }

    /* No instance thread left. pthread_join() returns when the kernel
     * clears the thread's id, a moment before its /proc/self/task entry
     * goes (seen under load in CI): a joined thread may be listed for a
     * few milliseconds, a leaked one stays. */
    static boolean instanceThreadsGone() throws Exception {
        for (int i = 0; i < 100; i++) {
            if (instanceThreads() == 0)
                return true;
            Thread.sleep(10);
        }
        return false;
    }

    /* The open flags of a descriptor of this process (octal "flags:" of
     * /proc/self/fdinfo), -1 when it is not open. */
    static int fdFlags(int fd) throws IOException {
        File f = new File("/proc/self/fdinfo/" + fd);
        if (!f.exists())
            return -1;
        for (String l : Files.readAllLines(f.toPath()))
            if (l.startsWith("flags:"))
                return Integer.parseInt(l.substring(6).trim(), 8);
        return -1;
    }

    static void checkProtected(Protector p, String what) {
        List<String> seen = p.seen();
        check(!seen.isEmpty(), what + ": protect() was never called");
        for (String s : seen)
            check(s.endsWith(" tcp inet unconnected"),
                  what + ": protect() got a socket that is not an unconnected"
                      + " IPv4 TCP socket: " + s);
    }

    static String writeConfig(String name, String text) throws IOException {
        File f = new File(work, name);
        Files.writeString(f.toPath(), text);
        return f.getPath();
    }

    static String goodConfig() throws IOException {
        return writeConfig("good.conf", "# tun2socks config for the JNI test\n"
                                            + "proxy = socks5://" + proxy + "\n"
                                            + "loglevel = info\n");
    }

    static void waitRunning(boolean want) throws InterruptedException {
        for (int i = 0; i < 200 && TProxyService.TProxyIsRunning() != want; i++)
            Thread.sleep(25);
        check(TProxyService.TProxyIsRunning() == want,
              "TProxyIsRunning() stayed " + !want);
    }

    /* ---- the hev-socks5-tunnel shape ---- */

    static void hevTransfer() throws Exception {
        Protector p = new Protector(true);
        check(TProxyService.TProxySetProtector(p), "TProxySetProtector");
        check(TProxyService.TProxySetLogger(new Logger()), "TProxySetLogger");
        int from = lineCount();
        check(TProxyService.TProxyStartService(goodConfig(), tunFd),
              "TProxyStartService returned false: " + linesSince(from));
        check(TProxyService.TProxyIsRunning(), "TProxyIsRunning after start");
        check(instanceThreads() == 1, "no thread named t2s-jni while running");
        check((fdFlags(tunFd) & 04000) != 0, "the TUN descriptor is blocking");
        String got = download(bigPort);
        check(got.equals(bigSha), "hev: 64 MiB download got " + got + ", want " + bigSha);
        ok("hev shape: 64 MiB download through the TUN, SHA-256 match");
        checkProtected(p, "hev");
        ok("hev shape: protect() called " + p.seen().size()
           + " time(s), each with an unconnected TCP socket");
        long[] st = TProxyService.TProxyGetStats();
        long size = Long.parseLong(bigSha.split(" ")[1]);
        check(st != null && st.length == 4, "TProxyGetStats: 4 counters");
        // bytes are payload: this download sent none up (tx_bytes 0)
        check(st[0] > 0 && st[1] == 0 && st[2] > 0 && st[3] == size,
              "hev stats not all counted: " + java.util.Arrays.toString(st));
        // a packet carries at most 64 KiB of payload; a download gets
        // more packets than its ACKs
        check(st[2] * 65536 >= st[3] && st[2] > st[0],
              "hev stats inconsistent: " + java.util.Arrays.toString(st));
        ok("hev shape: stats tx/rx packets/bytes " + java.util.Arrays.toString(st));
        check(logged(from, "socks5 proxy"), "the logger got no start line");
        ok("log lines reach the Java logger (" + linesSince(from).size() + " lines)");
        check(TProxyService.TProxyStopService(), "TProxyStopService");
        check(!TProxyService.TProxyIsRunning(), "TProxyIsRunning after stop");
        check(instanceThreadsGone(), "the instance thread outlived the stop");
        check(fdFlags(tunFd) >= 0, "the TUN descriptor was closed by the stop");
        ok("the TUN descriptor: made non-blocking, still open after the stop");
        long[] zero = TProxyService.TProxyGetStats();
        check(zero[0] == 0 && zero[3] == 0, "stats after stop are not zero");
    }

    /* ---- the tun2proxy shape ---- */

    static final class Runner extends Thread {
        final String args;
        volatile int rc = 99;

        Runner(String args) {
            this.args = args;
            setName("t2p-runner");
            setDaemon(true); // a run() that missed its stop() must not hold the exit
        }

        @Override
        public void run() {
            rc = Tun2proxy.run(args, (char) 1500);
        }
    }

    static String t2pArgs() {
        // quoted as a shell would take it
        return "--tun-fd " + tunFd + " --proxy 'socks5://" + proxy
            + "' --loglevel \"info\"";
    }

    /* run() on a thread of its own, with p (and the logger registered
     * before, if any) */
    static Runner t2pStart(Protector p) throws Exception {
        check(Tun2proxy.setProtector(p), "setProtector");
        Runner r = new Runner(t2pArgs());
        r.start();
        waitRunning(true);
        return r;
    }

    static void t2pStop(Runner r) throws Exception {
        check(Tun2proxy.stop() == 0, "stop() while running");
        r.join(10000);
        check(!r.isAlive(), "run() did not return after stop()");
        check(r.rc == 0, "run() returned " + r.rc + " after stop()");
        check(!TProxyService.TProxyIsRunning(), "still running after stop()");
    }

    static void t2pTransfer() throws Exception {
        Protector p = new Protector(true);
        int from = lineCount();
        check(Tun2proxy.setLogger(new Logger()), "setLogger");
        Runner r = t2pStart(p);
        String got = download(bigPort);
        check(got.equals(bigSha), "t2p: 64 MiB download got " + got + ", want " + bigSha);
        ok("tun2proxy shape: 64 MiB download through the TUN, SHA-256 match");
        checkProtected(p, "t2p");
        ok("tun2proxy shape: protect() called " + p.seen().size()
           + " time(s), each with an unconnected TCP socket");
        long[] st = TProxyService.TProxyGetStats();
        check(st[3] >= Long.parseLong(bigSha.split(" ")[1]) && st[2] > 0,
              "t2p stats: " + java.util.Arrays.toString(st));
        t2pStop(r);
        check(logged(from, "socks5 proxy"), "t2p: the logger got no start line");
        ok("tun2proxy shape: run() blocked until stop(), returned 0");
    }

    /* A logger that calls stop() from run()'s own thread the moment the
     * instance is being created (a debug line of the JNI layer). */
    public static final class StopWhenCreating {
        volatile int rc = 99;

        public void log(int level, String line) {
            if (line.contains("creating the instance"))
                rc = Tun2proxy.stop();
        }
    }

    /* stop() while run() is still creating the instance is not lost; and
     * stop() as soon as run() has begun, from another thread, whatever
     * run() is doing (parsing, creating, in its loop). */
    static void t2pStopRace() throws Exception {
        StopWhenCreating s = new StopWhenCreating();
        check(Tun2proxy.setProtector(new Protector(true)), "setProtector");
        check(Tun2proxy.setLogger(s), "setLogger");
        Runner early = new Runner(t2pArgs() + " --loglevel debug");
        early.start();
        early.join(10000);
        check(s.rc == 0, "stop() while creating returned " + s.rc);
        check(!early.isAlive(), "run() missed a stop() made while it was creating");
        check(early.rc == 0, "run() returned " + early.rc);
        for (int i = 0; i < 10; i++) {
            check(Tun2proxy.setProtector(new Protector(true)), "setProtector");
            Runner r = new Runner(t2pArgs());
            r.start();
            long end = System.nanoTime() + 5_000_000_000L;
            while (Tun2proxy.stop() != 0)
                check(System.nanoTime() < end, "stop() never found run() going");
            r.join(10000);
            check(!r.isAlive(), "race " + i + ": run() missed the stop()");
            check(r.rc == 0, "race " + i + ": run() returned " + r.rc);
        }
        ok("tun2proxy shape: stop() while run() creates the instance, and"
           + " stop() racing run()'s start 10 times: run() returned 0");
    }

    /* ---- protect() answering false ---- */

    static void refused() throws Exception {
        Protector no = new Protector(false);
        check(TProxyService.TProxySetProtector(no), "TProxySetProtector");
        check(TProxyService.TProxySetLogger(new Logger()), "TProxySetLogger");
        int from = lineCount();
        check(TProxyService.TProxyStartService(goodConfig(), tunFd), "start");
        long t0 = System.nanoTime();
        String err = null;
        try {
            download(smallPort);
        } catch (IOException e) {
            err = e.getMessage();
        }
        check(err != null, "the app's connection went through a refused socket");
        check(err.contains("refused") || err.contains("reset"),
              "the app's connection did not fail with a reset: " + err);
        ok("protect() false: the app's connect failed (" + err + ") after "
           + (System.nanoTime() - t0) / 1000000 + " ms");
        check(TProxyService.TProxyStopService(), "stop");
        int calls = no.seen().size();
        check(calls >= 1, "the refusing protect() was never called");
        int refusals = 0;
        String counted = null;
        for (String l : linesSince(from)) {
            if (l.contains("refusing a connection"))
                refusals++;
            int i = l.indexOf("socket_hook_refused=");
            if (i >= 0)
                counted = l.substring(i + 20).split(" ")[0];
        }
        check(String.valueOf(calls).equals(counted),
              "socket_hook_refused=" + counted + ", protect() said no " + calls + " time(s)");
        check(refusals == calls,
              refusals + " log lines for " + calls + " refused connection(s)");
        ok("protect() false: counted (socket_hook_refused=" + counted
           + "), logged once per connection");
    }

    /* ---- the older signatures (libt2s-jni-compat.so) ---- */

    /* An old app registers no protector: the namespace refuses the
     * forwarder's proxy socket, so the app's connection fails, but the
     * packets it sent were read from the TUN: the start ran. */
    static void compat() throws Exception {
        System.loadLibrary("t2s-jni-compat");
        OldTProxyService.TProxyStartService(goodConfig(), tunFd);
        try {
            download(smallPort);
            check(false, "an unprotected proxy socket got through");
        } catch (IOException expected) {
            // refused: nobody protected the forwarder's socket
        }
        long[] st = OldTProxyService.TProxyGetStats();
        check(st[0] > 0, "void TProxyStartService did not start: "
                             + java.util.Arrays.toString(st));
        OldTProxyService.TProxyStopService();
        check(OldTProxyService.TProxyGetStats()[0] == 0, "void TProxyStopService");
        ok("hev's void signatures: started (tx_packets " + st[0] + "), stopped");

        final int[] rc = {99};
        Thread t = new Thread(() -> rc[0] = OldTun2proxy.run(t2pArgs(), 1500));
        t.setDaemon(true);
        t.start();
        long end = System.nanoTime() + 5_000_000_000L;
        while (OldTun2proxy.stop() != 0)
            check(System.nanoTime() < end, "run(String, int) never ran");
        t.join(10000);
        check(!t.isAlive() && rc[0] == 0, "run(String, int) returned " + rc[0]);
        ok("tun2proxy's run(String, int): ran, stopped, returned 0");
    }

    /* ---- start/stop cycles ---- */

    /* One start, a download, one stop; the protector and logger are
     * referenced weakly only, from here on (this frame ends with them). */
    static void cycle(int i, List<WeakReference<Object>> refs) throws Exception {
        Protector p = new Protector(true);
        Logger l = new Logger();
        refs.add(new WeakReference<>(p));
        refs.add(new WeakReference<>(l));
        if (i % 2 == 0) {
            check(TProxyService.TProxySetProtector(p), "set");
            check(TProxyService.TProxySetLogger(l), "set");
            check(TProxyService.TProxyStartService(goodConfig(), tunFd),
                  "cycle " + i + ": start");
            check(download(smallPort).equals(smallSha), "cycle " + i + " (hev)");
            check(TProxyService.TProxyStopService(), "cycle " + i + ": stop");
            check(instanceThreadsGone(), "cycle " + i + ": thread left");
        } else {
            check(Tun2proxy.setLogger(l), "set");
            Runner r = t2pStart(p);
            check(download(smallPort).equals(smallSha), "cycle " + i + " (t2p)");
            t2pStop(r);
        }
        checkProtected(p, "cycle " + i);
    }

    static void cycles() throws Exception {
        List<WeakReference<Object>> refs = new ArrayList<>();
        // cycles times through each shape, alternating
        for (int i = 0; i < 2 * cycles; i++)
            cycle(i, refs);
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(50);
        }
        for (WeakReference<Object> w : refs)
            check(w.get() == null,
                  "a protector or logger is still referenced after its stop");
        ok(cycles + " start/stop cycles through each shape, a download each;"
           + " no global reference kept");
    }

    /* ---- bad input ---- */

    static void hevBad(String what, String path, int fd, String text)
        throws Exception {
        int from = lineCount();
        check(!TProxyService.TProxyStartService(path, fd),
              what + ": TProxyStartService returned true");
        check(logged(from, text), what + ": no line with '" + text + "' in "
                                      + linesSince(from));
        check(!TProxyService.TProxyIsRunning(), what + ": running");
        ok("bad input, " + what + ": false, logged " + linesSince(from));
    }

    static void t2pBad(String what, String args, int want, String text) {
        int from = lineCount();
        int rc = Tun2proxy.run(args, (char) 1500);
        check(rc == want, what + ": run() returned " + rc + ", want " + want);
        check(logged(from, text), what + ": no line with '" + text + "' in "
                                      + linesSince(from));
        ok("bad input, " + what + ": " + rc + ", logged " + linesSince(from));
    }

    static void badInput() throws Exception {
        Logger l = new Logger();
        check(TProxyService.TProxySetLogger(l), "TProxySetLogger");
        String good = goodConfig();
        hevBad("missing config", work + "/no-such.conf", tunFd, "no-such.conf");
        hevBad("bad config", writeConfig("bad.conf", "proxy = http://x\n"),
               tunFd, "TProxyStartService: ");
        hevBad("unknown config key", writeConfig("bad2.conf", "nonsense = 1\n"),
               tunFd, "nonsense");
        hevBad("null path", null, tunFd, "config path is null");
        hevBad("fd -1", good, -1, "-1 is not an open TUN descriptor");
        hevBad("closed fd", good, 1000, "1000 is not an open TUN descriptor");
        int devnull = openDevNull();
        hevBad("not a TUN", good, devnull, "is not a TUN");
        t2pBad("not a TUN", "--tun-fd " + devnull + " --proxy socks5://" + proxy,
               -2, "is not a TUN");
        closeFd(devnull);
        int from = lineCount();
        check(!TProxyService.TProxyStopService(), "stop when idle: true");
        check(logged(from, "not running"), "stop when idle: not logged");
        ok("bad input, stop when not running: false, logged");

        String p = " --proxy socks5://" + proxy;
        String fd = "--tun-fd " + tunFd;
        t2pBad("null args", null, -2, "argument string is null");
        t2pBad("unterminated quote", fd + " --proxy 'socks5://x", -2, "unterminated");
        t2pBad("unknown option", fd + p + " --bogus", -2, "unknown option");
        t2pBad("--route", fd + p + " --route", -2, "--route is an option of the tun2socks program");
        t2pBad("--user", fd + p + " --user nobody", -2, "--user is an option");
        t2pBad("--help", "--help", -2, "--help is an option");
        t2pBad("--tun NAME", "--tun tun7" + p, -2, "--tun opens a TUN by name");
        t2pBad("no descriptor", p.trim(), -2, "no TUN device");
        t2pBad("closed fd", "--tun-fd 1000" + p, -2, "1000 is not an open TUN descriptor");
        t2pBad("bad --mtu", fd + p + " --mtu 5", -2, "bad MTU '5'");
        from = lineCount();
        check(Tun2proxy.stop() == -1, "stop() when idle");
        check(logged(from, "not running"), "stop() when idle: not logged");
        ok("bad input, stop() when not running: -1, logged");

        // a start while running, each shape against the other
        check(TProxyService.TProxySetLogger(l), "TProxySetLogger");
        check(TProxyService.TProxySetProtector(new Protector(true)), "set");
        check(TProxyService.TProxyStartService(good, tunFd), "start");
        check(Tun2proxy.setLogger(l), "setLogger");
        from = lineCount();
        check(!TProxyService.TProxyStartService(good, tunFd), "second start");
        check(logged(from, "running already"), "second start: not logged");
        t2pBad("run() while running", t2pArgs(), -1, "running already");
        check(Tun2proxy.stop() == -1, "stop() of the other shape's instance");
        check(logged(from, "started by the other JNI shape"), "other shape");
        check(download(smallPort).equals(smallSha), "still works after the refusals");
        check(TProxyService.TProxyStopService(), "stop");
        ok("bad input, start while running: false / -1, logged; the running"
           + " instance unharmed");
    }

    public static void main(String[] a) {
        try {
            test(a);
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1); // whatever native thread is still running
        }
    }

    static void test(String[] a) throws Exception {
        tunFd = Integer.parseInt(a[0]);
        proxy = a[1];
        server = a[2];
        bigPort = Integer.parseInt(a[3]);
        bigSha = a[4];
        smallPort = Integer.parseInt(a[5]);
        smallSha = a[6];
        work = a[7];
        mark = Integer.decode(a[8]);
        cycles = Integer.parseInt(a[9]);
        String go = System.getenv("JNI_TEST_GO");
        for (int i = 0; go != null && !new File(go).exists(); i++) {
            check(i < 400, "the driver never said go");
            Thread.sleep(25);
        }
        System.loadLibrary("t2s-jni-test");
        System.loadLibrary("t2s-jni");

        String only = System.getenv("JNI_TEST_ONLY");
        hevTransfer(); // warms up the JVM's own threads and descriptors
        int fds0 = count("/proc/self/fd"), tasks0 = count("/proc/self/task");
        if (only == null || only.contains("t2p"))
            t2pTransfer();
        if (only == null || only.contains("race"))
            t2pStopRace();
        if (only == null || only.contains("refused"))
            refused();
        if (only == null || only.contains("compat"))
            compat();
        if (only == null || only.contains("bad"))
            badInput();
        if (only == null || only.contains("cycles"))
            cycles();
        check(instanceThreadsGone(), "an instance thread is left");
        int fds1 = count("/proc/self/fd"), tasks1 = count("/proc/self/task");
        // a thread just joined may be listed a moment longer (as above)
        for (int i = 0; i < 100 && tasks1 > tasks0; i++) {
            Thread.sleep(10);
            tasks1 = count("/proc/self/task");
        }
        System.out.println("descriptors " + fds0 + " -> " + fds1 + ", threads "
                           + tasks0 + " -> " + tasks1);
        check(fds1 <= fds0, "descriptors left behind: " + fds0 + " -> " + fds1);
        check(tasks1 <= tasks0, "threads left behind: " + tasks0 + " -> " + tasks1);
        ok("no descriptor or thread left behind");
        System.out.println("PASS");
    }
}
