package testapps.proto.forkless;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.nio.charset.StandardCharsets;

/** The {@code forkless:} protocol of {@code AgentApp}, found as Spring Boot's {@code nested:} is. */
public class Handler extends URLStreamHandler {

    @Override
    protected URLConnection openConnection(URL url) {
        return new URLConnection(url) {
            @Override
            public void connect() {
            }

            @Override
            public InputStream getInputStream() {
                return new ByteArrayInputStream(("handled " + url.getPath()).getBytes(StandardCharsets.UTF_8));
            }
        };
    }
}
