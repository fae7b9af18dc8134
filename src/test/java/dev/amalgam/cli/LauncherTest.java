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

/**
 * The {@code amalgam} launcher script: finds a JDK >= 25 even when the default java is older, and
 * builds one at a time.
 */
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

    /**
     * A checkout whose ./mvnw is a stand-in: it prints Maven's step lines, refuses to run while
     * another copy runs (the lock must prevent that), counts its runs, and finishes only when the
     * test creates the file "release".
     */
    private static Path checkoutWithFakeMaven(Path dir) throws IOException {
        Files.copy(LAUNCHER, dir.resolve("amalgam"));
        Files.setPosixFilePermissions(dir.resolve("amalgam"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Path mvnw = dir.resolve("mvnw");
        Files.writeString(mvnw, """
                #!/bin/bash
                cd "$(dirname "$0")"
                [ -e running ] && { echo "two builds at once" >> overlap; exit 3; }
                touch running
                echo run >> runs
                echo "[INFO] --- compiler:3.14.0:compile (default-compile) @ amalgam ---"
                while [ ! -e release ]; do sleep 0.05; done
                echo "[INFO] --- quarkus:3.33.2:build (default) @ amalgam ---"
                rm running
                """);
        Files.setPosixFilePermissions(mvnw, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    private static String readUntil(java.io.BufferedReader r, String expected) throws IOException {
        StringBuilder seen = new StringBuilder();
        for (String l = r.readLine(); l != null; l = r.readLine()) {
            seen.append(l).append('\n');
            if (l.contains(expected)) return seen.toString();
        }
        throw new AssertionError("never printed '" + expected + "':\n" + seen);
    }

    @Test
    void aSecondBuildWaitsForTheFirstAndSaysSo(@TempDir Path tmp) throws Exception {
        Path home = checkoutWithFakeMaven(tmp);
        Map<String, String> env = Map.of("PATH", "/usr/bin:/bin", "JAVA_HOME", System.getProperty("java.home"));
        Process first = launchIn(home, env, "build");
        var firstErr = new java.io.BufferedReader(new java.io.InputStreamReader(first.getErrorStream()));
        String progress = readUntil(firstErr, "build step compiler:compile");
        assertTrue(progress.contains("amalgam: building the application"), progress);

        Process second = launchIn(home, env, "build");
        var secondErr = new java.io.BufferedReader(new java.io.InputStreamReader(second.getErrorStream()));
        readUntil(secondErr, "another amalgam command is building the application; waiting");
        assertEquals(1, Files.readAllLines(home.resolve("runs")).size(), "the second build has not started");

        Files.writeString(home.resolve("release"), "");
        assertEquals(0, first.waitFor(), "first build");
        assertEquals(0, second.waitFor(), "second build");
        assertEquals(2, Files.readAllLines(home.resolve("runs")).size());
        assertTrue(!Files.exists(home.resolve("overlap")), "the builds never overlapped");
        String rest = readUntil(firstErr, "built in");
        assertTrue(rest.contains("build step quarkus:build"), rest);
    }

    private static Process launchIn(Path home, Map<String, String> env, String... args) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(concat(home.resolve("amalgam").toString(), args));
        pb.environment().clear();
        pb.environment().put("HOME", System.getProperty("java.io.tmpdir"));
        pb.environment().putAll(env);
        return pb.redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }
}
