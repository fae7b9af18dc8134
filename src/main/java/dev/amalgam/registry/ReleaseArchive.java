package dev.amalgam.registry;

import dev.amalgam.policy.LicenseCombination;
import dev.amalgam.policy.LicenseInput;
import dev.amalgam.policy.LicenseTarget;
import dev.amalgam.policy.Obligations;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import dev.amalgam.provenance.ModelHasher;
import dev.amalgam.storage.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The download of a released model: a tar of its folder with the registry's {@code model.sig},
 * the SLSA provenance (merges), a LICENSE file for every license involved, a NOTICE file, and
 * {@code MODEL_CARD.md} carrying the license expression, the obligations and the lineage.
 */
@ApplicationScoped
public class ReleaseArchive {
    /** The model's CycloneDX ML-BOM in the bundle, and its DSSE envelope signed by the registry key. */
    public static final String BOM_FILE = "bom.cdx.json";
    public static final String BOM_ENVELOPE_FILE = "bom.cdx.dsse.json";

    @Inject
    Blobs blobs;

    @Inject
    Session session;

    @Inject
    ModelService models;

    @Inject
    LineageService lineage;

    @Inject
    PolicyService policies;

    @Inject
    RegistryConfig config;

    @Inject
    BomService boms;

    /** What to stream, gathered in one transaction. */
    public record Plan(String folder, List<ModelFile> files, String signatureDigest, String provenanceDigest,
                       byte[] card, byte[] notice, List<String[]> licenses, byte[] bom, byte[] bomEnvelope) {
    }

    @Transactional
    public Plan plan(ModelRef ref) {
        Model m = models.find(ref);
        if (!m.status.equals("released")) {
            throw RegistryException.conflict(m.name + "@" + m.version + " is " + m.status
                    + ": only released models can be downloaded");
        }
        LineageService.Lineage up = lineage.lineage(new ModelRef.ById(m.id), LineageService.Direction.UP, LineageService.MAX_DEPTH);
        List<LicenseInput> inputs = new ArrayList<>();
        for (LineageService.Edge e : up.edges()) {
            if (e.child() != m.id) continue;
            up.nodes().stream().filter(n -> n.id() == e.parent()).findFirst()
                    .ifPresent(n -> inputs.add(LicenseInput.of(n.name() + "@" + n.version(), n.license())));
        }
        if (inputs.isEmpty()) inputs.add(LicenseInput.of(m.name + "@" + m.version, m.license));
        LicenseCombination c = policies.policies().combine(inputs, LicenseTarget.ANY);
        Obligations o = c.obligations();
        List<String[]> licenses = new ArrayList<>();
        for (String id : o.licenses().isEmpty() ? List.of(m.license) : o.licenses()) {
            var info = policies.policies().licenses().find(id);
            String text = info.map(i -> i.name() + " (" + i.id() + ")\n\nThe full license text: " + i.text()
                    + "\nThis model, or a model it was merged from, is distributed under these terms.\n")
                    .orElse(id + "\n\nNo catalogue entry: check the terms of this license before any use.\n");
            licenses.add(new String[] {"LICENSE-" + id.replaceAll("[^A-Za-z0-9.+-]", "_") + ".txt", text});
        }
        licenses.add(new String[] {ReleaseCard.LICENSES_INDEX, ReleaseCard.licensesIndex(licenses)});
        StringBuilder notice = new StringBuilder(m.name + "@" + m.version + "\n\n");
        o.attributions().forEach(a -> notice.append(a).append('\n'));
        o.notices().forEach(n -> notice.append(n).append('\n'));
        MergeJob job = session.createSelectionQuery("from MergeJob where outputModelId = :id", MergeJob.class)
                .setParameter("id", m.id).setMaxResults(1).uniqueResult();
        List<ModelFile> files = session.createSelectionQuery("from ModelFile where modelId = :id order by path", ModelFile.class)
                .setParameter("id", m.id).getResultList();
        requireIntact(files, m.signatureDigest, job == null ? null : job.provenanceDigest);
        return new Plan(m.name.replace('/', '_') + "-" + m.version, files, m.signatureDigest,
                job == null ? null : job.provenanceDigest,
                (ReleaseCard.frontMatter(m, c, up, policies.policies().licenses(), session)
                        + "\n" + card(m, c, o, up, keyFingerprint()) + ReleaseCard.recipe(job)).getBytes(StandardCharsets.UTF_8),
                notice.toString().getBytes(StandardCharsets.UTF_8), licenses,
                boms.json(m).getBytes(StandardCharsets.UTF_8), boms.envelope(m));
    }

