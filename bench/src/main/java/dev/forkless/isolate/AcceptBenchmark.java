package dev.forkless.isolate;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;
import java.util.concurrent.TimeUnit;

/**
 * One connection, connected and accepted, then closed: on a plain blocking {@link ServerSocketChannel}
 * (what the demo alone does) against an isolate's {@link ListenerView} (what every copy does in isolate
 * mode: the runtime's {@link AcceptDispatcher} accepts the connection on its own thread and queues it to
 * the view, whose blocking {@code accept} waits for it). The difference between the two is the hand-off
 * from the dispatcher thread to the app's acceptor, paid once per connection. The client closes with
 * SO_LINGER 0 so no TIME_WAIT piles up.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xss1m", "--add-opens=java.base/java.util=ALL-UNNAMED",
        "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.logging/java.util.logging=ALL-UNNAMED",
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED"})
public class AcceptBenchmark {

    private ServerSocketChannel plain;
    private SocketAddress plainAddress;
    private BenchHost host;
    private ListenerView view;
    private SocketAddress viewAddress;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        plain = ServerSocketChannel.open();
        plain.bind(BenchHost.loopback(), 128);
        plainAddress = plain.getLocalAddress();
        host = new BenchHost();
        Isolate isolate = BenchHost.isolate(host);
        view = isolate.openListener(SelectorProvider.provider());
        view.bind(BenchHost.loopback(), 128);
        viewAddress = view.getLocalAddress();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        plain.close();
        view.close();
        host.close();
    }

    @Benchmark
    public void plainChannel() throws IOException {
        roundTrip(plain, plainAddress);
    }

    @Benchmark
    public void listenerView() throws IOException {
        roundTrip(view, viewAddress);
    }

    private static void roundTrip(ServerSocketChannel server, SocketAddress address) throws IOException {
        try (SocketChannel client = SocketChannel.open()) {
            client.setOption(StandardSocketOptions.SO_LINGER, 0);
            client.connect(address);
            try (SocketChannel accepted = server.accept()) {
                if (accepted == null) {
                    throw new IllegalStateException("no connection");
                }
            }
        }
    }
}
