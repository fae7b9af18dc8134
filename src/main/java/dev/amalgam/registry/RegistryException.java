package dev.amalgam.registry;

import java.util.List;

/**
 * A request the registry refuses, with a kind the API maps to an HTTP status and every reason
 * (some refusals have several, and users want them all at once).
 */
public class RegistryException extends RuntimeException {
    /** Why the request was refused. */
    public enum Kind { INVALID, NOT_FOUND, CONFLICT, FORBIDDEN, UNPROCESSABLE, TOO_LARGE, UNAVAILABLE }

    private final Kind kind;
    private final List<String> reasons;

    public RegistryException(Kind kind, String message) {
        this(kind, message, List.of());
    }

    public RegistryException(Kind kind, String message, List<String> reasons) {
        super(message);
        this.kind = kind;
        this.reasons = List.copyOf(reasons);
    }

    public Kind kind() {
        return kind;
    }

    public List<String> reasons() {
        return reasons;
    }
}
