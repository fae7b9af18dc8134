package dev.amalgam.registry;

import dev.amalgam.ledger.Ledger;
import dev.amalgam.ledger.event.LedgerEvent;
import dev.amalgam.ledger.event.MergeCancelled;
import dev.amalgam.ledger.event.MergeFailed;
import dev.amalgam.ledger.event.MergeReproduced;
import dev.amalgam.ledger.event.MergeSubmitted;
import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergeOptions;
import dev.amalgam.merge.MergeRequest;
import dev.amalgam.merge.MergeResult;
import dev.amalgam.merge.ProgressListener;
import dev.amalgam.merge.RecipeChecker;
import dev.amalgam.merge.method.RecipeModels;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.merge.recipe.RecipeParser;
import dev.amalgam.provenance.ModelHasher;
import dev.amalgam.provenance.Serialization;
import dev.amalgam.registry.entity.Decision;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.registry.entity.Model;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import org.hibernate.Session;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Merge jobs: persisted in the database, run on a bounded worker pool. A job is queued, running
 * (with progress), then succeeded, failed (with the reason) or cancelled. Merges are
 * deterministic and write into a staged folder, so a job interrupted by a restart is simply run
 * again from the start: no half output is ever registered.
 */
@ApplicationScoped
public class MergeJobService {
    private static final Logger LOG = Logger.getLogger(MergeJobService.class);
    /** How long shutdown waits for running merges to reach their next tensor and step back. */
    private static final int STOP_WAIT_SECONDS = 60;

    @Inject
    Session session;

    @Inject
    RegistryConfig config;

    @Inject
    ModelService models;

    @Inject
    ModelMaterializer materializer;

    @Inject
    MergeOutputRegistrar outputs;

    @Inject
    JobStateWriter states;

    @Inject
    Blobs blobs;

    private ExecutorService pool;
    private volatile boolean stopping;
    /** Per queued or running job of this run: who asked to cancel it (null while nobody has). */
    private final Map<Long, AtomicReference<String>> cancelFlags = new ConcurrentHashMap<>();

    /**
     * Starts the pool and takes up every job a previous run left queued or running; after the
     * ledger reconciliation (3500), so a job whose output the ledger already records is not run twice.
     */
    void onStart(@Observes @Priority(4000) StartupEvent ev) {
        pool = Executors.newFixedThreadPool(Math.max(1, config.mergeWorkers()), r -> {
            Thread t = new Thread(r, "amalgam-merge-job");
            t.setDaemon(true);
            return t;
        });
        resumeInterrupted();
    }

    /** Queues again every job a previous run left queued or running (merges are deterministic: rerun from scratch). */
    public int resumeInterrupted() {
        int n = 0;
        for (long id : states.resumable()) {
            if (cancelFlags.containsKey(id)) continue; // already queued in this run
            LOG.infof("Resuming merge job %d after a restart", id);
            enqueue(id);
            n++;
        }
        return n;
    }

