package dev.amalgam.registry;

import dev.amalgam.ledger.CanonicalJson;
import dev.amalgam.ledger.event.EventCodec;
import dev.amalgam.ledger.event.LedgerEntry;
import dev.amalgam.ledger.event.LedgerEvent;
import dev.amalgam.ledger.event.MergeCancelled;
import dev.amalgam.ledger.event.MergeCompleted;
import dev.amalgam.ledger.event.MergeFailed;
import dev.amalgam.ledger.event.MergeSubmitted;
import dev.amalgam.ledger.event.MergeReviewed;
import dev.amalgam.ledger.event.MergeReproduced;
import dev.amalgam.ledger.event.ModelRegistered;
import dev.amalgam.ledger.event.ModelReviewed;
import dev.amalgam.ledger.event.ModelEvaluated;
import dev.amalgam.ledger.event.ModelReleased;
import dev.amalgam.ledger.event.PolicyDecided;
import dev.amalgam.ledger.event.PrincipalCreated;
import dev.amalgam.ledger.event.PrincipalRevoked;
import dev.amalgam.ledger.event.PrincipalTokenReset;
import dev.amalgam.ledger.event.RuleOutcome;
import dev.amalgam.registry.entity.ApiPrincipal;
import dev.amalgam.registry.entity.Decision;
import dev.amalgam.registry.entity.LineageEdge;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The database is an index of the ledger. On start, entries the database has not seen (a crash
 * between the ledger append and the database commit) are applied; {@link #replay()} rebuilds an
 * empty database from the ledger alone.
 */
@ApplicationScoped
public class LedgerReplay {
    private static final Logger LOG = Logger.getLogger(LedgerReplay.class);
    /** Tables whose rows carry the ids clients see. */
    private static final List<String> ID_TABLES = List.of("model", "merge_job", "decision", "evaluation");

    @Inject
    Session session;

    @Inject
    LedgerService ledger;

    @Inject
    HubIntake hubIntake;

    @Inject
    LedgerGuard guard;

    /** Set when {@link #persistWithId} gave a row an id other than the generated one. */
    private boolean idsMoved;

    void onStart(@Observes @Priority(3500) StartupEvent ev) throws IOException {
        if (!guard.intact()) return; // never apply entries of a ledger that does not match the database
        int n = reconcile();
        if (n > 0) LOG.warnf("Reconciled %d ledger entries the database had not recorded", n);
    }

    /** Applies every entry after the newest one the database records; returns how many. */
    @Transactional
    public int reconcile() throws IOException {
        long known = -1;
        for (String q : new String[] {"select max(ledgerSeq) from Model", "select max(ledgerSeq) from MergeJob",
                "select max(ledgerSeq) from Decision", "select max(ledgerSeq) from ApiPrincipal",
                "select max(ledgerSeq) from Evaluation"}) {
            Long v = session.createSelectionQuery(q, Long.class).getSingleResult();
            if (v != null) known = Math.max(known, v);
        }
        if (known < 0 && ledger.ledger().size() > 0) reserveRecordedIds();
        int applied = 0;
        for (long seq = known + 1; seq < ledger.ledger().size(); seq++) {
            if (apply(ledger.ledger().event(seq).orElseThrow())) applied++;
        }
        // only when a row was moved to an id its identity did not hand out: the restart is DDL (on H2 it
        // commits on its own), so a plain reconcile after a crash, where the ids match, does not run it
        if (applied > 0 && idsMoved) continueIdentities();
        idsMoved = false;
        return applied;
    }

    /** Rebuilds the database from the ledger; refused unless the registry's database holds no models yet. */
    @Transactional
    public int replay() throws IOException {
        Long models = session.createSelectionQuery("select count(*) from Model", Long.class).getSingleResult();
        if (models > 0) {
            throw RegistryException.conflict("replay rebuilds an empty database: this one already holds " + models + " models");
        }
        return reconcile();
    }

    private boolean apply(LedgerEntry e) {
        OffsetDateTime at = OffsetDateTime.parse(e.timestamp());
        return switch (e.event()) {
            case ModelRegistered r -> applyRegistration(e, at, r);
            case MergeSubmitted s -> applySubmission(e, s);
            case MergeCompleted c -> applyMerge(e, at, c);
            case MergeFailed f -> applyEnd(e, f.merge(), "failed", f.reason(), f.progress(), f.startedAt(), f.finishedAt());
            case MergeCancelled c -> applyEnd(e, c.merge(), "cancelled", c.reason(), c.progress(), c.startedAt(), c.finishedAt());
            case MergeReviewed r -> applyDecision(e, at, r.output(), "review", r.decision(), null, r.comment(), null,
                    r.id(), r.decidedAt());
            case ModelReviewed r -> applyDecision(e, at, r.rootDigest(), "review", r.decision(), null, r.comment(), null,
                    r.id(), r.decidedAt());
            case PolicyDecided d -> applyDecision(e, at, d.rootDigest(), "gate", d.outcome(), d.environment(),
                    gateReason(d.rules(), d.reasons(), d.catalogueDigest(), d.license()), d.policyDigest(), d.id(), d.decidedAt());
            case ModelReleased d -> applyDecision(e, at, d.rootDigest(), "release", d.outcome(), d.environment(),
                    gateReason(d.rules(), d.reasons(), d.catalogueDigest(), d.license()), d.policyDigest(), d.id(), d.decidedAt());
            case MergeReproduced r -> applyReproduction(e, at, r);
            case PrincipalCreated c -> applyPrincipal(e, c);
            case PrincipalRevoked r -> withPrincipal(e, r.name(), p -> p.revokedAt = OffsetDateTime.parse(r.revokedAt()));
            case PrincipalTokenReset r -> withPrincipal(e, r.name(), p -> { });
            case ModelEvaluated v -> applyEvaluation(e, v);
        };
    }

    /** A finished evaluation: its row, with the metrics and the signed statement the entry names. */
    private boolean applyEvaluation(LedgerEntry e, ModelEvaluated v) {
        Model m = model(v.rootDigest());
        if (m == null) return false;
        dev.amalgam.registry.entity.Evaluation row = new dev.amalgam.registry.entity.Evaluation();
        row.modelId = m.id;
        row.dataset = v.dataset();
        row.dataDigest = v.dataDigest();
        row.status = "done";
        row.result = v.result();
        // the settings as the job had them: the result's settings plus the reference names
        try {
            var json = new com.fasterxml.jackson.databind.ObjectMapper();
            var result = json.readTree(v.result());
            var settings = json.createObjectNode().put("seqLen", result.path("settings").path("seqLen").asInt());
            var refs = settings.putArray("references");
            for (var r : result.path("references")) refs.add(r.path("name").asText());
            row.settings = settings.toString();
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            throw new IllegalStateException("ledger entry " + e.seq() + ": model.evaluated result is not JSON", ex);
        }
        row.statementDigest = v.statement().replace("sha256:", "");
        row.actor = e.actor();
        row.finishedAt = v.evaluatedAt() == null ? OffsetDateTime.parse(e.timestamp()) : OffsetDateTime.parse(v.evaluatedAt());
        row.createdAt = row.finishedAt;
        row.ledgerSeq = e.seq();
        row.ledgerHash = hash(e);
        persistWithId(row, "evaluation", v.id(), () -> row.id);
        return true;
    }

    private boolean applyReproduction(LedgerEntry e, OffsetDateTime at, MergeReproduced r) {
        Model m = model(r.output());
        if (m == null) return false;
        Decision d = new Decision();
        d.kind = "reproduce";
        d.mergeJobId = r.merge();
        d.modelId = m.id;
        d.outcome = r.identical() ? "identical" : "different";
        d.actor = e.actor();
        d.reason = "reproduced output " + r.reproduced();
        d.decidedAt = OffsetDateTime.parse(r.decidedAt());
        d.ledgerSeq = e.seq();
        d.ledgerHash = hash(e);
        persistWithId(d, "decision", r.id(), () -> d.id);
        return true;
    }

    private boolean applyPrincipal(LedgerEntry e, PrincipalCreated c) {
        boolean exists = session.createSelectionQuery("select count(*) from ApiPrincipal where name = :n", Long.class)
                .setParameter("n", c.name()).getSingleResult() > 0;
        if (exists) return false;
        ApiPrincipal p = new ApiPrincipal();
        p.name = c.name();
        p.roles = c.roles();
        p.tokenHash = PrincipalService.lostToken(c.name());
        p.createdAt = OffsetDateTime.parse(c.createdAt());
        p.createdBy = c.createdBy();
        p.ledgerSeq = e.seq();
        p.ledgerHash = hash(e);
        session.persist(p);
        return true;
    }

    private boolean withPrincipal(LedgerEntry e, String name, Consumer<ApiPrincipal> change) {
        ApiPrincipal p = session.createSelectionQuery("from ApiPrincipal where name = :n", ApiPrincipal.class)
                .setParameter("n", name).uniqueResult();
        if (p == null) return false;
        change.accept(p);
        p.ledgerSeq = e.seq();
        p.ledgerHash = hash(e);
        return true;
    }

    /**
     * Gives a new row the id clients saw (recorded in the entry): persisted with a generated id, then
     * renumbered before anything refers to it. Entries from before ids were recorded keep generated ones.
     */
    private void persistWithId(Object entity, String table, Long wanted, Supplier<Long> id) {
        session.persist(entity);
        if (wanted == null) return;
        session.flush();
        long generated = id.get();
        if (generated == wanted) return;
        idsMoved = true;
        session.detach(entity);
        session.createNativeMutationQuery("update " + table + " set id = :w where id = :g")
                .setParameter("w", wanted).setParameter("g", generated).executeUpdate();
    }

    /** After rows got explicit ids, new rows continue after the largest (portable: H2 and PostgreSQL). */
    private void continueIdentities() {
        session.flush();
        for (String table : ID_TABLES) restartAbove(table, 0);
    }

    /**
     * Before a rebuild (a database that records no entry yet): new rows get generated ids above every id the
     * ledger records, so moving each row down to its recorded id never lands on one a later row will want.
     * Entries can record ids out of order (two requests at once: ids handed out in one order, entries
     * appended in the other); without this, moving a row up to its id could take the id the identity
     * generates next.
     */
    private void reserveRecordedIds() throws IOException {
        Map<String, Long> largest = new HashMap<>();
        for (long seq = 0; seq < ledger.ledger().size(); seq++) {
            LedgerEvent event = ledger.ledger().event(seq).orElseThrow().event();
            String table = idTable(event);
            Long id = recordedId(event);
            if (table != null && id != null) largest.merge(table, id, Math::max);
        }
        for (String table : ID_TABLES) restartAbove(table, largest.getOrDefault(table, 0L));
        idsMoved = true; // the identities continue after the rows at the end
    }

    /** The identity of {@code table} continues after its largest id and after {@code floor}. */
    private void restartAbove(String table, long floor) {
        Number max = (Number) session.createNativeQuery("select coalesce(max(id), 0) from " + table, Object.class).getSingleResult();
        session.createNativeMutationQuery("alter table " + table + " alter column id restart with " + (Math.max(max.longValue(), floor) + 1))
                .executeUpdate();
    }

    /** The table whose id an event records (null: none). */
    private static String idTable(LedgerEvent event) {
        return switch (event) {
            case ModelRegistered r -> "model";
            case MergeSubmitted s -> "merge_job";
            case MergeCompleted c -> "merge_job";
            case MergeFailed f -> "merge_job";
            case MergeCancelled c -> "merge_job";
            case MergeReviewed r -> "decision";
            case ModelReviewed r -> "decision";
            case PolicyDecided d -> "decision";
            case ModelReleased d -> "decision";
            case MergeReproduced r -> "decision";
            case ModelEvaluated v -> "evaluation";
            case PrincipalCreated c -> null;
            case PrincipalRevoked r -> null;
            case PrincipalTokenReset r -> null;
        };
    }

    /** The id clients saw, as the event records it (null: an entry from before ids were recorded). */
    private static Long recordedId(LedgerEvent event) {
        return switch (event) {
            case ModelRegistered r -> r.id();
            case MergeSubmitted s -> s.merge();
            case MergeCompleted c -> c.merge();
            case MergeFailed f -> f.merge();
            case MergeCancelled c -> c.merge();
            case MergeReviewed r -> r.id();
            case ModelReviewed r -> r.id();
            case PolicyDecided d -> d.id();
            case ModelReleased d -> d.id();
            case MergeReproduced r -> r.id();
            case ModelEvaluated v -> v.id();
            case PrincipalCreated c -> null;
            case PrincipalRevoked r -> null;
            case PrincipalTokenReset r -> null;
        };
    }

    private boolean applyRegistration(LedgerEntry e, OffsetDateTime at, ModelRegistered r) {
        if (model(r.rootDigest()) != null) return false;
        Model m = new Model();
        Model fresh = m;
        m.name = r.model().substring(0, r.model().lastIndexOf('@'));
        m.version = r.model().substring(r.model().lastIndexOf('@') + 1);
        m.rootDigest = r.rootDigest();
        m.license = r.license();
        m.origin = r.origin();
        m.status = r.status();
        m.scanVerdict = r.scan();
        m.scanReportDigest = r.scanReport();
        m.finiteWeights = r.finiteWeights();
        m.publisherSignature = r.publisherSignature();
        m.publisherKey = r.publisherKey();
        m.signatureDigest = r.registrySignature() == null ? "" : r.registrySignature().replace("sha256:", "");
        m.registeredAt = at;
        m.registeredBy = e.actor();
        m.ledgerSeq = e.seq();
        m.ledgerHash = hash(e);
        if (r.registeredAt() != null) m.registeredAt = OffsetDateTime.parse(r.registeredAt());
        persistWithId(m, "model", r.id(), () -> fresh.id);
        if (r.id() != null) m = session.find(Model.class, r.id());
        long size = 0;
        for (ModelRegistered.File f : r.files()) {
            ModelFile mf = new ModelFile();
            mf.modelId = m.id;
            mf.path = f.path();
            mf.blobDigest = f.sha256();
            mf.sizeBytes = f.size();
            mf.format = f.format();
            session.persist(mf);
            size += mf.sizeBytes;
        }
        m.sizeBytes = size;
        m.fileCount = r.files().size();
        hubIntake.recordDeclared(m, r.hub());
        return true;
    }

    private boolean applyMerge(LedgerEntry e, OffsetDateTime at, MergeCompleted c) {
        Model out = model(c.output());
        if (out == null) return false;
        // the job the entry names may be in the database already: made by its merge.submitted entry, or left
        // by a crash between the append and the commit. Complete that row rather than adding a second job
        MergeJob j = session.find(MergeJob.class, c.merge());
        boolean existing = j != null && !j.state.equals("succeeded");
        if (!existing) j = new MergeJob();
        j.recipe = c.recipe();
        j.method = c.method();
        j.outputName = c.outputName() == null ? out.name : c.outputName();
        j.outputVersion = c.outputVersion() == null ? out.version : c.outputVersion();
        j.state = "succeeded";
        j.progress = 1.0;
        j.seed = c.seed();
        j.submittedBy = e.actor();
        if (!existing) j.submittedAt = at;
        j.finishedAt = at;
        j.outputModelId = out.id;
        j.provenanceDigest = c.provenance() == null ? "" : c.provenance().replace("sha256:", "");
        j.ledgerSeq = e.seq();
        j.ledgerHash = hash(e);
        if (c.submittedAt() != null) j.submittedAt = OffsetDateTime.parse(c.submittedAt());
        if (c.startedAt() != null) j.startedAt = OffsetDateTime.parse(c.startedAt());
        if (c.finishedAt() != null) j.finishedAt = OffsetDateTime.parse(c.finishedAt());
        if (!existing) {
            MergeJob fresh = j;
            persistWithId(j, "merge_job", c.merge(), () -> fresh.id);
            j.id = c.merge();
        }
        for (MergeCompleted.Input in : c.inputs()) {
            Model parent = model(in.rootDigest());
            if (parent == null) continue;
            String role = in.role() == null ? "input" : in.role();
            if (session.createSelectionQuery("select count(*) from LineageEdge where childId = :c and parentId = :p"
                            + " and role = :r", Long.class).setParameter("c", out.id).setParameter("p", parent.id)
                    .setParameter("r", role).getSingleResult() > 0) {
                continue; // the interrupted run had recorded it
            }
            LineageEdge le = new LineageEdge();
            le.childId = out.id;
            le.parentId = parent.id;
            le.role = role;
            le.method = j.method;
            le.mergeJobId = j.id;
            session.persist(le);
        }
        return true;
    }

    /** A submitted job comes back queued under its id; the start that rebuilt it runs it unless a later entry ended it. */
    private boolean applySubmission(LedgerEntry e, MergeSubmitted s) {
        if (session.find(MergeJob.class, s.merge()) != null) return false;
        MergeJob j = new MergeJob();
        j.recipe = s.recipe();
        j.method = s.method();
        j.outputName = s.outputName();
        j.outputVersion = s.outputVersion();
        j.state = "queued";
        j.seed = s.seed();
        j.submittedBy = e.actor();
        j.submittedAt = OffsetDateTime.parse(s.submittedAt());
        j.ledgerSeq = e.seq();
        j.ledgerHash = hash(e);
        persistWithId(j, "merge_job", s.merge(), () -> j.id);
        return true;
    }

    /** A failed or cancelled job: its row (made by its {@code merge.submitted} entry) gets the end the entry records. */
    private boolean applyEnd(LedgerEntry e, long merge, String state, String reason, Long progress, String startedAt,
                             String finishedAt) {
        MergeJob j = session.find(MergeJob.class, merge);
        if (j == null) {
            LOG.warnf("Ledger entry %d ends merge job %d, which no merge.submitted entry created; skipped", e.seq(), merge);
            return false;
        }
        j.state = state;
        j.failureReason = reason;
        j.progress = progress == null ? null : progress / MergeJobService.JobStateWriter.PROGRESS_UNITS;
        j.startedAt = startedAt == null ? null : OffsetDateTime.parse(startedAt);
        j.finishedAt = OffsetDateTime.parse(finishedAt);
        j.ledgerSeq = e.seq();
        j.ledgerHash = hash(e);
        return true;
    }

    private boolean applyDecision(LedgerEntry e, OffsetDateTime at, String digest, String kind, String outcome,
                                  String environment, String reason, String policyDigest, Long id, String decidedAt) {
        Model m = model(digest);
        if (m == null) return false;
        Decision d = new Decision();
        d.kind = kind;
        d.modelId = m.id;
        d.outcome = outcome;
        d.environment = environment;
        d.actor = e.actor();
        d.reason = reason;
        d.policyDigest = policyDigest;
        d.decidedAt = at;
        d.ledgerSeq = e.seq();
        d.ledgerHash = hash(e);
        if (kind.equals("review")) {
            m.status = outcome.equals("approve") ? "approved" : "rejected";
            if (e.event() instanceof MergeReviewed r) d.mergeJobId = mergeJobOf(r, m);
        }
        if (kind.equals("release")) m.status = "released";
        if (decidedAt != null) d.decidedAt = OffsetDateTime.parse(decidedAt);
        if (kind.equals("gate")) d.statementDigest = statementOf(e);
        persistWithId(d, "decision", id, () -> d.id);
        return true;
    }

    /**
     * The job a merge review belongs to: the one the entry names (two jobs can produce the same output);
     * for entries of old ledgers whose ids were not restored, the first job with that output.
     */
    private Long mergeJobOf(MergeReviewed r, Model output) {
        MergeJob named = session.find(MergeJob.class, r.merge());
        if (named != null && output.id.equals(named.outputModelId)) return named.id;
        MergeJob j = session.createSelectionQuery("from MergeJob where outputModelId = :id order by id", MergeJob.class)
                .setParameter("id", output.id).setMaxResults(1).uniqueResult();
        return j == null ? null : j.id;
    }

    /**
     * A gate or release decision's reason as the gate wrote it; for entries from before the reasons were
     * recorded, the rules as the entry holds them (canonical JSON).
     */
    private static String gateReason(List<RuleOutcome> rules, List<String> reasons, String catalogueDigest, String license) {
        if (reasons == null) return new String(CanonicalJson.bytes(EventCodec.encode(rules)), StandardCharsets.UTF_8);
        return GateService.reasonJson(rules.stream().map(r -> new GateService.RuleView(r.id(), r.type(), r.mode(), r.result(),
                r.message(), r.exception())).toList(), reasons, catalogueDigest, license);
    }

    /** The signed statement of a gate decision, by its digest in the entry. */
    private static String statementOf(LedgerEntry e) {
        String s = e.event() instanceof PolicyDecided d ? d.statement() : null;
        return s == null || s.isEmpty() ? null : s.replace("sha256:", "");
    }

    private String hash(LedgerEntry e) {
        try {
            return ledger.ledger().entryHash(e.seq()).orElseThrow();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    private Model model(String digest) {
        return session.createSelectionQuery("from Model where rootDigest = :d", Model.class)
                .setParameter("d", digest).uniqueResult();
    }
}
