package dev.forkless.runtime;

/**
 * How an operation on the copies ended (a reload, a restart, a scale).
 *
 * @param ok       whether it did all it was asked
 * @param replaced copies started by it that now serve
 * @param reason   why it stopped short, or {@code ""}
 */
public record OperationResult(boolean ok, int replaced, String reason) {

    public static OperationResult done(int replaced) {
        return new OperationResult(true, replaced, "");
    }

    public static OperationResult failed(int replaced, String reason) {
        return new OperationResult(false, replaced, reason);
    }
}
