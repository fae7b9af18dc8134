package dev.amalgam.policy;

import dev.amalgam.policy.LicenseExpression.And;
import dev.amalgam.policy.LicenseExpression.License;
import dev.amalgam.policy.LicenseExpression.Or;
import dev.amalgam.policy.LicenseExpression.With;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LicenseExpressionParserTest {

    private static LicenseExpressionException fails(String input) {
        return assertThrows(LicenseExpressionException.class, () -> LicenseExpressionParser.parse(input));
    }

    @Test
    void parsesASingleLicense() {
        assertEquals(new License("MIT", false), LicenseExpression.parse("MIT"));
    }

    @Test
    void parsesOrLaterAndLicenseRef() {
        assertEquals(new License("GPL-2.0", true), LicenseExpression.parse("GPL-2.0+"));
        License ref = (License) LicenseExpression.parse("LicenseRef-Llama-3.1");
        assertTrue(ref.isLicenseRef());
        assertEquals("LicenseRef-Llama-3.1", ref.id());
    }

    @Test
    void withBindsTighterThanAndWhichBindsTighterThanOr() {
        LicenseExpression e = LicenseExpression.parse("MIT OR Apache-2.0 WITH LLVM-exception AND CC-BY-4.0");
        assertEquals(new Or(new License("MIT"),
                new And(new With(new License("Apache-2.0"), "LLVM-exception"), new License("CC-BY-4.0"))), e);
    }

    @Test
    void parenthesesOverridePrecedence() {
        LicenseExpression e = LicenseExpression.parse("(MIT OR Apache-2.0) AND CC-BY-4.0");
        assertEquals(new And(new Or(new License("MIT"), new License("Apache-2.0")), new License("CC-BY-4.0")), e);
    }

    @Test
    void operatorsAndIdsAreCaseInsensitive() {
        LicenseExpression lower = LicenseExpression.parse("mit and apache-2.0 with llvm-exception or cc-by-4.0");
        LicenseExpression upper = LicenseExpression.parse("MIT AND Apache-2.0 WITH LLVM-exception OR CC-BY-4.0");
        assertEquals(upper, lower);
        assertEquals(upper.hashCode(), lower.hashCode());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "mit  and   (apache-2.0)          | mit AND apache-2.0",
            "(MIT OR Apache-2.0) AND CC-BY-4.0 | (MIT OR Apache-2.0) AND CC-BY-4.0",
            "MIT OR (Apache-2.0 AND CC-BY-4.0) | MIT OR Apache-2.0 AND CC-BY-4.0",
            "((MIT))                           | MIT",
            "GPL-2.0+ with Classpath-exception-2.0 | GPL-2.0+ WITH Classpath-exception-2.0",
            "A AND (B OR C) AND D              | A AND (B OR C) AND D",
    })
    void printsCanonically(String input, String canonical) {
        assertEquals(canonical, LicenseExpression.parse(input).toString());
        // canonical output parses back to the same tree
        assertEquals(LicenseExpression.parse(input), LicenseExpression.parse(canonical));
    }

    @Test
    void listsTermsInReadingOrder() {
        assertEquals(List.of(new License("A"), new With(new License("B"), "e"), new License("C")),
                LicenseExpression.parse("A AND (B WITH e OR C)").terms());
    }

    @Test
    void rejectsEmptyInput() {
        assertTrue(fails("").getMessage().startsWith("empty license expression at position 1"));
        assertEquals(1, fails("   ").position());
    }

    @Test
    void rejectsUnbalancedParentheses() {
        LicenseExpressionException open = fails("(MIT AND Apache-2.0");
        assertEquals(20, open.position());
        assertTrue(open.getMessage().startsWith("unbalanced '(' opened at position 1: missing ')' at position 20"), open.getMessage());
        LicenseExpressionException close = fails("MIT AND Apache-2.0)");
        assertEquals(19, close.position());
        assertTrue(close.getMessage().contains("unbalanced ')'"), close.getMessage());
        assertEquals(2, fails("()").position());
    }

    @Test
    void rejectsDanglingOperators() {
        LicenseExpressionException trailing = fails("MIT AND");
        assertEquals(8, trailing.position());
        assertTrue(trailing.getMessage().contains("ends where a license was expected"), trailing.getMessage());
        LicenseExpressionException leading = fails("OR MIT");
        assertEquals(1, leading.position());
        assertTrue(leading.getMessage().contains("operator 'OR'"), leading.getMessage());
        assertEquals(9, fails("MIT AND OR Apache-2.0").position());
        assertEquals(9, fails("MIT WITH").position());
    }

    @Test
    void rejectsTwoLicensesWithoutOperator() {
        LicenseExpressionException e = fails("MIT Apache-2.0");
        assertEquals(5, e.position());
        assertTrue(e.getMessage().contains("expected AND, OR or WITH"), e.getMessage());
    }

    @Test
    void rejectsIllegalCharacters() {
        LicenseExpressionException e = fails("MIT & Apache-2.0");
        assertEquals(5, e.position());
        assertTrue(e.getMessage().startsWith("illegal character '&' at position 5"), e.getMessage());
        assertTrue(fails("MIT\u0000").getMessage().contains("U+0000"));
        assertTrue(fails("Licence_ü").getMessage().contains("illegal character"));
    }

    @Test
    void rejectsMisplacedPlusAndWith() {
        assertTrue(fails("GPL-2.0 +").getMessage().contains("'+' must directly follow"));
        assertTrue(fails("LicenseRef-x+").getMessage().contains("cannot follow a LicenseRef"));
        assertTrue(fails("(MIT OR Apache-2.0) WITH foo").getMessage().contains("WITH must follow a single license"));
        assertTrue(fails("MIT WITH (foo)").getMessage().contains("expected a license exception id"));
        assertTrue(fails("LicenseRef-").getMessage().contains("LicenseRef- needs a name"));
    }

    @Test
    void rejectsOverlongInputBeforeParsing() {
        String longInput = "MIT AND ".repeat(300) + "MIT";
        LicenseExpressionException e = fails(longInput);
        assertTrue(e.getMessage().startsWith("expression longer than 2048 characters"), e.getMessage());
        assertTrue(e.getMessage().length() < 200, "message quotes only the start of the input");
    }

    @Test
    void rejectsDeepNesting() {
        String deep = "(".repeat(40) + "MIT" + ")".repeat(40);
        assertTrue(fails(deep).getMessage().contains("nested deeper than 32"));
        String ok = "(".repeat(32) + "MIT" + ")".repeat(32);
        assertEquals(new License("MIT"), LicenseExpression.parse(ok));
    }
}
