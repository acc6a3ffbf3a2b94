package dev.forkless.runtime.testing;

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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * systemd's side of {@code sd_notify}, for tests on a machine without systemd: an {@code AF_UNIX} datagram
 * socket, bound to a path or an abstract name ({@code @name}), with {@code SO_PASSCRED} on, so that each
 * message comes with its sender's pid as the kernel tells it ({@code SCM_CREDENTIALS}), as systemd reads
 * them. Give a runtime {@code NOTIFY_SOCKET=}{@link #address()}; read what it sent with {@link #messages()}.
 * Written here, apart from the runtime's own sending code, with the calls systemd makes.
 */
public final class FakeSystemd implements AutoCloseable {

    /** One datagram: its sender's pid and its {@code KEY=value} lines. */
    public record Message(long pid, List<String> lines) {
        public boolean has(String line) {
            return lines.contains(line);
        }
    }

    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_PASSCRED = 16;
    private static final int SO_RCVTIMEO = 20;
    private static final int SCM_CREDENTIALS = 2;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout ERRNO_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = ERRNO_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    private static final MethodHandle SOCKET = handle("socket",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SETSOCKOPT = handle("setsockopt",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle BIND = handle("bind",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle RECVMSG = handle("recvmsg",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private final String address;
    private final int fd;
    private final List<Message> messages = new CopyOnWriteArrayList<>();
    private final Thread reader;
    private volatile boolean closed;

    private FakeSystemd(String address, int fd) {
        this.address = address;
        this.fd = fd;
        this.reader = Thread.ofPlatform().daemon(true).name("fake-systemd").start(this::read);
    }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor, CAPTURE);
    }

    /**
     * Binds the socket.
     *
     * @param address a path, or {@code @name} for the abstract namespace
     */
    public static FakeSystemd listen(String address) throws IOException {
        byte[] name = address.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = address.startsWith("@");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(ERRNO_STATE);
            int fd = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            check(fd, "socket", state);
            MemorySegment one = arena.allocate(ValueLayout.JAVA_INT);
            one.set(ValueLayout.JAVA_INT, 0, 1);
            check((int) SETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, SO_PASSCRED, one, 4), "SO_PASSCRED", state);
            MemorySegment timeout = arena.allocate(16, 8); // struct timeval: 200 ms, so that close() ends the reader
            timeout.set(ValueLayout.JAVA_LONG, 0, 0);
            timeout.set(ValueLayout.JAVA_LONG, 8, 200_000);
            check((int) SETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16), "SO_RCVTIMEO", state);
            MemorySegment addr = arena.allocate(110);
            addr.fill((byte) 0);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(name, 0, addr, ValueLayout.JAVA_BYTE, 2, name.length);
            if (abstractName) {
                addr.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
            }
            int length = 2 + name.length + (abstractName ? 0 : 1);
            check((int) BIND.invokeExact(state, fd, addr, length), "bind " + address, state);
            return new FakeSystemd(address, fd);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    private static void check(int rc, String call, MemorySegment state) throws IOException {
        if (rc < 0) {
            throw new IOException(call + ": errno " + (int) ERRNO.get(state, 0L));
        }
    }

    private void read() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(ERRNO_STATE);
            MemorySegment buf = arena.allocate(4096);
            MemorySegment iov = arena.allocate(16, 8);
            MemorySegment control = arena.allocate(256, 8);
            MemorySegment msg = arena.allocate(56, 8);
            while (!closed) {
                msg.fill((byte) 0);
                iov.set(ValueLayout.ADDRESS, 0, buf);
                iov.set(ValueLayout.JAVA_LONG, 8, buf.byteSize());
                msg.set(ValueLayout.ADDRESS, 16, iov);
                msg.set(ValueLayout.JAVA_LONG, 24, 1);
                msg.set(ValueLayout.ADDRESS, 32, control);
                msg.set(ValueLayout.JAVA_LONG, 40, control.byteSize());
                long n = (long) RECVMSG.invokeExact(state, fd, msg, 0);
                if (n < 0) {
                    int errno = (int) ERRNO.get(state, 0L);
                    if (errno == EAGAIN || errno == EINTR) {
                        continue;
                    }
                    return;
                }
                long pid = -1;
                long controlLength = msg.get(ValueLayout.JAVA_LONG, 40);
                long offset = 0;
                while (offset + 16 <= controlLength) { // struct cmsghdr: size_t len, int level, int type
                    long len = control.get(ValueLayout.JAVA_LONG, offset);
                    int level = control.get(ValueLayout.JAVA_INT, offset + 8);
                    int type = control.get(ValueLayout.JAVA_INT, offset + 12);
                    if (level == SOL_SOCKET && type == SCM_CREDENTIALS && len >= 16 + 12) {
                        pid = control.get(ValueLayout.JAVA_INT, offset + 16); // struct ucred: pid, uid, gid
                    }
                    if (len < 16) {
                        break;
                    }
                    offset += (len + 7) & ~7L;
                }
                String text = new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                messages.add(new Message(pid, List.of(text.split("\n"))));
            }
        } catch (Throwable t) {
            if (!closed) {
                messages.add(new Message(-1, List.of("fake-systemd: " + t)));
            }
        }
    }

    /** @return what to set {@code NOTIFY_SOCKET} to */
    public String address() {
        return address;
    }

    /** @return every message so far, in the order they came */
    public List<Message> messages() {
        return List.copyOf(messages);
    }

    /** @return the messages from one process */
    public List<Message> from(long pid) {
        return messages.stream().filter(m -> m.pid() == pid).toList();
    }

    /** @return whether a message from {@code pid} has a line that matches */
    public boolean received(long pid, Predicate<String> line) {
        return from(pid).stream().anyMatch(m -> m.lines().stream().anyMatch(line));
    }

    /** @return every message, one line each, for assertion messages */
    public String summary() {
        List<String> shown = new ArrayList<>();
        messages.forEach(m -> shown.add("pid " + m.pid() + ": " + String.join(" | ", m.lines())));
        return String.join("\n", shown);
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        reader.join(2_000);
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(ERRNO_STATE), fd);
        } catch (Throwable ignored) {
            // closing
        }
        if (!address.startsWith("@")) {
            try {
                java.nio.file.Files.deleteIfExists(java.nio.file.Path.of(address));
            } catch (IOException ignored) {
                // a temporary folder's
            }
        }
    }
}
