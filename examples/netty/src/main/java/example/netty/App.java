package example.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A plain Netty 4.2 HTTP server, as Netty's HTTP hello-world example. {@code --epoll} picks the native
 * epoll transport instead of NIO, {@code --io-uring} the native io_uring one.
 */
public final class App {

    private static final String ID = UUID.randomUUID().toString();

    public static void main(String[] args) throws InterruptedException {
        int port = port(args);
        String transport = List.of(args).contains("--epoll") ? "epoll"
                : List.of(args).contains("--io-uring") ? "io_uring" : "nio";
        IoHandlerFactory io;
        Class<? extends ServerChannel> channel;
        switch (transport) {
            case "epoll" -> {
                io = EpollIoHandler.newFactory();
                channel = EpollServerSocketChannel.class;
            }
            case "io_uring" -> {
                io = IoUringIoHandler.newFactory();
                channel = IoUringServerSocketChannel.class;
            }
            default -> {
                io = NioIoHandler.newFactory();
                channel = NioServerSocketChannel.class;
            }
        }
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, io);
        EventLoopGroup workers = new MultiThreadIoEventLoopGroup(io);
        try {
            Channel server = new ServerBootstrap()
                    .group(boss, workers)
                    .channel(channel)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536), new Handler(transport));
                        }
                    })
                    .bind(port).sync().channel();
            System.out.println("netty example (" + transport + ") listening on " + port);
            server.closeFuture().sync();
        } finally {
            boss.shutdownGracefully();
            workers.shutdownGracefully();
        }
    }

    private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {

        private final String transport;

        Handler(String transport) {
            this.transport = transport;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            QueryStringDecoder uri = new QueryStringDecoder(request.uri());
            switch (uri.path()) {
                case "/" -> reply(ctx, keepAlive, HttpResponseStatus.OK, "Hello from Netty\n");
                case "/who" -> reply(ctx, keepAlive, HttpResponseStatus.OK, "{\"app\":\"netty-" + transport.replace("_", "-")
                        + "\",\"id\":\"" + ID + "\",\"pid\":" + ProcessHandle.current().pid() + "}");
                case "/crash" -> {
                    reply(ctx, keepAlive, HttpResponseStatus.OK, "crashing\n");
                    new Thread(() -> {
                        sleep(100);
                        throw new RuntimeException("crash");
                    }, "crasher").start();
                }
                case "/exit" -> {
                    List<String> how = uri.parameters().get("how");
                    Exits.exitSoon(how == null ? null : how.getFirst());
                    reply(ctx, keepAlive, HttpResponseStatus.OK, "exiting\n");
                }
                case "/slow" -> {
                    List<String> ms = uri.parameters().get("ms");
                    long delay = ms == null ? 1000 : Long.parseLong(ms.getFirst());
                    ctx.executor().schedule(() -> reply(ctx, keepAlive, HttpResponseStatus.OK, "slow\n"),
                            delay, TimeUnit.MILLISECONDS);
                }
                default -> reply(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "not found\n");
            }
        }

        private static void reply(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String body) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                    Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
            if (keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(response);
            } else {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static int port(String[] args) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--port")) {
                return Integer.parseInt(args[i + 1]);
            }
        }
        String env = System.getenv("PORT");
        return env == null || env.isBlank() ? 8080 : Integer.parseInt(env);
    }
}
