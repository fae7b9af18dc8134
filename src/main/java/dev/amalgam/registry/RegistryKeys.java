package dev.amalgam.registry;

import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

/**
 * The registry's own ECDSA P-256 signing key (OMS signatures of stored models), created on first
 * start as PKCS#8 PEM with mode 0600, its public key beside it.
 */
public final class RegistryKeys {
    public static final String SIGNING_KEY = "registry-signing-key.pem";
    public static final String SIGNING_PUBLIC_KEY = "registry-signing-key.pub.pem";

    private RegistryKeys() {
    }

    /** Creates the signing key if missing; returns true when a new key was created. */
    public static boolean ensureSigningKey(Path keysDir) throws IOException {
        Path priv = keysDir.resolve(SIGNING_KEY);
        if (Files.exists(priv)) return false;
        KeyPair kp;
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            kp = g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an ECDSA P-256 key: " + e.getMessage(), e);
        }
        // PKCS#8 for the private key (what every tool reads), SubjectPublicKeyInfo for the public one
        DataDirectory.writeSecret(priv, pem(new JcaPKCS8Generator(kp.getPrivate(), null)));
        Files.writeString(keysDir.resolve(SIGNING_PUBLIC_KEY), new String(pem(kp.getPublic()), StandardCharsets.US_ASCII));
        return true;
    }

    private static byte[] pem(Object o) throws IOException {
        StringWriter sw = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(sw)) {
            w.writeObject(o);
        }
        return sw.toString().getBytes(StandardCharsets.US_ASCII);
    }
}
