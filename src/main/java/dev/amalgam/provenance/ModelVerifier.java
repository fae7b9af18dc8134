package dev.amalgam.provenance;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Verifies an OMS signature over a model: the bundle's shape, the signer (a given public key, or a
 * certificate chain validated against given CAs), the DSSE signature, the statement's root digest,
 * and finally the model on disk re-hashed with the recorded serialization and compared file by file.
 */
public final class ModelVerifier {
    /** Who must have signed: a public key, or any leaf certificate chaining to one of the CAs. */
    public sealed interface Trust {
        record Key(PublicKey key) implements Trust {
        }

        record Certificates(List<X509Certificate> roots) implements Trust {
        }

        /**
         * Sigstore keyless: a Fulcio certificate logged in Rekor, checked offline against a trusted
         * root, issued to {@code identity} (a subject alternative name: e-mail or URI) by the OIDC
         * {@code issuer}.
         */
        record Keyless(SigstoreTrustedRoot root, String identity, String issuer) implements Trust {
            public Keyless {
                if (root == null || identity == null || identity.isBlank() || issuer == null || issuer.isBlank()) {
                    throw new ProvenanceException("keyless verification needs a trusted root, an identity and an issuer");
                }
            }
        }
    }

    /** Options: extra ignored paths, tolerate local files the signature does not cover. */
    public record Options(List<String> ignorePaths, boolean ignoreUnsignedFiles, ModelHasher hasher) {
        public static Options defaults() {
            return new Options(List.of(), false, ModelHasher.parallel());
        }
    }

    private ModelVerifier() {
    }

    /**
     * @return the verified manifest
     * @throws VerificationException the signature does not hold (the message says why)
     * @throws ProvenanceException the input cannot be used (unreadable, malformed, unsupported)
     */
    public static Manifest verify(Path model, byte[] bundleBytes, String signatureName, Trust trust, Options options)
            throws VerificationException, IOException {
        Manifest signed = verifyBundle(bundleBytes, trust);
        List<String> ignores = new ArrayList<>(ModelHasher.ignores(signatureName, options.ignorePaths()));
        ignores.addAll(signed.serialization().ignorePaths());
        Serialization s = signed.serialization();
        Manifest local = options.hasher().hash(model, new Serialization(s.method(), s.hashType(), s.shardSize(),
                s.allowSymlinks(), new ArrayList<>(new LinkedHashSet<>(ignores))));
        compare(signed.asMap(), local.asMap(), options.ignoreUnsignedFiles());
        return signed;
    }

    /**
     * Checks a bundle on its own (shape, signer, DSSE signature, root digest) and returns the
     * manifest it signs, for callers that compare it with files they know otherwise.
     */
    public static Manifest verifyBundle(byte[] bundleBytes, Trust trust) throws VerificationException {
        JsonNode bundle = Bundles.parse(bundleBytes);
        String mediaType = bundle.path("mediaType").asText("");
        if (!mediaType.startsWith("application/vnd.dev.sigstore.bundle")) {
            throw new ProvenanceException("not a Sigstore bundle (mediaType '" + mediaType + "')");
        }
        JsonNode env = bundle.get("dsseEnvelope");
        if (env == null || !env.isObject()) throw new ProvenanceException("the bundle has no DSSE envelope");
        if (!Dsse.IN_TOTO.equals(env.path("payloadType").asText())) {
            throw new VerificationException("wrong payload type '" + env.path("payloadType").asText()
                    + "' (expected " + Dsse.IN_TOTO + ")");
        }
        JsonNode sigs = env.get("signatures");
        if (sigs == null || !sigs.isArray() || sigs.isEmpty()) throw new VerificationException("the envelope has no signature");
        byte[] payload = base64(env.path("payload").asText(null), "payload");
        byte[] sig = base64(sigs.get(0).path("sig").asText(null), "signature");
        JsonNode vm = bundle.get("verificationMaterial");
        if (vm == null || !vm.isObject()) throw new ProvenanceException("the bundle has no verification material");

        PublicKey signer = switch (trust) {
            case Trust.Key k -> checkKeyMaterial(vm, k.key());
            case Trust.Certificates c -> checkChain(vm, c.roots());
            case Trust.Keyless k -> KeylessVerifier.verify(vm, payload, sig, k);
        };
        if (!Bundles.verifyRaw(signer, Bundles.algorithmFor(signer), Dsse.pae(Dsse.IN_TOTO, payload), sig)
                && !Bundles.verifyRaw(signer, "SHA256withECDSA", Dsse.paeLegacy(payload), sig)) {
            throw new VerificationException("the signature does not verify with "
                    + (trust instanceof Trust.Key ? "the given key" : "the certificate's key")
                    + " (tampered payload or wrong key)" + unsignedPredicateNote(payload));
        }
        JsonNode statement;
        try {
            statement = Statements.JSON.readTree(payload);
        } catch (IOException e) {
            throw new VerificationException("the signed payload is not JSON");
        }
        return Statements.read(statement);
    }

    /** True for a Sigstore keyless bundle: a certificate and a transparency-log entry, no public key. */
    public static boolean isKeyless(byte[] bundleBytes) {
        JsonNode vm = Bundles.parse(bundleBytes).path("verificationMaterial");
        return !vm.has("publicKey") && (vm.has("certificate") || vm.has("x509CertificateChain"))
                && vm.path("tlogEntries").size() > 0;
    }

