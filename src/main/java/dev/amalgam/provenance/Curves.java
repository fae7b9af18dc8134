package dev.amalgam.provenance;

import java.security.spec.ECParameterSpec;

/**
 * The curves OMS signs with, and the hash that goes with each (by key size, as the reference picks it). We sign
 * with deterministic ECDSA (RFC 6979, BouncyCastle's {@code ECDDSA}): the same key and message give the same
 * signature, so a document signed on request (a release archive's BOM envelope) has the same bytes every time;
 * verifiers see an ordinary ECDSA signature.
 */
enum Curves {
    P256(256, "SHA256withECDSA", "SHA256withECDDSA"), P384(384, "SHA384withECDSA", "SHA384withECDDSA"),
    P521(521, "SHA512withECDSA", "SHA512withECDDSA");

    final int bits;
    final String signatureAlgorithm;
    final String deterministicAlgorithm;

    Curves(int bits, String signatureAlgorithm, String deterministicAlgorithm) {
        this.bits = bits;
        this.signatureAlgorithm = signatureAlgorithm;
        this.deterministicAlgorithm = deterministicAlgorithm;
    }

    static Curves of(ECParameterSpec params) {
        int bits = params.getCurve().getField().getFieldSize();
        for (Curves c : values()) if (c.bits == bits) return c;
        throw new ProvenanceException("unsupported elliptic curve of " + bits + " bits (P-256, P-384, P-521 only)");
    }
}
