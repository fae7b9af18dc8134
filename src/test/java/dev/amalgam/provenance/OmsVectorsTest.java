package dev.amalgam.provenance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.TestResources;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interoperability with bundles we did not write: every model signed by the reference
 * {@code model_signing} tool (0.2.0 to 1.1.0) and the OMS spec's valid and invalid bundles,
 * read from {@code src/test/resources/vectors/} (origins in SOURCES.md there).
 */
class OmsVectorsTest {
    static final Path OMS = TestResources.vectors("oms");
    static final Path SPEC = TestResources.vectors("oms-spec/v1.0");
    static final Path KEYS = OMS.resolve("keys/certificate");

    static Path vectors() {
        return OMS;
    }

    static ModelVerifier.Options options() {
        return new ModelVerifier.Options(List.of("ignore-me"), false, new ModelHasher(2));
    }

    /** A bundle whose single resource is "." signs one file, named by the subject. */
    static Path modelOf(Path folder, byte[] bundle) throws Exception {
        JsonNode b = new ObjectMapper().readTree(bundle);
        JsonNode st = new ObjectMapper().readTree(Base64.getDecoder().decode(b.path("dsseEnvelope").path("payload").asText()));
        JsonNode res = st.path("predicate").path("resources");
        if (res.size() == 1 && res.get(0).path("name").asText().equals(".")) {
            return folder.resolve(st.path("subject").get(0).path("name").asText());
        }
        return folder;
    }

