package dev.amalgam.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which token the CLI sends: AMALGAM_TOKEN, the local admin token only when it is unset, never admin by accident. */
class ApiClientTokenTest {
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);

    private static Path dataWithAdminToken(Path tmp) throws Exception {
        Files.createDirectories(tmp.resolve("keys"));
        Files.writeString(tmp.resolve("keys/admin.token"), "admin-secret\n");
        return tmp;
    }

    @Test
    void aSetTokenIsUsedAsItIs(@TempDir Path tmp) throws Exception {
        Path data = dataWithAdminToken(tmp);
        assertEquals("alice-token", ApiClient.token(Map.of("AMALGAM_TOKEN", " alice-token\n", "AMALGAM_DATA", data.toString()), errStream));
        assertEquals("", err.toString(StandardCharsets.UTF_8), "nothing to say");
    }

    @Test
    void anUnsetTokenFallsBackToTheLocalAdminTokenAndSaysSo(@TempDir Path tmp) throws Exception {
        Path data = dataWithAdminToken(tmp);
        assertEquals("admin-secret", ApiClient.token(Map.of("AMALGAM_DATA", data.toString()), errStream));
        assertEquals("amalgam: using the local admin token of " + data + " (AMALGAM_TOKEN is unset)\n",
                err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void anEmptyTokenIsAnErrorNeverTheAdminToken(@TempDir Path tmp) throws Exception {
        Path data = dataWithAdminToken(tmp);
        for (String empty : new String[]{"", "  ", "\n"}) {
            var e = assertThrows(CliException.class,
                    () -> ApiClient.token(Map.of("AMALGAM_TOKEN", empty, "AMALGAM_DATA", data.toString()), errStream));
            assertEquals(CliException.UNUSABLE, e.exitCode());
            assertTrue(e.getMessage().startsWith("AMALGAM_TOKEN is set but empty"), e.getMessage());
        }
        assertEquals("", err.toString(StandardCharsets.UTF_8), "no fallback announced");
    }

    @Test
    void noTokenAnywhereNamesWhereItLooked(@TempDir Path tmp) {
        var e = assertThrows(CliException.class, () -> ApiClient.token(Map.of("AMALGAM_DATA", tmp.toString()), errStream));
        assertEquals(CliException.UNUSABLE, e.exitCode());
        assertTrue(e.getMessage().contains("set AMALGAM_TOKEN") && e.getMessage().contains(tmp.resolve("keys/admin.token").toString()),
                e.getMessage());
    }
}
