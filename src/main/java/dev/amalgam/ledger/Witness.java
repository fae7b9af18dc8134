package dev.amalgam.ledger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * A C2SP {@code tlog-witness}: it keeps the latest checkpoint of one log, and cosigns a new one
 * ({@code tlog-cosignature}, {@code cosignature/v1}) only when the log's signature verifies and a
 * consistency proof shows the new tree extends the one it holds. A log that was truncated, rolled
 * back or forked cannot get a cosignature again, and the stored checkpoint shows what it once was.
 * State: {@code witness-key.pem} (Ed25519, 0600), {@code witness-key.pub.pem} and {@code latest} (the
 * cosigned note) in its own folder, which belongs somewhere the log's operator cannot rewrite.
 */
public final class Witness {
    static final String LATEST = "latest";
    private static final String DASH = "\u2014 ";

    private final Path dir;
    private final LedgerKeys key;
    private final LedgerKeys log;
    private final Clock clock;

    /** Refusal of a checkpoint, as the protocol's 409 (wrong old size) or 422 (bad proof or signature). */
    public static final class Refused extends Exception {
        private final long knownSize;

        Refused(String message, long knownSize) {
            super(message);
            this.knownSize = knownSize;
        }

        /** The size of the tree the witness holds (what {@code old} must be). */
        public long knownSize() {
            return knownSize;
        }
    }

    private Witness(Path dir, LedgerKeys key, LedgerKeys log, Clock clock) {
        this.dir = dir;
        this.key = key;
        this.log = log;
        this.clock = clock;
    }

    /** Opens (creating its key on first use) a witness of the log whose checkpoint key is {@code log}. */
    public static Witness open(Path dir, String name, LedgerKeys log) throws IOException {
        return open(dir, name, log, Clock.systemUTC());
    }

    static Witness open(Path dir, String name, LedgerKeys log, Clock clock) throws IOException {
        Files.createDirectories(dir);
        return new Witness(dir, LedgerKeys.loadOrCreate(dir, name, "witness-key.pem", "witness-key.pub.pem"), log, clock);
    }

    public String name() {
        return key.name();
    }

    public PublicKey publicKey() {
        return key.publicKey();
    }

    /** Its C2SP verifier key for cosignatures: {@code name+hex(key id)+base64(0x04 || key)}. */
    public String verifierKey() {
        byte[] typed = new byte[33];
        typed[0] = 4;
        System.arraycopy(key.publicKey32(), 0, typed, 1, 32);
        return name() + "+" + HexFormat.of().formatHex(keyId(name(), key.publicKey32())) + "+"
                + Base64.getEncoder().encodeToString(typed);
    }

    /** The latest checkpoint it cosigned (log signature and cosignature lines), if any. */
    public synchronized Optional<String> latest() throws IOException {
        Path f = dir.resolve(LATEST);
        return Files.exists(f) ? Optional.of(Files.readString(f, StandardCharsets.UTF_8)) : Optional.empty();
    }

    /** Size of the tree it holds, 0 before the first checkpoint. */
    public synchronized long size() throws IOException {
        Optional<String> l = latest();
        return l.isEmpty() ? 0 : Checkpoint.verify(l.get(), log.name(), log.publicKey(), log.publicKey32()).size();
    }

