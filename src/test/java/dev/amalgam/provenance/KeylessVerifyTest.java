package dev.amalgam.provenance;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.TestResources;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sigstore keyless bundles made by model_signing 0.3.1 to 1.1.0 against the public-good instance,
 * verified offline with the trusted root of that time, and tampered copies of them.
 */
class KeylessVerifyTest {
    static final Path ROOT_FILE = TestResources.vectors("sigstore").resolve("trusted_root.json");
    static final String IDENTITY = "stefanb@us.ibm.com";
    static final String ISSUER = "https://sigstore.verify.ibm.com/oauth2";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path V110 = OmsVectorsTest.vectors().resolve("v1.1.0-sigstore");

    static ModelVerifier.Trust.Keyless trust() {
        return new ModelVerifier.Trust.Keyless(SigstoreTrustedRoot.read(ROOT_FILE), IDENTITY, ISSUER);
    }

    @TestFactory
    Stream<DynamicTest> everyReferenceKeylessBundleVerifies() {
        return Stream.of("v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0").map(v -> DynamicTest.dynamicTest(v, () -> {
            Path dir = OmsVectorsTest.vectors().resolve(v + "-sigstore");
            byte[] bundle = Files.readAllBytes(dir.resolve("model.sig"));
            Manifest m = ModelVerifier.verify(OmsVectorsTest.modelOf(dir, bundle), bundle, "model.sig", trust(),
                    OmsVectorsTest.options());
            assertTrue(m.resources().size() >= 2, v);
        }));
    }

    @Test
    void theSpecificationsKeylessVectorVerifies() throws Exception {
        byte[] bundle = Files.readAllBytes(OmsVectorsTest.SPEC.resolve("valid/sigstore.bundle.json"));
        ModelVerifier.verify(V110, bundle, "model.sig", trust(),
                OmsVectorsTest.options());
    }

    @Test
    void wrongIdentityIsRefused() {
        var t = new ModelVerifier.Trust.Keyless(SigstoreTrustedRoot.read(ROOT_FILE), "mallory@example.com", ISSUER);
        String m = failure(original(), t);
        assertTrue(m.startsWith("wrong identity") && m.contains(IDENTITY) && m.contains("mallory@example.com"), m);
    }

    @Test
    void wrongIssuerIsRefused() {
        var t = new ModelVerifier.Trust.Keyless(SigstoreTrustedRoot.read(ROOT_FILE), IDENTITY, "https://accounts.google.com");
        String m = failure(original(), t);
        assertTrue(m.startsWith("wrong issuer") && m.contains(ISSUER), m);
    }

    @Test
    void brokenInclusionProofIsRefused() {
        String m = failure(tampered(e -> {
            ArrayNode hashes = (ArrayNode) e.path("inclusionProof").path("hashes");
            hashes.set(0, hashes.get(1));
        }), trust());
        assertTrue(m.contains("inclusion proof does not lead to the tree root"), m);
    }

    @Test
    void checkpointForAnotherTreeIsRefused() {
        String m = failure(tampered(e -> {
            ObjectNode p = (ObjectNode) e.path("inclusionProof");
            ObjectNode cp = (ObjectNode) p.path("checkpoint");
            cp.put("envelope", cp.path("envelope").asText().replaceFirst("\n(\\d+)\n", "\n1$1\n"));
        }), trust());
        assertTrue(m.contains("checkpoint is for another tree"), m);
    }

    @Test
    void forgedCheckpointSignatureIsRefused() {
        String m = failure(tampered(e -> {
            ObjectNode cp = (ObjectNode) e.path("inclusionProof").path("checkpoint");
            String env = cp.path("envelope").asText();
            int at = env.lastIndexOf(' ') + 1;
            byte[] sig = Base64.getDecoder().decode(env.substring(at).strip());
            sig[sig.length - 1] ^= 1;
            cp.put("envelope", env.substring(0, at) + Base64.getEncoder().encodeToString(sig) + "\n");
        }), trust());
        assertTrue(m.contains("checkpoint is not signed"), m);
    }

    @Test
    void expiredCertificateWithoutSignedTimestampIsRefused() {
        String m = failure(tampered(e -> e.remove("inclusionPromise")), trust());
        assertTrue(m.contains("not valid now") && m.contains("no verified transparency-log time"), m);
    }

