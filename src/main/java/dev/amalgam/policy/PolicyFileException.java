package dev.amalgam.policy;

/**
 * A policy file (release policy or license catalogue) that cannot be read or is invalid. The
 * message is one line naming the file, the entry and the field, e.g.
 * {@code release.yaml: environments.production.rules[2] (scan): unknown key 'mod' (allowed: id, type, mode, ...)}.
 */
public final class PolicyFileException extends RuntimeException {
    public PolicyFileException(String message) {
        super(message);
    }

    public PolicyFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
