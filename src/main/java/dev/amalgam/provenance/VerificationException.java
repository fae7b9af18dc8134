package dev.amalgam.provenance;

/** A signature that does not hold: which file changed, wrong key, bad chain, tampered payload. */
public class VerificationException extends Exception {
    public VerificationException(String message) {
        super(message);
    }
}
