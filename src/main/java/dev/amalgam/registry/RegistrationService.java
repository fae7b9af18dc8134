package dev.amalgam.registry;

import dev.amalgam.ledger.Ledger;
import dev.amalgam.ledger.event.ModelRegistered;
import dev.amalgam.provenance.Manifest;
import dev.amalgam.provenance.ModelHasher;
import dev.amalgam.provenance.ProvenanceException;
import dev.amalgam.provenance.Serialization;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import dev.amalgam.storage.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Registers a model folder: validates names and paths, computes the model's identity (its OMS
 * root digest), stores every file once in the blob store, and records model and files. The same
 * content registered again returns the existing model.
 */
@ApplicationScoped
public class RegistrationService {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,199}");
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,99}");
    /** The publisher's OMS signature travels with the model but is not part of its content. */
    public static final String SIGNATURE_FILE = "model.sig";

    @Inject
    Session session;

    @Inject
    RegistryConfig config;

    @Inject
    PolicyService policies;

    @Inject
    SigningService signing;

    @Inject
    LedgerService ledger;

    /** What the caller says about the model. */
    public record Metadata(String name, String version, String license, String origin, String status) {
    }

    /** The registered model, and whether this call created it (false: identical content existed). */
    public record Registered(Model model, boolean created) {
    }

    @Transactional
    public Registered register(Path folder, Metadata meta, String actor) throws IOException {
        validate(meta);
        String license = policies.normalizeLicense(meta.license());
        checkPaths(folder);
        Manifest manifest;
        try {
            manifest = ModelHasher.parallel().hash(folder, Serialization.files(ModelHasher.ignores(SIGNATURE_FILE, List.of())));
        } catch (ProvenanceException e) {
            throw new RegistryException(RegistryException.Kind.INVALID, e.getMessage());
        }
        if (manifest.resources().isEmpty()) throw new RegistryException(RegistryException.Kind.INVALID, "the model has no files");
        String root = "sha256:" + manifest.rootDigest();
        Model existing = session.createSelectionQuery("from Model where rootDigest = :d", Model.class)
                .setParameter("d", root).uniqueResult();
        if (existing != null) return new Registered(existing, false);
        if (session.createSelectionQuery("select count(*) from Model where name = :n and version = :v", Long.class)
                .setParameter("n", meta.name()).setParameter("v", meta.version()).getSingleResult() > 0) {
            throw new RegistryException(RegistryException.Kind.CONFLICT, meta.name() + "@" + meta.version()
                    + " is already registered with different content; register it under a new version");
        }
        BlobStore blobs = new BlobStore(config.settings().blobsDir());
        Path publisherSig = folder.resolve(SIGNATURE_FILE);
        SigningService.PublisherCheck publisher = Files.isRegularFile(publisherSig)
                ? signing.checkPublisher(folder, Files.readAllBytes(publisherSig))
                : new SigningService.PublisherCheck("missing", null, null);
        Model m = new Model();
        m.name = meta.name();
        m.version = meta.version();
        m.rootDigest = root;
        m.license = license;
        m.origin = meta.origin();
        m.status = meta.status();
        m.registeredAt = OffsetDateTime.now(ZoneOffset.UTC);
        m.registeredBy = actor;
        dev.amalgam.scan.ScanReport scan = dev.amalgam.scan.Scanner.scan(folder);
        m.scanVerdict = scan.verdict().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        m.scanReportDigest = blobs.put(new java.io.ByteArrayInputStream(scan.toJson().toString()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)), Long.MAX_VALUE).digest();
        m.finiteWeights = finiteWeights(folder);
        m.publisherSignature = publisher.state();
        m.publisherKey = publisher.keyId();
        long size = 0;
        session.persist(m);
        for (Manifest.Resource r : manifest.resources()) {
            Path file = folder.resolve(r.name());
            BlobStore.Blob b = blobs.putFile(file, false);
            if (!b.digest().equals(r.digest())) {
                throw new RegistryException(RegistryException.Kind.CONFLICT,
                        "file " + r.name() + " changed while it was being registered");
            }
            ModelFile f = new ModelFile();
            f.modelId = m.id;
            f.path = r.name();
            f.blobDigest = r.digest();
            f.sizeBytes = b.size();
            f.format = formatName(dev.amalgam.scan.Scanner.formatOf(file));
            session.persist(f);
            size += b.size();
        }
        m.signatureDigest = blobs.put(new java.io.ByteArrayInputStream(signing.sign(manifest)), Long.MAX_VALUE).digest();
        m.sizeBytes = size;
        m.fileCount = manifest.resources().size();
        List<ModelRegistered.File> fileList = new ArrayList<>();
        for (Manifest.Resource r : manifest.resources()) {
            fileList.add(new ModelRegistered.File(r.name(), r.digest(), Files.size(folder.resolve(r.name())),
                    formatName(dev.amalgam.scan.Scanner.formatOf(folder.resolve(r.name())))));
        }
        Ledger.Receipt receipt = ledger.append(actor, new ModelRegistered(m.name + "@" + m.version, m.rootDigest, m.origin,
                m.license, m.scanVerdict, m.finiteWeights, m.publisherSignature, m.publisherKey,
                "sha256:" + m.signatureDigest, m.status, m.scanReportDigest, fileList, m.id, m.registeredAt.toString()));
        m.ledgerSeq = receipt.seq();
        m.ledgerHash = receipt.entryHash();
        return new Registered(m, true);
    }

    public static void validate(Metadata meta) {
        List<String> problems = new ArrayList<>();
        if (meta.name() == null || !NAME.matcher(meta.name()).matches()) {
            problems.add("name: 1-200 characters of letters, digits, '.', '_', '-', '/' (got '" + meta.name() + "')");
        }
        if (meta.version() == null || !VERSION.matcher(meta.version()).matches()) {
            problems.add("version: 1-100 characters of letters, digits, '.', '_', '+', '-' (got '" + meta.version() + "')");
        }
        if (meta.license() == null || meta.license().isBlank()) {
            problems.add("license: required (a Hugging Face license id or an SPDX expression)");
        }
        if (!problems.isEmpty()) {
            throw new RegistryException(RegistryException.Kind.INVALID, "invalid model metadata", problems);
        }
    }

    /** NaN/Inf check of every float tensor; a file the reader refuses leaves it not checked (the scan says why). */
    static String finiteWeights(Path folder) {
        try {
            return dev.amalgam.scan.FiniteWeights.nonFinite(folder).isEmpty() ? "passed" : "failed";
        } catch (IOException | RuntimeException e) {
            return "not-checked";
        }
    }

    /** Weight formats as the release policy names them; other content keeps the scanner's name. */
    static String formatName(String sniffed) {
        return switch (sniffed) {
            case "zip" -> "pickle"; // PyTorch checkpoints: zip archives of pickles
            case "numpy" -> "numpy";
            default -> sniffed;
        };
    }

    /** Every path must be one a client may name (and no symlinks): checked before hashing. */
    static void checkPaths(Path folder) throws IOException {
        try (Stream<Path> s = Files.walk(folder)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (p.equals(folder)) continue;
                String rel = folder.relativize(p).toString().replace('\\', '/');
                if (Files.isSymbolicLink(p)) {
                    throw new RegistryException(RegistryException.Kind.INVALID, "symbolic links are not allowed: " + rel);
                }
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) new ModelPath(rel);
            }
        }
    }
}
