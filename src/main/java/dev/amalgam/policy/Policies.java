package dev.amalgam.policy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/**
 * The loaded policy folder ({@code policies/}): license catalogue, release policy and the folder
 * of trusted publisher keys. This is the entry point the registry uses: load once at start
 * (a {@link PolicyFileException} means "refuse to start"), then combine licenses for merges and
 * evaluate gates.
 */
public final class Policies {
    /** Sub-folder with trusted publisher public keys (PEM); read by the registry, not here. */
    public static final String KEYS_DIRECTORY = "keys";

    private final Path folder;
    private final LicenseCatalogue licenses;
    private final ReleasePolicy release;
    private final LicenseCombiner combiner;
    private final GateEvaluator evaluator;

    private Policies(Path folder, LicenseCatalogue licenses, ReleasePolicy release) {
        this.folder = folder;
        this.licenses = licenses;
        this.release = release;
        this.combiner = new LicenseCombiner(licenses);
        this.evaluator = new GateEvaluator(release, licenses);
    }

    /**
     * Loads and validates {@code folder}/licenses.yaml and {@code folder}/release.yaml.
     *
     * @throws PolicyFileException with a one-line message naming file, entry and field
     */
    public static Policies load(Path folder) {
        if (!Files.isDirectory(folder)) throw new PolicyFileException(folder + ": policy folder does not exist");
        Path catalogueFile = folder.resolve(LicenseCatalogue.FILE_NAME);
        Path releaseFile = folder.resolve(ReleasePolicy.FILE_NAME);
        for (Path p : List.of(catalogueFile, releaseFile)) {
            if (!Files.isRegularFile(p)) throw new PolicyFileException(p + ": missing policy file");
        }
        LicenseCatalogue catalogue = LicenseCatalogue.load(catalogueFile);
        return new Policies(folder, catalogue, ReleasePolicy.load(releaseFile, catalogue));
    }

    /** Builds from already-parsed parts (tests, tools). */
    public static Policies of(LicenseCatalogue licenses, ReleasePolicy release) {
        return new Policies(null, licenses, release);
    }

    public LicenseCatalogue licenses() {
        return licenses;
    }

    public ReleasePolicy release() {
        return release;
    }

    /** {@code policies/keys/}, or empty when built without a folder. */
    public Optional<Path> keysDirectory() {
        return Optional.ofNullable(folder).map(f -> f.resolve(KEYS_DIRECTORY));
    }

    /**
     * Combines input licenses for what {@code environment} needs (a merge pre-check).
     *
     * @throws IllegalArgumentException if release.yaml has no such environment
     */
    public LicenseCombination combine(List<LicenseInput> inputs, String environment) {
        LicenseTarget target = release.environment(environment).map(Environment::licenseTarget)
                .orElseThrow(() -> new IllegalArgumentException("no environment '" + environment + "' in "
                        + ReleasePolicy.FILE_NAME + " (known: " + String.join(", ", release.environmentNames()) + ")"));
        return combiner.combine(inputs, target);
    }

    /** Combines input licenses for an explicit target. */
    public LicenseCombination combine(List<LicenseInput> inputs, LicenseTarget target) {
        return combiner.combine(inputs, target);
    }

    /** The gate decision for {@code model} in {@code environment}. */
    public Decision evaluate(ModelFacts model, String environment, Clock clock) {
        return evaluator.evaluate(model, environment, clock);
    }
}
