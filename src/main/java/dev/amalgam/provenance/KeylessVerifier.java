package dev.amalgam.provenance;

import com.fasterxml.jackson.databind.JsonNode;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.ASN1TaggedObject;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * Offline verification of a Sigstore keyless signature (a Fulcio certificate plus a Rekor entry)
 * against a {@link SigstoreTrustedRoot} and an identity policy. Checks, in order: the Rekor entry's
 * signed entry timestamp (which authenticates the integration time), its inclusion proof and signed
 * checkpoint, that the entry records this envelope and certificate, the certificate chain to a Fulcio
 * root at the integration time, a signed certificate timestamp from a trusted CT log, and the
 * certificate's identity and issuer. The DSSE signature itself is checked by the caller with the key
 * returned.
 */
final class KeylessVerifier {
    private static final String SCT_OID = "1.3.6.1.4.1.11129.2.4.2";
    private static final String ISSUER_V1_OID = "1.3.6.1.4.1.57264.1.1";
    private static final String ISSUER_V2_OID = "1.3.6.1.4.1.57264.1.8";

    private KeylessVerifier() {
    }

    /** @return the signing certificate's public key, once everything around it holds */
    static PublicKey verify(JsonNode vm, byte[] payload, byte[] signature, ModelVerifier.Trust.Keyless trust)
            throws VerificationException {
        SigstoreTrustedRoot root = trust.root();
        X509Certificate leaf = leaf(vm);
        JsonNode entries = vm.path("tlogEntries");
        if (!entries.isArray() || entries.isEmpty()) {
            throw new VerificationException("the bundle has no transparency-log entry: a keyless signature needs one");
        }
        JsonNode entry = entries.get(0);
        byte[] logId = b64(entry.path("logId").path("keyId").asText(null), "tlog entry logId");
        SigstoreTrustedRoot.Log log = root.tlogs().stream().filter(l -> Arrays.equals(l.keyId(), logId)).findFirst()
                .orElseThrow(() -> new VerificationException("the entry is in transparency log "
                        + Base64.getEncoder().encodeToString(logId) + ", which the trusted root does not name"));
        String bodyB64 = entry.path("canonicalizedBody").asText("");
        byte[] body = b64(bodyB64, "tlog entry body");
        long logIndex = number(entry.path("logIndex"), "tlog entry logIndex");
        long integrated = number(entry.path("integratedTime"), "tlog entry integratedTime");
        Instant when = Instant.ofEpochSecond(integrated);

        Instant verifiedTime = signedEntryTimestamp(entry, log, bodyB64, integrated, logIndex);
        inclusionProof(entry, log, body);
        checkBody(body, payload, signature, leaf);
        if (entry.has("kindVersion") && !"dsse".equals(entry.path("kindVersion").path("kind").asText(""))) {
            throw new VerificationException("the entry's kindVersion does not match its body (dsse)");
        }

        Instant at = verifiedTime != null ? verifiedTime : Instant.now();
        if (verifiedTime != null && !log.validAt(when)) {
            throw new VerificationException("the transparency-log key was not valid at the integration time " + when);
        }
        X509Certificate issuer = chain(leaf, root, at, verifiedTime != null);
        certificateTimestamp(leaf, issuer, root);
        identity(leaf, trust.identity(), trust.issuer());
        return leaf.getPublicKey();
    }

    private static X509Certificate leaf(JsonNode vm) {
        JsonNode c = vm.path("certificate").path("rawBytes");
        if (c.isMissingNode()) c = vm.path("x509CertificateChain").path("certificates").path(0).path("rawBytes");
        return SigstoreTrustedRoot.certificate(b64(c.asText(null), "certificate"), "the bundle");
    }

    /** Checks the SET; returns the integration time it vouches for, or null without one. */
    private static Instant signedEntryTimestamp(JsonNode entry, SigstoreTrustedRoot.Log log, String bodyB64,
                                                long integrated, long logIndex) throws VerificationException {
        String set = entry.path("inclusionPromise").path("signedEntryTimestamp").asText("");
        if (set.isEmpty()) return null;
        String canonical = "{\"body\":\"" + bodyB64 + "\",\"integratedTime\":" + integrated + ",\"logID\":\""
                + HexFormat.of().formatHex(log.keyId()) + "\",\"logIndex\":" + logIndex + "}";
        if (!verifySignature(log.key(), canonical.getBytes(StandardCharsets.UTF_8), b64(set, "signed entry timestamp"))) {
            throw new VerificationException("the transparency log's signed entry timestamp does not verify"
                    + " (tampered entry, integration time or index)");
        }
        return Instant.ofEpochSecond(integrated);
    }

