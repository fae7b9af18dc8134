package dev.amalgam.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.provenance.Bundles;
import dev.amalgam.provenance.Manifest;
import dev.amalgam.provenance.ModelHasher;
import dev.amalgam.provenance.ModelVerifier;
import dev.amalgam.provenance.PemKeys;
import dev.amalgam.provenance.ProvenanceException;
import dev.amalgam.provenance.SigstoreTrustedRoot;
import dev.amalgam.provenance.SlsaProvenance;
import dev.amalgam.provenance.Statements;
import dev.amalgam.provenance.VerificationException;
import dev.amalgam.storage.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The registry's OMS signatures (every stored model gets one, made with the registry key) and
 * checks of publisher signatures against the trusted keys in {@code policies/keys/*.pem}.
 */
@ApplicationScoped
public class SigningService {
    private static final Logger LOG = Logger.getLogger(SigningService.class);

    @Inject
    Blobs blobs;

    @Inject
    RegistryConfig config;

    /** Overrides the trusted key folder (default: the policy folder's keys/); tests use their own. */
    @ConfigProperty(name = "amalgam.trusted-keys")
    Optional<String> trustedKeysDir;

    /** The Sigstore trust root for keyless publishers, beside the trusted keys. */
    public static final String TRUSTED_ROOT = "trusted_root.json";

    private volatile PrivateKey key;
    private volatile PublicKey publicKey;

    /** Outcome of checking a publisher's signature. */
    public record PublisherCheck(String state, String keyId, String reason) {
    }

    public byte[] sign(Manifest m) {
        return Bundles.sign(Statements.of(m), privateKey(), List.of());
    }

    /** A DSSE envelope over an in-toto statement, signed with the registry key, stored as a blob; returns its digest. */
    public String signStatement(ObjectNode statement) throws IOException {
        byte[] env = SlsaProvenance.sign(statement, privateKey());
        return blobs.store().put(new ByteArrayInputStream(env), Long.MAX_VALUE).digest();
    }

    /** A DSSE envelope over an in-toto statement, signed with the registry key (not stored). */
    public byte[] envelope(com.fasterxml.jackson.databind.node.ObjectNode statement) {
        return dev.amalgam.provenance.SlsaProvenance.sign(statement, privateKey());
    }

    public PublicKey registryPublicKey() {
        privateKey();
        return publicKey;
    }

    private PrivateKey privateKey() {
        if (key == null) {
            synchronized (this) {
                if (key == null) {
                    PrivateKey k = PemKeys.readPrivateKey(config.settings().keysDir().resolve(RegistryKeys.SIGNING_KEY), null);
                    publicKey = PemKeys.publicKeyOf(k);
                    key = k;
                }
            }
        }
        return key;
    }

    /** Trusted publisher keys: every PEM public key in the policy folder's {@code keys/}, by file name. */
    public Map<String, PublicKey> trustedKeys() {
        Map<String, PublicKey> out = new LinkedHashMap<>();
        Path dir = trustedKeysDir.filter(d -> !d.isBlank()).map(Path::of)
                .orElse(config.settings().policiesDir().resolve("keys"));
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.pem")) {
            for (Path p : s) {
                try {
                    out.put(p.getFileName().toString(), PemKeys.readPublicKey(p));
                } catch (ProvenanceException e) {
                    LOG.warnf("Ignoring %s as a trusted key: %s", p, e.getMessage());
                }
            }
        } catch (IOException e) {
            LOG.warnf("Cannot read trusted keys in %s: %s", dir, e.getMessage());
        }
        return out;
    }

    /**
     * Trusted keyless publishers: every {@code *.identity} file in the trusted key folder, by file
     * name, holding {@code identity: ...} (the certificate's e-mail or URI) and {@code issuer: ...}
     * (the OIDC issuer) lines.
     */
    public Map<String, String[]> trustedIdentities() {
        Map<String, String[]> out = new LinkedHashMap<>();
        Path dir = trustedDir();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.identity")) {
            for (Path p : s) {
                String identity = null;
                String issuer = null;
                for (String line : Files.readAllLines(p)) {
                    String l = line.strip();
                    if (l.startsWith("identity:")) identity = l.substring(9).strip();
                    else if (l.startsWith("issuer:")) issuer = l.substring(7).strip();
                }
                if (identity == null || identity.isEmpty() || issuer == null || issuer.isEmpty()) {
                    LOG.warnf("Ignoring %s as a trusted identity: it needs an 'identity:' and an 'issuer:' line", p);
                } else {
                    out.put(p.getFileName().toString(), new String[] {identity, issuer});
                }
            }
        } catch (IOException e) {
            LOG.warnf("Cannot read trusted identities in %s: %s", dir, e.getMessage());
        }
        return out;
    }

    private Path trustedDir() {
        return trustedKeysDir.filter(d -> !d.isBlank()).map(Path::of)
                .orElseGet(() -> config.settings().policiesDir().resolve("keys"));
    }

    /** Checks a keyless (Sigstore) publisher bundle against the trusted identities and the trusted root. */
    private PublisherCheck checkKeyless(Path folder, byte[] bundle) throws IOException {
        Map<String, String[]> identities = trustedIdentities();
        Path rootFile = trustedDir().resolve(TRUSTED_ROOT);
        if (identities.isEmpty()) return new PublisherCheck("untrusted", null, "signed keyless, and no trusted identity in policies/keys");
        if (!Files.isRegularFile(rootFile)) {
            return new PublisherCheck("untrusted", null, "signed keyless, and policies/keys has no " + TRUSTED_ROOT);
        }
        String lastReason = "no trusted identity matches";
        try {
            SigstoreTrustedRoot root = SigstoreTrustedRoot.read(rootFile);
            for (var e : identities.entrySet()) {
                try {
                    ModelVerifier.verify(folder, bundle, RegistrationService.SIGNATURE_FILE,
                            new ModelVerifier.Trust.Keyless(root, e.getValue()[0], e.getValue()[1]),
                            new ModelVerifier.Options(List.of(), false, ModelHasher.parallel()));
                    return new PublisherCheck("trusted", e.getKey(), null);
                } catch (VerificationException ex) {
                    if (!ex.getMessage().startsWith("wrong identity") && !ex.getMessage().startsWith("wrong issuer")) {
                        return new PublisherCheck("invalid", null, ex.getMessage());
                    }
                    lastReason = ex.getMessage();
                }
            }
        } catch (ProvenanceException ex) {
            return new PublisherCheck("invalid", null, ex.getMessage());
        }
        return new PublisherCheck("untrusted", null, lastReason);
    }

    /** Checks a publisher bundle over a model folder against the trusted keys (or, keyless, identities). */
    public PublisherCheck checkPublisher(Path folder, byte[] bundle) throws IOException {
        try {
            if (ModelVerifier.isKeyless(bundle)) return checkKeyless(folder, bundle);
        } catch (ProvenanceException ex) {
            return new PublisherCheck("invalid", null, ex.getMessage());
        }
        String lastReason = "no trusted key in policies/keys verifies it";
        for (var e : trustedKeys().entrySet()) {
            try {
                ModelVerifier.verify(folder, bundle, RegistrationService.SIGNATURE_FILE, new ModelVerifier.Trust.Key(e.getValue()),
                        new ModelVerifier.Options(List.of(), false, ModelHasher.parallel()));
                return new PublisherCheck("trusted", e.getKey(), null);
            } catch (VerificationException ex) {
                if (!ex.getMessage().startsWith("wrong key")) {
                    // the bundle names this trusted key but does not hold: that is a bad signature, not an unknown one
                    return new PublisherCheck("invalid", e.getKey(), ex.getMessage());
                }
            } catch (ProvenanceException ex) {
                return new PublisherCheck("invalid", null, ex.getMessage());
            }
        }
        return new PublisherCheck("untrusted", null, lastReason);
    }

    /**
     * Whether a stored model is intact: the registry's bundle verifies with the registry key, it
     * lists exactly the model's files, and every blob still hashes to its name.
     */
    public Integrity integrity(String bundleDigest, Map<String, String> files) throws IOException {
        BlobStore store = blobs.store();
        if (bundleDigest == null || !store.exists(bundleDigest)) return new Integrity(false, "the registry signature is missing");
        try {
            byte[] bundle;
            try (var in = store.open(bundleDigest)) {
                bundle = in.readAllBytes();
            } catch (BlobStore.CorruptBlobException e) {
                return new Integrity(false, "the registry signature blob " + bundleDigest + " no longer matches its digest");
            }
            Manifest signed = ModelVerifier.verifyBundle(bundle, new ModelVerifier.Trust.Key(registryPublicKey()));
            ModelVerifier.compare(signed.asMap(), files, false);
            for (var f : files.entrySet()) {
                if (!store.verify(f.getValue())) {
                    return new Integrity(false, "stored file " + f.getKey() + " no longer matches its digest (blob " + f.getValue() + ")");
                }
            }
            return new Integrity(true, null);
        } catch (VerificationException | ProvenanceException e) {
            return new Integrity(false, e.getMessage());
        }
    }

    /** Result of {@link #integrity}. */
    public record Integrity(boolean intact, String problem) {
    }
}
