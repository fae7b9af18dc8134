package dev.amalgam.registry;

import dev.amalgam.TestResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Keyless publisher signatures are trusted by identity ({@code *.identity} beside the keys), checked offline. */
class KeylessPublisherTest {
    static final Path MODEL = TestResources.vectors("oms").resolve("v1.1.0-sigstore");

    @TempDir
    Path trusted;
    @TempDir
    Path model;

    private SigningService service() throws Exception {
        SigningService s = new SigningService();
        s.trustedKeysDir = Optional.of(trusted.toString());
        for (String f : List.of("signme-1", "signme-2", "model.sig")) Files.copy(MODEL.resolve(f), model.resolve(f));
        return s;
    }

    private void root() throws Exception {
        Files.copy(TestResources.vectors("sigstore").resolve("trusted_root.json"), trusted.resolve(SigningService.TRUSTED_ROOT));
    }

    private SigningService.PublisherCheck check(SigningService s) throws Exception {
        return s.checkPublisher(model, Files.readAllBytes(model.resolve("model.sig")));
    }

    @Test
    void aTrustedIdentityMakesTheSignatureTrusted() throws Exception {
        SigningService s = service();
        root();
        Files.writeString(trusted.resolve("ibm.identity"), "identity: stefanb@us.ibm.com\nissuer: https://sigstore.verify.ibm.com/oauth2\n");
        var c = check(s);
        assertEquals("trusted", c.state(), c.reason());
        assertEquals("ibm.identity", c.keyId());
    }

    @Test
    void anotherIdentityIsUntrustedNotInvalid() throws Exception {
        SigningService s = service();
        root();
        Files.writeString(trusted.resolve("acme.identity"), "identity: release@acme.example\nissuer: https://sigstore.verify.ibm.com/oauth2\n");
        var c = check(s);
        assertEquals("untrusted", c.state());
        assertTrue(c.reason().startsWith("wrong identity"), c.reason());
    }

    @Test
    void withoutATrustedRootKeylessIsUntrusted() throws Exception {
        SigningService s = service();
        Files.writeString(trusted.resolve("ibm.identity"), "identity: stefanb@us.ibm.com\nissuer: https://sigstore.verify.ibm.com/oauth2\n");
        var c = check(s);
        assertEquals("untrusted", c.state());
        assertTrue(c.reason().contains(SigningService.TRUSTED_ROOT), c.reason());
    }

    @Test
    void aTamperedModelIsInvalid() throws Exception {
        SigningService s = service();
        root();
        Files.writeString(trusted.resolve("ibm.identity"), "identity: stefanb@us.ibm.com\nissuer: https://sigstore.verify.ibm.com/oauth2\n");
        Files.writeString(model.resolve("signme-2"), "changed");
        var c = check(s);
        assertEquals("invalid", c.state());
        assertTrue(c.reason().contains("changed: signme-2"), c.reason());
    }

    @Test
    void anIncompleteIdentityFileIsIgnored() throws Exception {
        SigningService s = service();
        Files.writeString(trusted.resolve("half.identity"), "identity: stefanb@us.ibm.com\n");
        assertTrue(s.trustedIdentities().isEmpty());
    }
}
