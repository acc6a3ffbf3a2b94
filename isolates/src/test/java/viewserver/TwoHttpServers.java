package viewserver;

import com.sun.net.httpserver.HttpServer;
import dev.forkless.isolate.AcceptDispatcher;
import dev.forkless.isolate.ListenerOwner;
import dev.forkless.isolate.SharedSocket;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Two JDK {@code HttpServer}s (which register their listening channel with a JDK selector) on one
 * real socket through listener views and one dispatcher, in one JVM. Prints {@code port N}; on
 * {@code stop X} from stdin stops server X and prints {@code stopped X}.
 */
public final class TwoHttpServers {

    public static void main(String[] args) throws Exception {
        ServerSocketChannel socket = sun.nio.ch.DefaultSelectorProvider.get().openServerSocketChannel();
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
        AcceptDispatcher dispatcher = AcceptDispatcher.lazy(socket, "http"); // as the runtime has
        HttpServer a = server("a", dispatcher);
        HttpServer b = server("b", dispatcher);
        System.out.println("port " + ((InetSocketAddress) socket.getLocalAddress()).getPort());
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("stop a")) {
                a.stop(0);
                System.out.println("stopped a");
            } else if (line.equals("stop b")) {
                b.stop(0);
                System.out.println("stopped b");
            }
            System.out.flush();
        }
        System.exit(0);
    }

    private static HttpServer server(String name, AcceptDispatcher dispatcher) throws IOException {
        ViewSelectorProvider.nextOwner = new ListenerOwner() {
            @Override
            public SharedSocket bind(SocketAddress requested, int backlog, Map<SocketOption<?>, Object> options) {
                return SharedSocket.of(dispatcher);
            }

            @Override
            public boolean isAccepting() {
                return true;
            }
        };
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            server.createContext("/", exchange -> {
                byte[] body = name.getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            server.start();
            return server;
        } finally {
            ViewSelectorProvider.nextOwner = null;
        }
    }
}
