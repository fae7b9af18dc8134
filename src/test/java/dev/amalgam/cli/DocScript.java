package dev.amalgam.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shell blocks of a page of docs/ run as a reader pastes them: in one bash, in order, each
 * failing command recorded with the page's line number (an ERR trap), nothing rewritten.
 */
final class DocScript {
    /** A command of the page that exited non-zero. */
    record Failure(int docLine, String text, int status) {
    }

    record Result(int exitCode, String output, List<Failure> failures) {
    }

    private final Path doc;
    private final List<String> lines = new ArrayList<>();
    private final List<Integer> docLines = new ArrayList<>();

    private DocScript(Path doc) {
        this.doc = doc;
    }

    /** Every ```sh block of {@code doc} from the first line matching {@code from} (null: the start) on. */
    static DocScript of(Path doc, String from) throws IOException {
        return of(doc, from, Integer.MAX_VALUE);
    }

    /** The first ```sh block of {@code doc} after the first line containing {@code from}. */
    static DocScript block(Path doc, String from) throws IOException {
        return of(doc, from, 1);
    }

    /** A line run after the page's blocks (a check of the test's own, not part of the page). */
    DocScript then(String line) {
        lines.add(line);
        docLines.add(-1);
        return this;
    }

    private static DocScript of(Path doc, String from, int maxBlocks) throws IOException {
        DocScript s = new DocScript(doc);
        List<String> text = Files.readAllLines(doc);
        boolean started = from == null, inBlock = false;
        int blocks = 0;
        for (int i = 0; i < text.size() && blocks < maxBlocks; i++) {
            String l = text.get(i);
            if (!started && l.contains(from)) started = true;
            if (!started) continue;
            if (!inBlock && l.strip().equals("```sh")) {
                inBlock = true;
            } else if (inBlock && l.strip().equals("```")) {
                inBlock = false;
                blocks++;
            } else if (inBlock) {
                s.lines.add(l);
                s.docLines.add(i + 1);
            }
        }
        assertTrue(!s.lines.isEmpty(), "no ```sh block in " + doc);
        return s;
    }

    /**
     * A folder shaped like a fresh checkout for the launcher: a copy of {@code ./amalgam} and of
     * {@code policies/}, and the application this build packaged ({@code target/}, linked), so
     * the launcher starts at once instead of building a second copy.
     */
    static Path checkout(Path dir) throws IOException {
        Path repo = Path.of("").toAbsolutePath();
        Files.copy(repo.resolve("amalgam"), dir.resolve("amalgam"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.setPosixFilePermissions(dir.resolve("amalgam"), PosixFilePermissions.fromString("rwxr-xr-x"));
        try (var files = Files.walk(repo.resolve("policies"))) {
            for (Path p : files.toList()) {
                Path to = dir.resolve(repo.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(to);
                else Files.copy(p, to);
            }
        }
        Files.createSymbolicLink(dir.resolve("target"), repo.resolve("target"));
        return dir;
    }

    /** Runs the blocks in {@code cwd} with {@code env} added to a clean environment (no AMALGAM_*). */
    Result run(Path cwd, Map<String, String> env, long timeoutMinutes) throws Exception {
        Path fails = Files.createTempFile(cwd, "failures", ".txt");
        List<String> script = new ArrayList<>(List.of(
                "trap 'echo \"$LINENO $?\" >> \"" + fails + "\"' ERR"));
        int header = script.size();
        script.addAll(lines);
        Path file = Files.createTempFile(cwd, "doc", ".sh");
        Files.write(file, script);
        Path out = Files.createTempFile(cwd, "doc", ".out");
        ProcessBuilder pb = new ProcessBuilder("bash", file.toString()).directory(cwd.toFile())
                .redirectErrorStream(true).redirectOutput(out.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().keySet().removeIf(k -> k.startsWith("AMALGAM_"));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeoutMinutes, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(doc + " did not finish in " + timeoutMinutes + " min:\n" + Files.readString(out));
        }
        List<Failure> failures = new ArrayList<>();
        for (String l : Files.readAllLines(fails)) {
            String[] f = l.split(" ");
            int scriptLine = Integer.parseInt(f[0]) - header - 1;
            boolean known = scriptLine >= 0 && scriptLine < docLines.size();
            failures.add(new Failure(known ? docLines.get(scriptLine) : -1, known ? lines.get(scriptLine) : "?",
                    Integer.parseInt(f[1])));
        }
        return new Result(p.exitValue(), Files.readString(out), failures);
    }
}
