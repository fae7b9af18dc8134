package dev.amalgam.ledger;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Base64;

/**
 * A C2SP tlog-checkpoint as a signed note: body {@code origin\nsize\nbase64(root)\n}, a blank
 * line, then {@code — name base64(keyhash4 || ed25519 signature)}. The key hash is the first four
 * bytes of SHA-256(name || "\n" || 0x01 || public key), 0x01 meaning Ed25519.
 */
public record Checkpoint(String origin, long size, byte[] root) {
    private static final String DASH = "\u2014 ";

    public String body() {
        return origin + "\n" + size + "\n" + Base64.getEncoder().encodeToString(root) + "\n";
    }

    /** The signed note text. */
    public String sign(String keyName, PrivateKey key, byte[] publicKey32) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(body().getBytes(StandardCharsets.UTF_8));
            byte[] sig = s.sign();
            byte[] blob = new byte[4 + sig.length];
            System.arraycopy(keyHash(keyName, publicKey32), 0, blob, 0, 4);
            System.arraycopy(sig, 0, blob, 4, sig.length);
            return body() + "\n" + DASH + keyName + " " + Base64.getEncoder().encodeToString(blob) + "\n";
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign the checkpoint: " + e.getMessage(), e);
        }
    }

    /**
     * Parses a signed note and checks the signature of {@code keyName}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static Checkpoint verify(String note, String keyName, PublicKey key, byte[] publicKey32) {
        int blank = note.indexOf("\n\n");
        if (blank < 0) throw new IllegalArgumentException("checkpoint has no signature block");
        String body = note.substring(0, blank + 1);
        String[] lines = body.split("\n");
        if (lines.length < 3) throw new IllegalArgumentException("checkpoint body needs origin, size and root");
        long size;
        byte[] root;
        try {
            size = Long.parseLong(lines[1]);
            root = Base64.getDecoder().decode(lines[2]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("checkpoint size or root hash is malformed");
        }
        boolean signed = false;
        for (String line : note.substring(blank + 2).split("\n")) {
            if (!line.startsWith(DASH + keyName + " ")) continue;
            byte[] blob = Base64.getDecoder().decode(line.substring(DASH.length() + keyName.length() + 1));
            if (blob.length < 5 || !Arrays.equals(Arrays.copyOf(blob, 4), keyHash(keyName, publicKey32))) continue;
            try {
                Signature s = Signature.getInstance("Ed25519");
                s.initVerify(key);
                s.update(body.getBytes(StandardCharsets.UTF_8));
                signed = s.verify(Arrays.copyOfRange(blob, 4, blob.length));
            } catch (GeneralSecurityException e) {
                signed = false;
            }
        }
        if (!signed) throw new IllegalArgumentException("checkpoint signature by " + keyName + " does not verify");
        return new Checkpoint(lines[0], size, root);
    }

    static byte[] keyHash(String name, byte[] publicKey32) {
        return keyId(name, (byte) 1, publicKey32);
    }

    /**
     * A C2SP signed-note key ID: the first four bytes of SHA-256(name || "\n" || signature type ||
     * public key); type 1 is an Ed25519 note signature, 4 a tlog-cosignature.
     */
    static byte[] keyId(String name, byte signatureType, byte[] publicKey32) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(name.getBytes(StandardCharsets.UTF_8));
            md.update((byte) '\n');
            md.update(signatureType);
            md.update(publicKey32);
            return Arrays.copyOf(md.digest(), 4);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
