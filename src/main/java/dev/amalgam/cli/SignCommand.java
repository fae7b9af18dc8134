package dev.amalgam.cli;

import dev.amalgam.provenance.Manifest;
import dev.amalgam.provenance.ModelHasher;
import dev.amalgam.provenance.ModelSigner;
import dev.amalgam.provenance.PemKeys;
import dev.amalgam.provenance.ProvenanceException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code amalgam sign PATH --key KEY.pem [--cert CERT.pem --chain CHAIN.pem] [--sig OUT]}. */
@Command(name = "sign", mixinStandardHelpOptions = true,
        description = "Sign a model the OpenSSF Model Signing way (Sigstore bundle, checkable with the standard OMS tools).")
final class SignCommand implements Callable<Integer> {
    @Parameters(paramLabel = "PATH", description = "Model folder or single file.")
    Path path;

    @Option(names = "--key", required = true, paramLabel = "KEY.pem",
            description = "EC private key (P-256/384/521): PKCS#8, SEC1 or encrypted (password from AMALGAM_KEY_PASSWORD).")
    Path key;

    @Option(names = "--cert", paramLabel = "CERT.pem", description = "Signing certificate (certificate method).")
    Path cert;

    @Option(names = "--chain", paramLabel = "CHAIN.pem", description = "Intermediate certificates.")
    Path chain;

    @Option(names = "--sig", paramLabel = "OUT", description = "Where to write the bundle (default: PATH/model.sig).")
    Path sig;

    @Option(names = "--ignore-path", paramLabel = "P", description = "Leave this path out of the signature; repeatable.")
    List<String> ignore = List.of();

    @Override
    public Integer call() throws Exception {
        Path out = sig != null ? sig : Files.isDirectory(path) ? path.resolve(ModelSigner.DEFAULT_SIGNATURE)
                : path.resolveSibling(path.getFileName() + ".sig");
        try {
            String pw = System.getenv("AMALGAM_KEY_PASSWORD");
            var privateKey = PemKeys.readPrivateKey(key, pw == null ? null : pw.toCharArray());
            List<X509Certificate> certs = new ArrayList<>();
            if (cert != null) certs.addAll(PemKeys.readCertificates(cert));
            if (chain != null) certs.addAll(PemKeys.readCertificates(chain));
            if (chain != null && cert == null) throw new CliException(CliException.UNUSABLE, "--chain needs --cert");
            Manifest m = ModelSigner.sign(path, out, privateKey, certs, ignore, ModelHasher.parallel());
            System.out.println("signed sha256:" + m.rootDigest() + " (" + m.resources().size() + " files) -> " + out);
            return 0;
        } catch (ProvenanceException e) {
            throw new CliException(CliException.UNUSABLE, e.getMessage());
        }
    }
}
