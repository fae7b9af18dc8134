package dev.amalgam.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/recipes.md's DAM demo, run as written: the coefficient file's hash and the KL sums the
 * page quotes are what the commands produce. The fit takes one to four minutes here, so it runs
 * on request: {@code ./mvnw verify -Dit.test=DamDemoIT -Damalgam.docs.dam=true}.
 */
@EnabledIfSystemProperty(named = "amalgam.docs.dam", matches = "true")
class DamDemoIT {
    private static final Path DOC = Path.of("docs", "recipes.md");

    @Test
    void theDamDemoProducesTheNumbersThePageQuotes(@TempDir Path tmp) throws Exception {
        Path home = DocScript.checkout(tmp);
        DocScript.Result r = DocScript.block(DOC, "To rerun").then("sha256sum coef/model-00001-of-00001.safetensors")
                .run(home, Map.of(), 30);
        String out = r.output();
        assertEquals(0, r.exitCode(), out);
        assertEquals(0, r.failures().size(), r.failures() + "\n" + out);
        String page = Files.readString(DOC);

        Matcher quoted = Pattern.compile("sha256 `([0-9a-f]{8})…([0-9a-f]{8})`").matcher(page);
        assertTrue(quoted.find(), "the page quotes a coefficient hash");
        Matcher actual = Pattern.compile("([0-9a-f]{64})  coef/model-00001-of-00001.safetensors").matcher(out);
        assertTrue(actual.find(), out);
        assertTrue(actual.group(1).startsWith(quoted.group(1)) && actual.group(1).endsWith(quoted.group(2)),
                "docs/recipes.md quotes " + quoted.group() + ", the demo wrote " + actual.group(1));

        Matcher linear = Pattern.compile("linear, equal weights 1/2: (\\d\\.\\d{6})").matcher(out);
        Matcher dam = Pattern.compile("dam, fitted coefficients: +(\\d\\.\\d{6})").matcher(out);
        assertTrue(linear.find() && dam.find(), out);
        assertTrue(page.contains("**" + linear.group(1) + "**"), "the linear sum " + linear.group(1) + " is in the table");
        assertTrue(page.contains("**" + dam.group(1) + "**"), "the dam sum " + dam.group(1) + " is in the table");
    }
}