    private static void inclusionProof(JsonNode entry, SigstoreTrustedRoot.Log log, byte[] body) throws VerificationException {
        JsonNode p = entry.path("inclusionProof");
        if (p.isMissingNode() || p.isNull()) {
            throw new VerificationException("the transparency-log entry has no inclusion proof");
        }
        long index = number(p.path("logIndex"), "inclusion proof logIndex");
        long size = number(p.path("treeSize"), "inclusion proof treeSize");
        byte[] rootHash = b64(p.path("rootHash").asText(null), "inclusion proof rootHash");
        List<byte[]> hashes = new ArrayList<>();
        for (JsonNode h : p.path("hashes")) hashes.add(b64(h.asText(null), "inclusion proof hash"));
        if (!Rfc6962.verifyInclusion(index, size, Rfc6962.leafHash(body), hashes, rootHash)) {
            throw new VerificationException("the transparency-log inclusion proof does not lead to the tree root"
                    + " (entry " + index + " of " + size + ")");
        }
        checkpoint(p.path("checkpoint").path("envelope").asText(""), log, size, rootHash);
    }

    /** A signed note: origin, size, root hash, blank line, then "— name base64(keyhint4 || signature)" lines. */
    private static void checkpoint(String note, SigstoreTrustedRoot.Log log, long size, byte[] rootHash)
            throws VerificationException {
        if (note.isEmpty()) throw new VerificationException("the inclusion proof has no signed checkpoint");
        int split = note.indexOf("\n\n");
        if (split < 0) throw new VerificationException("the checkpoint is malformed (no signature block)");
        String text = note.substring(0, split + 1);
        String[] lines = text.split("\n");
        if (lines.length < 3) throw new VerificationException("the checkpoint is malformed (fewer than three lines)");
        if (!lines[1].equals(Long.toString(size)) || !Arrays.equals(b64(lines[2], "checkpoint root hash"), rootHash)) {
            throw new VerificationException("the checkpoint is for another tree than the inclusion proof");
        }
        byte[] hint = Arrays.copyOf(log.keyId(), 4);
        boolean ok = false;
        for (String line : note.substring(split + 2).split("\n")) {
            if (!line.startsWith("\u2014 ")) continue;
            int sp = line.lastIndexOf(' ');
            byte[] raw;
            try {
                raw = Base64.getDecoder().decode(line.substring(sp + 1));
            } catch (IllegalArgumentException e) {
                continue;
            }
            if (raw.length > 4 && Arrays.equals(Arrays.copyOf(raw, 4), hint)
                    && verifySignature(log.key(), text.getBytes(StandardCharsets.UTF_8), Arrays.copyOfRange(raw, 4, raw.length))) {
                ok = true;
            }
        }
        if (!ok) throw new VerificationException("the checkpoint is not signed by the transparency log's key");
    }

    /** The Rekor entry must be for this envelope: payload hash, signature and certificate. */
    private static void checkBody(byte[] body, byte[] payload, byte[] signature, X509Certificate leaf)
            throws VerificationException {
        JsonNode b;
        try {
            b = Statements.JSON.readTree(body);
        } catch (IOException e) {
            throw new VerificationException("the transparency-log entry body is not JSON");
        }
        if (!"dsse".equals(b.path("kind").asText())) {
            throw new ProvenanceException("unsupported transparency-log entry kind '" + b.path("kind").asText()
                    + "' (dsse expected)");
        }
        JsonNode spec = b.path("spec");
        String payloadHash = HexFormat.of().formatHex(sha256(payload));
        if (!payloadHash.equals(spec.path("payloadHash").path("value").asText())) {
            throw new VerificationException("the transparency-log entry is for another payload");
        }
        boolean found = false;
        for (JsonNode s : spec.path("signatures")) {
            byte[] sig = b64(s.path("signature").asText(null), "tlog entry signature");
            String pem = new String(b64(s.path("verifier").asText(null), "tlog entry verifier"), StandardCharsets.US_ASCII);
            X509Certificate c = SigstoreTrustedRoot.certificate(pemBody(pem), "the transparency-log entry");
            if (Arrays.equals(sig, signature) && c.equals(leaf)) found = true;
        }
        if (!found) {
            throw new VerificationException("the transparency-log entry records another signature or certificate");
        }
    }

