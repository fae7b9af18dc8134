package dev.amalgam.ledger.event;

/** One release rule's result inside a gate decision or release. */
public record RuleOutcome(String id, String type, String mode, String result, String message, String exception) {
}