    @TestFactory
    Stream<DynamicTest> everyReferenceBundleVerifies() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        try (var dirs = Files.list(vectors())) {
            for (Path dir : dirs.filter(d -> d.getFileName().toString().startsWith("v")).sorted().toList()) {
                String name = dir.getFileName().toString();
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    byte[] bundle = Files.readAllBytes(dir.resolve("model.sig"));
                    Path model = modelOf(dir, bundle);
                    if (name.endsWith("-sigstore")) {
                        var e = assertThrows(VerificationException.class, () -> ModelVerifier.verify(model, bundle, "model.sig",
                                new ModelVerifier.Trust.Key(PemKeys.readPublicKey(KEYS.resolve("signing-key-pub.pem"))), options()));
                        assertTrue(e.getMessage().contains("keyless"), e.getMessage());
                        ModelVerifier.verify(model, bundle, "model.sig", KeylessVerifyTest.trust(), options());
                        return;
                    }
                    ModelVerifier.Trust trust = name.endsWith("-elliptic-key")
                            ? new ModelVerifier.Trust.Key(PemKeys.readPublicKey(KEYS.resolve("signing-key-pub.pem")))
                            : new ModelVerifier.Trust.Certificates(PemKeys.readCertificates(KEYS.resolve("ca-cert.pem")));
                    Manifest m = ModelVerifier.verify(model, bundle, "model.sig", trust, options());
                    assertTrue(!m.resources().isEmpty());
                }));
            }
        }
        assertTrue(tests.size() >= 13, "expected the 13 reference bundles, found " + tests.size());
        return tests.stream();
    }

    @Test
    void ourDigestEqualsTheReferenceRootDigest() throws Exception {
        Path dir = vectors().resolve("v1.1.0-elliptic-key");
        Manifest m = new ModelHasher(1).hash(dir, Serialization.files(ModelHasher.ignores("model.sig", List.of("ignore-me"))));
        JsonNode b = new ObjectMapper().readTree(dir.resolve("model.sig").toFile());
        JsonNode st = new ObjectMapper().readTree(Base64.getDecoder().decode(b.path("dsseEnvelope").path("payload").asText()));
        assertEquals(st.path("subject").get(0).path("digest").path("sha256").asText(), m.rootDigest());
    }

    @Test
    void wrongKeyIsReported() throws Exception {
        Path dir = vectors().resolve("v1.1.0-elliptic-key");
        var other = java.security.KeyPairGenerator.getInstance("EC");
        other.initialize(new java.security.spec.ECGenParameterSpec("secp384r1"));
        var e = assertThrows(VerificationException.class, () -> ModelVerifier.verify(dir, Files.readAllBytes(dir.resolve("model.sig")),
                "model.sig", new ModelVerifier.Trust.Key(other.generateKeyPair().getPublic()), options()));
        assertTrue(e.getMessage().contains("wrong key"), e.getMessage());
    }

    @Test
    void certificateBundleRefusesAnotherCa() throws Exception {
        Path dir = vectors().resolve("v1.1.0-certificate");
        var e = assertThrows(VerificationException.class, () -> ModelVerifier.verify(dir, Files.readAllBytes(dir.resolve("model.sig")),
                "model.sig", new ModelVerifier.Trust.Certificates(PemKeys.readCertificates(KEYS.resolve("int-ca-cert.pem")).subList(0, 1)
                        .stream().map(c -> selfSigned()).toList()), options()));
        assertTrue(e.getMessage().contains("bad chain"), e.getMessage());
    }

    private static java.security.cert.X509Certificate selfSigned() {
        try {
            var kpg = java.security.KeyPairGenerator.getInstance("EC");
            kpg.initialize(256);
            var kp = kpg.generateKeyPair();
            var name = new org.bouncycastle.asn1.x500.X500Name("CN=other-ca");
            var builder = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(name, java.math.BigInteger.ONE,
                    new java.util.Date(System.currentTimeMillis() - 86_400_000L), new java.util.Date(System.currentTimeMillis() + 86_400_000L),
                    name, kp.getPublic());
            builder.addExtension(org.bouncycastle.asn1.x509.Extension.basicConstraints, true,
                    new org.bouncycastle.asn1.x509.BasicConstraints(true));
            var signer = new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate());
            return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @TestFactory
    Stream<DynamicTest> specVectors() throws Exception {
        Path spec = SPEC;
        Path files = vectors().resolve("v1.1.0-elliptic-key");
        var key = new ModelVerifier.Trust.Key(PemKeys.readPublicKey(KEYS.resolve("signing-key-pub.pem")));
        var ca = new ModelVerifier.Trust.Certificates(PemKeys.readCertificates(KEYS.resolve("ca-cert.pem")));
        List<DynamicTest> tests = new ArrayList<>();
        tests.add(DynamicTest.dynamicTest("valid/key", () -> ModelVerifier.verify(files,
                Files.readAllBytes(spec.resolve("valid/key.bundle.json")), "model.sig", key, options())));
        tests.add(DynamicTest.dynamicTest("valid/certificate", () -> ModelVerifier.verify(files,
                Files.readAllBytes(spec.resolve("valid/certificate.bundle.json")), "model.sig", ca, options())));
        tests.add(DynamicTest.dynamicTest("valid/sigstore is reported as keyless", () -> {
            var e = assertThrows(VerificationException.class, () -> ModelVerifier.verify(files,
                    Files.readAllBytes(spec.resolve("valid/sigstore.bundle.json")), "model.sig", key, options()));
            assertTrue(e.getMessage().contains("keyless"), e.getMessage());
        }));
        try (var s = Files.list(spec.resolve("invalid"))) {
            for (Path f : s.sorted().toList()) {
                tests.add(DynamicTest.dynamicTest("invalid/" + f.getFileName(), () -> {
                    Exception e = assertThrows(Exception.class, () -> ModelVerifier.verify(files, Files.readAllBytes(f), "model.sig", key, options()));
                    assertTrue(e instanceof ProvenanceException || e instanceof VerificationException, e.toString());
                }));
            }
        }
        tests.add(DynamicTest.dynamicTest("invalid-payload/wrong-predicate", () -> {
            var e = assertThrows(VerificationException.class, () -> ModelVerifier.verify(files,
                    Files.readAllBytes(spec.resolve("invalid-payload/wrong-predicate.bundle.json")), "model.sig", key, options()));
            assertTrue(e.getMessage().contains("predicate type"), e.getMessage());
        }));
        return tests.stream();
    }
}
