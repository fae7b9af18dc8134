package dev.amalgam.registry;

import java.util.List;

/**
 * A request the registry refuses, with a kind the API maps to an HTTP status and every reason
 * (some refusals have several, and users want them all at once). Made by the factory methods, one per kind.
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

    /** A malformed request: a missing or badly formed parameter, body or path (400). */
    public static RegistryException badRequest(String message) {
        return new RegistryException(Kind.INVALID, message);
    }

    /** A request with several problems, every one listed (400). */
    public static RegistryException badRequest(String message, List<String> reasons) {
        return new RegistryException(Kind.INVALID, message, reasons);
    }

    /** Nothing by that name, id or digest (404). */
    public static RegistryException notFound(String message) {
        return new RegistryException(Kind.NOT_FOUND, message);
    }

    /** The request contradicts the registry's state: already exists, already decided, wrong state (409). */
    public static RegistryException conflict(String message) {
        return new RegistryException(Kind.CONFLICT, message);
    }

    /** A conflict with every reason listed (409). */
    public static RegistryException conflict(String message, List<String> reasons) {
        return new RegistryException(Kind.CONFLICT, message, reasons);
    }

    /** The caller may not do this (403). */
    public static RegistryException forbidden(String message) {
        return new RegistryException(Kind.FORBIDDEN, message);
    }

    /** Well-formed but refused on its content, with every problem (422). */
    public static RegistryException unprocessable(String message, List<String> reasons) {
        return new RegistryException(Kind.UNPROCESSABLE, message, reasons);
    }

    /** Well-formed but refused on its content (422). */
    public static RegistryException unprocessable(String message) {
        return new RegistryException(Kind.UNPROCESSABLE, message);
    }

    /** Larger than the registry accepts (413). */
    public static RegistryException tooLarge(String message) {
        return new RegistryException(Kind.TOO_LARGE, message);
    }

    /** The registry cannot take writes now, with every reason (503). */
    public static RegistryException unavailable(String message, List<String> reasons) {
        return new RegistryException(Kind.UNAVAILABLE, message, reasons);
    }

    public Kind kind() {
        return kind;
    }

    public List<String> reasons() {
        return reasons;
    }
}
