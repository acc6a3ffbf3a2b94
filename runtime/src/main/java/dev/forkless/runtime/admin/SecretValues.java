package dev.forkless.runtime.admin;

import java.util.List;
import java.util.Locale;

/**
 * Which environment variables hold secrets, by their names ({@code DB_PASSWORD}, {@code API_TOKEN},
 * {@code AWS_SECRET_ACCESS_KEY}): {@code GET /api/app} and {@code forkless describe} show their names and
 * never their values.
 */
public final class SecretValues {

    /** What a secret's value is shown as: the same whatever its length. */
    public static final String MASK = "****";

    private static final List<String> SECRET_WORDS = List.of("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY",
            "CREDENTIAL", "PRIVATE", "AUTH");

    private SecretValues() {
    }

    /** @return whether a variable of this name looks like it holds a secret */
    public static boolean secret(String name) {
        String upper = name.toUpperCase(Locale.ROOT);
        return SECRET_WORDS.stream().anyMatch(upper::contains);
    }

    /** @return the value to show for a variable: its own, or {@link #MASK} for a secret's */
    public static String shown(String name, String value) {
        return secret(name) ? MASK : value;
    }
}
