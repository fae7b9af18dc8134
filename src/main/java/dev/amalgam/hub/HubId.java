package dev.amalgam.hub;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A Hugging Face model repository id, {@code ORG/NAME}, optionally pinned to a revision
 * ({@code ORG/NAME@REVISION}, as mergekit allows); {@link #source()} is the registry's source
 * identity {@code hf://ORG/NAME@REVISION}.
 */
public record HubId(String org, String name, String revision) {
    /** The Hub's own rule for a namespace or repository name (letters, digits, '-', '_', '.'; at most 96). */
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,95}");
    /** A branch, tag or commit; a commit is 40 hex digits. */
    private static final Pattern REVISION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    public static final String SCHEME = "hf://";

    public HubId {
        if (org == null || !PART.matcher(org).matches() || org.contains("..")) {
            throw new HubException("invalid Hub organisation '" + org + "': letters, digits, '-', '_', '.' (at most 96)");
        }
        if (name == null || !PART.matcher(name).matches() || name.contains("..")) {
            throw new HubException("invalid Hub repository name '" + name + "': letters, digits, '-', '_', '.' (at most 96)");
        }
        if (revision != null && !REVISION.matcher(revision).matches()) {
            throw new HubException("invalid Hub revision '" + revision + "': a commit hash, branch or tag");
        }
    }

    /** Parses {@code ORG/NAME}, {@code ORG/NAME@REVISION} or either with the {@code hf://} prefix. */
    public static HubId parse(String s) {
        if (s == null || s.isBlank()) throw new HubException("a Hub id is required: ORG/NAME@REVISION");
        String t = s.strip();
        if (t.toLowerCase(Locale.ROOT).startsWith(SCHEME)) t = t.substring(SCHEME.length());
        String revision = null;
        int at = t.indexOf('@');
        if (at >= 0) {
            revision = t.substring(at + 1);
            t = t.substring(0, at);
        }
        int slash = t.indexOf('/');
        if (slash <= 0 || slash != t.lastIndexOf('/')) {
            throw new HubException("invalid Hub id '" + s + "': expected ORG/NAME or ORG/NAME@REVISION");
        }
        return new HubId(t.substring(0, slash), t.substring(slash + 1), revision);
    }

    /** Whether a string looks like a Hub id ({@code ORG/NAME} with an optional revision) rather than a local name. */
    public static boolean looksLike(String s) {
        try {
            parse(s);
            return true;
        } catch (HubException e) {
            return false;
        }
    }

    /** {@code ORG/NAME}. */
    public String repo() {
        return org + "/" + name;
    }

    public boolean pinned() {
        return revision != null;
    }

    /** Whether the revision is a commit hash, the only revision that cannot move. */
    public boolean pinnedToCommit() {
        return revision != null && COMMIT.matcher(revision).matches();
    }

    public HubId at(String rev) {
        return new HubId(org, name, rev);
    }

    /** {@code hf://ORG/NAME@REVISION}. */
    public String source() {
        if (revision == null) throw new IllegalStateException(repo() + " has no revision");
        return SCHEME + repo() + "@" + revision;
    }

    @Override
    public String toString() {
        return revision == null ? repo() : repo() + "@" + revision;
    }
}
