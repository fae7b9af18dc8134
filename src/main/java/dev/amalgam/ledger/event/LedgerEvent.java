package dev.amalgam.ledger.event;

/**
 * One fact written to the ledger. Each permitted record is one event type; its components are the
 * entry's payload fields, named as on the wire. {@link EventCodec} is the only reader and writer.
 */
public sealed interface LedgerEvent
        permits ModelRegistered, MergeSubmitted, MergeCompleted, MergeFailed, MergeCancelled, MergeReviewed, ModelReviewed, PolicyDecided, ModelReleased,
        MergeReproduced, PrincipalCreated, PrincipalRevoked, PrincipalTokenReset, ModelEvaluated {
}
