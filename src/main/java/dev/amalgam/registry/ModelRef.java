package dev.amalgam.registry;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How callers name a model: its numeric id, {@code name@version}, or {@code sha256:<root digest>}.
 */
public sealed interface ModelRef {
    Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    record ById(long id) implements ModelRef {
    }

    record ByNameVersion(String name, String version) implements ModelRef {
    }

    record ByDigest(String digest) implements ModelRef {
    }

    /** @throws RegistryException (invalid) naming the three accepted forms */
    static ModelRef parse(String s) {
        if (s == null || s.isBlank()) throw invalid(s);
        String t = s.trim();
        if (t.chars().allMatch(Character::isDigit) && t.length() <= 18) return new ById(Long.parseLong(t));
        if (t.toLowerCase(Locale.ROOT).startsWith("sha256:")) {
            String d = t.toLowerCase(Locale.ROOT);
            if (!DIGEST.matcher(d).matches()) throw invalid(s);
            return new ByDigest(d);
        }
        if (t.regionMatches(true, 0, "hf://", 0, 5)) t = t.substring(5); // hf://ORG/NAME@REVISION: a Hub source
        int at = t.lastIndexOf('@');
        if (at > 0 && at < t.length() - 1) return new ByNameVersion(t.substring(0, at), t.substring(at + 1));
        throw invalid(s);
    }

    private static RegistryException invalid(String s) {
        if (s != null && s.indexOf('/') > 0 && s.indexOf('@') < 0 && dev.amalgam.hub.HubId.looksLike(s)) {
            return RegistryException.badRequest("'" + s + "' is a Hub id without a revision:"
                    + " pin it as " + s.strip() + "@REVISION (the commit it was registered from); the registry merges"
                    + " pinned models only");
        }
        return RegistryException.badRequest("invalid model reference '" + s
                + "': use an id, NAME@VERSION or sha256:<64 hex digits>");
    }
}
