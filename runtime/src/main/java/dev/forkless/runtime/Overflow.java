package dev.forkless.runtime;

/** What a send does when the receiving inbox (a copy's, or the runtime's) is full. */
public enum Overflow {
    /** The sender waits for room: back-pressure (at most 5 s, then the message counts as dropped). */
    BLOCK,
    /** The message is dropped and counted ({@link Forkless#droppedMessages()}). */
    DROP
}
