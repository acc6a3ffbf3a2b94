package dev.forkless.isolate;

import java.net.SocketAddress;
import java.net.SocketOption;
import java.util.Map;

/** A copy, as its listener views see it, whose views share one dispatcher: what the runtime gives a copy. */
record DispatcherOwner(AcceptDispatcher dispatcher, boolean accepting) implements ListenerOwner {
    @Override
    public SharedSocket bind(SocketAddress requested, int backlog, Map<SocketOption<?>, Object> options) {
        return SharedSocket.of(dispatcher);
    }

    @Override
    public boolean isAccepting() {
        return accepting;
    }
}
