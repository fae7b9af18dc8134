package dev.amalgam.merge;

/** Hears about a merge's progress; called from worker threads, so implementations must be thread-safe. */
public interface ProgressListener {
    ProgressListener NONE = new ProgressListener() {
    };

    default void started(int tensors, long bytes) {
    }

    default void tensorDone(String name, long bytes) {
    }

    default void finished() {
    }
}
