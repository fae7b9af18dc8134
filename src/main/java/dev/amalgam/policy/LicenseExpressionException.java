package dev.amalgam.policy;

/** A license expression that does not parse; carries the 1-based character position of the problem. */
public final class LicenseExpressionException extends IllegalArgumentException {
    private final int position;

    LicenseExpressionException(String problem, int position, String input) {
        super(problem + " at position " + position + " in '" + shorten(input) + "'");
        this.position = position;
    }

    /** 1-based position of the offending character (input length + 1 for "unexpected end"). */
    public int position() {
        return position;
    }

    private static String shorten(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
