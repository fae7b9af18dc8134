package dev.amalgam.policy;

import java.util.List;
import java.util.Optional;

/** A named target (dev, staging, production) with its release rules. */
public record Environment(String name, String description, List<ReleaseRule> rules) {
    public Environment {
        rules = List.copyOf(rules);
    }

    public Optional<ReleaseRule> rule(String id) {
        return rules.stream().filter(r -> r.id().equals(id)).findFirst();
    }

    /** What the environment needs from licenses: that of its first {@code license-allowed} rule, else {@link LicenseTarget#ANY}. */
    public LicenseTarget licenseTarget() {
        return rules.stream().filter(r -> r.type() == RuleType.LICENSE_ALLOWED).findFirst()
                .map(ReleaseRule::license).orElse(LicenseTarget.ANY);
    }
}
