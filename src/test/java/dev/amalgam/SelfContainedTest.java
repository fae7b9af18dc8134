package dev.amalgam;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A clone of the repository runs its tests with nothing beside it: no test reads a file outside
 * the repository (the vectors once lived in a shared folder next to the clone, and a fresh clone
 * failed eleven tests).
 */
class SelfContainedTest {
    /** Ways a test has reached outside: a path built from "..", the old shared folder, a machine path. */
    static final List<Pattern> OUTSIDE = List.of(
            Pattern.compile("(Path\\.of|Paths\\.get|new File)\\(\\s*\"\\.\\.\""),
            Pattern.compile("\\.\\./shared"),
            Pattern.compile("\"shared\"\\s*,\\s*\"vectors\""),
            Pattern.compile("\"/work/"),
            Pattern.compile("user\\.home"));

    static Path repository() throws Exception {
        Path testClasses = Path.of(TestResources.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path root = testClasses.getParent().getParent();
        assertTrue(Files.isRegularFile(root.resolve("pom.xml")), "no pom.xml above " + testClasses);
        return root.toRealPath();
    }

    @Test
    void noTestSourceNamesAPathOutsideTheRepository() throws Exception {
        Path root = repository();
        List<String> found = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root.resolve("src/test/java"))) {
            for (Path f : s.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                if (f.getFileName().toString().equals("SelfContainedTest.java")) continue;
                List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                for (int i = 0; i < lines.size(); i++) {
                    for (Pattern p : OUTSIDE) {
                        if (p.matcher(lines.get(i)).find()) {
                            found.add(root.relativize(f) + ":" + (i + 1) + ": " + lines.get(i).strip());
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), found, "tests must read files inside the repository (src/test/resources, TestResources)");
    }

    @Test
    void everyTestResourceResolvesInsideTheRepository() throws Exception {
        Path root = repository();
        List<String> outside = new ArrayList<>();
        for (Path top : List.of(root.resolve("src/test/resources"), TestResources.path("vectors"), TestResources.path("recipes"))) {
            try (Stream<Path> s = Files.walk(top)) {
                for (Path p : s.toList()) {
                    if (!p.toRealPath().startsWith(root)) outside.add(p + " -> " + p.toRealPath());
                }
            }
        }
        assertEquals(List.of(), outside, "a link out of the repository");
    }

    /** Every vector set says where it comes from (SOURCES.md: origin, version, license). */
    @Test
    void everyVectorSetHasItsSource() throws IOException {
        Path vectors = TestResources.vectors("");
        String sources = Files.readString(vectors.resolve("SOURCES.md"));
        try (Stream<Path> s = Files.list(vectors)) {
            for (Path set : s.filter(Files::isDirectory).sorted().toList()) {
                assertTrue(sources.contains("`" + set.getFileName() + "/`"), "SOURCES.md does not describe " + set.getFileName());
            }
        }
        assertTrue(sources.contains("Apache-2.0"), "licenses named");
    }
}
