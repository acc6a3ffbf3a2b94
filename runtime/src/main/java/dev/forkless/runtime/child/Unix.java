package dev.forkless.runtime.child;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.channels.Channel;
import java.nio.charset.StandardCharsets;

/**
 * The few Linux calls process mode needs that Java has no API for, through {@code java.lang.foreign}:
 * passing a file descriptor over a Unix domain socket ({@code SCM_RIGHTS}), placing one on fd 0
 * ({@code dup2}), and reading the descriptor behind a JDK channel; and one Unix datagram, for systemd's
 * notification socket ({@link #sendDatagram}). Internal to Forkless.
 *
 * <p>Layouts are those of 64-bit Linux (x86-64 and AArch64 share them).
 */
public final class Unix {

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    /** sizeof(struct cmsghdr) on 64-bit Linux: size_t len, int level, int type. */
    private static final long CMSG_HDR = 16;
    private static final long CMSG_SPACE_INT = CMSG_HDR + 8;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout ERRNO_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = ERRNO_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    private static final MethodHandle SOCKET = handle("socket",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CONNECT = handle("connect",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle SENDMSG = handle("sendmsg",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle SENDTO = handle("sendto",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle RECVMSG = handle("recvmsg",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle DUP2 = handle("dup2",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = handle("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SHUTDOWN = handle("shutdown",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(LINKER.defaultLookup().find("strerror").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(256, ValueLayout.JAVA_BYTE)),
                    ValueLayout.JAVA_INT));

    private Unix() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor, CAPTURE);
    }

    /**
     * Connects a new Unix domain stream socket to a path.
     *
     * @param path the socket's path (at most 107 bytes)
     * @return the connected socket's descriptor
     * @throws IOException when it cannot connect
     */
    public static int connect(String path) throws IOException {
        byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > 107) {
            throw new IOException("socket path too long: " + path);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(ERRNO_STATE);
            int fd = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw error("socket", state);
            }
            MemorySegment addr = arena.allocate(110);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(bytes, 0, addr, ValueLayout.JAVA_BYTE, 2, bytes.length);
            int rc;
            do {
                rc = (int) CONNECT.invokeExact(state, fd, addr, 2 + bytes.length + 1);
            } while (rc < 0 && errno(state) == EINTR);
            if (rc < 0) {
                IOException e = error("connect " + path, state);
                close(fd);
                throw e;
            }
            return fd;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /**
     * Sends one datagram on a new Unix domain datagram socket, then closes it: what {@code sd_notify} does.
     * The JDK has Unix domain stream sockets only ({@code SocketChannel}); {@code DatagramChannel} takes
     * no Unix address.
     *
     * @param address the receiver: a path, or {@code @name} for a name in the abstract namespace (at most
     *                107 bytes)
     * @param data    the datagram
     * @throws IOException when it cannot be sent
     */
    public static void sendDatagram(String address, byte[] data) throws IOException {
        byte[] name = address.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = address.startsWith("@");
        if (name.length > 107 || name.length < 2 && abstractName || name.length == 0) {
            throw new IOException("not a Unix socket address: '" + address + "'");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(ERRNO_STATE);
            int fd = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                throw error("socket", state);
            }
            try {
                MemorySegment addr = arena.allocate(110);
                addr.fill((byte) 0);
                addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
                MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
                if (abstractName) {
                    addr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0); // '@' stands for the leading NUL
                }
                // an abstract name is exactly its bytes; a path ends with its NUL
                int length = 2 + name.length + (abstractName ? 0 : 1);
                MemorySegment buf = arena.allocate(Math.max(1, data.length));
                MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
                long n;
                do {
                    n = (long) SENDTO.invokeExact(state, fd, buf, (long) data.length, MSG_NOSIGNAL, addr, length);
                } while (n < 0 && errno(state) == EINTR);
                if (n < 0) {
                    throw error("sendto " + address, state);
                }
            } finally {
                close(fd);
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /**
     * Sends bytes, and optionally one descriptor with them ({@code SCM_RIGHTS}), in one message.
     *
     * @param socket the Unix domain socket
     * @param data   the bytes (all are sent)
     * @param passFd the descriptor to pass, or {@code -1}
     * @throws IOException when sending fails
     */
    public static void send(int socket, byte[] data, int passFd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(ERRNO_STATE);
            MemorySegment buf = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            int off = 0;
            boolean fdSent = passFd < 0;
            while (off < data.length) {
                MemorySegment iov = arena.allocate(16, 8);
                iov.set(ValueLayout.ADDRESS, 0, buf.asSlice(off));
                iov.set(ValueLayout.JAVA_LONG, 8, data.length - off);
                MemorySegment msg = arena.allocate(56, 8);
                msg.set(ValueLayout.ADDRESS, 16, iov);
                msg.set(ValueLayout.JAVA_LONG, 24, 1);
                if (!fdSent) {
                    MemorySegment cmsg = arena.allocate(CMSG_SPACE_INT, 8);
                    cmsg.set(ValueLayout.JAVA_LONG, 0, CMSG_HDR + 4);
                    cmsg.set(ValueLayout.JAVA_INT, 8, SOL_SOCKET);
                    cmsg.set(ValueLayout.JAVA_INT, 12, SCM_RIGHTS);
                    cmsg.set(ValueLayout.JAVA_INT, CMSG_HDR, passFd);
                    msg.set(ValueLayout.ADDRESS, 32, cmsg);
                    msg.set(ValueLayout.JAVA_LONG, 40, CMSG_SPACE_INT);
                }
                long n = (long) SENDMSG.invokeExact(state, socket, msg, MSG_NOSIGNAL);
                if (n < 0) {
                    int errno = errno(state);
                    if (errno == EINTR) {
                        continue;
                    }
                    if (errno == EAGAIN) {
                        // the JDK may have made the socket non-blocking (virtual threads): wait a little
                        Thread.sleep(1);
                        continue;
                    }
                    throw error("sendmsg", state);
                }
                fdSent = true;
                off += (int) n;
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /** What one {@link #receive} got: bytes, and a descriptor passed with them or {@code -1}. */
    public record Received(byte[] data, int fd) {
    }

    /**
     * Receives up to {@code max} bytes, and a descriptor if one was passed with them.
     *
     * @param socket the Unix domain socket (blocking)
     * @param max    the most bytes to read
     * @return what came; empty data means the other end closed
     * @throws IOException when receiving fails
     */
    public static Received receive(int socket, int max) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(ERRNO_STATE);
            MemorySegment buf = arena.allocate(max);
            MemorySegment iov = arena.allocate(16, 8);
            iov.set(ValueLayout.ADDRESS, 0, buf);
            iov.set(ValueLayout.JAVA_LONG, 8, max);
            MemorySegment cmsg = arena.allocate(CMSG_SPACE_INT * 4, 8);
            MemorySegment msg = arena.allocate(56, 8);
            long n;
            while (true) {
                msg.fill((byte) 0);
                msg.set(ValueLayout.ADDRESS, 16, iov);
                msg.set(ValueLayout.JAVA_LONG, 24, 1);
                msg.set(ValueLayout.ADDRESS, 32, cmsg);
                msg.set(ValueLayout.JAVA_LONG, 40, cmsg.byteSize());
                n = (long) RECVMSG.invokeExact(state, socket, msg, MSG_CMSG_CLOEXEC);
                if (n < 0 && errno(state) == EINTR) {
                    continue;
                }
                break;
            }
            if (n < 0) {
                throw error("recvmsg", state);
            }
            int fd = -1;
            long controlLen = msg.get(ValueLayout.JAVA_LONG, 40);
            if (controlLen >= CMSG_HDR + 4) {
                long len = cmsg.get(ValueLayout.JAVA_LONG, 0);
                int level = cmsg.get(ValueLayout.JAVA_INT, 8);
                int type = cmsg.get(ValueLayout.JAVA_INT, 12);
                if (level == SOL_SOCKET && type == SCM_RIGHTS && len >= CMSG_HDR + 4) {
                    fd = cmsg.get(ValueLayout.JAVA_INT, CMSG_HDR);
                    // more than one descriptor is never sent: close any extra
                    for (long off = CMSG_HDR + 4; off + 4 <= len; off += 4) {
                        close(cmsg.get(ValueLayout.JAVA_INT, off));
                    }
                }
            }
            byte[] data = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            return new Received(data, fd);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /**
     * {@code dup2(from, to)}.
     *
     * @throws IOException when it fails
     */
    public static void dup2(int from, int to) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(ERRNO_STATE);
            int rc;
            do {
                rc = (int) DUP2.invokeExact(state, from, to);
            } while (rc < 0 && errno(state) == EINTR);
            if (rc < 0) {
                throw error("dup2", state);
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    /** {@code close(fd)}, ignoring errors. */
    public static void close(int fd) {
        if (fd < 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(ERRNO_STATE), fd);
        } catch (Throwable ignored) {
            // best effort
        }
    }

    /** {@code shutdown(fd, SHUT_RDWR)}, ignoring errors: wakes a thread blocked reading it. */
    public static void shutdown(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) SHUTDOWN.invokeExact(arena.allocate(ERRNO_STATE), fd, 2);
        } catch (Throwable ignored) {
            // best effort
        }
    }

    /**
     * The descriptor behind a socket channel of the JDK. Needs {@code sun.nio.ch} exported to Forkless
     * ({@code Add-Exports} in runtime.jar's manifest, or {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED}).
     *
     * @param channel a socket channel
     * @return its descriptor
     * @throws IOException naming the missing option when it cannot be read
     */
    public static int fdOf(Channel channel) throws IOException {
        try {
            Class<?> selCh = Class.forName("sun.nio.ch.SelChImpl");
            if (!selCh.isInstance(channel)) {
                throw new IOException("not a JDK socket channel: " + channel.getClass().getName());
            }
            return (int) selCh.getMethod("getFDVal").invoke(channel);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IOException("process mode needs --add-exports java.base/sun.nio.ch=ALL-UNNAMED "
                    + "to pass the listening socket to child JVMs (" + e + ")", e);
        }
    }

    /**
     * Makes a channel of a received listening socket. With {@code first}, the public way: the descriptor
     * is placed on fd 0 and taken with {@code System.inheritedChannel()}, which works once per JVM (and
     * finds the socket's address family itself). Otherwise through the JDK's channel class, which needs
     * {@code --add-opens java.base/sun.nio.ch} and {@code java.base/java.io} (children and handed-over
     * runtimes are started with them).
     *
     * @param fd    the received descriptor; owned by the channel afterwards
     * @param first whether {@code System.inheritedChannel()} is still unused in this JVM
     * @return the listening channel
     * @throws IOException when the descriptor is no listening socket or cannot be wrapped
     */
    public static java.nio.channels.ServerSocketChannel listeningChannel(int fd, boolean first) throws IOException {
        if (first) {
            dup2(fd, 0);
            close(fd);
            Channel inherited = System.inheritedChannel();
            if (inherited instanceof java.nio.channels.ServerSocketChannel server) {
                return server;
            }
            throw new IOException("the received socket is no listening socket: " + inherited);
        }
        try {
            java.lang.reflect.Constructor<java.io.FileDescriptor> fdCtor =
                    java.io.FileDescriptor.class.getDeclaredConstructor(int.class);
            fdCtor.setAccessible(true);
            Class<?> impl = Class.forName("sun.nio.ch.ServerSocketChannelImpl");
            java.lang.reflect.Constructor<?> ctor = impl.getDeclaredConstructor(java.nio.channels.spi.SelectorProvider.class,
                    java.net.ProtocolFamily.class, java.io.FileDescriptor.class, boolean.class);
            ctor.setAccessible(true);
            return (java.nio.channels.ServerSocketChannel) ctor.newInstance(java.nio.channels.spi.SelectorProvider.provider(),
                    java.net.StandardProtocolFamily.INET6, fdCtor.newInstance(fd), true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            close(fd);
            throw new IOException("cannot take a second listening socket in this JVM: " + e, e);
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static IOException error(String call, MemorySegment state) {
        int errno = errno(state);
        String text;
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            text = s.getString(0);
        } catch (Throwable t) {
            text = "errno " + errno;
        }
        return new IOException(call + ": " + text);
    }
}
