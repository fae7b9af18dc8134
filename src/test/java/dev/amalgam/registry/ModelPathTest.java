package dev.amalgam.registry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelPathTest {
    @ParameterizedTest
    @ValueSource(strings = {"config.json", "model-00001-of-00002.safetensors", "tokenizer/vocab.json", "a b/c-d_e.f"})
    void acceptsOrdinaryRelativePaths(String p) {
        assertEquals(p, new ModelPath(p).value());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", "a\\b", "C:x",
            "a\u0000b", "line\nbreak", ".."})
    void refusesPathsThatCouldEscapeOrConfuse(String p) {
        var e = assertThrows(RegistryException.class, () -> new ModelPath(p));
        assertEquals(RegistryException.Kind.INVALID, e.kind());
        assertTrue(e.getMessage().startsWith("invalid file path"), e.getMessage());
    }

    @Test
    void refusesOverlongPaths() {
        assertThrows(RegistryException.class, () -> new ModelPath("a".repeat(1025)));
    }

    @Test
    void resolvesInsideTheRoot(@TempDir Path root) {
        assertEquals(root.resolve("x/y.bin"), new ModelPath("x/y.bin").resolveIn(root));
    }

    @Test
    void importRootsAdmitOnlyRealPathsInsideARoot(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("models"));
        Path inside = Files.createDirectories(root.resolve("llama"));
        Path outside = Files.createDirectories(tmp.resolve("secret"));
        Path link = Files.createSymbolicLink(root.resolve("sneaky"), outside);
        ImportRoots roots = ImportRoots.parse(root.toString());

        assertEquals(inside.toRealPath(), roots.admit(inside.toString()));
        assertEquals(RegistryException.Kind.FORBIDDEN,
                assertThrows(RegistryException.class, () -> roots.admit(outside.toString())).kind());
        assertEquals(RegistryException.Kind.FORBIDDEN,
                assertThrows(RegistryException.class, () -> roots.admit(link.toString())).kind(),
                "a symlink out of the root is refused");
        assertEquals(RegistryException.Kind.FORBIDDEN,
                assertThrows(RegistryException.class, () -> roots.admit(root + "/llama/../../secret")).kind());
        assertEquals(RegistryException.Kind.INVALID,
                assertThrows(RegistryException.class, () -> roots.admit("relative/path")).kind());
        assertEquals(RegistryException.Kind.NOT_FOUND,
                assertThrows(RegistryException.class, () -> roots.admit(root + "/missing")).kind());
        assertEquals(RegistryException.Kind.FORBIDDEN,
                assertThrows(RegistryException.class, () -> ImportRoots.parse("").admit(inside.toString())).kind(),
                "no roots configured: import disabled");
    }
}
