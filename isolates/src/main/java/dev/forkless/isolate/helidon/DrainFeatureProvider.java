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
 * runtime's loader.
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
        return new DrainFeature(name, Isolate.of(DrainFeatureProvider.class));
    }
}
