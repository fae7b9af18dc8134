package dev.amalgam.ledger;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * RFC 6962 / RFC 9162 Merkle tree over SHA-256: leaf hash = H(0x00 || leaf), node hash =
 * H(0x01 || left || right); the split of n leaves is at the largest power of two below n.
 * Roots, inclusion and consistency proofs, and their verification (RFC 9162, 2.1.3.2 and 2.1.4.2).
 */
public final class MerkleTree {
    private MerkleTree() {
    }

    public static byte[] leafHash(byte[] leaf) {
        MessageDigest md = sha256();
        md.update((byte) 0);
        md.update(leaf);
        return md.digest();
    }

    static byte[] nodeHash(byte[] left, byte[] right) {
        MessageDigest md = sha256();
        md.update((byte) 1);
        md.update(left);
        md.update(right);
        return md.digest();
    }

    /** Root of leaf hashes [from, to); the empty tree's root is H(""). */
    public static byte[] root(List<byte[]> leaves) {
        return leaves.isEmpty() ? sha256().digest() : root(leaves, 0, leaves.size());
    }

    private static byte[] root(List<byte[]> leaves, int from, int to) {
        int n = to - from;
        if (n == 1) return leaves.get(from);
        int k = split(n);
        return nodeHash(root(leaves, from, from + k), root(leaves, from + k, to));
    }

    /** Largest power of two strictly smaller than n (n > 1). */
    static int split(int n) {
        return Integer.highestOneBit(n - 1);
    }

    /** Audit path of leaf {@code index} in the tree of the first {@code size} leaves. */
    public static List<byte[]> inclusionProof(List<byte[]> leaves, int index, int size) {
        if (index < 0 || index >= size || size > leaves.size()) throw new IllegalArgumentException("index or size out of range");
        List<byte[]> proof = new ArrayList<>();
        path(leaves, index, 0, size, proof);
        return proof;
    }

    private static void path(List<byte[]> leaves, int m, int from, int to, List<byte[]> out) {
        int n = to - from;
        if (n == 1) return;
        int k = split(n);
        if (m < k) {
            path(leaves, m, from, from + k, out);
            out.add(root(leaves, from + k, to));
        } else {
            path(leaves, m - k, from + k, to, out);
            out.add(root(leaves, from, from + k));
        }
    }

    /** Consistency proof between the trees of the first m and first n leaves (0 < m <= n). */
    public static List<byte[]> consistencyProof(List<byte[]> leaves, int m, int n) {
        if (m <= 0 || m > n || n > leaves.size()) throw new IllegalArgumentException("sizes out of range");
        List<byte[]> proof = new ArrayList<>();
        if (m < n) subproof(leaves, m, 0, n, true, proof);
        return proof;
    }

    private static void subproof(List<byte[]> leaves, int m, int from, int to, boolean complete, List<byte[]> out) {
        int n = to - from;
        if (m == n) {
            if (!complete) out.add(root(leaves, from, to));
            return;
        }
        int k = split(n);
        if (m <= k) {
            subproof(leaves, m, from, from + k, complete, out);
            out.add(root(leaves, from + k, to));
        } else {
            subproof(leaves, m - k, from + k, to, false, out);
            out.add(root(leaves, from, from + k));
        }
    }

    /** RFC 9162 2.1.3.2: true when the proof leads from the leaf hash to the root. */
    public static boolean verifyInclusion(long index, long size, byte[] leafHash, List<byte[]> proof, byte[] root) {
        if (index < 0 || index >= size || !hash(leafHash) || !hash(root)) return false;
        long fn = index;
        long sn = size - 1;
        byte[] r = leafHash;
        for (byte[] p : proof) {
            if (p == null || p.length != 32 || sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn) {
                r = nodeHash(p, r);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = nodeHash(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && Arrays.equals(r, root);
    }

    /** RFC 9162 2.1.4.2: true when the proof shows the tree of size1 is a prefix of the tree of size2. */
    public static boolean verifyConsistency(long size1, long size2, byte[] root1, byte[] root2, List<byte[]> proof) {
        if (size1 < 0 || size2 < size1 || size2 == 0 || root1 == null || root2 == null) return false;
        if (size1 == size2) return proof.isEmpty() && Arrays.equals(root1, root2);
        if (!hash(root1) || !hash(root2)) return false;
        if (size1 == 0) return false;
        if (proof.isEmpty()) return false;
        for (byte[] p : proof) if (p == null || p.length != 32) return false;
        List<byte[]> path = new ArrayList<>(proof);
        if (Long.bitCount(size1) == 1) path.addFirst(root1);
        long fn = size1 - 1;
        long sn = size2 - 1;
        while ((fn & 1) == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        byte[] fr = path.getFirst();
        byte[] sr = path.getFirst();
        for (int i = 1; i < path.size(); i++) {
            byte[] c = path.get(i);
            if (sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn) {
                fr = nodeHash(c, fr);
                sr = nodeHash(c, sr);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                sr = nodeHash(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && Arrays.equals(fr, root1) && Arrays.equals(sr, root2);
    }

    private static boolean hash(byte[] h) {
        return h != null && h.length == 32;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
