package dev.amalgam.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@code amalgam} launcher script finds a JDK >= 25 even when the default java is older. */
class LauncherTest {
    private static final Path LAUNCHER = Path.of("amalgam").toAbsolutePath();

    /** A fake JDK 17: a release file and a java that prints a 17 version banner. */
    private static Path fakeJdk17(Path dir) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.writeString(dir.resolve("release"), "JAVA_VERSION=\"17.0.15\"\n");
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\necho 'openjdk version \"17.0.15\" 2025-04-15' >&2\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    private static Process launch(Map<String, String> env, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(concat(LAUNCHER.toString(), args));
        pb.environment().clear();
        pb.environment().put("HOME", System.getProperty("java.io.tmpdir"));
        pb.environment().putAll(env);
        return pb.start();
    }

    private static List<String> concat(String first, String... rest) {
        var l = new java.util.ArrayList<String>();
        l.add(first);
        l.addAll(List.of(rest));
        return l;
    }

    @Test
    void findsJdk25WhenTheDefaultJavaIs17(@TempDir Path tmp) throws Exception {
        Path jdk17 = fakeJdk17(tmp.resolve("jdk-17"));
        Process p = launch(Map.of(
                "PATH", jdk17.resolve("bin") + ":/usr/bin:/bin",
                "JAVA_HOME", jdk17.toString()), "--find-java");
        String out = new String(p.getInputStream().readAllBytes()).trim();
        String err = new String(p.getErrorStream().readAllBytes()).trim();
        assertEquals(0, p.waitFor(), err);
        Path found = Path.of(out);
        assertTrue(!found.equals(jdk17), "must skip the JDK 17 in JAVA_HOME and on PATH");
        String release = Files.readString(found.resolve("release"));
        int major = Integer.parseInt(release.replaceAll("(?s).*JAVA_VERSION=\"(\\d+).*", "$1"));
        assertTrue(major >= 25, "found " + found + " with major " + major);
    }

    @Test
    void theRealDefaultJava17OnThisMachineIsSkippedToo() throws Exception {
        Path jdk17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
        if (!Files.isDirectory(jdk17)) {
            jdk17 = Path.of(System.getProperty("java.home")); // at least exercise PATH handling
        }
        Process p = launch(Map.of("PATH", jdk17.resolve("bin") + ":/usr/bin:/bin"), "--find-java");
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertEquals(0, p.waitFor());
        String release = Files.readString(Path.of(out).resolve("release"));
        assertTrue(release.matches("(?s).*JAVA_VERSION=\"(2[5-9]|[3-9]\\d).*"), out + ": " + release);
    }
}
