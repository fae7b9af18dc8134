package dev.amalgam.cli;

/** A failure the user can act on: printed as one line, never as a stack trace. */
public class CliException extends RuntimeException {
    /** Exit code for bad input or a failed operation. */
    public static final int FAILED = 1;
    /** Exit code for input that could not be used at all (unreadable, malformed). */
    public static final int UNUSABLE = 2;

    private final int exitCode;

    public CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CliException(String message) {
        this(FAILED, message);
    }

    public int exitCode() {
        return exitCode;
    }
}
