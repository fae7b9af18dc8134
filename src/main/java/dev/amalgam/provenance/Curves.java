package dev.amalgam.provenance;

import java.security.spec.ECParameterSpec;

/** The curves OMS signs with, and the hash that goes with each (by key size, as the reference picks it). */
enum Curves {
    P256(256, "SHA256withECDSA"), P384(384, "SHA384withECDSA"), P521(521, "SHA512withECDSA");

    final int bits;
    final String signatureAlgorithm;

    Curves(int bits, String signatureAlgorithm) {
        this.bits = bits;
        this.signatureAlgorithm = signatureAlgorithm;
    }

    static Curves of(ECParameterSpec params) {
        int bits = params.getCurve().getField().getFieldSize();
        for (Curves c : values()) if (c.bits == bits) return c;
        throw new ProvenanceException("unsupported elliptic curve of " + bits + " bits (P-256, P-384, P-521 only)");
    }
}
