package dev.amalgam.ledger.event;

/**
 * A decoded ledger entry: the envelope the ledger adds ({@code seq}, {@code timestamp}, {@code actor},
 * {@code prev}) around one typed event.
 */
public record LedgerEntry(long seq, String timestamp, String actor, String prev, LedgerEvent event) {
    public String type() {
        return EventCodec.typeName(event.getClass());
    }
}
