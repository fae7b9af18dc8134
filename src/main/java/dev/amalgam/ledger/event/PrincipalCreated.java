package dev.amalgam.ledger.event;

/** An API principal was created: its name and roles, never its token. */
@EventType(name = "principal.created", summary = "an API principal was created (name and roles; never a token)")
public record PrincipalCreated(
        @Field("principal name") String name,
        @Field("roles, comma-separated") String roles,
        @Field("who created it (`bootstrap` for the first admin)") String createdBy,
        @Field("when (ISO-8601)") String createdAt) implements LedgerEvent {
}
