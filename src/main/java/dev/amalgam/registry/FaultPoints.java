package dev.amalgam.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Named points in the registry's write paths where the chaos suite stops the server. Off unless
 * the system property {@code amalgam.fault.hold} names points (comma-separated) and
 * {@code amalgam.fault.marker} names a file: the first thread to reach a listed point writes the
 * point's name to the marker file and waits there, so the test can {@code kill -9} (or SIGTERM) the
 * process at exactly that moment. Without the property every call is a no-op.
 */
public final class FaultPoints {
    private static final Set<String> HOLD = parse(System.getProperty("amalgam.fault.hold", ""));
    private static final String MARKER = System.getProperty("amalgam.fault.marker", "");
    private static volatile boolean released;

    private FaultPoints() {
    }

    /** Holds the calling thread when {@code point} is one the chaos suite asked for; otherwise returns at once. */
    public static void at(String point) {
        if (HOLD.isEmpty() || !HOLD.contains(point) || MARKER.isEmpty()) return;
        try {
            Files.writeString(Path.of(MARKER), point);
            while (!released) Thread.sleep(20);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the fault marker " + MARKER, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Lets held threads go on (the server is shutting down). */
    public static void releaseAll() {
        released = true;
    }

    private static Set<String> parse(String s) {
        return s.isBlank() ? Set.of() : Set.of(s.trim().split("\\s*,\\s*"));
    }
}