    /** Every blob of the archive is checked before the first byte is sent: a tampered one fails the request, whole. */
    private void requireIntact(List<ModelFile> files, String signatureDigest, String provenanceDigest) {
        BlobStore store = blobs.store();
        try {
            for (ModelFile f : files) store.requireIntact(f.blobDigest);
            store.requireIntact(signatureDigest);
            if (provenanceDigest != null) store.requireIntact(provenanceDigest);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Streams the tar of a plan (outside any transaction: the blobs are immutable). */
    public void write(Plan p, OutputStream out) throws IOException {
        BlobStore store = blobs.store();
        String extra = p.folder() + "/" + ModelHasher.BUNDLE_FOLDER + "/";
        try (TarWriter tar = new TarWriter(out)) {
            for (ModelFile f : p.files()) {
                try (InputStream in = store.open(f.blobDigest)) {
                    tar.file(p.folder() + "/" + f.path, f.sizeBytes, in);
                }
            }
            tar.file(p.folder() + "/model.sig", store.open(p.signatureDigest()).readAllBytes());
            // everything below is the registry's addition, kept out of the model's digest and signature
            if (p.provenanceDigest() != null) {
                tar.file(extra + "provenance.intoto.json", store.open(p.provenanceDigest()).readAllBytes());
            }
            for (String[] l : p.licenses()) tar.file(extra + l[0], l[1].getBytes(StandardCharsets.UTF_8));
            tar.file(extra + "NOTICE", p.notice());
            tar.file(extra + "MODEL_CARD.md", p.card());
            tar.file(extra + BOM_FILE, p.bom());
            tar.file(extra + BOM_ENVELOPE_FILE, p.bomEnvelope());
        }
    }

    /** SHA-256 (hex) of the registry's public key file, as the card prints it for an out-of-band check. */
    private String keyFingerprint() {
        try {
            byte[] pem = Files.readAllBytes(config.settings().keysDir().resolve(RegistryKeys.SIGNING_PUBLIC_KEY));
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(pem));
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot read the registry's public key", e);
        }
    }

    private static String card(Model m, LicenseCombination c, Obligations o, LineageService.Lineage up, String keySha256) {
        StringBuilder b = new StringBuilder("# " + m.name + "@" + m.version + "\n\n");
        b.append("- Identity (OMS root digest): `").append(m.rootDigest).append("`\n");
        b.append("- License: `").append(c.expression().map(Object::toString).orElse(m.license)).append("`\n");
        o.namePrefix().ifPresent(p -> b.append("- Name must begin with: ").append(p).append('\n'));
        o.attributions().forEach(a -> b.append("- Attribution: ").append(a).append('\n'));
        o.userCap().ifPresent(u -> b.append("- Monthly active user cap: ").append(u).append('\n'));
        if (!o.excludedRegions().isEmpty()) b.append("- Not licensed in: ").append(String.join(", ", o.excludedRegions())).append('\n');
        if (!o.flowDown().isEmpty()) {
            b.append("\n## Use restrictions every downstream user must accept\n\n");
            o.flowDown().forEach(f -> b.append("- ").append(f).append('\n'));
        }
        b.append("\n## Lineage\n\n");
        if (up.nodes().isEmpty()) b.append("A source model.\n");
        for (LineageService.Node n : up.nodes()) {
            b.append("  ".repeat(n.depth() - 1)).append("- ").append(n.name()).append('@').append(n.version())
                    .append(" `").append(n.rootDigest()).append("` (").append(n.license()).append(")\n");
        }
        b.append("\n## Verify this bundle and ask the gate\n\n")
                .append("The model is the bundle's top folder with its `model.sig`, the registry's OpenSSF Model Signing")
                .append(" signature. This `").append(ModelHasher.BUNDLE_FOLDER).append("/` folder (this card, NOTICE, the")
                .append(" license files, the provenance statement) is what the registry added at download; it is not part")
                .append(" of the model, and `amalgam digest` and `amalgam verify` leave it out.\n\n")
                .append("1. Get the registry's public key (`GET /api/v1/signing-key`), save it beside the bundle's top")
                .append(" folder as `registry-signing-key.pub.pem`, and check that its SHA-256 is `").append(keySha256)
                .append("`.\n")
                .append("2. In the bundle's top folder (the one holding `model.sig`), run:\n\n")
                .append("```sh\n")
                .append("amalgam verify . --key ../registry-signing-key.pub.pem\n")
                .append("amalgam digest .\n")
                .append("```\n\n")
                .append("   `verify` prints `valid: ").append(m.rootDigest).append(" ...`; `digest` prints `")
                .append(m.rootDigest).append("`.\n")
                .append("3. Ask the registry's gate with that digest: `POST /api/v1/gate` with")
                .append(" `{\"digest\":\"").append(m.rootDigest).append("\",\"env\":\"production\"}`.\n");
        return b.toString();
    }
}
