package dev.amalgam.provenance;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Provider;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * Sigstore bundle v0.3 carrying a DSSE envelope: what OMS writes to {@code model.sig}. Signing
 * is ECDSA with the hash of the curve (DER signatures) over the DSSE PAE of the statement.
 */
public final class Bundles {
    public static final String MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

    private Bundles() {
    }

    /** Signs a statement; with a certificate chain (leaf first) the bundle carries it, else a key hint. */
    public static byte[] sign(ObjectNode statement, PrivateKey key, List<X509Certificate> chain) {
        byte[] payload;
        try {
            payload = Statements.JSON.writeValueAsBytes(statement);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        PublicKey pub = chain.isEmpty() ? PemKeys.publicKeyOf(key) : chain.getFirst().getPublicKey();
        if (!chain.isEmpty() && !matches(pub, PemKeys.publicKeyOf(key))) {
            throw new ProvenanceException("the certificate does not belong to the signing key");
        }
        byte[] sig = signRaw(key, Dsse.pae(Dsse.IN_TOTO, payload));
        ObjectNode b = Statements.JSON.createObjectNode();
        b.put("mediaType", MEDIA_TYPE);
        ObjectNode vm = b.putObject("verificationMaterial");
        if (chain.isEmpty()) {
            vm.putObject("publicKey").put("hint", hint(pub));
        } else {
            ArrayNode certs = vm.putObject("x509CertificateChain").putArray("certificates");
            for (X509Certificate c : chain) {
                try {
                    certs.addObject().put("rawBytes", Base64.getEncoder().encodeToString(c.getEncoded()));
                } catch (CertificateEncodingException e) {
                    throw new ProvenanceException("cannot encode certificate " + c.getSubjectX500Principal());
                }
            }
        }
        vm.putArray("tlogEntries");
        ObjectNode env = b.putObject("dsseEnvelope");
        env.put("payload", Base64.getEncoder().encodeToString(payload));
        env.put("payloadType", Dsse.IN_TOTO);
        env.putArray("signatures").addObject().put("sig", Base64.getEncoder().encodeToString(sig)).put("keyid", "");
        try {
            return Statements.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(b);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The reference's key hint: SHA-256 (hex) of the public key's PEM. */
    public static String hint(PublicKey key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(PemKeys.publicKeyPem(key).getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final Provider BC = new BouncyCastleProvider();

    static byte[] signRaw(PrivateKey key, byte[] data) {
        try {
            Signature s = Signature.getInstance(Curves.of(((ECPrivateKey) key).getParams()).deterministicAlgorithm, BC);
            s.initSign(key);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new ProvenanceException("signing failed: " + e.getMessage(), e);
        }
    }

    static boolean verifyRaw(PublicKey key, String algorithm, byte[] data, byte[] sig) {
        try {
            Signature s = Signature.getInstance(algorithm);
            s.initVerify(key);
            s.update(data);
            return s.verify(sig);
        } catch (SignatureException e) {
            return false; // malformed DER: not a valid signature
        } catch (GeneralSecurityException e) {
            throw new ProvenanceException("cannot verify: " + e.getMessage(), e);
        }
    }

    static String algorithmFor(PublicKey key) {
        return Curves.of(((ECPublicKey) key).getParams()).signatureAlgorithm;
    }

    static boolean matches(PublicKey a, PublicKey b) {
        return Arrays.equals(a.getEncoded(), b.getEncoded());
    }

    static JsonNode parse(byte[] bundle) {
        try {
            JsonNode n = Statements.JSON.readTree(bundle);
            if (n == null || !n.isObject()) throw new ProvenanceException("the signature file is not a JSON object");
            return n;
        } catch (JsonProcessingException e) {
            throw new ProvenanceException("the signature file is not valid JSON (" + e.getOriginalMessage() + ")");
        } catch (IOException e) {
            throw new ProvenanceException("the signature file cannot be read: " + e.getMessage());
        }
    }

}
