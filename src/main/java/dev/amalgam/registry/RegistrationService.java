package dev.amalgam.registry;

import dev.amalgam.ledger.Ledger;
import dev.amalgam.ledger.event.ModelRegistered;
import dev.amalgam.provenance.Manifest;
import dev.amalgam.provenance.ModelHasher;
import dev.amalgam.provenance.ProvenanceException;
import dev.amalgam.provenance.Serialization;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import dev.amalgam.scan.FiniteWeights;
import dev.amalgam.scan.ScanReport;
import dev.amalgam.scan.Scanner;
import dev.amalgam.storage.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import io.quarkus.narayana.jta.QuarkusTransaction;
import org.hibernate.Session;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Registers a model folder: validates names and paths, computes the model's identity (its OMS
 * root digest), stores every file once in the blob store, and records model and files. The same
 * content registered again returns the existing model.
 */
@ApplicationScoped
public class RegistrationService {
    /** Formats (as {@link #formatName} names them) that hold weights: a model needs at least one such file. */
    private static final Set<String> WEIGHT_FORMATS = Set.of("safetensors", "gguf", "pickle", "numpy");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,199}");
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]{0,99}");
    /** The publisher's OMS signature travels with the model but is not part of its content. */
    public static final String SIGNATURE_FILE = "model.sig";

    @Inject
    Blobs blobs;

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

    private final ReentrantLock lock = new ReentrantLock();

    @Inject
    HubIntake hub;

    /** What the caller says about the model. */
    public record Metadata(String name, String version, String license, String origin, String status) {
    }

    /** The registered model, and whether this call created it (false: identical content existed). */
    public record Registered(Model model, boolean created) {
    }

    /**
     * Registers a folder. The expensive part (hashing, scanning, storing blobs, signing) runs
     * unlocked and outside any transaction; the decision whether the model is new and its rows and
     * ledger entry are one step under a lock, so concurrent identical registrations get the one
     * existing model and concurrent different contents under one {@code name@version} a conflict.
     * A unique violation from another instance (several servers on one PostgreSQL) is answered the
     * same way after one fresh look. Joins the caller's transaction when there is one (merge outputs).
     */
    public Registered register(Path folder, Metadata meta, String actor) throws IOException {
        return register(folder, meta, HubIntake.Request.NONE, actor);
    }

    /**
     * Registers a folder with what its Hugging Face card says (source models only): the card's
     * license decides when none is declared and must agree with a declared one unless overridden;
     * the Hub source and the card's base models are recorded ({@link HubIntake}).
     */
    public Registered register(Path folder, Metadata declared, HubIntake.Request request, String actor) throws IOException {
        HubIntake.Intake intake = null;
        Metadata meta = declared;
        if (declared.origin().equals("source")) {
            checkPaths(folder);
            intake = hub.examine(folder, declared.license(), request);
            meta = new Metadata(declared.name(), declared.version(), intake.license(), declared.origin(), declared.status());
        }
        return register(folder, meta, intake, actor);
    }

    private Registered register(Path folder, Metadata meta, HubIntake.Intake intake, String actor) throws IOException {
        validate(meta);
        String license = policies.normalizeLicense(meta.license());
        checkPaths(folder);
        Manifest manifest;
        try {
            manifest = ModelHasher.parallel().hash(folder, Serialization.files(ModelHasher.ignores(SIGNATURE_FILE, List.of())));
        } catch (ProvenanceException e) {
            throw RegistryException.badRequest(e.getMessage());
        }
        if (manifest.resources().isEmpty()) throw RegistryException.badRequest("the model has no files");
        String root = "sha256:" + manifest.rootDigest();
        Registered known = inTransaction(() -> existing(root, meta, license));
        if (known != null) return known;
        Prepared prepared = prepare(folder, manifest, root, meta, license, actor, intake);
        boolean joined = QuarkusTransaction.isActive();
        lock.lock();
        try {
            return inTransaction(() -> record(prepared, actor));
        } catch (RuntimeException e) {
            if (joined || !UniqueViolation.in(e)) throw e;
            // another server recorded the same content or name@version between our look and our insert
            Registered again = inTransaction(() -> existing(root, meta, license));
            if (again != null) return again;
            throw e;
        } finally {
            lock.unlock();
        }
    }

    /** Everything about a model that is computed from its files, before the database is touched. */
    private record Prepared(Model model, List<ModelFile> files, Manifest manifest, Path folder, HubIntake.Intake intake) {
    }

    /**
     * The answer when the content or the name is already taken: the same content under the same
     * name, version and license is the existing model (200); under another name, version or
     * license it is refused with the existing model named (a source model has one identity: the
     * request's metadata would be silently dropped otherwise); a merge whose output equals a known
     * model gets that model. A name@version holding other content is a conflict.
     */
    private Registered existing(String root, Metadata meta, String license) {
        Model existing = session.createSelectionQuery("from Model where rootDigest = :d", Model.class)
                .setParameter("d", root).uniqueResult();
        if (existing != null) {
            boolean same = existing.name.equals(meta.name()) && existing.version.equals(meta.version())
                    && existing.license.equals(license);
            if (same || meta.origin().equals("merge")) return new Registered(existing, false);
            throw RegistryException.conflict("this content is already registered as "
                    + existing.name + "@" + existing.version + " (id " + existing.id + ", license " + existing.license
                    + "); nothing was registered as " + meta.name() + "@" + meta.version() + " (license " + license
                    + "): a model has one name, version and license. Use " + existing.name + "@" + existing.version
                    + ", or change the content to register a new model",
                    List.of("existing: " + existing.name + "@" + existing.version, "existingId: " + existing.id));
        }
        if (session.createSelectionQuery("select count(*) from Model where name = :n and version = :v", Long.class)
                .setParameter("n", meta.name()).setParameter("v", meta.version()).getSingleResult() > 0) {
            throw RegistryException.conflict(meta.name() + "@" + meta.version()
                    + " is already registered with different content; register it under a new version");
        }
        return null;
    }

    private Prepared prepare(Path folder, Manifest manifest, String root, Metadata meta, String license, String actor,
                             HubIntake.Intake intake) throws IOException {
        List<String> weights = new ArrayList<>();
        List<ModelFile> files = new ArrayList<>();
        BlobStore store = blobs.store();
        long size = 0;
        for (Manifest.Resource r : manifest.resources()) {
            Path file = folder.resolve(r.name());
            ModelFile f = new ModelFile();
            f.path = r.name();
            f.blobDigest = r.digest();
            f.format = formatName(Scanner.formatOf(file));
            if (WEIGHT_FORMATS.contains(f.format)) weights.add(r.name());
            files.add(f);
        }
        if (weights.isEmpty()) {
            throw RegistryException.unprocessable("no weights: none of the "
                    + files.size() + " files is a weight file (safetensors, GGUF, PyTorch/pickle or NumPy by content): "
                    + String.join(", ", files.stream().limit(10).map(f -> f.path).toList())
                    + (files.size() > 10 ? ", ..." : "") + "; a model without weights is not registered");
        }
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
        m.registeredBy = actor;
        ScanReport scan = Scanner.scan(folder);
        m.scanVerdict = scan.verdict().name().toLowerCase(Locale.ROOT).replace('_', '-');
        m.scanReportDigest = store.put(new ByteArrayInputStream(scan.toJson().toString()
                .getBytes(StandardCharsets.UTF_8)), Long.MAX_VALUE).digest();
        m.finiteWeights = finiteWeights(folder);
        m.publisherSignature = publisher.state();
        m.publisherKey = publisher.keyId();
        for (ModelFile f : files) {
            BlobStore.Blob b = store.putFile(folder.resolve(f.path), false);
            if (!b.digest().equals(f.blobDigest)) {
                throw RegistryException.conflict("file " + f.path + " changed while it was being registered");
            }
            f.sizeBytes = b.size();
            size += b.size();
        }
        m.signatureDigest = store.put(new ByteArrayInputStream(signing.sign(manifest)), Long.MAX_VALUE).digest();
        m.sizeBytes = size;
        m.fileCount = manifest.resources().size();
        FaultPoints.at("register.blobs-stored");
        return new Prepared(m, files, manifest, folder, intake);
    }

    /** The rows and the ledger entry: flushed before the append, so a unique violation never leaves an entry behind. */
    private Registered record(Prepared prepared, String actor) {
        Model m = prepared.model();
        Registered taken = existing(m.rootDigest, new Metadata(m.name, m.version, m.license, m.origin, m.status), m.license);
        if (taken != null) return taken;
        m.registeredAt = OffsetDateTime.now(ZoneOffset.UTC);
        session.persist(m);
        for (ModelFile f : prepared.files()) {
            f.modelId = m.id;
            session.persist(f);
        }
        ModelRegistered.Hub hubFacts = prepared.intake() == null ? null : hub.resolve(prepared.intake());
        hub.recordDeclared(m, hubFacts);
        session.flush();
        List<ModelRegistered.File> fileList = new ArrayList<>();
        for (ModelFile f : prepared.files()) {
            fileList.add(new ModelRegistered.File(f.path, f.blobDigest, f.sizeBytes, f.format));
        }
        Ledger.Receipt receipt = ledger.append(actor, new ModelRegistered(m.name + "@" + m.version, m.rootDigest, m.origin,
                m.license, m.scanVerdict, m.finiteWeights, m.publisherSignature, m.publisherKey,
                "sha256:" + m.signatureDigest, m.status, m.scanReportDigest, fileList, m.id, m.registeredAt.toString(),
                hubFacts));
        m.ledgerSeq = receipt.seq();
        m.ledgerHash = receipt.entryHash();
        return new Registered(m, true);
    }

    private static <T> T inTransaction(Supplier<T> work) {
        return QuarkusTransaction.joiningExisting().call(work::get);
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
            throw RegistryException.badRequest("invalid model metadata", problems);
        }
    }

    /** NaN/Inf check of every float tensor; a file the reader refuses leaves it not checked (the scan says why). */
    static String finiteWeights(Path folder) {
        try {
            return FiniteWeights.nonFinite(folder).isEmpty() ? "passed" : "failed";
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
                    throw RegistryException.badRequest("symbolic links are not allowed: " + rel);
                }
                if (rel.equals(ModelHasher.BUNDLE_FOLDER) || rel.startsWith(ModelHasher.BUNDLE_FOLDER + "/")) {
                    throw RegistryException.badRequest(rel + ": " + ModelHasher.BUNDLE_FOLDER
                            + "/ holds a release bundle's card, licenses and provenance, which are not part of a model;"
                            + " register the folder without it");
                }
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) new ModelPath(rel);
            }
        }
    }
}
