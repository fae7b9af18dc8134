package dev.amalgam.provenance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/** Signs a model folder (or file) the OMS way and writes the bundle, by default to {@code model.sig}. */
public final class ModelSigner {
    public static final String DEFAULT_SIGNATURE = "model.sig";

    private ModelSigner() {
    }

    /** Hashes the model (files serialization), signs the statement, returns the manifest signed. */
    public static Manifest sign(Path model, Path signatureFile, PrivateKey key, List<X509Certificate> chain,
                                List<String> extraIgnores, ModelHasher hasher) throws IOException {
        String sigName = signatureName(model, signatureFile);
        Manifest m = hasher.hash(model, Serialization.files(ModelHasher.ignores(sigName, extraIgnores)));
        byte[] bundle = Bundles.sign(Statements.of(m), key, chain);
        Path tmp = signatureFile.resolveSibling(signatureFile.getFileName() + ".tmp");
        Files.write(tmp, bundle);
        Files.move(tmp, signatureFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return m;
    }

    /** The signature file's path relative to the model when it lies inside it (so hashing skips it). */
    public static String signatureName(Path model, Path signatureFile) {
        Path m = model.toAbsolutePath().normalize();
        Path s = signatureFile.toAbsolutePath().normalize();
        return s.startsWith(m) && !s.equals(m) ? m.relativize(s).toString().replace('\\', '/') : null;
    }
}