    /** Validates leaf to a Fulcio root valid at the time; returns the certificate that issued the leaf. */
    private static X509Certificate chain(X509Certificate leaf, SigstoreTrustedRoot root, Instant at, boolean logged)
            throws VerificationException {
        String last = null;
        for (SigstoreTrustedRoot.Authority ca : root.authorities()) {
            if (!ca.validAt(at)) continue;
            List<X509Certificate> chain = ca.chain();
            X509Certificate anchor = chain.getLast();
            List<X509Certificate> path = new ArrayList<>();
            path.add(leaf);
            path.addAll(chain.subList(0, chain.size() - 1));
            try {
                PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
                params.setRevocationEnabled(false);
                params.setDate(Date.from(at));
                CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
                return chain.size() > 1 ? chain.getFirst() : anchor;
            } catch (CertPathValidatorException e) {
                last = e.getMessage();
            } catch (GeneralSecurityException e) {
                last = e.getMessage();
            }
        }
        if (!logged && (at.isAfter(leaf.getNotAfter().toInstant()) || at.isBefore(leaf.getNotBefore().toInstant()))) {
            throw new VerificationException("the signing certificate is not valid now (valid "
                    + leaf.getNotBefore().toInstant() + " to " + leaf.getNotAfter().toInstant()
                    + ") and no verified transparency-log time shows it was used within that window");
        }
        throw new VerificationException("the signing certificate does not chain to a certificate authority of the trusted root"
                + " at " + at + (last == null ? " (none valid then)" : ": " + last));
    }

    /** RFC 6962 3.2: at least one embedded SCT must be signed by a CT log of the trusted root. */
    private static void certificateTimestamp(X509Certificate leaf, X509Certificate issuer, SigstoreTrustedRoot root)
            throws VerificationException {
        byte[] ext = leaf.getExtensionValue(SCT_OID);
        if (ext == null) throw new VerificationException("the signing certificate carries no signed certificate timestamp");
        byte[] list;
        byte[] tbs;
        try {
            list = ASN1OctetString.getInstance(ASN1OctetString.getInstance(ext).getOctets()).getOctets();
            tbs = tbsWithoutSct(leaf);
        } catch (RuntimeException | IOException | GeneralSecurityException e) {
            throw new VerificationException("the signing certificate's signed certificate timestamps are malformed");
        }
        byte[] issuerKeyHash = sha256(issuer.getPublicKey().getEncoded());
        ByteBuffer in = ByteBuffer.wrap(list);
        String problem = "no timestamp from a CT log of the trusted root";
        try {
            int total = in.getShort() & 0xffff;
            if (total != in.remaining()) throw new VerificationException("the signed certificate timestamp list is malformed");
            while (in.hasRemaining()) {
                int len = in.getShort() & 0xffff;
                ByteBuffer sct = ByteBuffer.wrap(list, in.position(), len).slice();
                in.position(in.position() + len);
                int version = sct.get();
                byte[] id = new byte[32];
                sct.get(id);
                long timestamp = sct.getLong();
                byte[] exts = new byte[sct.getShort() & 0xffff];
                sct.get(exts);
                sct.get(); // hash algorithm
                sct.get(); // signature algorithm
                byte[] sig = new byte[sct.getShort() & 0xffff];
                sct.get(sig);
                SigstoreTrustedRoot.Log ct = root.ctlogs().stream().filter(l -> Arrays.equals(l.keyId(), id)).findFirst().orElse(null);
                if (ct == null || version != 0) continue;
                ByteArrayOutputStream signed = new ByteArrayOutputStream();
                signed.write(0); // v1
                signed.write(0); // certificate_timestamp
                signed.writeBytes(ByteBuffer.allocate(8).putLong(timestamp).array());
                signed.write(0);
                signed.write(1); // precert_entry
                signed.writeBytes(issuerKeyHash);
                signed.write((tbs.length >> 16) & 0xff);
                signed.write((tbs.length >> 8) & 0xff);
                signed.write(tbs.length & 0xff);
                signed.writeBytes(tbs);
                signed.write((exts.length >> 8) & 0xff);
                signed.write(exts.length & 0xff);
                signed.writeBytes(exts);
                if (!verifySignature(ct.key(), signed.toByteArray(), sig)) {
                    problem = "the timestamp of CT log " + Base64.getEncoder().encodeToString(id) + " does not verify (tampered)";
                } else if (!ct.validAt(Instant.ofEpochMilli(timestamp))) {
                    problem = "the CT log key was not valid when it signed the timestamp";
                } else {
                    return;
                }
            }
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new VerificationException("the signed certificate timestamp list is malformed");
        }
        throw new VerificationException("no valid signed certificate timestamp: " + problem);
    }