    /**
     * Stops the merge workers before anything else shuts down (lowest priority number: first
     * observer), so no job thread touches the database after it closed. A running job stops at its
     * next tensor and goes back to {@code queued}; queued jobs stay queued; the next start runs them.
     */
    void onStop(@Observes @Priority(1) ShutdownEvent ev) {
        stopping = true;
        FaultPoints.releaseAll();
        if (pool == null) return;
        pool.shutdown();
        try {
            if (!pool.awaitTermination(STOP_WAIT_SECONDS, TimeUnit.SECONDS)) {
                LOG.warnf("Merge workers did not stop within %d s; their jobs are run again at the next start",
                        STOP_WAIT_SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Checks a recipe against the registry and queues it.
     *
     * @throws RegistryException (unprocessable) listing every problem at once
     */
    public MergeJob submit(String yaml, String outputName, String outputVersion, Caller caller) {
        Recipe recipe = parse(yaml);
        List<String> problems = new ArrayList<>(RecipeChecker.check(recipe).problems());
        if (outputName != null || outputVersion != null) {
            try {
                RegistrationService.validate(new RegistrationService.Metadata(
                        outputName == null ? "merge" : outputName, outputVersion == null ? "1" : outputVersion,
                        "-", "merge", "pending-review"));
            } catch (RegistryException e) {
                problems.addAll(e.reasons());
            }
            if (outputName != null && models.exists(outputName, outputVersion == null ? "1" : outputVersion)) {
                problems.add("output " + outputName + "@" + (outputVersion == null ? "1" : outputVersion)
                        + " is already registered; choose another version");
            }
        }
        List<String> sources = new ArrayList<>(RecipeModels.referenced(recipe));
        if (RecipeModels.tokenizerModel(recipe) != null) sources.add(RecipeModels.tokenizerModel(recipe));
        for (String ref : sources) {
            try {
                Model m = models.find(ModelRef.parse(ref));
                problems.addAll(inputProblems(ref, m));
            } catch (RegistryException e) {
                problems.add("model '" + ref + "': " + e.getMessage());
            }
        }
        if (!problems.isEmpty()) {
            throw RegistryException.unprocessable("the merge was refused (" + problems.size() + " problem" + (problems.size() == 1 ? "" : "s") + ")",
                    problems);
        }
        MergeJob job = states.create(yaml, recipe, outputName, outputVersion, caller.name());
        enqueue(job.id);
        return job;
    }

    /** Why a registered model may not be merged: scanned with findings, not signed, .... */
    static List<String> inputProblems(String ref, Model m) {
        List<String> p = new ArrayList<>();
        if (m.scanVerdict != null && !m.scanVerdict.equals("clean")) {
            p.add("model '" + ref + "': security scan verdict is '" + m.scanVerdict + "', not clean");
        }
        if (m.status.equals("revoked") || m.status.equals("rejected")) {
            p.add("model '" + ref + "' is " + m.status);
        }
        return p;
    }

    static Recipe parse(String yaml) {
        if (yaml == null || yaml.isBlank()) {
            throw RegistryException.badRequest("the request body must be a mergekit recipe (YAML)");
        }
        try {
            return RecipeParser.parse(yaml, null, "recipe");
        } catch (RecipeException e) {
            throw RegistryException.unprocessable("invalid recipe: " + e.getMessage());
        }
    }

    /** The outcome of re-running a merge. */
    public record Reproduction(long mergeId, boolean identical, String originalDigest, String reproducedDigest,
                               String engineVersion) {
    }

    /**
     * Re-runs a succeeded merge from its recorded recipe and inputs and compares the output's root
     * digest with the registered one; the result is recorded (the gate's {@code reproducible} fact).
     */
    public Reproduction reproduce(long id, Caller caller) throws IOException {
        MergeJob job = states.get(id);
        if (!job.state.equals("succeeded") || job.outputModelId == null) {
            throw RegistryException.conflict("merge " + id + " is " + job.state
                    + "; only a succeeded merge can be reproduced");
        }
        Model original = models.find(new ModelRef.ById(job.outputModelId));
        Path work = config.settings().dataDir().resolve("work").resolve("reproduce").resolve(id + "-" + UUID.randomUUID());
        try {
            Recipe recipe = RecipeParser.parse(job.recipe, null, "merge job " + id);
            MergeOptions options = MergeOptions.defaults();
            if (config.mergeThreads() > 0) options = options.withThreads(config.mergeThreads());
            MergeResult result = MergeEngine.run(new MergeRequest(recipe, materializer, work.resolve("out"), options, ProgressListener.NONE));
            var manifest = ModelHasher.parallel().hash(result.output(),
                    Serialization.files(ModelHasher.ignores(
                            RegistrationService.SIGNATURE_FILE, List.of())));
            String digest = "sha256:" + manifest.rootDigest();
            boolean same = digest.equals(original.rootDigest);
            states.recordReproduction(id, original.id, original.rootDigest, same, digest, result.engineVersion(), caller.name());
            return new Reproduction(id, same, original.rootDigest, digest, result.engineVersion());
        } finally {
            deleteTree(work);
        }
    }

    /** The output's SLSA provenance (a DSSE envelope signed by the registry key), verified against its digest. */
    public InputStream provenance(long id) throws IOException {
        MergeJob j = states.get(id);
        if (j.provenanceDigest == null) throw RegistryException.notFound("merge " + id + " has no provenance (yet)");
        return blobs.open(j.provenanceDigest);
    }

    /**
     * Cancels a queued or running job; a finished job stays as it is. Only the job's submitter or
     * an admin may cancel it: a merge is someone's work, and a submitter role is not a licence to
     * stop anyone else's.
     */
    public MergeJob cancel(long id, Caller caller) {
        MergeJob job = states.get(id);
        if (!caller.name().equals(job.submittedBy) && !caller.roles().contains(Role.ADMIN)) {
            throw RegistryException.forbidden("merge " + id + " was submitted by '"
                    + job.submittedBy + "'; only its submitter or an admin may cancel it");
        }
        AtomicReference<String> flag = cancelFlags.get(id);
        if (flag != null) flag.compareAndSet(null, caller.name());
        // a queued job ends here; a running one stops at its next tensor (its worker records the end)
        return states.cancelQueued(id, caller.name());
    }

    private void enqueue(long id) {
        cancelFlags.put(id, new AtomicReference<>());
        pool.submit(() -> run(id));
    }

    void run(long id) {
        if (stopping) return; // stays queued: the next start runs it
        AtomicReference<String> cancelled = cancelFlags.get(id);
        Path work = config.settings().dataDir().resolve("work").resolve("merges").resolve(Long.toString(id));
        try {
            MergeJob job = states.get(id);
            if (!job.state.equals("queued") && !job.state.equals("running")) return;
            if (cancelled.get() != null) {
                states.end(id, "cancelled", "cancelled before it started", cancelled.get());
                return;
            }
            if (!states.start(id)) return; // cancelled meanwhile
            deleteTree(work);
            Recipe recipe = RecipeParser.parse(job.recipe, null, "merge job " + id);
            MergeOptions options = MergeOptions.defaults();
            if (config.mergeThreads() > 0) options = options.withThreads(config.mergeThreads());
            MergeResult result = MergeEngine.run(new MergeRequest(recipe, materializer, work.resolve("out"), options, new Progress(id, cancelled)));
            FaultPoints.at("merge.before-register");
            if (stopping) throw new ServerStopping();
            Model out = outputs.register(id, recipe, result);
            states.succeeded(id, out.id);
        } catch (Exception e) {
            ended(id, e, cancelled);
        } finally {
            cancelFlags.remove(id);
            deleteTree(work);
        }
    }

    /** Records how a job ended; while the server stops, whatever happened sends the job back to the queue. */
    private void ended(long id, Exception e, AtomicReference<String> cancelledBy) {
        if (stopping) {
            states.requeue(id);
            LOG.infof("Merge job %d goes back to the queue: the server is stopping", id);
        } else if (e instanceof CancellationException) {
            String by = cancelledBy == null ? null : cancelledBy.get();
            states.end(id, "cancelled", "cancelled while running", by);
        } else if (e instanceof RegistryException || e instanceof IOException || e instanceof IllegalArgumentException) {
            states.end(id, "failed", e.getMessage(), null);
        } else {
            String errorId = UUID.randomUUID().toString();
            LOG.errorf(e, "Merge job %d failed with internal error %s", id, errorId);
            states.end(id, "failed", "internal error; error id " + errorId + " is in the server log", null);
        }
    }

    /** Thrown into a running merge when the server stops: the job goes back to the queue. */
    private static final class ServerStopping extends RuntimeException {
        ServerStopping() {
            super("the server is stopping", null, false, false);
        }
    }

    /** Writes progress at most every half second and turns a cancel request into an exception. */
    private final class Progress implements ProgressListener {
        private final long id;
        private final AtomicReference<String> cancelled;
        private volatile long total = 1;
        private long done;
        private long lastWrite;

        Progress(long id, AtomicReference<String> cancelled) {
            this.id = id;
            this.cancelled = cancelled;
        }

        @Override
        public void started(int tensors, long bytes) {
            total = Math.max(1, bytes);
        }

        @Override
        public synchronized void tensorDone(String name, long bytes) {
            if (stopping) throw new ServerStopping();
            if (cancelled.get() != null) throw new CancellationException("cancelled");
            FaultPoints.at("merge.tensor");
            done += bytes;
            long now = System.nanoTime();
            if (now - lastWrite > 500_000_000L) {
                lastWrite = now;
                states.progress(id, Math.min(0.99, done / (double) total));
            }
        }
    }

    static void deleteTree(Path p) {
        try {
            Folders.deleteTree(p);
        } catch (IOException e) {
            LOG.warnf("could not delete %s: %s", p, e.getMessage());
        }
    }

    /** Job state changes, each in its own short transaction. */
    @ApplicationScoped
    public static class JobStateWriter {
        /** {@link MergeJob#progress} of an ended job is kept to 1/10000, the unit its ledger entry uses. */
        static final double PROGRESS_UNITS = 10_000.0;

        @Inject
        Session session;

        @Inject
        LedgerService ledger;

        @Transactional
        public MergeJob create(String yaml, Recipe recipe, String outputName, String outputVersion, String submitter) {
            MergeJob j = new MergeJob();
            j.recipe = yaml;
            j.outputName = outputName != null ? outputName : "merge-" + UUID.randomUUID().toString().substring(0, 8);
            j.outputVersion = outputVersion != null ? outputVersion : "1";
            j.method = recipe.mergeMethod();
            j.state = "queued";
            j.seed = recipe.randomSeed();
            j.submittedBy = submitter;
            j.submittedAt = now();
            session.persist(j);
            session.flush(); // the entry records the id clients see
            record(j, submitter, submitted(j));
            return j;
        }

        @Transactional
        public MergeJob get(long id) {
            MergeJob j = session.find(MergeJob.class, id);
            if (j == null) throw RegistryException.notFound("no merge job " + id);
            return j;
        }

        @Transactional
        public List<MergeJob> list(int offset, int limit) {
            return session.createSelectionQuery("from MergeJob order by id desc", MergeJob.class)
                    .setFirstResult(offset).setMaxResults(limit).getResultList();
        }

        @Transactional
        public List<Long> resumable() {
            return session.createSelectionQuery(
                    "select id from MergeJob where state in ('queued', 'running') order by id", Long.class).getResultList();
        }

        @Transactional
        public void recordReproduction(long jobId, long modelId, String output, boolean identical, String digest,
                                       String engine, String actor) {
            Decision d = new Decision();
            d.kind = "reproduce";
            d.mergeJobId = jobId;
            d.modelId = modelId;
            d.outcome = identical ? "identical" : "different";
            d.actor = actor;
            d.reason = "reproduced output " + digest;
            d.decidedAt = now();
            session.persist(d);
            var receipt = ledger.append(actor, new MergeReproduced(jobId, output, digest, identical,
                    engine, d.id, d.decidedAt.toString()));
            d.ledgerSeq = receipt.seq();
            d.ledgerHash = receipt.entryHash();
        }

        /** Marks a queued (or, after a restart, running) job running; false when it ended meanwhile (cancelled). */
        @Transactional
        public boolean start(long id) {
            MergeJob j = locked(id);
            if (ended(j)) return false;
            j.state = "running";
            j.startedAt = now();
            j.progress = 0.0;
            return true;
        }

        /** Back to the queue (the server stopped while it ran): it runs again from the start. */
        @Transactional
        public void requeue(long id) {
            MergeJob j = get(id);
            j.state = "queued";
            j.startedAt = null;
            j.progress = null;
        }

        @Transactional
        public void progress(long id, double p) {
            MergeJob j = session.find(MergeJob.class, id);
            if (j != null && j.state.equals("running")) j.progress = p;
        }

        /** A job whose output was registered (its {@code merge.completed} entry is written with the output). */
        @Transactional
        public MergeJob succeeded(long id, long outputModelId) {
            MergeJob j = locked(id);
            j.state = "succeeded";
            j.failureReason = null;
            // the end was fixed when the output was registered: the ledger records that time
            if (j.finishedAt == null) j.finishedAt = now();
            j.outputModelId = outputModelId;
            j.progress = 1.0;
            return j;
        }

        /** Cancels a job that is still queued (under the row's lock: a worker may be starting it); any other job as it is. */
        @Transactional
        public MergeJob cancelQueued(long id, String by) {
            MergeJob j = locked(id);
            return j.state.equals("queued") ? endLocked(j, "cancelled", "cancelled before it started", by) : j;
        }

        /**
         * Ends a job without output, {@code failed} or {@code cancelled}, and records it in the ledger
         * ({@code actor}: who cancelled; null for the submitter). A job that has already ended stays as it
         * is, so a cancel racing a worker is recorded once.
         */
        @Transactional
        public MergeJob end(long id, String state, String reason, String actor) {
            MergeJob j = locked(id);
            return ended(j) ? j : endLocked(j, state, reason, actor);
        }

        private MergeJob endLocked(MergeJob j, String state, String reason, String actor) {
            j.state = state;
            j.failureReason = reason == null ? null : reason.length() > 4000 ? reason.substring(0, 4000) : reason;
            j.finishedAt = now();
            // kept in ten-thousandths, as the ledger records it, so a rebuild shows the same number
            Long progress = j.progress == null ? null : Math.round(j.progress * PROGRESS_UNITS);
            j.progress = progress == null ? null : progress / PROGRESS_UNITS;
            // a job submitted before merge.submitted existed gets its entry now, so the end has one to refer to
            if (j.ledgerSeq == null) record(j, j.submittedBy, submitted(j));
            String started = j.startedAt == null ? null : j.startedAt.toString();
            record(j, actor == null ? j.submittedBy : actor, state.equals("failed")
                    ? new MergeFailed(j.id, j.failureReason, progress, started, j.finishedAt.toString())
                    : new MergeCancelled(j.id, j.failureReason, progress, started, j.finishedAt.toString()));
            return j;
        }

        /** The entry of a job's submission. */
        static MergeSubmitted submitted(MergeJob j) {
            return new MergeSubmitted(j.id, j.outputName, j.outputVersion, j.method, j.recipe, j.seed, j.submittedAt.toString());
        }

        private void record(MergeJob j, String actor, LedgerEvent event) {
            Ledger.Receipt receipt = ledger.append(actor, event);
            j.ledgerSeq = receipt.seq();
            j.ledgerHash = receipt.entryHash();
        }

        private MergeJob locked(long id) {
            MergeJob j = session.find(MergeJob.class, id, LockModeType.PESSIMISTIC_WRITE);
            if (j == null) throw RegistryException.notFound("no merge job " + id);
            return j;
        }

        private static boolean ended(MergeJob j) {
            return !j.state.equals("queued") && !j.state.equals("running");
        }

        /** Microseconds: what the database keeps, so the time an entry records is the time a rebuild shows. */
        private static OffsetDateTime now() {
            return OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS);
        }
    }
}
