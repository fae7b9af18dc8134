package dev.amalgam.policy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every kind of mistake in a policy file gives one clear line naming file, entry and field. */
class PolicyFileValidationTest {
    private static LicenseCatalogue catalogue;

    @BeforeAll
    static void load() {
        catalogue = LicenseCatalogue.load(LicenseCatalogueTest.POLICIES.resolve("licenses.yaml"));
    }

    private static String releaseError(String yaml) {
        PolicyFileException e = assertThrows(PolicyFileException.class,
                () -> ReleasePolicy.parse("release.yaml", yaml.getBytes(StandardCharsets.UTF_8), catalogue));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    private static String catalogueError(String yaml) {
        PolicyFileException e = assertThrows(PolicyFileException.class,
                () -> LicenseCatalogue.parse("licenses.yaml", yaml.getBytes(StandardCharsets.UTF_8)));
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    private static final String ENV = "version: 1\nenvironments:\n  prod:\n    rules:\n";

    @Test
    void invalidYamlNamesTheLine() {
        String m = releaseError("version: 1\nenvironments: [unclosed\n");
        assertTrue(m.startsWith("release.yaml: not valid YAML (line "), m);
    }

    @Test
    void emptyFileIsRejected() {
        assertEquals("release.yaml: file is empty", releaseError(""));
    }

    @Test
    void duplicateKeysAreRejected() {
        String m = releaseError("version: 1\nversion: 1\nenvironments: {}\n");
        assertTrue(m.contains("Duplicate field 'version'"), m);
    }

    @Test
    void unknownTopLevelKey() {
        String m = releaseError("version: 1\nenvironment: {}\n");
        assertEquals("release.yaml: unknown key 'environment' (allowed: environments, exceptions, version)", m);
    }

    @Test
    void wrongVersion() {
        assertEquals("release.yaml: version: unsupported version; expected 1",
                releaseError("version: 2\nenvironments: {prod: {rules: [{id: s, type: scan-clean}]}}\n"));
    }

    @Test
    void unknownRuleKeyNamesEnvironmentRuleAndKey() {
        String m = releaseError(ENV + "      - {id: scan, type: scan-clean, mod: warn}\n");
        assertEquals("release.yaml: environments.prod.rules[0] (scan): unknown key 'mod' (allowed: description, id, mode, type)", m);
    }

    @Test
    void parameterOfAnotherRuleTypeIsRejected() {
        String m = releaseError(ENV + "      - {id: scan, type: scan-clean, formats: [safetensors]}\n");
        assertTrue(m.startsWith("release.yaml: environments.prod.rules[0] (scan): unknown key 'formats'"), m);
    }

    @Test
    void unknownRuleType() {
        String m = releaseError(ENV + "      - {id: x, type: virus-free}\n");
        assertTrue(m.startsWith("release.yaml: environments.prod.rules[0] (x).type: unknown rule type 'virus-free' (known: formats-allowed, "), m);
    }

    @Test
    void badMode() {
        String m = releaseError(ENV + "      - {id: x, type: scan-clean, mode: audit}\n");
        assertEquals("release.yaml: environments.prod.rules[0] (x).mode: 'audit' is not one of enforce, warn", m);
    }

    @Test
    void missingRequiredParameter() {
        String m = releaseError(ENV + "      - {id: f, type: formats-allowed}\n");
        assertEquals("release.yaml: environments.prod.rules[0] (f): missing required key 'formats'", m);
        assertEquals("release.yaml: environments.prod.rules[0]: missing required key 'id'",
                releaseError(ENV + "      - {type: scan-clean}\n"));
    }

    @Test
    void wrongValueTypes() {
        assertEquals("release.yaml: environments.prod.rules[0] (l).commercial: expected true or false but found text 'yes please'",
                releaseError(ENV + "      - {id: l, type: license-allowed, commercial: yes please}\n"));
        assertEquals("release.yaml: environments.prod.rules[0] (l).users: must be positive but is -5",
                releaseError(ENV + "      - {id: l, type: license-allowed, users: -5}\n"));
        assertEquals("release.yaml: environments.prod.rules[0] (f).formats: expected a list but found text 'safetensors'",
                releaseError(ENV + "      - {id: f, type: formats-allowed, formats: safetensors}\n"));
    }

    @Test
    void wrongShapes() {
        assertEquals("release.yaml: environments.prod.rules[0]: expected a mapping but found text 'scan'",
                releaseError(ENV + "      - scan\n"));
        assertEquals("release.yaml: environments: expected a mapping but found a list",
                releaseError("version: 1\nenvironments: [prod]\n"));
        assertEquals("licenses.yaml: licenses[0]: expected a mapping but found text 'MIT'",
                catalogueError(LICENSE_HEAD + "  - MIT\n"));
    }

    @Test
    void duplicateRuleIds() {
        String m = releaseError(ENV + "      - {id: s, type: scan-clean}\n      - {id: s, type: finite-weights}\n");
        assertEquals("release.yaml: environments.prod.rules[1] (s).id: duplicate rule id 's'", m);
    }

    @Test
    void emptyRulesAndBadNames() {
        assertEquals("release.yaml: environments.prod.rules: no rules: an environment without rules would deny everything",
                releaseError(ENV.replace("rules:\n", "rules: []\n")));
        assertTrue(releaseError("version: 1\nenvironments: {Prod Env: {rules: [{id: s, type: scan-clean}]}}\n")
                .startsWith("release.yaml: environments.Prod Env: environment name must match"));
    }

    @Test
    void deniedLicenseMustBeCatalogued() {
        String m = releaseError(ENV + "      - {id: l, type: license-allowed, deny: [WTFPL-9]}\n");
        assertEquals("release.yaml: environments.prod.rules[0] (l).deny: license 'WTFPL-9' is not in the license catalogue", m);
    }

    @Test
    void signedRuleMustCheckSomething() {
        String m = releaseError(ENV + "      - {id: s, type: signed, inputs: false, output: false}\n");
        assertEquals("release.yaml: environments.prod.rules[0] (s): a signed rule must check inputs, output or both", m);
    }

    private static final String ONE_RULE = ENV + "      - {id: repro, type: reproducible}\nexceptions:\n";

    @Test
    void exceptionNeedsApproverReasonAndExpiry() {
        assertEquals("release.yaml: exceptions[0]: missing required key 'approver'",
                releaseError(ONE_RULE + "  - {rule: repro, model: m, expires: 2026-01-01, reason: r}\n"));
        assertEquals("release.yaml: exceptions[0] (repro).expires: expected a date (2026-12-31) or instant (2026-12-31T00:00:00Z) but found 'soon'",
                releaseError(ONE_RULE + "  - {rule: repro, model: m, expires: soon, approver: a, reason: r}\n"));
        assertEquals("release.yaml: exceptions[0] (repro).reason: must not be empty",
                releaseError(ONE_RULE + "  - {rule: repro, model: m, expires: 2026-01-01, approver: a, reason: ''}\n"));
    }

    @Test
    void exceptionMustNameAnExistingRuleAndEnvironment() {
        assertEquals("release.yaml: exceptions[0] (scan).rule: no environment has a rule 'scan'",
                releaseError(ONE_RULE + "  - {rule: scan, model: m, expires: 2026-01-01, approver: a, reason: r}\n"));
        assertEquals("release.yaml: exceptions[0] (repro).environment: unknown environment 'qa'",
                releaseError(ONE_RULE + "  - {rule: repro, environment: qa, model: m, expires: 2026-01-01, approver: a, reason: r}\n"));
    }

    // ------------------------------------------------------------------ catalogue

    private static final String LICENSE_HEAD = "version: 1\nlicenses:\n";

    private static String license(String id, String extraEntryLines, String extraFacts) {
        return """
                  - id: %s
                    name: n
                    text: https://example.com/l
                %s    facts:
                      commercial_use: {value: true, source: s}
                      non_commercial: {value: false, source: s}
                      no_derivatives: {value: false, source: s}
                      share_alike: {value: false, source: s}
                      own_license_only: {value: false, source: s}
                %s""".formatted(id, extraEntryLines, extraFacts);
    }

    @Test
    void validTestEntryParses() {
        LicenseCatalogue c = LicenseCatalogue.parse("licenses.yaml", (LICENSE_HEAD + license("LicenseRef-X", "", "")).getBytes());
        assertEquals("LicenseRef-X", c.licenses().getFirst().id());
    }

    @Test
    void catalogueUnknownKeyNamesEntryAndField() {
        assertEquals("licenses.yaml: licenses[0] (LicenseRef-X): unknown key 'homepage' (allowed: aliases, facts, hub, id, name, resolved, text)",
                catalogueError(LICENSE_HEAD + license("LicenseRef-X", "    homepage: x\n", "")));
        assertTrue(catalogueError(LICENSE_HEAD + license("LicenseRef-X", "", "      commercial: {value: true, source: s}\n"))
                .startsWith("licenses.yaml: licenses[0] (LicenseRef-X).facts: unknown key 'commercial' (allowed: "));
    }

    @Test
    void factWithoutSourceIsRejected() {
        assertEquals("licenses.yaml: licenses[0] (LicenseRef-X).facts.user_cap: missing required key 'source'",
                catalogueError(LICENSE_HEAD + license("LicenseRef-X", "", "      user_cap: {value: 10}\n")));
    }

    @Test
    void missingRequiredFact() {
        String yaml = (LICENSE_HEAD + license("LicenseRef-X", "", "")).replace("      share_alike: {value: false, source: s}\n", "");
        assertEquals("licenses.yaml: licenses[0] (LicenseRef-X).facts: missing required key 'share_alike'", catalogueError(yaml));
    }

    @Test
    void badIdAndUrl() {
        assertTrue(catalogueError(LICENSE_HEAD + license("MIT OR X", "", ""))
                .startsWith("licenses.yaml: licenses[0] (MIT OR X).id: 'MIT OR X' must be a single SPDX id"));
        assertTrue(catalogueError(LICENSE_HEAD + license("Not Valid!", "", ""))
                .startsWith("licenses.yaml: licenses[0] (Not Valid!).id: not a license id: illegal character '!'"));
        assertEquals("licenses.yaml: licenses[0] (LicenseRef-X).text: must be an https:// URL of the license text",
                catalogueError((LICENSE_HEAD + license("LicenseRef-X", "", "")).replace("https://example.com/l", "ftp://x")));
    }

    @Test
    void duplicateIdsHubIdsAndAliasesAreRejected() {
        assertEquals("licenses.yaml: licenses[1] (licenseref-x).id: id 'licenseref-x' already belongs to LicenseRef-X",
                catalogueError(LICENSE_HEAD + license("LicenseRef-X", "", "") + license("licenseref-x", "", "")));
        assertEquals("licenses.yaml: licenses[1] (LicenseRef-Y).aliases: alias 'FOO' already belongs to LicenseRef-X",
                catalogueError(LICENSE_HEAD + license("LicenseRef-X", "    aliases: [foo]\n", "")
                        + license("LicenseRef-Y", "    aliases: [FOO]\n", "")));
    }

    @Test
    void wrongFactValueType() {
        assertEquals("licenses.yaml: licenses[0] (LicenseRef-X).facts.user_cap.value: expected a whole number but found text 'many'",
                catalogueError(LICENSE_HEAD + license("LicenseRef-X", "", "      user_cap: {value: many, source: s}\n")));
    }

    // ------------------------------------------------------------------ folder

    @Test
    void missingFolderOrFileIsReported(@TempDir Path dir) throws Exception {
        PolicyFileException none = assertThrows(PolicyFileException.class, () -> Policies.load(dir.resolve("nope")));
        assertTrue(none.getMessage().endsWith("nope: policy folder does not exist"), none.getMessage());
        Files.copy(LicenseCatalogueTest.POLICIES.resolve("licenses.yaml"), dir.resolve("licenses.yaml"));
        PolicyFileException missing = assertThrows(PolicyFileException.class, () -> Policies.load(dir));
        assertTrue(missing.getMessage().endsWith("release.yaml: missing policy file"), missing.getMessage());
    }

    @Test
    void badReleaseFileInFolderNamesTheFile(@TempDir Path dir) throws Exception {
        Files.copy(LicenseCatalogueTest.POLICIES.resolve("licenses.yaml"), dir.resolve("licenses.yaml"));
        Files.writeString(dir.resolve("release.yaml"), ENV + "      - {id: s, type: scan-clean, extra: 1}\n");
        PolicyFileException e = assertThrows(PolicyFileException.class, () -> Policies.load(dir));
        assertTrue(e.getMessage().startsWith("release.yaml: environments.prod.rules[0] (s): unknown key 'extra'"), e.getMessage());
    }
}
