package dev.amalgam.merge.method;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The methods table in docs/recipes.md is derived from the declarations: keep them equal. */
class DocsTest {
    @Test
    void recipesDocCarriesTheGeneratedMethodsTable() throws IOException {
        String doc = Files.readString(Path.of("docs", "recipes.md"));
        assertTrue(doc.contains(MethodTable.markdown()),
                "docs/recipes.md is out of date: paste the output of 'amalgam recipe methods'");
    }
}
