package dev.amalgam.registry;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * A file's path inside a model folder as a client names it: relative, POSIX separators, no
 * {@code .} or {@code ..} segments, no empty segments, no control characters. Anything else is
 * refused before it can touch the file system.
 */
public record ModelPath(String value) {
    static final int MAX_LENGTH = 1024;
    private static final Pattern FORBIDDEN = Pattern.compile("[\\x00-\\x1f\\x7f\\\\:*?\"<>|]");

    public ModelPath {
        String why = problem(value);
        if (why != null) {
            throw RegistryException.badRequest("invalid file path '" + printable(value) + "': " + why);
        }
    }

    /** Why a path is refused, or null when it is fine. */
    static String problem(String p) {
        if (p == null || p.isEmpty()) return "empty";
        if (p.length() > MAX_LENGTH) return "longer than " + MAX_LENGTH + " characters";
        if (p.startsWith("/")) return "absolute paths are not allowed";
        if (FORBIDDEN.matcher(p).find()) return "contains a control character, backslash or one of : * ? \" < > |";
        for (String seg : p.split("/", -1)) {
            if (seg.isEmpty()) return "empty path segment";
            if (seg.equals(".") || seg.equals("..")) return "'.' and '..' segments are not allowed";
        }
        return null;
    }

    /** Resolves inside {@code root}; the checks above guarantee the result stays inside it. */
    public Path resolveIn(Path root) {
        Path r = root.resolve(value).normalize();
        if (!r.startsWith(root.normalize())) {
            throw RegistryException.badRequest("path escapes the model folder: " + value);
        }
        return r;
    }

    private static String printable(String s) {
        if (s == null) return "";
        String t = s.length() > 200 ? s.substring(0, 200) + "..." : s;
        return t.replaceAll("[\\x00-\\x1f\\x7f]", "?");
    }
}
