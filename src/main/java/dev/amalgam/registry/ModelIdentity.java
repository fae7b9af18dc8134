package dev.amalgam.registry;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * A model's identity: the OpenSSF Model Signing root digest of its folder in {@code files}
 * serialization (SHA-256 over the concatenated raw SHA-256 digests of its files, ordered by path
 * component by component, as the reference implementation sorts).
 */
final class ModelIdentity {
    /** Top-level names OMS leaves out of a model's manifest. */
    private static final Set<String> IGNORED_AT_TOP = Set.of(".git", ".gitattributes", ".github", ".gitignore");

    /** Path order of the reference implementation: component by component. */
    static final Comparator<String> PATH_ORDER = (a, b) -> {
        String[] x = a.split("/");
        String[] y = b.split("/");
        for (int i = 0; i < Math.min(x.length, y.length); i++) {
            int c = x[i].compareTo(y[i]);
            if (c != 0) return c;
        }
        return Integer.compare(x.length, y.length);
    };

    private ModelIdentity() {
    }

    static boolean ignoredAtTop(String relativePath) {
        int slash = relativePath.indexOf('/');
        return IGNORED_AT_TOP.contains(slash < 0 ? relativePath : relativePath.substring(0, slash));
    }

    /** {@code sha256:<hex>} over the raw digests, in the given (already sorted) order. */
    static String rootDigest(List<String> hexDigests) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String d : hexDigests) md.update(HexFormat.of().parseHex(d));
            return "sha256:" + HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
