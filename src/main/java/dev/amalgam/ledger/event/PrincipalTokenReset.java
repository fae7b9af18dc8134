package dev.amalgam.ledger.event;

/** A principal got a new token through the data-directory recovery ({@code amalgam admin reset-token}). */
@EventType(name = "principal.token-reset", summary = "a principal got a new token by the data-directory recovery (`amalgam admin reset-token`); the old one stops working")
public record PrincipalTokenReset(
        @Field("principal name") String name,
        @Field("why: `requested` (the command) or `rebuilt` (the database was rebuilt, tokens are never in the ledger)") String reason,
        @Field("when (ISO-8601)") String at) implements LedgerEvent {
}
