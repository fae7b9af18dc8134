package dev.amalgam.policy;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** docs/policies.md documents every rule type, license fact and problem kind the code knows. */
class PolicyDocsTest {
    private static final Path DOC = Path.of("docs", "policies.md");

    @Test
    void everyRuleTypeProblemKindAndFactIsDocumented() throws Exception {
        String doc = Files.readString(DOC);
        for (RuleType t : RuleType.values()) {
            assertTrue(doc.contains("| `" + t.id() + "` |"), "rule type " + t.id() + " missing from " + DOC);
            for (String p : t.parameters()) assertTrue(doc.contains("`" + p + "`"), "parameter " + p + " of " + t.id());
        }
        for (LicenseProblem.Kind k : LicenseProblem.Kind.values()) {
            assertTrue(doc.contains("`" + k.id() + "`"), "problem kind " + k.id() + " missing from " + DOC);
        }
        for (String fact : new String[] {"commercial_use", "non_commercial", "no_derivatives", "share_alike",
                "own_license_only", "name_prefix", "attribution", "notice", "flow_down", "user_cap",
                "no_improving_other_models", "excluded_regions"}) {
            assertTrue(doc.contains("| `" + fact + "` |"), "fact " + fact + " missing from " + DOC);
        }
    }
}
