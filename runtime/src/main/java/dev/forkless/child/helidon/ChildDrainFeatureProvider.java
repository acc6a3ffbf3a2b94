package dev.forkless.child.helidon;

import dev.forkless.child.ChildCopy;

import io.helidon.webserver.spi.ServerFeatureProvider;

/**
 * Offers the {@link ChildDrainFeature} to a Helidon app in a child JVM through Helidon's own service
 * discovery: the child agent jar lists this provider under
 * {@code META-INF/services/io.helidon.webserver.spi.ServerFeatureProvider}, so it links against the app's
 * own Helidon. Outside a child JVM it adds nothing.
 */
public final class ChildDrainFeatureProvider implements ServerFeatureProvider<ChildDrainFeature> {

    /** Called by Helidon's service discovery. */
    public ChildDrainFeatureProvider() {
    }

    @Override
    public String configKey() {
        return ChildDrainFeature.TYPE;
    }

    @Override
    public ChildDrainFeature create(io.helidon.config.Config config, String name) {
        return new ChildDrainFeature(name, ChildCopy.current());
    }
}
