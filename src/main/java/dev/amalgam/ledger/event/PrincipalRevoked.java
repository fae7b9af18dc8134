package dev.amalgam.ledger.event;

/** An API principal's token was revoked. */
@EventType(name = "principal.revoked", summary = "an API principal was revoked")
public record PrincipalRevoked(
        @Field("principal name") String name,
        @Field("when (ISO-8601)") String revokedAt) implements LedgerEvent {
}