    @Test
    void movedIntegrationTimeIsRefused() {
        String m = failure(tampered(e -> e.put("integratedTime", Long.toString(e.path("integratedTime").asLong() + 3600))), trust());
        assertTrue(m.contains("signed entry timestamp does not verify"), m);
    }

    @Test
    void sctThatDoesNotVerifyWithTheCtLogKeyIsRefused() throws Exception {
        // the CT log's id stays, its key is replaced by Rekor's: the certificate's SCT no longer verifies
        ObjectNode root = (ObjectNode) JSON.readTree(Files.readAllBytes(ROOT_FILE));
        for (var ct : root.withArray("ctlogs")) {
            ((ObjectNode) ct.path("publicKey")).put("rawBytes", root.path("tlogs").get(0).path("publicKey").path("rawBytes").asText());
        }
        var t = new ModelVerifier.Trust.Keyless(SigstoreTrustedRoot.parse(JSON.writeValueAsBytes(root)), IDENTITY, ISSUER);
        String m = failure(original(), t);
        assertTrue(m.startsWith("no valid signed certificate timestamp") && m.contains("does not verify"), m);
    }

    @Test
    void unknownTransparencyLogIsRefused() throws Exception {
        ObjectNode root = (ObjectNode) JSON.readTree(Files.readAllBytes(ROOT_FILE));
        ((ObjectNode) root.withArray("tlogs").get(0).path("logId")).put("keyId", Base64.getEncoder().encodeToString(new byte[32]));
        var t = new ModelVerifier.Trust.Keyless(SigstoreTrustedRoot.parse(JSON.writeValueAsBytes(root)), IDENTITY, ISSUER);
        assertTrue(failure(original(), t).contains("which the trusted root does not name"));
    }

    @Test
    void certificateOfAnotherInstanceIsRefused() throws Exception {
        // a private instance's root: the same logs, but a Fulcio the public-good certificate does not chain to
        ObjectNode root = (ObjectNode) JSON.readTree(Files.readAllBytes(ROOT_FILE));
        ArrayNode cas = root.withArray("certificateAuthorities");
        String keyCa = Base64.getEncoder().encodeToString(PemKeys.readCertificates(OmsVectorsTest.KEYS.resolve("ca-cert.pem"))
                .getFirst().getEncoded());
        for (var ca : cas) {
            ArrayNode certs = (ArrayNode) ca.path("certChain").path("certificates");
            certs.removeAll();
            certs.addObject().put("rawBytes", keyCa);
        }
        var t = new ModelVerifier.Trust.Keyless(SigstoreTrustedRoot.parse(JSON.writeValueAsBytes(root)), IDENTITY, ISSUER);
        assertTrue(failure(original(), t).contains("does not chain to a certificate authority of the trusted root"));
    }

    @Test
    void entryForAnotherSignatureIsRefused() throws Exception {
        ObjectNode b = original();
        ObjectNode other = (ObjectNode) JSON.readTree(Files.readAllBytes(OmsVectorsTest.vectors().resolve("v1.0.1-sigstore/model.sig")));
        ((ObjectNode) b.path("verificationMaterial")).set("tlogEntries", other.path("verificationMaterial").path("tlogEntries"));
        assertTrue(failure(b, trust()).contains("transparency-log entry is for another payload"));
    }

