package testapps;

import dev.forkless.api.Worker;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

/**
 * Answers each connection with "hello from ID" and closes it. args[0]: "socket" (java.net.ServerSocket)
 * or "channel" (ServerSocketChannel.open()); args[1]: port.
 */
public class SocketApp {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[1]);
        String hello = "hello from " + Worker.id() + "\n";
        if (args[0].equals("socket")) {
            ServerSocket server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
            new Thread(() -> {
                try {
                    while (true) {
                        try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
                            out.write(hello.getBytes(StandardCharsets.UTF_8));
                        }
                    }
                } catch (Exception closed) {
                    // the isolate stopped accepting
                }
            }, "socket-app-acceptor").start();
        } else {
            ServerSocketChannel server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            new Thread(() -> {
                try {
                    while (true) {
                        try (SocketChannel s = server.accept()) {
                            s.write(ByteBuffer.wrap(hello.getBytes(StandardCharsets.UTF_8)));
                        }
                    }
                } catch (Exception closed) {
                    // the isolate stopped accepting
                }
            }, "channel-app-acceptor").start();
        }
    }
}
