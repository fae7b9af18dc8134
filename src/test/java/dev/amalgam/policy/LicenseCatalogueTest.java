package dev.amalgam.policy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shipped catalogue, policies/licenses.yaml. */
class LicenseCatalogueTest {
    static final Path POLICIES = Path.of("policies");
    private static LicenseCatalogue catalogue;

    @BeforeAll
    static void load() {
        catalogue = LicenseCatalogue.load(POLICIES.resolve("licenses.yaml"));
    }

    private static LicenseInfo get(String id) {
        return catalogue.find(id).orElseThrow(() -> new AssertionError(id + " missing"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Apache-2.0", "MIT", "CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC-BY-ND-4.0",
            "CC-BY-NC-SA-4.0", "CC-BY-NC-ND-4.0", "LicenseRef-OpenRAIL", "BigScience-OpenRAIL-M",
            "CreativeML-OpenRAIL-M", "LicenseRef-OpenRAIL-PlusPlus", "BigScience-BLOOM-RAIL-1.0",
            "LicenseRef-Llama-2", "LicenseRef-Llama-3", "LicenseRef-Llama-3.1", "LicenseRef-Llama-3.2",
            "LicenseRef-Llama-3.3", "LicenseRef-Llama-4", "LicenseRef-Gemma", "LicenseRef-Qwen",
            "LicenseRef-Qwen-Research", "LicenseRef-MRL", "LicenseRef-DeepSeek", "LicenseRef-Falcon-180B-TII",
            "LicenseRef-Falcon-LLM-2.0", "LicenseRef-unknown", "LicenseRef-other"})
    void everyListedLicenseLoadsWithSourcedFacts(String id) {
        LicenseInfo info = get(id);
        assertEquals(id, info.id());
        assertTrue(info.text().startsWith("https://"));
        for (Fact<Boolean> f : List.of(info.commercialUse(), info.nonCommercial(), info.noDerivatives(),
                info.shareAlike(), info.ownLicenseOnly())) {
            assertFalse(f.source().isBlank(), id + " has a fact without source");
        }
    }

    @Test
    void idsAreCanonicalExpressions() {
        for (LicenseInfo info : catalogue.licenses()) {
            assertEquals(info.id(), LicenseExpression.parse(info.id()).toString());
        }
        assertEquals(catalogue.licenses().size(),
                catalogue.licenses().stream().map(LicenseInfo::id).collect(Collectors.toSet()).size());
    }

    @ParameterizedTest
    @CsvSource({
            "apache-2.0, , Apache-2.0",
            "mit, , MIT",
            "cc-by-nc-4.0, , CC-BY-NC-4.0",
            "openrail, , LicenseRef-OpenRAIL",
            "bigscience-openrail-m, , BigScience-OpenRAIL-M",
            "openrail++, , LicenseRef-OpenRAIL-PlusPlus",
            "bigscience-bloom-rail-1.0, , BigScience-BLOOM-RAIL-1.0",
            "llama2, , LicenseRef-Llama-2",
            "llama3, , LicenseRef-Llama-3",
            "llama3.1, , LicenseRef-Llama-3.1",
            "llama3.2, , LicenseRef-Llama-3.2",
            "llama3.3, , LicenseRef-Llama-3.3",
            "llama4, , LicenseRef-Llama-4",
            "gemma, , LicenseRef-Gemma",
            "other, qwen, LicenseRef-Qwen",
            "other, tongyi-qianwen, LicenseRef-Qwen",
            "other, qwen-research, LicenseRef-Qwen-Research",
            "other, mrl, LicenseRef-MRL",
            "other, deepseek, LicenseRef-DeepSeek",
            "other, falcon-llm-license, LicenseRef-Falcon-LLM-2.0",
            "other, falcon-180b-license, LicenseRef-Falcon-180B-TII",
            "other, some-custom-license, LicenseRef-other",
            "other, , LicenseRef-other",
            "unknown, , LicenseRef-unknown",
            ", , LicenseRef-unknown",
            "no-such-hub-id, , LicenseRef-unknown",
            "LLAMA3.1, , LicenseRef-Llama-3.1",
            "other, QWEN, LicenseRef-Qwen",
    })
    void hubIdsAndLicenseNamesResolve(String license, String licenseName, String expected) {
        assertEquals(expected, catalogue.fromHub(license, licenseName).id());
    }

    @Test
    void lookupIsCaseInsensitiveAcrossIdsHubIdsAndAliases() {
        assertEquals("LicenseRef-Llama-3.1", get("licenseref-llama-3.1").id());
        assertEquals("LicenseRef-Llama-3.1", get("llama3.1").id());
        assertEquals("LicenseRef-MRL", get("MRL").id());
        assertEquals("Apache-2.0 WITH LLVM-exception AND LicenseRef-Llama-3.1",
                catalogue.canonicalize(LicenseExpression.parse("apache-2.0 with LLVM-exception and licenseref-llama-3.1")).toString());
    }

    @Test
    void llamaFactsMatchTheirLicenses() {
        LicenseInfo l2 = get("LicenseRef-Llama-2");
        assertTrue(l2.forbidsImprovingOtherModels());
        assertTrue(l2.namePrefix().isEmpty());
        assertEquals(700_000_000L, l2.userCap().orElseThrow().value());
        assertEquals("Llama 3", get("LicenseRef-Llama-3").namePrefix().orElseThrow().value());
        for (String v : List.of("3.1", "3.2", "3.3", "4")) {
            LicenseInfo l = get("LicenseRef-Llama-" + v);
            assertEquals("Llama", l.namePrefix().orElseThrow().value(), v);
            assertEquals("Built with Llama", l.attribution().orElseThrow().value(), v);
            assertFalse(l.forbidsImprovingOtherModels(), v);
            assertFalse(l.flowDownRestrictions().isEmpty(), v + " AUP flows down");
        }
        assertEquals(List.of("EU"), get("LicenseRef-Llama-4").excludedRegionList());
    }

    @Test
    void restrictiveFactsAreRecorded() {
        assertFalse(get("CC-BY-NC-4.0").allowsCommercialUse());
        assertTrue(get("CC-BY-ND-4.0").noDerivatives().value());
        assertTrue(get("CC-BY-SA-4.0").shareAlike().value());
        assertFalse(get("LicenseRef-MRL").allowsCommercialUse());
        assertFalse(get("LicenseRef-Qwen-Research").allowsCommercialUse());
        assertEquals("Built with Qwen", get("LicenseRef-Qwen").attribution().orElseThrow().value());
        assertFalse(get("LicenseRef-Gemma").flowDownRestrictions().isEmpty());
        assertTrue(get("LicenseRef-Gemma").notice().orElseThrow().value().contains("Gemma Terms of Use"));
        for (String rail : Set.of("BigScience-OpenRAIL-M", "CreativeML-OpenRAIL-M", "LicenseRef-OpenRAIL-PlusPlus",
                "BigScience-BLOOM-RAIL-1.0", "LicenseRef-OpenRAIL")) {
            assertFalse(get(rail).flowDownRestrictions().isEmpty(), rail);
        }
        assertFalse(get("LicenseRef-unknown").resolved());
        assertFalse(get("LicenseRef-other").resolved());
        assertTrue(get("Apache-2.0").allowsCommercialUse());
    }

    @Test
    void catalogueWithoutPlaceholdersStillMapsUnknownToUnresolved() {
        LicenseCatalogue small = LicenseCatalogue.parse("licenses.yaml",
                ("version: 1\nlicenses:\n" + LicenseCombinerTest.entry("LicenseRef-A", "A")).getBytes());
        LicenseInfo info = small.fromHub("mystery", null);
        assertEquals("LicenseRef-unknown", info.id());
        assertFalse(info.resolved());
    }

    @Test
    void digestIsOfTheFileBytes() throws Exception {
        byte[] bytes = java.nio.file.Files.readAllBytes(POLICIES.resolve("licenses.yaml"));
        assertEquals(Digests.sha256(bytes), catalogue.digest());
        assertTrue(catalogue.digest().matches("sha256:[0-9a-f]{64}"));
    }
}
