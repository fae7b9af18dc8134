package dev.amalgam.policy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The release policy ({@code policies/release.yaml}): environments with their rules, and the
 * time-boxed exceptions. Parsing validates everything, so a loaded policy can be trusted.
 */
public final class ReleasePolicy {
    /** File name of the release policy inside the policies folder. */
    public static final String FILE_NAME = "release.yaml";

    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    private static final Set<String> RULE_COMMON = Set.of("id", "type", "mode", "description");

    private final Map<String, Environment> environments;
    private final List<Exemption> exemptions;
    private final String digest;
    private final List<String> order;

    private ReleasePolicy(Map<String, Environment> environments, List<Exemption> exemptions, String digest) {
        this.environments = Map.copyOf(environments);
        this.exemptions = List.copyOf(exemptions);
        this.digest = digest;
        this.order = List.copyOf(environments.keySet());
    }

    /** Reads and validates {@code file}; license ids in {@code deny:} lists are checked against {@code catalogue}. */
    public static ReleasePolicy load(Path file, LicenseCatalogue catalogue) {
        try {
            return parse(file.getFileName().toString(), Files.readAllBytes(file), catalogue);
        } catch (IOException e) {
            throw new PolicyFileException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Parses and validates release policy bytes; {@code fileName} is used in messages. */
    public static ReleasePolicy parse(String fileName, byte[] bytes, LicenseCatalogue catalogue) {
        PolicyYaml root = PolicyYaml.read(fileName, bytes).keys(Set.of("version", "environments"), Set.of("exceptions"));
        if (root.get("version").integer() != 1) throw root.get("version").error("unsupported version; expected 1");
        Map<String, Environment> envs = new LinkedHashMap<>();
        for (PolicyYaml e : root.get("environments").entries()) envs.put(e.key(), environment(e, catalogue));
        if (envs.isEmpty()) throw root.get("environments").error("no environments defined");
        List<Exemption> exemptions = new ArrayList<>();
        if (root.has("exceptions")) {
            for (PolicyYaml x : root.get("exceptions").list()) exemptions.add(exemption(x, envs));
        }
        return new ReleasePolicy(envs, exemptions, Digests.sha256(bytes));
    }

    private static Environment environment(PolicyYaml e, LicenseCatalogue catalogue) {
        String name = e.key();
        if (!NAME.matcher(name).matches()) throw e.error("environment name must match " + NAME.pattern());
        e.keys(Set.of("rules"), Set.of("description"));
        List<ReleaseRule> rules = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (PolicyYaml r : e.get("rules").list()) {
            ReleaseRule rule = rule(r, catalogue);
            if (!ids.add(rule.id())) throw r.labelled(rule.id()).get("id").error("duplicate rule id '" + rule.id() + "'");
            rules.add(rule);
        }
        if (rules.isEmpty()) throw e.get("rules").error("no rules: an environment without rules would deny everything");
        return new Environment(name, e.opt("description").map(PolicyYaml::string).orElse(""), rules);
    }

    private static ReleaseRule rule(PolicyYaml r, LicenseCatalogue catalogue) {
        r.requireObject();
        if (!r.has("id")) throw r.error("missing required key 'id'");
        String id = r.get("id").string();
        PolicyYaml y = r.labelled(id);
        if (!NAME.matcher(id).matches()) throw y.get("id").error("rule id must match " + NAME.pattern());
        if (!y.has("type")) throw y.error("missing required key 'type'");
        String typeId = y.get("type").string();
        RuleType type = RuleType.byId(typeId).orElseThrow(() -> y.get("type").error("unknown rule type '" + typeId
                + "' (known: " + String.join(", ", Arrays.stream(RuleType.values()).map(RuleType::id).toList()) + ")"));
        Set<String> allowed = new HashSet<>(RULE_COMMON);
        allowed.addAll(type.parameters());
        y.keys(type == RuleType.FORMATS_ALLOWED ? Set.of("id", "type", "formats") : Set.of("id", "type"), allowed);
        ReleaseRule.Mode mode = y.opt("mode").map(m -> ReleaseRule.Mode.valueOf(
                m.oneOf(Set.of("enforce", "warn")).toUpperCase(Locale.ROOT))).orElse(ReleaseRule.Mode.ENFORCE);
        List<String> formats = List.of();
        if (type == RuleType.FORMATS_ALLOWED) {
            formats = y.get("formats").strings().stream().map(s -> s.toLowerCase(Locale.ROOT)).toList();
            if (formats.isEmpty()) throw y.get("formats").error("list at least one format");
        }
        LicenseTarget target = null;
        if (type == RuleType.LICENSE_ALLOWED) {
            List<String> deny = y.opt("deny").map(PolicyYaml::strings).orElse(List.of());
            for (String d : deny) {
                if (catalogue.find(d).isEmpty()) throw y.get("deny").error("license '" + d + "' is not in the license catalogue");
            }
            target = new LicenseTarget(y.opt("commercial").map(PolicyYaml::bool).orElse(false),
                    y.opt("region").map(PolicyYaml::string).orElse(null),
                    y.opt("users").map(PolicyYaml::positiveLong).orElse(0L),
                    Set.copyOf(deny.stream().map(d -> catalogue.find(d).orElseThrow().id()).toList()));
        }
        boolean inputs = y.opt("inputs").map(PolicyYaml::bool).orElse(true);
        boolean output = y.opt("output").map(PolicyYaml::bool).orElse(true);
        if (type == RuleType.SIGNED && !inputs && !output) {
            throw y.error("a signed rule must check inputs, output or both");
        }
        ReleaseRule.EvaluationBounds bounds = null;
        if (type == RuleType.EVALUATED) {
            if (!y.has("dataset")) throw y.error("missing required key 'dataset' (the evaluation dataset the rule reads)");
            Double maxPpl = y.opt("max-perplexity").map(PolicyYaml::positiveNumber).orElse(null);
            Double maxKl = y.opt("max-kl").map(PolicyYaml::positiveNumber).orElse(null);
            String ref = y.opt("kl-reference").map(PolicyYaml::string).orElse(null);
            if ((maxKl == null) != (ref == null)) throw y.error("max-kl and kl-reference go together (the KL to which model)");
            boolean finite = y.opt("finite-logits").map(PolicyYaml::bool).orElse(false);
            if (maxPpl == null && maxKl == null && !finite) {
                throw y.error("an evaluated rule needs at least one of max-perplexity, max-kl, finite-logits: true");
            }
            bounds = new ReleaseRule.EvaluationBounds(y.get("dataset").string(), maxPpl, maxKl, ref, finite);
        }
        return new ReleaseRule(id, type, mode, y.opt("description").map(PolicyYaml::string).orElse(""),
                formats, inputs, output, target, bounds);
    }

    /**
     * The built-in rule every environment has: a merge whose reviewer rejected it is denied, whatever
     * the environment's own review rule says. A rejection is a decision, not a missing approval; only
     * an exception naming this rule (with its approver, reason and expiry, so on the record in the
     * policy whose digest every decision carries) overrides it.
     */
    public static final String REJECTION_RULE = "rejection";

    private static Exemption exemption(PolicyYaml x, Map<String, Environment> envs) {
        x.keys(Set.of("rule", "model", "expires", "approver", "reason"), Set.of("environment"));
        String rule = x.get("rule").string();
        PolicyYaml y = x.labelled(rule);
        String env = y.opt("environment").map(PolicyYaml::string).orElse(null);
        if (rule.equals(REJECTION_RULE)) {
            if (env != null && !envs.containsKey(env)) throw y.get("environment").error("unknown environment '" + env + "'");
        } else if (env != null) {
            Environment e = envs.get(env);
            if (e == null) throw y.get("environment").error("unknown environment '" + env + "'");
            if (e.rule(rule).isEmpty()) throw y.get("rule").error("environment '" + env + "' has no rule '" + rule + "'");
        } else if (envs.values().stream().allMatch(e -> e.rule(rule).isEmpty())) {
            throw y.get("rule").error("no environment has a rule '" + rule + "'");
        }
        return new Exemption(rule, env, y.get("model").string(), y.get("expires").instant(),
                y.get("approver").string(), y.get("reason").string());
    }

    /** Environment names in file order. */
    public List<String> environmentNames() {
        return order;
    }

    public Optional<Environment> environment(String name) {
        return Optional.ofNullable(environments.get(name));
    }

    public List<Exemption> exemptions() {
        return exemptions;
    }

    /** Exceptions that no longer apply at {@code now}: worth a warning at start so they get cleaned up. */
    public List<Exemption> expiredAt(Instant now) {
        return exemptions.stream().filter(x -> !x.isValidAt(now)).toList();
    }

    /** SHA-256 of the policy file bytes, {@code sha256:<hex>}. */
    public String digest() {
        return digest;
    }
}
