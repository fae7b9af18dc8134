package dev.amalgam.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The catalogue of model licenses ({@code policies/licenses.yaml}): looks licenses up by SPDX id,
 * Hub license id or Hub {@code license_name} alias, all case-insensitively.
 */
public final class LicenseCatalogue {
    /** File name of the catalogue inside the policies folder. */
    public static final String FILE_NAME = "licenses.yaml";

    private static final Set<String> TOP_KEYS = Set.of("version", "licenses");
    private static final Set<String> ENTRY_REQUIRED = Set.of("id", "name", "text", "facts");
    private static final Set<String> ENTRY_OPTIONAL = Set.of("hub", "aliases", "resolved");
    private static final Set<String> FACTS_REQUIRED = Set.of(
            "commercial_use", "non_commercial", "no_derivatives", "share_alike", "own_license_only");
    private static final Set<String> FACTS_OPTIONAL = Set.of("name_prefix", "attribution", "notice", "flow_down",
            "user_cap", "no_improving_other_models", "excluded_regions");

    private final List<LicenseInfo> licenses;
    private final Map<String, LicenseInfo> byId = new LinkedHashMap<>();
    private final Map<String, LicenseInfo> byHub = new LinkedHashMap<>();
    private final Map<String, LicenseInfo> byAlias = new LinkedHashMap<>();
    private final String digest;

    private LicenseCatalogue(List<LicenseInfo> licenses, String digest) {
        this.licenses = List.copyOf(licenses);
        this.digest = digest;
    }