    /**
     * The {@code add-checkpoint} operation: {@code oldSize} must be the size it holds, {@code proof} a
     * consistency proof from that tree to the new one. Returns the cosigned note, which it now holds.
     */
    public synchronized String add(String note, long oldSize, List<byte[]> proof) throws IOException, Refused {
        Checkpoint next;
        try {
            next = Checkpoint.verify(note, log.name(), log.publicKey(), log.publicKey32());
        } catch (IllegalArgumentException e) {
            throw new Refused("the checkpoint's log signature does not verify: " + e.getMessage(), size());
        }
        Optional<String> held = latest();
        Checkpoint old = held.isEmpty() ? null : Checkpoint.verify(held.get(), log.name(), log.publicKey(), log.publicKey32());
        long have = old == null ? 0 : old.size();
        if (oldSize != have) throw new Refused("the witness holds a tree of size " + have + ", not " + oldSize, have);
        if (next.size() < have) throw new Refused("the checkpoint's tree (" + next.size() + ") is smaller than the one the witness holds (" + have + ")", have);
        if (old != null && !MerkleTree.verifyConsistency(have, next.size(), old.root(), next.root(), proof)) {
            throw new Refused("the consistency proof from size " + have + " to " + next.size() + " does not verify", have);
        }
        String body = note.substring(0, note.indexOf("\n\n") + 1);
        String cosigned = stripOwnLines(note) + cosignatureLine(body, clock.instant().getEpochSecond()) + "\n";
        Path tmp = dir.resolve(LATEST + ".tmp");
        Files.writeString(tmp, cosigned, StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve(LATEST), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return cosigned;
    }

    /**
     * Checks a cosigned note: the log's signature and this witness's cosignature over its body.
     *
     * @return the checkpoint
     * @throws IllegalArgumentException naming which signature fails
     */
    public Checkpoint verifyCosigned(String note) {
        Checkpoint cp = Checkpoint.verify(note, log.name(), log.publicKey(), log.publicKey32());
        String body = note.substring(0, note.indexOf("\n\n") + 1);
        for (String line : note.substring(note.indexOf("\n\n") + 2).split("\n")) {
            if (!line.startsWith(DASH + name() + " ")) continue;
            byte[] blob;
            try {
                blob = Base64.getDecoder().decode(line.substring(DASH.length() + name().length() + 1));
            } catch (IllegalArgumentException e) {
                continue;
            }
            if (blob.length != 4 + 8 + 64 || !Arrays.equals(Arrays.copyOf(blob, 4), keyId(name(), key.publicKey32()))) continue;
            long time = ByteBuffer.wrap(blob, 4, 8).getLong();
            try {
                Signature s = Signature.getInstance("Ed25519");
                s.initVerify(key.publicKey());
                s.update(signedMessage(body, time));
                if (s.verify(Arrays.copyOfRange(blob, 12, blob.length))) return cp;
            } catch (GeneralSecurityException e) {
                // falls through to the refusal
            }
        }
        throw new IllegalArgumentException("no valid cosignature by witness " + name() + " on the checkpoint of size " + cp.size());
    }

    private String cosignatureLine(String body, long time) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key.privateKey());
            s.update(signedMessage(body, time));
            byte[] sig = s.sign();
            ByteBuffer b = ByteBuffer.allocate(4 + 8 + sig.length);
            b.put(keyId(name(), key.publicKey32())).putLong(time).put(sig);
            return DASH + name() + " " + Base64.getEncoder().encodeToString(b.array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot cosign: " + e.getMessage(), e);
        }
    }

    /** The note without earlier lines of this witness (a re-cosigned note carries one), ending in a newline. */
    private String stripOwnLines(String note) {
        StringBuilder b = new StringBuilder();
        for (String line : note.split("\n", -1)) {
            if (line.startsWith(DASH + name() + " ")) continue;
            b.append(line).append('\n');
        }
        String s = b.toString();
        while (s.endsWith("\n\n")) s = s.substring(0, s.length() - 1);
        return s;
    }

    /** cosignature/v1: the header line, the time line, then the checkpoint body. */
    static byte[] signedMessage(String body, long time) {
        return ("cosignature/v1\ntime " + time + "\n" + body).getBytes(StandardCharsets.UTF_8);
    }

    /** Key ID of a cosignature key: SHA-256(name || "\n" || 0x04 || public key), first four bytes. */
    static byte[] keyId(String name, byte[] publicKey32) {
        return Checkpoint.keyId(name, (byte) 4, publicKey32);
    }
}