    @Test
    void tamperedModelIsRefusedAfterTheSignatureHolds() throws Exception {
        Path copy = Files.createTempDirectory("keyless");
        try {
            for (String f : List.of("signme-1", "signme-2")) Files.copy(V110.resolve(f), copy.resolve(f));
            Files.writeString(copy.resolve("signme-1"), "changed");
            var e = assertThrows(VerificationException.class, () -> ModelVerifier.verify(copy,
                    Files.readAllBytes(V110.resolve("model.sig")), "model.sig", trust(), OmsVectorsTest.options()));
            assertTrue(e.getMessage().contains("changed: signme-1"), e.getMessage());
        } finally {
            try (var s = Files.walk(copy)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void badTrustedRootsAreUnusableInput() {
        assertThrows(ProvenanceException.class, () -> SigstoreTrustedRoot.parse("[]".getBytes()));
        assertThrows(ProvenanceException.class, () -> SigstoreTrustedRoot.parse("{\"mediaType\":\"x\"}".getBytes()));
        assertThrows(ProvenanceException.class, () -> SigstoreTrustedRoot.parse(
                "{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\",\"tlogs\":[]}".getBytes()));
        assertThrows(ProvenanceException.class, () -> SigstoreTrustedRoot.parse(
                ("{\"mediaType\":\"application/vnd.dev.sigstore.trustedroot+json;version=0.1\",\"tlogs\":[{\"publicKey\":"
                        + "{\"rawBytes\":\"AAAA\"},\"logId\":{\"keyId\":\"AAAA\"}}]}").getBytes()));
        assertThrows(ProvenanceException.class, () -> new ModelVerifier.Trust.Keyless(SigstoreTrustedRoot.read(ROOT_FILE), "", ISSUER));
    }

    @Test
    void keylessBundleWithAKeyNamesTheKeylessOptions() throws Exception {
        var e = assertThrows(VerificationException.class, () -> ModelVerifier.verifyBundle(Files.readAllBytes(V110.resolve("model.sig")),
                new ModelVerifier.Trust.Key(PemKeys.readPublicKey(OmsVectorsTest.KEYS.resolve("signing-key-pub.pem")))));
        assertTrue(e.getMessage().contains("--trusted-root"), e.getMessage());
    }

    @Test
    void issuerIsReadFromTheCertificate() throws Exception {
        ObjectNode b = original();
        byte[] der = Base64.getDecoder().decode(b.path("verificationMaterial").path("certificate").path("rawBytes").asText());
        assertEquals(ISSUER, KeylessVerifier.oidcIssuer(SigstoreTrustedRoot.certificate(der)));
    }

    /** Every field of the log entry and certificate replaced by junk: a clear refusal (exit 1 or 2), never another exception. */
    @TestFactory
    Stream<DynamicTest> malformedMaterialIsRefusedCleanly() {
        List<String> fields = List.of("logIndex", "integratedTime", "canonicalizedBody", "logId", "inclusionPromise",
                "inclusionProof", "kindVersion");
        List<String> junk = List.of("", "!!", "AAAA", "12x", "-1");
        return fields.stream().flatMap(f -> junk.stream().map(j -> DynamicTest.dynamicTest(f + "=" + j, () -> {
            ObjectNode b = tampered(e -> e.put(f, j));
            refusedCleanly(b);
        })));
    }

    @Test
    void malformedCertificatesAndProofsAreRefusedCleanly() {
        for (String junk : List.of("", "AAAA", Base64.getEncoder().encodeToString(new byte[] {0x30, 0x03, 0x02, 0x01, 0x01}))) {
            ObjectNode b = original();
            ((ObjectNode) b.path("verificationMaterial").path("certificate")).put("rawBytes", junk);
            refusedCleanly(b);
            refusedCleanly(tampered(e -> ((ObjectNode) e.path("inclusionProof")).put("rootHash", junk)));
            refusedCleanly(tampered(e -> ((ObjectNode) e.path("inclusionProof")).put("treeSize", junk)));
            refusedCleanly(tampered(e -> ((ObjectNode) e.path("inclusionProof").path("checkpoint")).put("envelope", junk)));
            refusedCleanly(tampered(e -> ((ArrayNode) e.path("inclusionProof").path("hashes")).set(0, junk)));
        }
    }

    private static void refusedCleanly(ObjectNode bundle) {
        try {
            ModelVerifier.verify(V110, JSON.writeValueAsBytes(bundle), "model.sig", trust(), OmsVectorsTest.options());
            org.junit.jupiter.api.Assertions.fail("a malformed bundle verified");
        } catch (VerificationException | ProvenanceException e) {
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
        } catch (Exception e) {
            org.junit.jupiter.api.Assertions.fail("unexpected " + e, e);
        }
    }

    private static ObjectNode original() {
        try {
            return (ObjectNode) JSON.readTree(Files.readAllBytes(V110.resolve("model.sig")));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static ObjectNode tampered(Consumer<ObjectNode> change) {
        ObjectNode b = original();
        change.accept((ObjectNode) b.path("verificationMaterial").path("tlogEntries").get(0));
        return b;
    }

    private static String failure(ObjectNode bundle, ModelVerifier.Trust.Keyless trust) {
        var e = assertThrows(VerificationException.class, () -> ModelVerifier.verify(V110, JSON.writeValueAsBytes(bundle),
                "model.sig", trust, OmsVectorsTest.options()));
        return e.getMessage();
    }
}
