package dev.amalgam.provenance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SignVerifyTest {
    @TempDir
    Path tmp;
    Path model;
    KeyPair keys;

    @BeforeEach
    void model() throws Exception {
        model = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(model.resolve("config.json"), "{\"a\":1}");
        Files.createDirectories(model.resolve("sub"));
        Files.write(model.resolve("sub/weights.bin"), new byte[10_000]);
        Files.createDirectories(model.resolve(".git"));
        Files.writeString(model.resolve(".git/HEAD"), "ref: refs/heads/main");
        keys = keyPair("secp256r1");
    }

    static KeyPair keyPair(String curve) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec(curve));
        return g.generateKeyPair();
    }

    private Manifest verify(Path sig) throws Exception {
        return ModelVerifier.verify(model, Files.readAllBytes(sig), ModelSigner.signatureName(model, sig),
                new ModelVerifier.Trust.Key(keys.getPublic()), ModelVerifier.Options.defaults());
    }

    @ParameterizedTest
    @ValueSource(strings = {"secp256r1", "secp384r1", "secp521r1"})
    void signThenVerifyOnEveryCurve(String curve) throws Exception {
        keys = keyPair(curve);
        Path sig = model.resolve("model.sig");
        Manifest signed = ModelSigner.sign(model, sig, keys.getPrivate(), List.of(), List.of(), new ModelHasher(2));
        assertEquals(List.of("config.json", "sub/weights.bin"), signed.resources().stream().map(Manifest.Resource::name).toList(),
                ".git and model.sig are not part of the model");
        assertEquals(signed.rootDigest(), verify(sig).rootDigest());
    }

    @Test
    void changedMissingAndExtraFilesAreNamed() throws Exception {
        Path sig = model.resolve("model.sig");
        ModelSigner.sign(model, sig, keys.getPrivate(), List.of(), List.of(), new ModelHasher(1));
        Files.write(model.resolve("sub/weights.bin"), new byte[10_001]);
        var e = assertThrows(VerificationException.class, () -> verify(sig));
        assertTrue(e.getMessage().contains("changed: sub/weights.bin"), e.getMessage());
        Files.delete(model.resolve("sub/weights.bin"));
        e = assertThrows(VerificationException.class, () -> verify(sig));
        assertTrue(e.getMessage().contains("missing: sub/weights.bin"), e.getMessage());
        Files.write(model.resolve("sub/weights.bin"), new byte[10_000]);
        Files.writeString(model.resolve("extra.py"), "import os");
        e = assertThrows(VerificationException.class, () -> verify(sig));
        assertTrue(e.getMessage().contains("not signed: extra.py"), e.getMessage());
        Manifest ok = ModelVerifier.verify(model, Files.readAllBytes(sig), "model.sig",
                new ModelVerifier.Trust.Key(keys.getPublic()), new ModelVerifier.Options(List.of(), true, new ModelHasher(1)));
        assertEquals(2, ok.resources().size());
    }

    @Test
    void tamperedPayloadFailsEvenWithAConsistentRootDigest() throws Exception {
        Path sig = model.resolve("model.sig");
        ModelSigner.sign(model, sig, keys.getPrivate(), List.of(), List.of(), new ModelHasher(1));
        ObjectMapper om = new ObjectMapper();
        ObjectNode b = (ObjectNode) om.readTree(sig.toFile());
        ObjectNode env = (ObjectNode) b.get("dsseEnvelope");
        ObjectNode st = (ObjectNode) om.readTree(Base64.getDecoder().decode(env.get("payload").asText()));
        ((ObjectNode) st.get("subject").get(0)).put("name", "renamed");
        env.put("payload", Base64.getEncoder().encodeToString(om.writeValueAsBytes(st)));
        Files.write(sig, om.writeValueAsBytes(b));
        var e = assertThrows(VerificationException.class, () -> verify(sig));
        assertTrue(e.getMessage().contains("does not verify"), e.getMessage());
    }

    @Test
    void shardSerializationSplitsFilesNumerically() throws Exception {
        Files.write(model.resolve("sub/weights.bin"), new byte[2500]);
        Manifest m = new ModelHasher(2).hash(model, Serialization.shards(1000, ModelHasher.ignores("model.sig", List.of())));
        assertEquals(List.of("config.json:0:7", "sub/weights.bin:0:1000", "sub/weights.bin:1000:2000", "sub/weights.bin:2000:2500"),
                m.resources().stream().map(Manifest.Resource::name).toList());
        Files.createFile(model.resolve("empty"));
        Manifest withEmpty = new ModelHasher(1).hash(model, Serialization.shards(1000, ModelHasher.ignores("model.sig", List.of())));
        assertTrue(withEmpty.resources().stream().noneMatch(r -> r.name().startsWith("empty")), "empty files give no shard");
    }

    @Test
    void pathOrderIsByComponentLikeTheReference() {
        assertTrue(ModelHasher.comparePaths("a/b", "a.b") < 0, "'a' < 'a.b' component-wise, though '/' > '.'");
        assertTrue(ModelHasher.comparePaths("a", "a/b") < 0);
    }

    @Test
    void symlinksAreRefusedUnlessAllowed() throws Exception {
        Files.createSymbolicLink(model.resolve("link"), model.resolve("config.json"));
        var e = assertThrows(ProvenanceException.class,
                () -> new ModelHasher(1).hash(model, Serialization.files(List.of())));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
        Manifest m = new ModelHasher(1).hash(model, new Serialization("files", "sha256", 0, true, List.of()));
        assertTrue(m.asMap().containsKey("link"));
    }

    /** Our signature checked by openssl, so a bug in our verifier cannot hide a bug in our signer. */
    @Test
    void opensslVerifiesOurSignature() throws Exception {
        Path sig = model.resolve("model.sig");
        ModelSigner.sign(model, sig, keys.getPrivate(), List.of(), List.of(), new ModelHasher(1));
        JsonNode env = new ObjectMapper().readTree(sig.toFile()).get("dsseEnvelope");
        byte[] payload = Base64.getDecoder().decode(env.get("payload").asText());
        Files.write(tmp.resolve("pae.bin"), Dsse.pae(Dsse.IN_TOTO, payload));
        Files.write(tmp.resolve("sig.der"), Base64.getDecoder().decode(env.get("signatures").get(0).get("sig").asText()));
        Files.writeString(tmp.resolve("pub.pem"), PemKeys.publicKeyPem(keys.getPublic()));
        Process p = new ProcessBuilder("openssl", "dgst", "-sha256", "-verify", "pub.pem", "-signature", "sig.der", "pae.bin")
                .directory(tmp.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        assertTrue(out.contains("Verified OK"), out);
    }

    @Test
    void paeIsTheDsseEncoding() {
        assertEquals("DSSEv1 28 application/vnd.in-toto+json 2 {}",
                new String(Dsse.pae(Dsse.IN_TOTO, "{}".getBytes()), StandardCharsets.UTF_8));
        assertEquals("b'{\"a\": \\'x\\\\\\n'", Dsse.pythonBytesRepr("{\"a\": 'x\\\n".getBytes()).replace("\\n", "\\n"));
    }

    @Test
    void badBundlesAreUnusableNotValid() throws Exception {
        var trust = new ModelVerifier.Trust.Key(keys.getPublic());
        var opts = ModelVerifier.Options.defaults();
        for (String bad : List.of("", "{", "[]", "{\"mediaType\":\"text/plain\"}",
                "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}",
                "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"dsseEnvelope\":{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"!!\",\"signatures\":[{\"sig\":\"AA==\"}]},\"verificationMaterial\":{}}")) {
            Exception e = assertThrows(Exception.class, () -> ModelVerifier.verify(model, bad.getBytes(), "model.sig", trust, opts), bad);
            assertTrue(e instanceof ProvenanceException || e instanceof VerificationException, bad + ": " + e);
        }
        String wrongType = "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"dsseEnvelope\":{\"payloadType\":\"text/plain\",\"payload\":\"e30=\",\"signatures\":[{\"sig\":\"AA==\"}]},\"verificationMaterial\":{\"publicKey\":{}}}";
        var e = assertThrows(VerificationException.class, () -> ModelVerifier.verify(model, wrongType.getBytes(), "model.sig", trust, opts));
        assertTrue(e.getMessage().contains("payload type"));
    }

    @Test
    void twoSubjectsAndUnknownAlgorithmsAreRefused() throws Exception {
        ObjectMapper om = new ObjectMapper();
        ObjectNode st = Statements.of(new ModelHasher(1).hash(model, Serialization.files(ModelHasher.ignores(null, List.of()))));
        ObjectNode two = st.deepCopy();
        ((com.fasterxml.jackson.databind.node.ArrayNode) two.get("subject")).add(two.get("subject").get(0).deepCopy());
        assertTrue(assertThrows(VerificationException.class, () -> Statements.read(two)).getMessage().contains("exactly one subject"));
        ObjectNode md5 = st.deepCopy();
        ((ObjectNode) md5.get("predicate").get("resources").get(0)).put("algorithm", "md5");
        assertTrue(assertThrows(VerificationException.class, () -> Statements.read(md5)).getMessage().contains("md5"));
        ObjectNode digest = st.deepCopy();
        ((ObjectNode) digest.get("subject").get(0).get("digest")).put("sha256", "0".repeat(64));
        assertTrue(assertThrows(VerificationException.class, () -> Statements.read(digest)).getMessage().contains("tampered"));
        assertEquals(2, Statements.read(om.readTree(om.writeValueAsBytes(st))).resources().size());
    }

    @Test
    void pemKeysInEveryForm() throws Exception {
        Path k = OmsVectorsTest.KEYS;
        assertTrue(PemKeys.readPrivateKey(k.resolve("signing-key.pem"), null) instanceof java.security.interfaces.ECPrivateKey);
        // SEC1 and encrypted PKCS#8 written by openssl
        Path sec1 = tmp.resolve("sec1.pem");
        assertEquals(0, new ProcessBuilder("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", sec1.toString())
                .start().waitFor());
        assertTrue(Files.readString(sec1).contains("BEGIN EC PRIVATE KEY"));
        var sec1Key = PemKeys.readPrivateKey(sec1, null);
        Path enc = tmp.resolve("enc.pem");
        assertEquals(0, new ProcessBuilder("openssl", "pkcs8", "-topk8", "-in", sec1.toString(), "-out", enc.toString(),
                "-passout", "pass:hunter2").start().waitFor());
        assertTrue(Files.readString(enc).contains("ENCRYPTED PRIVATE KEY"));
        assertEquals(((java.security.interfaces.ECPrivateKey) sec1Key).getS(),
                ((java.security.interfaces.ECPrivateKey) PemKeys.readPrivateKey(enc, "hunter2".toCharArray())).getS());
        assertTrue(assertThrows(ProvenanceException.class, () -> PemKeys.readPrivateKey(enc, null)).getMessage().contains("password"));
        assertTrue(assertThrows(ProvenanceException.class, () -> PemKeys.readPrivateKey(enc, "wrong".toCharArray())).getMessage().contains("password"));
        Files.writeString(tmp.resolve("junk.pem"), "not a key");
        assertThrows(ProvenanceException.class, () -> PemKeys.readPrivateKey(tmp.resolve("junk.pem"), null));
    }
}