    /** The certificate's TBS part with the SCT extension removed, as the CT log signed it. */
    private static byte[] tbsWithoutSct(X509Certificate leaf) throws IOException, GeneralSecurityException {
        ASN1Sequence tbs = ASN1Sequence.getInstance(leaf.getTBSCertificate());
        ASN1EncodableVector out = new ASN1EncodableVector();
        for (ASN1Encodable e : tbs) {
            if (e instanceof ASN1TaggedObject t && t.getTagNo() == 3) {
                ASN1EncodableVector kept = new ASN1EncodableVector();
                for (ASN1Encodable x : ASN1Sequence.getInstance(t.getExplicitBaseObject())) {
                    String oid = ASN1Sequence.getInstance(x).getObjectAt(0).toString();
                    if (!oid.equals(SCT_OID)) kept.add(x);
                }
                out.add(new DERTaggedObject(true, 3, new DERSequence(kept)));
            } else {
                out.add(e);
            }
        }
        return new DERSequence(out).getEncoded("DER");
    }

    /** Subject alternative name and OIDC issuer must match the policy exactly. */
    private static void identity(X509Certificate leaf, String identity, String issuer) throws VerificationException {
        List<String> names = new ArrayList<>();
        try {
            if (leaf.getSubjectAlternativeNames() != null) {
                for (List<?> n : leaf.getSubjectAlternativeNames()) names.add(String.valueOf(n.get(1)));
            }
        } catch (CertificateParsingException e) {
            throw new VerificationException("the signing certificate's subject alternative name is malformed");
        }
        String actualIssuer = oidcIssuer(leaf);
        if (!names.contains(identity)) {
            throw new VerificationException("wrong identity: the certificate was issued to " + String.join(", ", names)
                    + ", the policy expects " + identity);
        }
        if (!issuer.equals(actualIssuer)) {
            throw new VerificationException("wrong issuer: the identity was vouched for by " + actualIssuer
                    + ", the policy expects " + issuer);
        }
    }

    static String oidcIssuer(X509Certificate leaf) {
        byte[] v2 = leaf.getExtensionValue(ISSUER_V2_OID);
        try {
            if (v2 != null) {
                ASN1Primitive p = ASN1Primitive.fromByteArray(ASN1OctetString.getInstance(v2).getOctets());
                if (p instanceof ASN1String s) return s.getString();
            }
            byte[] v1 = leaf.getExtensionValue(ISSUER_V1_OID);
            if (v1 != null) return new String(ASN1OctetString.getInstance(v1).getOctets(), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return "(unreadable)";
        }
        return "(none)";
    }

    private static boolean verifySignature(PublicKey key, byte[] data, byte[] sig) {
        String alg = switch (key.getAlgorithm()) {
            case "EC" -> Bundles.algorithmFor(key);
            case "RSA" -> "SHA256withRSA";
            default -> "Ed25519";
        };
        return Bundles.verifyRaw(key, alg, data, sig);
    }

    private static byte[] pemBody(String pem) {
        StringBuilder b = new StringBuilder();
        for (String line : pem.split("\\R")) {
            if (!line.startsWith("-----")) b.append(line.strip());
        }
        return b64(b.toString(), "tlog entry certificate");
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static long number(JsonNode n, String what) {
        try {
            return Long.parseLong(n.asText(""));
        } catch (NumberFormatException e) {
            throw new ProvenanceException("the bundle's " + what + " is not a number");
        }
    }

    private static byte[] b64(String s, String what) {
        if (s == null || s.isEmpty()) throw new ProvenanceException("the bundle has no " + what);
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new ProvenanceException("the bundle's " + what + " is not base64");
        }
    }
}
