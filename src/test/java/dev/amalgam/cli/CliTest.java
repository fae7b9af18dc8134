package dev.amalgam.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI in-process: help, version, and serve's pre-flight checks (which never boot Quarkus). */
class CliTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = Amalgam.newCommandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @AfterEach
    void clearProperties() {
        System.clearProperty("amalgam.data");
        System.clearProperty("amalgam.db.url");
        System.clearProperty("quarkus.http.port");
    }

    @Test
    void helpListsEveryCommand() {
        assertEquals(0, run("--help"));
        CommandLine root = Amalgam.newCommandLine();
        for (String name : root.getSubcommands().keySet()) {
            assertTrue(out.toString().contains(name), "help lists " + name);
        }
        assertTrue(root.getSubcommands().containsKey("serve"));
        assertTrue(root.getSubcommands().containsKey("token"));
    }

    /** Top-level help is built from the commands' annotations alone (start-up): it reads the same as the whole tree's. */
    @Test
    void topLevelHelpFromSummariesEqualsTheWholeTreesHelp() {
        assertEquals(Amalgam.newCommandLine().getUsageMessage(), Amalgam.newCommandLine("--help").getUsageMessage());
        assertEquals(0, Amalgam.run(new PrintWriter(out, true), new PrintWriter(err, true), "--help"));
        assertEquals(Amalgam.newCommandLine().getUsageMessage(), out.toString());
        assertEquals(2, Amalgam.run(new PrintWriter(out, true), new PrintWriter(err, true)), "no command: a usage error");
    }

    @Test
    void versionPrintsVersionAndCommit() {
        assertEquals(0, run("--version"));
        assertTrue(out.toString().matches("(?s)amalgam \\S+ \\(commit \\S+\\).*"), out.toString());
    }

    @Test
    void unknownCommandIsAUsageError() {
        assertEquals(2, run("frobnicate"));
        assertTrue(err.toString().contains("frobnicate"));
    }

    @Test
    void unknownCommandWithHelpIsStillAUsageError() {
        assertEquals(2, Amalgam.run(new PrintWriter(out, true), new PrintWriter(err, true), "frobnicate", "--help"));
        assertTrue(err.toString().startsWith("amalgam: unknown command 'frobnicate'"), err.toString());
        assertTrue(err.toString().contains("serve, merge"), err.toString());
        assertEquals("", out.toString(), "no help printed as if it had succeeded");
        assertEquals(0, Amalgam.run(new PrintWriter(out, true), new PrintWriter(err, true), "recipe", "--help"));
    }

    /** Every line of the top-level command list is whole: a description's first line ends a sentence. */
    @Test
    void topLevelHelpCutsNoDescriptionMidSentence() {
        CommandLine root = Amalgam.newCommandLine();
        for (var e : root.getSubcommands().entrySet()) {
            String[] d = e.getValue().getCommandSpec().usageMessage().description();
            assertTrue(d.length > 0 && d[0].strip().matches("(?s).*[.)]$"), e.getKey() + ": " + String.join(" / ", d));
        }
    }

    /** A command group's help fits one screen (24 lines of 80 columns) and shows an example. */
    @Test
    void everyCommandGroupHelpFitsOneScreenWithAnExample() {
        CommandLine root = Amalgam.newCommandLine();
        int groups = 0;
        for (var e : root.getSubcommands().entrySet()) {
            if (e.getValue().getSubcommands().isEmpty() || e.getKey().equals("help")) continue;
            groups++;
            String help = e.getValue().getUsageMessage();
            assertTrue(help.lines().count() <= 24, e.getKey() + " help has " + help.lines().count() + " lines:\n" + help);
            assertTrue(help.contains("Example:\n  amalgam " + e.getKey() + " ")
                            || help.contains("Examples:\n  amalgam " + e.getKey() + " ") || help.contains("$(amalgam " + e.getKey() + " "),
                    e.getKey() + " help names no example:\n" + help);
        }
        assertTrue(groups >= 6, "recipe, ledger, models, token, dam, merges");
    }

    @Test
    void aCommandGroupWithoutItsSubcommandIsAUsageError() {
        for (String group : new String[]{"recipe", "ledger", "models", "token", "dam"}) {
            err.getBuffer().setLength(0);
            assertEquals(2, run(group), group);
            assertTrue(err.toString().toLowerCase().contains("subcommand"), group + ": " + err);
        }
    }

    @Test
    void serveRefusesAnUnwritableDataDirectoryInOneLine() {
        int code = run("serve", "--data", "/proc/amalgam-data-test");
        assertEquals(1, code);
        assertOneLine("data directory /proc/amalgam-data-test");
    }

    @Test
    void serveRefusesADataDirectoryThatIsAFile(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        assertEquals(1, run("serve", "--data", file.toString()));
        assertOneLine("not a directory");
    }

    @Test
    void serveRefusesAnUnreachableDatabaseInOneLine(@TempDir Path tmp) {
        System.setProperty("amalgam.db.url", "jdbc:postgresql://127.0.0.1:1/nothing");
        assertEquals(1, run("serve", "--data", tmp.toString()));
        assertOneLine("cannot open the database jdbc:postgresql://127.0.0.1:1/nothing");
    }

    @Test
    void serveRefusesAnUnsupportedDatabaseUrl(@TempDir Path tmp) {
        System.setProperty("amalgam.db.url", "jdbc:oracle:thin:@x");
        assertEquals(1, run("serve", "--data", tmp.toString()));
        assertOneLine("unsupported database URL");
    }

    @Test
    void serveRefusesABadPolicyFileInOneLine(@TempDir Path tmp) throws Exception {
        Path policies = Files.createDirectories(tmp.resolve("policies"));
        Files.copy(Path.of("policies/licenses.yaml"), policies.resolve("licenses.yaml"));
        Files.writeString(policies.resolve("release.yaml"), "environments:\n  production:\n    rules: [{id: x, type: nonsense}]\n");
        System.setProperty("amalgam.policies", policies.toString());
        try {
            assertEquals(1, run("serve", "--data", tmp.resolve("data").toString()));
            assertOneLine("invalid policy: ");
            assertTrue(err.toString().contains("release.yaml"), err.toString());
        } finally {
            System.clearProperty("amalgam.policies");
        }
    }

    @Test
    void serveRefusesAMissingPolicyFolder(@TempDir Path tmp) {
        System.setProperty("amalgam.policies", tmp.resolve("nowhere").toString());
        try {
            assertEquals(1, run("serve", "--data", tmp.resolve("data").toString()));
            assertOneLine("no policy folder at");
        } finally {
            System.clearProperty("amalgam.policies");
        }
    }

    @Test
    void tokenCommandWithoutServerSaysSoInOneLine() {
        // nothing listens on port 1
        int code = run("token", "list", "--server", "http://127.0.0.1:1");
        assertTrue(code == 1 || code == 2, "exit " + code);
        String e = err.toString().strip();
        assertFalse(e.contains("\n"), e);
        assertTrue(e.startsWith("amalgam: "), e);
    }

    private void assertOneLine(String expected) {
        String e = err.toString().strip();
        assertFalse(e.contains("\n"), "one line, got: " + e);
        assertTrue(e.startsWith("amalgam: ") && e.contains(expected), e);
        assertFalse(e.contains("Exception"), e);
    }
}
