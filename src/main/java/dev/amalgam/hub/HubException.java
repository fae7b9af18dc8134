package dev.amalgam.hub;

/** A Hugging Face repository, cache or card that cannot be read safely; the message says which file and why. */
public final class HubException extends RuntimeException {
    public HubException(String message) {
        super(message);
    }
}