    /** Reads and validates {@code file}. */
    public static LicenseCatalogue load(Path file) {
        try {
            return parse(file.getFileName().toString(), Files.readAllBytes(file));
        } catch (IOException e) {
            throw new PolicyFileException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Parses and validates catalogue bytes; {@code fileName} is used in error messages. */
    public static LicenseCatalogue parse(String fileName, byte[] bytes) {
        PolicyYaml root = PolicyYaml.read(fileName, bytes).keys(TOP_KEYS, Set.of());
        if (root.get("version").integer() != 1) throw root.get("version").error("unsupported version; expected 1");
        List<LicenseInfo> out = new ArrayList<>();
        for (PolicyYaml entry : root.get("licenses").list()) out.add(entry(entry));
        if (out.isEmpty()) throw root.get("licenses").error("no licenses");
        LicenseCatalogue c = new LicenseCatalogue(out, Digests.sha256(bytes));
        for (int i = 0; i < out.size(); i++) c.index(out.get(i), root.get("licenses").list().get(i));
        return c;
    }

    private static LicenseInfo entry(PolicyYaml y) {
        y.requireObject();
        String id = y.get("id").string();
        PolicyYaml e = y.labelled(id);
        e.keys(ENTRY_REQUIRED, ENTRY_OPTIONAL);
        LicenseExpression parsed;
        try {
            parsed = LicenseExpressionParser.parse(id);
        } catch (LicenseExpressionException ex) {
            throw e.get("id").error("not a license id: " + ex.getMessage());
        }
        if (!(parsed instanceof LicenseExpression.License l) || l.orLater()) {
            throw e.get("id").error("'" + id + "' must be a single SPDX id or LicenseRef-…");
        }
        String text = e.get("text").string();
        if (!text.startsWith("https://")) throw e.get("text").error("must be an https:// URL of the license text");
        PolicyYaml f = e.get("facts").keys(FACTS_REQUIRED, FACTS_OPTIONAL);
        return new LicenseInfo(id, e.get("name").string(), text,
                e.opt("hub").map(PolicyYaml::strings).orElse(List.of()),
                e.opt("aliases").map(PolicyYaml::strings).orElse(List.of()),
                e.opt("resolved").map(PolicyYaml::bool).orElse(true),
                boolFact(f, "commercial_use"), boolFact(f, "non_commercial"), boolFact(f, "no_derivatives"),
                boolFact(f, "share_alike"), boolFact(f, "own_license_only"),
                f.opt("name_prefix").map(v -> fact(v, v.get("value").string())),
                f.opt("attribution").map(v -> fact(v, v.get("value").string())),
                f.opt("notice").map(v -> fact(v, v.get("value").string())),
                f.opt("flow_down").map(v -> fact(v, v.get("value").strings())),
                f.opt("user_cap").map(v -> fact(v, v.get("value").positiveLong())),
                f.opt("no_improving_other_models").map(v -> fact(v, v.get("value").bool())),
                f.opt("excluded_regions").map(v -> fact(v, upper(v.get("value").strings()))));
    }

    private static Fact<Boolean> boolFact(PolicyYaml facts, String key) {
        PolicyYaml v = facts.get(key);
        return fact(v, v.get("value").bool());
    }

    private static <T> Fact<T> fact(PolicyYaml v, T value) {
        v.keys(Set.of("value", "source"), Set.of());
        return new Fact<>(value, v.get("source").string());
    }

    private static List<String> upper(List<String> xs) {
        return xs.stream().map(s -> s.toUpperCase(Locale.ROOT)).toList();
    }

    private void index(LicenseInfo info, PolicyYaml y) {
        PolicyYaml e = y.labelled(info.id());
        put(byId, info.id(), info, e.get("id"), "id");
        for (String h : info.hubIds()) put(byHub, h, info, e.get("hub"), "Hub id");
        for (String a : info.aliases()) put(byAlias, a, info, e.get("aliases"), "alias");
    }

    private static void put(Map<String, LicenseInfo> map, String key, LicenseInfo info, PolicyYaml at, String what) {
        LicenseInfo before = map.putIfAbsent(key.toLowerCase(Locale.ROOT), info);
        if (before != null) throw at.error(what + " '" + key + "' already belongs to " + before.id());
    }

    public List<LicenseInfo> licenses() {
        return licenses;
    }

    /** SHA-256 of the catalogue file bytes, {@code sha256:<hex>}. */
    public String digest() {
        return digest;
    }

    /** By SPDX id / LicenseRef, then by Hub id, then by alias; case-insensitive. */
    public Optional<LicenseInfo> find(String idHubIdOrAlias) {
        String k = idHubIdOrAlias.toLowerCase(Locale.ROOT);
        LicenseInfo i = byId.get(k);
        if (i == null) i = byHub.get(k);
        if (i == null) i = byAlias.get(k);
        return Optional.ofNullable(i);
    }

    /** The entry for a license term of an expression ({@code X+} and {@code X WITH e} look up {@code X}). */
    public Optional<LicenseInfo> find(LicenseExpression term) {
        return switch (term) {
            case LicenseExpression.License l -> find(l.id());
            case LicenseExpression.With w -> find(w.license().id());
            default -> throw new IllegalArgumentException("not a single license term: " + term);
        };
    }

    /**
     * The license a Hub model card declares: {@code license:} (a Hub id), and for
     * {@code license: other} the {@code license_name:}. Unrecognised values map to the
     * unresolved {@code other}/{@code unknown} entries, never to a guess.
     */
    public LicenseInfo fromHub(String license, String licenseName) {
        String l = license == null || license.isBlank() ? "unknown" : license.strip();
        if (l.equalsIgnoreCase("other") && licenseName != null && !licenseName.isBlank()) {
            LicenseInfo byName = byAlias.get(licenseName.strip().toLowerCase(Locale.ROOT));
            if (byName != null) return byName;
        }
        LicenseInfo info = byHub.get(l.toLowerCase(Locale.ROOT));
        if (info == null) info = byId.get(l.toLowerCase(Locale.ROOT));
        if (info != null) return info;
        return Optional.ofNullable(byHub.get("unknown"))
                .orElseGet(() -> LicenseInfo.unresolved("LicenseRef-unknown", "Unknown license"));
    }

    /** The expression with every known id spelt as in the catalogue. */
    public LicenseExpression canonicalize(LicenseExpression e) {
        return switch (e) {
            case LicenseExpression.License l ->
                    find(l.id()).map(i -> new LicenseExpression.License(i.id(), l.orLater())).orElse(l);
            case LicenseExpression.With w ->
                    new LicenseExpression.With((LicenseExpression.License) canonicalize(w.license()), w.exception());
            case LicenseExpression.And a -> new LicenseExpression.And(canonicalize(a.left()), canonicalize(a.right()));
            case LicenseExpression.Or o -> new LicenseExpression.Or(canonicalize(o.left()), canonicalize(o.right()));
        };
    }
}
