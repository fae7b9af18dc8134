package dev.amalgam.provenance;

/** Input that cannot be used: a malformed bundle, an unreadable key, a model folder that cannot be hashed. */
public class ProvenanceException extends RuntimeException {
    public ProvenanceException(String message) {
        super(message);
    }

    public ProvenanceException(String message, Throwable cause) {
        super(message, cause);
    }
}
