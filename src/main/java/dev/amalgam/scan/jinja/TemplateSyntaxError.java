package dev.amalgam.scan.jinja;

/** The template is not one our strict parser accepts; the message names the line and what was expected. */
public final class TemplateSyntaxError extends RuntimeException {
    private final int line;

    TemplateSyntaxError(int line, String message) {
        super("line " + line + ": " + message, null, false, false);
        this.line = line;
    }

    public int line() {
        return line;
    }
}
