package dev.forkless.isolate;

import java.io.ObjectInputFilter;
import java.util.function.BinaryOperator;

/**
 * The JVM-wide deserialization filter factory a host installs once: a stream created by a copy's thread
 * gets that copy's filter ({@code ObjectInputFilter.Config.setSerialFilter} in copy code is rewritten to
 * set the copy's own); any other stream gets what the JDK would give it.
 */
public final class SerialFilters implements BinaryOperator<ObjectInputFilter> {

    private SerialFilters() {
    }

    /** Installs the factory, unless the JVM already has one (then copies share the JVM's filter). */
    public static synchronized void install() {
        if (ObjectInputFilter.Config.getSerialFilterFactory() instanceof SerialFilters) {
            return;
        }
        try {
            ObjectInputFilter.Config.setSerialFilterFactory(new SerialFilters());
        } catch (IllegalStateException alreadySet) {
            System.getLogger("forkless.isolate").log(System.Logger.Level.WARNING,
                    "a serial filter factory is already set: copies share the JVM's deserialization filter");
        }
    }

    @Override
    public ObjectInputFilter apply(ObjectInputFilter current, ObjectInputFilter requested) {
        if (current == null) {
            // a new stream: the JVM-wide filter is 'requested'; a copy's own replaces it
            Isolate isolate = Isolate.of(Thread.currentThread());
            if (isolate != null && isolate.serialFilter() != null) {
                return isolate.serialFilter();
            }
        }
        return requested;
    }
}
