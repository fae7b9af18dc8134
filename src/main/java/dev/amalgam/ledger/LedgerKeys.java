package dev.amalgam.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;

/** The ledger's Ed25519 checkpoint key, kept in a keys folder (private key mode 0600). */
public record LedgerKeys(String name, PrivateKey privateKey, PublicKey publicKey) {
    static final String PRIVATE = "ledger-checkpoint-key.pem";
    static final String PUBLIC = "ledger-checkpoint-key.pub.pem";

    public static LedgerKeys loadOrCreate(Path keysDir, String name) throws IOException {
        return loadOrCreate(keysDir, name, PRIVATE, PUBLIC);
    }

    /** An Ed25519 key pair under other file names (the witness keeps its own). */
    static LedgerKeys loadOrCreate(Path keysDir, String name, String privateFile, String publicFile) throws IOException {
        Path priv = keysDir.resolve(privateFile);
        try {
            KeyFactory kf = KeyFactory.getInstance("Ed25519");
            if (Files.exists(priv)) {
                PrivateKey k = kf.generatePrivate(new PKCS8EncodedKeySpec(pem(Files.readString(priv))));
                PublicKey p = kf.generatePublic(new X509EncodedKeySpec(pem(Files.readString(keysDir.resolve(publicFile)))));
                return new LedgerKeys(name, k, p);
            }
            KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            Files.createDirectories(keysDir);
            Path tmp = keysDir.resolve(privateFile + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, toPem("PRIVATE KEY", kp.getPrivate().getEncoded()));
            Files.writeString(keysDir.resolve(publicFile), toPem("PUBLIC KEY", kp.getPublic().getEncoded()));
            Files.move(tmp, priv);
            return new LedgerKeys(name, kp.getPrivate(), kp.getPublic());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException("cannot load the ledger key in " + keysDir + ": " + e.getMessage(), e);
        }
    }

    /** The raw 32-byte Ed25519 public key (the end of its X.509 encoding). */
    public byte[] publicKey32() {
        byte[] enc = publicKey.getEncoded();
        return Arrays.copyOfRange(enc, enc.length - 32, enc.length);
    }

    private static byte[] pem(String text) {
        return Base64.getMimeDecoder().decode(text.replaceAll("-----[A-Z ]+-----", "").trim());
    }

    private static String toPem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }
}
