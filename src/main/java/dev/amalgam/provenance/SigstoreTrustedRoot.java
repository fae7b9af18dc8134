package dev.amalgam.provenance;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A Sigstore trust root in the {@code trusted_root.json} format (sigstore protobuf-specs
 * {@code TrustedRoot}): the transparency logs (Rekor), the certificate authorities (Fulcio) and the
 * certificate-transparency logs, each valid for a time range. The public-good instance and a private
 * one differ only in this file.
 */
public record SigstoreTrustedRoot(List<Log> tlogs, List<Log> ctlogs, List<Authority> authorities) {
    /** A log's key, its id (SHA-256 of the key's DER) and when it may be used. */
    public record Log(String baseUrl, byte[] keyId, PublicKey key, Instant start, Instant end) {
        boolean validAt(Instant t) {
            return (start == null || !t.isBefore(start)) && (end == null || !t.isAfter(end));
        }
    }

    /** A certificate authority: its chain, issuing certificate first, root last. */
    public record Authority(String uri, List<X509Certificate> chain, Instant start, Instant end) {
        boolean validAt(Instant t) {
            return (start == null || !t.isBefore(start)) && (end == null || !t.isAfter(end));
        }
    }

    public static SigstoreTrustedRoot read(Path file) {
        try {
            return parse(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new ProvenanceException("cannot read the trusted root " + file + ": " + e.getMessage());
        }
    }

    public static SigstoreTrustedRoot parse(byte[] json) {
        JsonNode root;
        try {
            root = Statements.JSON.readTree(json);
        } catch (IOException e) {
            throw new ProvenanceException("the trusted root is not JSON");
        }
        if (root == null || !root.isObject() || !root.path("mediaType").asText("").startsWith("application/vnd.dev.sigstore.trustedroot")) {
            throw new ProvenanceException("not a Sigstore trusted root (mediaType application/vnd.dev.sigstore.trustedroot+json expected)");
        }
        List<Log> tlogs = logs(root.path("tlogs"), "tlogs");
        List<Log> ctlogs = logs(root.path("ctlogs"), "ctlogs");
        List<Authority> cas = new ArrayList<>();
        for (JsonNode ca : root.path("certificateAuthorities")) {
            List<X509Certificate> chain = new ArrayList<>();
            for (JsonNode c : ca.path("certChain").path("certificates")) {
                chain.add(certificate(bytes(c.path("rawBytes"), "certificateAuthorities.certChain")));
            }
            if (chain.isEmpty()) throw new ProvenanceException("the trusted root has a certificate authority without certificates");
            cas.add(new Authority(ca.path("uri").asText(""), List.copyOf(chain),
                    time(ca.path("validFor").path("start")), time(ca.path("validFor").path("end"))));
        }
        if (tlogs.isEmpty() || cas.isEmpty()) {
            throw new ProvenanceException("the trusted root names no transparency log or no certificate authority");
        }
        return new SigstoreTrustedRoot(tlogs, ctlogs, List.copyOf(cas));
    }

    private static List<Log> logs(JsonNode array, String what) {
        List<Log> out = new ArrayList<>();
        for (JsonNode l : array) {
            JsonNode pk = l.path("publicKey");
            byte[] der = bytes(pk.path("rawBytes"), what + ".publicKey");
            out.add(new Log(l.path("baseUrl").asText(""), bytes(l.path("logId").path("keyId"), what + ".logId"),
                    publicKey(der, what), time(pk.path("validFor").path("start")), time(pk.path("validFor").path("end"))));
        }
        return List.copyOf(out);
    }

    static PublicKey publicKey(byte[] der, String what) {
        for (String alg : List.of("EC", "Ed25519", "RSA")) {
            try {
                return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new ProvenanceException("the trusted root holds an unreadable public key in " + what);
    }

    static X509Certificate certificate(byte[] der) {
        return certificate(der, "the trusted root");
    }

    static X509Certificate certificate(byte[] der, String where) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new ProvenanceException("malformed certificate in " + where);
        }
    }

    private static byte[] bytes(JsonNode n, String what) {
        try {
            byte[] b = Base64.getDecoder().decode(n.asText(""));
            if (b.length == 0) throw new ProvenanceException("the trusted root has no " + what);
            return b;
        } catch (IllegalArgumentException e) {
            throw new ProvenanceException("the trusted root's " + what + " is not base64");
        }
    }

    private static Instant time(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull() || n.asText("").isEmpty()) return null;
        try {
            return Instant.parse(n.asText());
        } catch (DateTimeParseException e) {
            throw new ProvenanceException("the trusted root has a bad time '" + n.asText() + "'");
        }
    }
}
