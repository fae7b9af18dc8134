package dev.amalgam.ledger.event;

/** A ledger entry that does not match the event types: unknown type, missing envelope field, wrong field type. */
public final class LedgerFormatException extends RuntimeException {
    public LedgerFormatException(String message) {
        super(message);
    }
}
