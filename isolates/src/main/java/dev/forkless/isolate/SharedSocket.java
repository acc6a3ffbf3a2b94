package dev.forkless.isolate;

import java.nio.channels.ServerSocketChannel;

/** One listening socket shared by every isolate that binds its address; owned by the host. */
public interface SharedSocket {

    /** @return the listening channel, in non-blocking mode; only ever accepted from, never closed by a view */
    ServerSocketChannel channel();

    /** The view using this socket closed; the last release closes the socket. */
    void release();
}
