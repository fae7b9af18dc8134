package dev.amalgam.scan;

import java.util.Locale;

/**
 * One thing the scanner found in a file: which rule, how bad, why, and the offending detail
 * (a global, a byte offset, a key). Rules whose id starts with {@code unscannable.} mean the file
 * could not be fully analysed: never clean.
 */
public record Finding(String file, String rule, Severity severity, String message, String detail) {
    /** How bad a finding is. */
    public enum Severity { INFO, WARNING, HIGH, CRITICAL }

    /** A finding of one of the scanner's rules, with that rule's severity. */
    public Finding(String file, Rule rule, String message, String detail) {
        this(file, rule.id(), rule.severity(), message, detail);
    }

    /** The same finding reported under another file name (the path as the user gave it). */
    public Finding renamed(String newFile) {
        return new Finding(newFile, rule, severity, message, detail);
    }

    public boolean unscannable() {
        return rule.startsWith("unscannable.");
    }

    @Override
    public String toString() {
        return file + ": " + rule + " [" + severity.name().toLowerCase(Locale.ROOT) + "] " + message
                + (detail == null ? "" : " (" + detail + ")");
    }
}
