package dev.amalgam.policy;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Properties that hold for every pair of catalogue licenses and for arbitrary parser input. */
class CombinationInvariantsTest {
    private static final List<LicenseTarget> TARGETS = List.of(LicenseTarget.ANY,
            new LicenseTarget(true, "EU", 1_000_000_000L), new LicenseTarget(true, "US", 10));

    @Test
    void everyPairOfCatalogueLicensesCombinesConsistently() {
        LicenseCatalogue catalogue = LicenseCatalogue.load(LicenseCatalogueTest.POLICIES.resolve("licenses.yaml"));
        LicenseCombiner combiner = new LicenseCombiner(catalogue);
        for (LicenseInfo a : catalogue.licenses()) {
            for (LicenseInfo b : catalogue.licenses()) {
                for (LicenseTarget target : TARGETS) {
                    LicenseCombination c = combiner.combine(
                            List.of(LicenseInput.of("a", a.id()), LicenseInput.of("b", b.id())), target);
                    String what = a.id() + " + " + b.id() + " for " + target;
                    assertEquals(c.problems().isEmpty(), c.allowed(), what);
                    assertNotNull(c.expression().orElseThrow(), what);
                    if (!a.resolved() || !b.resolved() || a.noDerivatives().value() || b.noDerivatives().value()) {
                        assertFalse(c.allowed(), what + " must be denied");
                    }
                    if (target.commercial() && (!a.allowsCommercialUse() || !b.allowsCommercialUse())) {
                        assertFalse(c.allowed(), what + " must be denied commercially");
                    }
                    for (LicenseProblem p : c.problems()) {
                        assertFalse(p.message().isBlank(), what);
                        if (p.isPair()) assertTrue(p.first().startsWith("a (") || p.first().startsWith("b ("), what);
                    }
                    if (a.id().equals(b.id()) && a.resolved() && !a.noDerivatives().value() && target == LicenseTarget.ANY) {
                        assertTrue(c.allowed(), "a license combines with itself: " + what + " " + c.problems());
                    }
                }
            }
        }
    }

    @Test
    void arbitraryInputEitherParsesAndRoundTripsOrFailsWithAPosition() {
        Random random = new Random(20261124);
        String[] pieces = {"MIT", "Apache-2.0", "LicenseRef-x", "AND", "OR", "WITH", "(", ")", "+", "and", " ", "GPL-2.0",
                "e-1", "&", ""};
        for (int n = 0; n < 5000; n++) {
            StringBuilder sb = new StringBuilder();
            int len = random.nextInt(12);
            for (int i = 0; i < len; i++) sb.append(pieces[random.nextInt(pieces.length)]).append(random.nextBoolean() ? " " : "");
            String input = sb.toString();
            try {
                LicenseExpression e = LicenseExpressionParser.parse(input);
                assertEquals(e, LicenseExpressionParser.parse(e.toString()), "round trip of '" + input + "'");
                assertEquals(e.toString(), LicenseExpressionParser.parse(e.toString()).toString());
            } catch (LicenseExpressionException ex) {
                assertTrue(ex.position() >= 1 && ex.position() <= input.length() + 1, input + " -> " + ex.getMessage());
            } catch (RuntimeException other) {
                fail("'" + input + "' threw " + other);
            }
        }
    }
}