    /** Names an unexpected predicate type of a payload whose signature failed, as a second reason. */
    private static String unsignedPredicateNote(byte[] payload) {
        try {
            String t = Statements.JSON.readTree(payload).path("predicateType").asText("");
            if (!t.equals(Statements.PREDICATE_TYPE) && !t.equals(Statements.LEGACY_PREDICATE_TYPE)) {
                return "; also, the payload's predicate type '" + t + "' is not " + Statements.PREDICATE_TYPE;
            }
        } catch (IOException | RuntimeException e) {
            return "; also, the payload is not JSON";
        }
        return "";
    }

    /** Compares a signed manifest with what is there (name to digest); problems are named. */
    public static void compare(Map<String, String> signed, Map<String, String> local, boolean ignoreUnsigned)
            throws VerificationException {
        List<String> problems = new ArrayList<>();
        for (var e : signed.entrySet()) {
            String have = local.get(e.getKey());
            if (have == null) problems.add("missing: " + e.getKey());
            else if (!have.equals(e.getValue())) problems.add("changed: " + e.getKey());
        }
        if (!ignoreUnsigned) {
            Set<String> extra = new TreeSet<>(local.keySet());
            extra.removeAll(signed.keySet());
            for (String x : extra) problems.add("not signed: " + x + " (use --ignore-unsigned-files to allow)");
        }
        if (!problems.isEmpty()) {
            throw new VerificationException("the model does not match its signature: " + String.join("; ", problems));
        }
    }

    private static PublicKey checkKeyMaterial(JsonNode vm, PublicKey key) throws VerificationException {
        JsonNode pk = vm.get("publicKey");
        if (pk == null) {
            if (vm.has("x509CertificateChain") || vm.has("certificate")) {
                if (vm.path("tlogEntries").size() > 0) {
                    throw new VerificationException("the model was signed keyless (Sigstore): verify with --trusted-root, --identity and --issuer");
                }
                throw new VerificationException("the model was signed with a certificate: verify with --ca");
            }
            throw new ProvenanceException("the bundle has no public key material");
        }
        String hint = pk.path("hint").asText("");
        if (!hint.isEmpty() && !hint.equals(Bundles.hint(key))) {
            throw new VerificationException("wrong key: the signature was made with key " + hint
                    + ", the given key is " + Bundles.hint(key));
        }
        String raw = pk.path("rawBytes").asText("");
        if (!raw.isEmpty()) {
            PublicKey inBundle = PemKeys.parsePublicKey(new String(base64(raw, "publicKey.rawBytes"),
                    StandardCharsets.US_ASCII), "publicKey.rawBytes");
            if (!Bundles.matches(inBundle, key)) throw new VerificationException("wrong key: the bundle names another public key");
        }
        return key;
    }

    private static PublicKey checkChain(JsonNode vm, List<X509Certificate> roots) throws VerificationException {
        List<X509Certificate> chain = new ArrayList<>();
        JsonNode certs = vm.path("x509CertificateChain").path("certificates");
        if (certs.isArray()) {
            for (JsonNode c : certs) chain.add(certificate(c.path("rawBytes").asText(null)));
        } else if (vm.has("certificate")) {
            chain.add(certificate(vm.path("certificate").path("rawBytes").asText(null)));
        }
        if (chain.isEmpty()) {
            if (vm.has("publicKey")) throw new VerificationException("the model was signed with a key, not a certificate: verify with --key");
            throw new ProvenanceException("the bundle has no certificate chain");
        }
        if (vm.path("tlogEntries").size() > 0) {
            throw new VerificationException("the model was signed keyless (Sigstore): verify with --trusted-root, --identity and --issuer");
        }
        X509Certificate leaf = chain.getFirst();
        boolean[] ku = leaf.getKeyUsage();
        boolean digitalSignature = ku != null && ku.length > 0 && ku[0];
        boolean codeSigning;
        try {
            codeSigning = leaf.getExtendedKeyUsage() != null && leaf.getExtendedKeyUsage().contains("1.3.6.1.5.5.7.3.3");
        } catch (CertificateParsingException e) {
            codeSigning = false;
        }
        if (!digitalSignature && !codeSigning) {
            throw new VerificationException("bad chain: the signing certificate allows neither digitalSignature nor codeSigning");
        }
        try {
            Set<TrustAnchor> anchors = new HashSet<>();
            for (X509Certificate r : roots) anchors.add(new TrustAnchor(r, null));
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            var path = CertificateFactory.getInstance("X.509").generateCertPath(chain.stream()
                    .filter(c -> roots.stream().noneMatch(r -> r.equals(c))).toList());
            CertPathValidator.getInstance("PKIX").validate(path, params);
        } catch (CertPathValidatorException e) {
            throw new VerificationException("bad chain: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new VerificationException("bad chain: " + e.getMessage());
        }
        return leaf.getPublicKey();
    }

    private static X509Certificate certificate(String b64) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(base64(b64, "certificate")));
        } catch (GeneralSecurityException e) {
            throw new ProvenanceException("the bundle holds a malformed certificate");
        }
    }

    private static byte[] base64(String s, String what) {
        if (s == null || s.isEmpty()) throw new ProvenanceException("the bundle has no " + what);
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new ProvenanceException("the bundle's " + what + " is not base64");
        }
    }
}
