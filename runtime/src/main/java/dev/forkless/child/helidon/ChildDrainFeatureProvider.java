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

    // Helidon 4.0 to 4.2 ask for a feature with this form; the bridges the compiler adds for 4.5's
    // io.helidon.config.NamedService are dropped by the child agent when the app's Helidon lacks that type.
    @Override
    @SuppressWarnings({"removal", "deprecation"})
    public ChildDrainFeature create(io.helidon.common.config.Config config, String name) {
        return new ChildDrainFeature(name, ChildCopy.current());
    }
}
