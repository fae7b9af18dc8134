package dev.amalgam.cli;

import dev.amalgam.merge.MergeResult;
import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.provenance.Manifest;
import dev.amalgam.provenance.ModelHasher;
import dev.amalgam.provenance.ModelSigner;
import dev.amalgam.provenance.Serialization;
import dev.amalgam.provenance.SlsaProvenance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Signs an offline merge's output: the SLSA provenance (inputs by their OMS root digests) and the
 * OMS signature over the model. The provenance file is left out of the model's digest (it is
 * about the model, not part of it), so its subject digest is the digest {@code model.sig} signs.
 */
final class SignedOutput {
    private SignedOutput() {
    }

    /** Returns the output's root digest (hex). */
    static String write(Recipe recipe, MergeResult result, PrivateKey key, Instant started) throws IOException {
        ModelHasher hasher = ModelHasher.parallel();
        List<String> ignores = List.of(SlsaProvenance.FILE_NAME);
        List<SlsaProvenance.Input> inputs = new ArrayList<>();
        for (String ref : result.inputs()) {
            Path dir = ModelResolver.local().resolve(ref, recipe.folder());
            Manifest in = hasher.hash(dir, Serialization.files(ModelHasher.ignores(ModelSigner.DEFAULT_SIGNATURE, ignores)));
            inputs.add(new SlsaProvenance.Input(ref, dir.toUri().toString(), in.rootDigest()));
        }
        Path out = result.output();
        Manifest m = hasher.hash(out, Serialization.files(ModelHasher.ignores(ModelSigner.DEFAULT_SIGNATURE, ignores)));
        String yaml = Files.readString(out.resolve("amalgam-recipe.yml"));
        var statement = SlsaProvenance.forMerge(out.getFileName().toString(), m.rootDigest(), inputs, yaml,
                result.seed(), result.engineVersion(), started, Instant.now());
        Files.write(out.resolve(SlsaProvenance.FILE_NAME), SlsaProvenance.sign(statement, key));
        ModelSigner.sign(out, out.resolve(ModelSigner.DEFAULT_SIGNATURE), key, List.of(), ignores, hasher);
        return m.rootDigest();
    }
}
