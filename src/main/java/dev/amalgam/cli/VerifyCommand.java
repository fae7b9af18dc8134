package dev.amalgam.cli;

import dev.amalgam.provenance.Manifest;
import dev.amalgam.provenance.ModelHasher;
import dev.amalgam.provenance.ModelSigner;
import dev.amalgam.provenance.ModelVerifier;
import dev.amalgam.provenance.PemKeys;
import dev.amalgam.provenance.ProvenanceException;
import dev.amalgam.provenance.SigstoreTrustedRoot;
import dev.amalgam.provenance.VerificationException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code amalgam verify PATH (--key PUB.pem | --ca CA.pem | --trusted-root R --identity ID --issuer URL) [--sig SIG]}: exit 0 valid, 1 invalid, 2 unusable. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Verify a model's OpenSSF Model Signing signature.", "Exit 0 valid, 1 invalid (with the reason), 2 unusable input."})
final class VerifyCommand implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", description = "Model folder or single file.")
    Path path;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Signer signer;

    static final class Signer {
        @Option(names = "--key", paramLabel = "PUB.pem", description = "The signer's public key.")
        Path key;

        @Option(names = "--ca", paramLabel = "CA.pem", description = "Trusted CA certificates (certificate method).")
        Path ca;

        @Option(names = "--trusted-root", paramLabel = "trusted_root.json",
                description = "Sigstore trust root (keyless method): Fulcio, Rekor and CT log keys; checked offline. Needs --identity and --issuer.")
        Path trustedRoot;
    }

    @Option(names = "--identity", paramLabel = "ID",
            description = "Keyless: the signer's identity, exactly as in the certificate (e-mail or URI).")
    String identity;

    @Option(names = "--issuer", paramLabel = "URL", description = "Keyless: the OIDC issuer that vouched for the identity.")
    String issuer;

    @Option(names = "--sig", paramLabel = "SIG", description = "The bundle (default: PATH/model.sig).")
    Path sig;

    @Option(names = "--ignore-path", paramLabel = "P", description = "Leave this path out; repeatable.")
    List<String> ignore = List.of();

    @Option(names = "--ignore-unsigned-files", description = "Accept local files the signature does not cover.")
    boolean ignoreUnsigned;

    @Override
    public Integer call() throws Exception {
        Path bundle = sig != null ? sig : Files.isDirectory(path) ? path.resolve(ModelSigner.DEFAULT_SIGNATURE)
                : path.resolveSibling(path.getFileName() + ".sig");
        try {
            if (!Files.isRegularFile(bundle)) throw new ProvenanceException("no signature at " + bundle + " (use --sig)");
            ModelVerifier.Trust trust;
            if (signer.trustedRoot != null) {
                if (identity == null || issuer == null) {
                    throw new ProvenanceException("--trusted-root needs --identity and --issuer (whose signature to accept)");
                }
                trust = new ModelVerifier.Trust.Keyless(SigstoreTrustedRoot.read(signer.trustedRoot), identity, issuer);
            } else if (identity != null || issuer != null) {
                throw new ProvenanceException("--identity and --issuer apply to keyless signatures: give --trusted-root");
            } else {
                trust = signer.key != null
                        ? new ModelVerifier.Trust.Key(PemKeys.readPublicKey(signer.key))
                        : new ModelVerifier.Trust.Certificates(PemKeys.readCertificates(signer.ca));
            }
            Manifest m = ModelVerifier.verify(path, Files.readAllBytes(bundle), ModelSigner.signatureName(path, bundle), trust,
                    new ModelVerifier.Options(withBundleFolder(ignore), ignoreUnsigned, ModelHasher.parallel()));
            System.out.println("valid: sha256:" + m.rootDigest() + " (" + m.resources().size() + " resources)");
            return 0;
        } catch (VerificationException e) {
            throw new CliException(CliException.FAILED, "invalid: " + e.getMessage());
        } catch (ProvenanceException e) {
            throw new CliException(CliException.UNUSABLE, e.getMessage());
        }
    }

    /** A downloaded release bundle's additions ({@value ModelHasher#BUNDLE_FOLDER}/) are not the model. */
    private static List<String> withBundleFolder(List<String> ignore) {
        List<String> all = new ArrayList<>(ignore);
        all.add(ModelHasher.BUNDLE_FOLDER);
        return all;
    }
}
