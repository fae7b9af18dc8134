package dev.amalgam.provenance;

import java.util.Arrays;
import java.util.List;

/**
 * RFC 6962 / 9162 Merkle hashing and inclusion-proof verification for transparency-log entries.
 * The ledger has the same algorithm for its own tree; provenance may not depend on the ledger
 * (DESIGN.md layers), so the few lines of verification live here too and are checked against the
 * same transparency-dev vectors.
 */
final class Rfc6962 {
    private Rfc6962() {
    }

    static byte[] leafHash(byte[] leaf) {
        byte[] in = new byte[leaf.length + 1];
        System.arraycopy(leaf, 0, in, 1, leaf.length);
        return KeylessVerifier.sha256(in);
    }

    static byte[] nodeHash(byte[] left, byte[] right) {
        byte[] in = new byte[65];
        in[0] = 1;
        System.arraycopy(left, 0, in, 1, 32);
        System.arraycopy(right, 0, in, 33, 32);
        return KeylessVerifier.sha256(in);
    }

    /** RFC 9162 2.1.3.2: true when the proof leads from the leaf hash at index to the root of a tree of size. */
    static boolean verifyInclusion(long index, long size, byte[] leafHash, List<byte[]> proof, byte[] root) {
        if (index < 0 || index >= size || leafHash == null || leafHash.length != 32 || root == null || root.length != 32) {
            return false;
        }
        long fn = index;
        long sn = size - 1;
        byte[] r = leafHash;
        for (byte[] p : proof) {
            if (p == null || p.length != 32 || sn == 0) return false;
            if ((fn & 1) == 1 || fn == sn) {
                r = nodeHash(p, r);
                while ((fn & 1) == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                r = nodeHash(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && Arrays.equals(r, root);
    }
}
