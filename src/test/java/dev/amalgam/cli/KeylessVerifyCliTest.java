package dev.amalgam.cli;

import dev.amalgam.TestResources;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code amalgam verify --trusted-root R --identity ID --issuer URL}: exit 0 valid, 1 invalid, 2 unusable. */
class KeylessVerifyCliTest {
    private static final Path MODEL = TestResources.vectors("oms").resolve("v1.0.1-sigstore");
    private static final String ROOT = TestResources.vectors("sigstore").resolve("trusted_root.json").toString();
    private static final String ISSUER = "https://sigstore.verify.ibm.com/oauth2";
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = Amalgam.newCommandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void theReferenceBundleVerifiesUnderItsIdentity() {
        assertEquals(0, run("verify", MODEL.toString(), "--ignore-path", "ignore-me", "--trusted-root", ROOT,
                "--identity", "stefanb@us.ibm.com", "--issuer", ISSUER), err.toString());
    }

    @Test
    void anotherIdentityIsInvalid() {
        assertEquals(1, run("verify", MODEL.toString(), "--ignore-path", "ignore-me", "--trusted-root", ROOT,
                "--identity", "someone@example.com", "--issuer", ISSUER));
        assertTrue(err.toString().contains("wrong identity"), err.toString());
    }

    @Test
    void anotherIssuerIsInvalid() {
        assertEquals(1, run("verify", MODEL.toString(), "--ignore-path", "ignore-me", "--trusted-root", ROOT,
                "--identity", "stefanb@us.ibm.com", "--issuer", "https://token.actions.githubusercontent.com"));
        assertTrue(err.toString().contains("wrong issuer"), err.toString());
    }

    @Test
    void aTrustedRootWithoutIdentityIsAUsageError() {
        assertEquals(2, run("verify", MODEL.toString(), "--trusted-root", ROOT));
        assertTrue(err.toString().contains("--identity"), err.toString());
    }

    @Test
    void anUnreadableTrustedRootIsUnusable() {
        assertEquals(2, run("verify", MODEL.toString(), "--trusted-root", MODEL.resolve("signme-1").toString(),
                "--identity", "stefanb@us.ibm.com", "--issuer", ISSUER));
    }
}
