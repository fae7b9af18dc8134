package dev.amalgam.policy;

/** Which branch of an input's OR expression the combination took, and why. */
public record OrChoice(String input, String expression, String chosen, String reason) {
}
