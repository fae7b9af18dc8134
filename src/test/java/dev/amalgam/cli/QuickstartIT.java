package dev.amalgam.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/quickstart.md works when pasted: its shell blocks run line by line in a folder shaped like
 * a fresh checkout, against the packaged application, with the launcher's serve --detach and stop.
 */
class QuickstartIT {
    @Test
    void theQuickstartRunsAsWritten(@TempDir Path tmp) throws Exception {
        Path home = DocScript.checkout(tmp);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        DocScript script = DocScript.of(Path.of("docs", "quickstart.md"), null);
        DocScript.Result r;
        try {
            // TMPDIR: the page's mktemp -d lands in this test's folder
            r = script.run(home, Map.of("AMALGAM_PORT", Integer.toString(port), "TMPDIR", tmp.toString()), 15);
        } finally {
            stopLeftoverServer(home.resolve("amalgam-data/serve.pid"));
        }
        String out = r.output();
        // only the commands the page says are refused fail: alice approving her own merge, the gate of an unreviewed source
        for (DocScript.Failure f : r.failures()) {
            assertTrue(f.text().matches(".*#.*\\brefused\\b.*"), "docs/quickstart.md:" + f.docLine() + " exited " + f.status()
                    + ": " + f.text() + "\n" + out);
        }
        assertEquals(2, r.failures().size(), "the two refusals:\n" + out);
        assertTrue(out.contains("principal 'alice' lacks the role 'reviewer'") || out.contains("own"), "four eyes:\n" + out);
        assertTrue(out.contains("ALLOW: demo-merge@1 to production") && out.contains("RELEASED: demo-merge@1"), out);
        assertEquals(0, r.exitCode(), out);
        assertTrue(out.contains("registry ready at http://127.0.0.1:" + port), out);
        assertTrue(out.contains("admin token: ./amalgam-data/keys/admin.token") && out.contains("log:"), out);
        assertTrue(out.contains("\"status\": \"UP\""), "the health check answered:\n" + out);
        assertTrue(out.contains("amalgam: using the local admin token of ./amalgam-data"), "the fallback is announced:\n" + out);
        assertTrue(out.contains("demo-base@1") && out.contains("demo-chat@1"), out);
        assertTrue(out.contains("identical"), "the merge reproduced:\n" + out);
        assertTrue(out.contains("clean: "), "the audit is clean:\n" + out);
        assertTrue(out.contains("amalgam: stopped the registry"), out);
        assertFalse(Files.exists(home.resolve("amalgam-data/serve.pid")), "stop removed the pid file");
        assertFalse(Files.exists(home.resolve("policies/keys/demo-publisher.pem")), "the demo key was removed");
    }

    /** A failed run must not leave a server behind. */
    private static void stopLeftoverServer(Path pidFile) throws Exception {
        if (!Files.exists(pidFile)) return;
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        ProcessHandle.of(pid).ifPresent(p -> {
            p.destroy();
            p.onExit().join();
        });
    }
}
