package dev.amalgam.ledger;

import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.eclipse.jgit.api.errors.CanceledException;
import org.eclipse.jgit.api.errors.UnsupportedSigningFormatException;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Config;
import org.eclipse.jgit.lib.GpgConfig;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.SignatureVerifiers;
import org.eclipse.jgit.lib.Signer;
import org.eclipse.jgit.lib.Signers;
import org.eclipse.jgit.revwalk.RevCommit;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.util.Base64;

/**
 * SSH commit signatures for the ledger (git's {@code gpg.format=ssh}): an ECDSA P-256 key in the
 * keys folder (PKCS#8 PEM, mode 0600), its OpenSSH public key in an {@code allowed_signers} file
 * beside it, so plain {@code git verify-commit} checks every ledger commit.
 */
public final class CommitSigning {
    static final String KEY = "ledger-ssh-key.pem";
    public static final String ALLOWED_SIGNERS = "allowed_signers";
    public static final String PRINCIPAL = "ledger@amalgam.invalid";

    private final Path keyFile;
    private final Signer signer;
    private final GpgConfig config;

    private CommitSigning(Path keyFile) {
        this.keyFile = keyFile;
        Config c = new Config();
        c.setString("gpg", null, "format", "ssh");
        c.setString("user", null, "signingKey", keyFile.toString());
        this.config = new GpgConfig(c);
        this.signer = Signers.get(GpgConfig.GpgFormat.SSH);
        if (signer == null) throw new IllegalStateException("no SSH signer: org.eclipse.jgit.ssh.apache is missing");
    }

    /** Loads the key from {@code keysDir}, creating it (and allowed_signers) on first use. */
    public static CommitSigning loadOrCreate(Path keysDir) throws IOException {
        Path key = keysDir.resolve(KEY);
        if (!Files.exists(key)) {
            try {
                // BouncyCastle's encoding carries the public key inside the private key structure,
                // which the SSH signer (Apache MINA) needs; the JDK's encoding leaves it out
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC", new BouncyCastleProvider());
                g.initialize(new ECGenParameterSpec("secp256r1"));
                KeyPair kp = g.generateKeyPair();
                Files.createDirectories(keysDir);
                Path tmp = keysDir.resolve(KEY + ".tmp");
                Files.deleteIfExists(tmp);
                Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                Files.writeString(tmp, "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes())
                        .encodeToString(kp.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
                Files.move(tmp, key);
                Files.writeString(keysDir.resolve(ALLOWED_SIGNERS), PRINCIPAL + " " + openSsh((ECPublicKey) kp.getPublic()) + "\n");
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot create the ledger signing key: " + e.getMessage(), e);
            }
        }
        return new CommitSigning(key);
    }

    /** Verifies a commit's SSH signature against the allowed_signers file; null when it holds, else why not. */
    String check(Repository repo, RevCommit commit) throws IOException {
        if (commit.getRawGpgSignature() == null) return "commit is not signed";
        Config c = new Config();
        c.setString("gpg", null, "format", "ssh");
        c.setString("gpg", "ssh", "allowedSignersFile", keyFile.resolveSibling(ALLOWED_SIGNERS).toString());
        var v = SignatureVerifiers.verify(repo, new GpgConfig(c), commit);
        if (v == null) return "no verifier for the commit's signature format";
        return v.verified() ? null : "commit signature does not verify" + (v.message() == null ? "" : ": " + v.message());
    }

    void sign(Repository repo, CommitBuilder commit, PersonIdent committer) throws IOException {
        try {
            signer.signObject(repo, config, commit, committer, keyFile.toString(), null);
        } catch (CanceledException
                 | UnsupportedSigningFormatException e) {
            throw new IOException("cannot sign the ledger commit: " + e.getMessage(), e);
        }
    }

    /** OpenSSH public key line: {@code ecdsa-sha2-nistp256 <base64 wire encoding>}. */
    static String openSsh(ECPublicKey key) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(out);
        string(d, "ecdsa-sha2-nistp256".getBytes(StandardCharsets.US_ASCII));
        string(d, "nistp256".getBytes(StandardCharsets.US_ASCII));
        byte[] point = new byte[65];
        point[0] = 4;
        copy(key.getW().getAffineX(), point, 1);
        copy(key.getW().getAffineY(), point, 33);
        string(d, point);
        return "ecdsa-sha2-nistp256 " + Base64.getEncoder().encodeToString(out.toByteArray());
    }

    private static void string(DataOutputStream d, byte[] b) throws IOException {
        d.writeInt(b.length);
        d.write(b);
    }

    private static void copy(BigInteger v, byte[] dst, int off) {
        byte[] b = v.toByteArray();
        int n = Math.min(b.length, 32);
        System.arraycopy(b, b.length - n, dst, off + 32 - n, n);
    }

}
