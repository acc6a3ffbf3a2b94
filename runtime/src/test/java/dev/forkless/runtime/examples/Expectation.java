package dev.forkless.runtime.examples;

/** What one (app, mode) combination does today: an entry of the compatibility matrix. */
sealed interface Expectation {

    /**
     * It serves from 2 copies, survives a crash and an exit, reloads and stops cleanly.
     *
     * @param crashMayFail  failed requests allowed (of 16 keep-alive connections) when one copy crashes
     * @param exitMayFail   likewise when one copy calls System.exit
     * @param reloadMayFail likewise during a rolling reload
     * @param note          what is not contained, or anything else the matrix says
     */
    record Serves(int crashMayFail, int exitMayFail, int reloadMayFail, String note) implements Expectation {
    }

    /**
     * A known failure: the runtime's output shows {@code signature} and the app does not serve from 2 copies.
     * When it does serve from 2, the test fails so that the entry is flipped to {@link Serves}.
     *
     * @param signature a fragment of a line of the runtime's output that shows the failure
     * @param because   the reason, in the words of docs/compatibility.md
     */
    record KnownFailure(String signature, String because) implements Expectation {
    }
}
