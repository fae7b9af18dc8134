package dev.amalgam.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * A client's memory of the last checkpoint it verified, per server, as Go's checksum-database client
 * keeps one: a new checkpoint is accepted only with a valid signature by the key first seen for that
 * server and, when the tree grew, a consistency proof from the remembered tree. A smaller tree, another
 * root at the same size, a failed proof or a changed key is a {@link Rejected} naming which.
 * One file per server: the verifier key line, then the signed note.
 */
public final class CheckpointMemory {
    private static final byte[] ED25519_X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private final Path dir;

    /** Supplies a consistency proof between two tree sizes (from the server). */
    @FunctionalInterface
    public interface Proofs {
        List<byte[]> consistency(long from, long to);
    }

    /** The outcome: the checkpoint now remembered and the size remembered before (0 on first contact). */
    public record Verified(Checkpoint checkpoint, long previousSize) {
    }

    /** A checkpoint that must not be trusted, with the reason. */
    public static final class Rejected extends Exception {
        public Rejected(String message) {
            super(message);
        }
    }

    public CheckpointMemory(Path dir) {
        this.dir = dir;
    }

    /** Verifies {@code note} from {@code server} (signed by the key {@code vkey}) and remembers it. */
    public Verified verify(String server, String vkey, String note, Proofs proofs) throws IOException, Rejected {
        Path file = dir.resolve(fileName(server));
        String knownKey = vkey;
        Checkpoint old = null;
        if (Files.exists(file)) {
            String text = Files.readString(file, StandardCharsets.UTF_8);
            int nl = text.indexOf('\n');
            knownKey = text.substring(0, nl);
            if (!knownKey.equals(vkey)) {
                throw new Rejected("the checkpoint key of " + server + " changed: remembered " + knownKey + ", now " + vkey
                        + " (delete " + file + " only if the change is known to be legitimate)");
            }
            try {
                old = check(text.substring(nl + 1), knownKey);
            } catch (IllegalArgumentException e) {
                throw new Rejected("the checkpoint remembered for " + server + " in " + file + " does not verify: " + e.getMessage());
            }
        }
        Checkpoint next;
        try {
            next = check(note, knownKey);
        } catch (IllegalArgumentException e) {
            throw new Rejected("the checkpoint of " + server + " does not verify: " + e.getMessage());
        }
        if (old != null) {
            if (next.size() < old.size()) {
                throw new Rejected("the ledger of " + server + " was rolled back or truncated: it now has " + next.size()
                        + " entries, this client verified " + old.size() + " before");
            }
            if (next.size() == old.size() && !Arrays.equals(next.root(), old.root())) {
                throw new Rejected("the ledger of " + server + " forked: another root for the same " + next.size() + " entries");
            }
            if (next.size() > old.size() && !MerkleTree.verifyConsistency(old.size(), next.size(), old.root(), next.root(),
                    proofs.consistency(old.size(), next.size()))) {
                throw new Rejected("the ledger of " + server + " is not an extension of the one verified before (size "
                        + old.size() + " -> " + next.size() + "): the consistency proof fails; history was rewritten");
            }
        }
        Files.createDirectories(dir);
        Path tmp = dir.resolve(file.getFileName() + ".tmp");
        Files.writeString(tmp, knownKey + "\n" + note, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return new Verified(next, old == null ? 0 : old.size());
    }

    /** The C2SP note verifier key of a checkpoint key: {@code name+hex(key hash)+base64(0x01 || public key)}. */
    public static String verifierKey(String name, byte[] publicKey32) {
        byte[] typed = new byte[33];
        typed[0] = 1;
        System.arraycopy(publicKey32, 0, typed, 1, 32);
        return name + "+" + HexFormat.of().formatHex(Checkpoint.keyHash(name, publicKey32)) + "+"
                + Base64.getEncoder().encodeToString(typed);
    }

    private static Checkpoint check(String note, String vkey) {
        String[] parts = vkey.split("\\+", 3);
        if (parts.length != 3) throw new IllegalArgumentException("malformed verifier key " + vkey);
        byte[] typed = Base64.getDecoder().decode(parts[2]);
        if (typed.length != 33 || typed[0] != 1) throw new IllegalArgumentException("verifier key is not Ed25519: " + vkey);
        byte[] raw = Arrays.copyOfRange(typed, 1, 33);
        return Checkpoint.verify(note, parts[0], publicKey(raw), raw);
    }

    private static PublicKey publicKey(byte[] raw) {
        byte[] der = new byte[ED25519_X509_PREFIX.length + 32];
        System.arraycopy(ED25519_X509_PREFIX, 0, der, 0, ED25519_X509_PREFIX.length);
        System.arraycopy(raw, 0, der, ED25519_X509_PREFIX.length, 32);
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("invalid Ed25519 key", e);
        }
    }

    private static String fileName(String server) {
        return server.replaceFirst("^[a-z]+://", "").replaceAll("[^A-Za-z0-9.-]", "_");
    }
}
