package dev.forkless.isolate.helidon;

import dev.forkless.isolate.Isolate;

import io.helidon.webserver.spi.ServerFeatureProvider;

/**
 * Adds the {@link DrainFeature} to every Helidon {@code WebServer} an isolate's app builds, through
 * Helidon's own service discovery: the isolate's loader lists this provider under
 * {@code META-INF/services/io.helidon.webserver.spi.ServerFeatureProvider}. The app needs no change
 * and no configuration.
 *
 * <p>This class is defined inside each isolate (it links against the app's own Helidon), never by the
 * runtime's loader. It answers both ways Helidon 4 asks for a feature: {@code create(Config, String)}
 * with {@code io.helidon.common.config.Config} (4.0 to 4.5) and with {@code io.helidon.config.Config}
 * (4.3 and later, where the first is deprecated). The bridge methods the compiler adds for 4.5's
 * {@code io.helidon.config.NamedService} are dropped by the isolate's loader when the app's Helidon has
 * no such type.
 */
public final class DrainFeatureProvider implements ServerFeatureProvider<DrainFeature> {

    /** Called by Helidon's service discovery. */
    public DrainFeatureProvider() {
    }

    @Override
    public String configKey() {
        return DrainFeature.TYPE;
    }

    @Override
    public DrainFeature create(io.helidon.config.Config config, String name) {
        return feature(name);
    }

    @Override
    @SuppressWarnings({"removal", "deprecation"})
    public DrainFeature create(io.helidon.common.config.Config config, String name) {
        return feature(name);
    }

    private static DrainFeature feature(String name) {
        return new DrainFeature(name, Isolate.of(DrainFeatureProvider.class));
    }
}
