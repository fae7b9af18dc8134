package dev.amalgam.merge.kernel;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Kernel selection reports its choice: the vector kernels with their width here, and on each
 * missing precondition the scalar twin with the reason and the fix, checked in a JVM started
 * without it.
 */
class KernelsTest {

    /** Prints the choice a fresh JVM makes; run by the tests below as a child process. */
    public static final class Probe {
        public static void main(String[] args) {
            Kernels.Choice c = Kernels.choice();
            System.out.println(c.kernels().name() + "|" + c.reason() + "|" + c.fix());
        }
    }

    @Test
    void vectorKernelsChosenHereWithTheirWidth() {
        Kernels.Choice c = Kernels.choice();
        if ("scalar".equals(System.getProperty("amalgam.kernels"))) return;
        assertTrue(c.kernels().name().startsWith("vector-"), c.describe());
        assertTrue(c.reason().startsWith("Vector API, "), c.reason());
        assertNull(c.fix());
        assertSame(c.kernels(), Kernels.get());
    }

    @Test
    void withoutTheModuleTheScalarTwinSaysWhyAndHowToFix() throws Exception {
        String[] out = probe(List.of("--enable-native-access=ALL-UNNAMED"));
        assertEquals("scalar", out[0]);
        assertTrue(out[1].contains("jdk.incubator.vector is not in the boot layer"), out[1]);
        assertTrue(out[2].contains("--add-modules=jdk.incubator.vector"), out[2]);
    }

    @Test
    void withoutC2TheScalarTwinSaysWhy() throws Exception {
        String[] out = probe(List.of("--add-modules=jdk.incubator.vector", "-XX:TieredStopAtLevel=1"));
        assertEquals("scalar", out[0]);
        assertTrue(out[1].contains("tiered compilation stops at level 1"), out[1]);
        assertTrue(out[2].contains("TieredStopAtLevel"), out[2]);
    }

    @Test
    void forcedScalarNeedsNoFix() throws Exception {
        String[] out = probe(List.of("--add-modules=jdk.incubator.vector", "-Damalgam.kernels=scalar"));
        assertEquals("scalar", out[0]);
        assertTrue(out[1].contains("forced"), out[1]);
        assertEquals("null", out[2]);
    }

    private static String[] probe(List<String> flags) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.waitFor(), stdout);
        String[] parts = stdout.split("\\|", -1);
        assertEquals(3, parts.length, stdout);
        return parts;
    }
}
