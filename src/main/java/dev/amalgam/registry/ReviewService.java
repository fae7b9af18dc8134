package dev.amalgam.registry;

import dev.amalgam.ledger.Ledger;
import dev.amalgam.ledger.event.MergeReviewed;
import dev.amalgam.merge.method.RecipeModels;
import dev.amalgam.ledger.event.ModelReviewed;
import dev.amalgam.registry.entity.Decision;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.registry.entity.Model;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Four-eyes review of a merge: a reviewer other than the submitter approves or rejects the
 * merge's output; the decision is recorded. The review page gathers what a reviewer needs.
 */
@ApplicationScoped
public class ReviewService {
    @Inject
    Session session;

    @Inject
    ModelService models;

    @Inject
    LedgerService ledger;

    /** A recorded review. */
    public record Review(long decisionId, Long mergeId, long modelId, String outcome, String reviewer,
                         String comment, OffsetDateTime decidedAt) {
    }

    /** One input as the reviewer sees it. */
    public record InputView(long id, String name, String version, String rootDigest, String license,
                            String scanVerdict, String status, String role) {
    }

    /** Everything on the review page of a merge. */
    public record ReviewPage(long mergeId, String state, String submittedBy, String recipe, Long outputModelId,
                             String outputStatus, List<InputView> inputs, Long previousMergeId,
                             List<String> recipeDiff, List<Review> reviews) {
    }

    @Transactional
    public Review review(long mergeId, String decision, String comment, Caller reviewer) {
        MergeJob job = job(mergeId);
        String outcome = outcome(decision);
        if (reviewer.name().equals(job.submittedBy)) {
            throw RegistryException.forbidden("four eyes: '" + reviewer.name() + "' submitted merge " + mergeId + " and cannot review it");
        }
        if (!job.state.equals("succeeded") || job.outputModelId == null) {
            throw RegistryException.conflict("merge " + mergeId + " is " + job.state + "; only a succeeded merge can be reviewed");
        }
        Model out = session.find(Model.class, job.outputModelId);
        if (!out.status.equals("pending-review")) {
            throw RegistryException.conflict("the output of merge " + mergeId + " was already reviewed (status " + out.status + ")");
        }
        if (outcome.equals("reject") && (comment == null || comment.isBlank())) {
            throw RegistryException.badRequest("a rejection needs a comment saying why");
        }
        out.status = outcome.equals("approve") ? "approved" : "rejected";
        Decision d = new Decision();
        d.kind = "review";
        d.mergeJobId = mergeId;
        d.modelId = out.id;
        d.outcome = outcome;
        d.actor = reviewer.name();
        d.reason = comment;
        d.decidedAt = OffsetDateTime.now(ZoneOffset.UTC);
        session.persist(d);
        Ledger.Receipt receipt = ledger.append(reviewer.name(), new MergeReviewed(mergeId, out.rootDigest, outcome,
                comment == null ? "" : comment, d.id, d.decidedAt.toString()));
        d.ledgerSeq = receipt.seq();
        d.ledgerHash = receipt.entryHash();
        return view(d);
    }

    /**
     * Intake review of a source model: a reviewer other than the principal who registered it
     * approves or rejects it once, recorded as a {@code model.reviewed} ledger entry. This is how a
     * source model passes an environment's {@code review-approved} rule; merges are reviewed
     * through their merge job.
     */
    @Transactional
    public Review reviewModel(ModelRef ref, String decision, String comment, Caller reviewer) {
        Model m = models.find(ref);
        String outcome = outcome(decision);
        if (!m.origin.equals("source")) {
            MergeJob job = session.createSelectionQuery("from MergeJob where outputModelId = :id", MergeJob.class)
                    .setParameter("id", m.id).setMaxResults(1).uniqueResult();
            throw RegistryException.conflict(m.name + "@" + m.version
                    + " is the output of a merge: review it through its merge"
                    + (job == null ? "" : " (POST /api/v1/merges/" + job.id + "/review)"));
        }
        if (reviewer.name().equals(m.registeredBy)) {
            throw RegistryException.forbidden("four eyes: '" + reviewer.name() + "' registered " + m.name + "@" + m.version + " and cannot review it");
        }
        if (!m.status.equals("registered")) {
            throw RegistryException.conflict(m.name + "@" + m.version + " was already reviewed or released (status " + m.status + ")");
        }
        if (outcome.equals("reject") && (comment == null || comment.isBlank())) {
            throw RegistryException.badRequest("a rejection needs a comment saying why");
        }
        m.status = outcome.equals("approve") ? "approved" : "rejected";
        Decision d = new Decision();
        d.kind = "review";
        d.modelId = m.id;
        d.outcome = outcome;
        d.actor = reviewer.name();
        d.reason = comment;
        d.decidedAt = OffsetDateTime.now(ZoneOffset.UTC);
        session.persist(d);
        Ledger.Receipt receipt = ledger.append(reviewer.name(), new ModelReviewed(
                m.name + "@" + m.version, m.rootDigest, outcome, comment == null ? "" : comment, d.id, d.decidedAt.toString()));
        d.ledgerSeq = receipt.seq();
        d.ledgerHash = receipt.entryHash();
        return view(d);
    }

    private static String outcome(String decision) {
        return switch (decision == null ? "" : decision.toLowerCase(Locale.ROOT)) {
            case "approve" -> "approve";
            case "reject" -> "reject";
            default -> throw RegistryException.badRequest("decision must be 'approve' or 'reject', not '" + decision + "'");
        };
    }

    @Transactional
    public ReviewPage page(long mergeId) {
        MergeJob job = job(mergeId);
        List<InputView> inputs = new ArrayList<>();
        String outputStatus = null;
        if (job.outputModelId != null) {
            outputStatus = session.find(Model.class, job.outputModelId).status;
            for (Object[] r : session.createSelectionQuery(
                    "select m, e.role from LineageEdge e, Model m where e.parentId = m.id and e.childId = :c and e.role <> 'declared' order by e.role, m.id",
                    Object[].class).setParameter("c", job.outputModelId).getResultList()) {
                Model m = (Model) r[0];
                inputs.add(new InputView(m.id, m.name, m.version, m.rootDigest, m.license, m.scanVerdict, m.status,
                        (String) r[1]));
            }
        } else {
            var recipe = MergeJobService.parse(job.recipe);
            var refs = new ArrayList<>(RecipeModels.referenced(recipe));
            if (RecipeModels.tokenizerModel(recipe) != null) refs.add(RecipeModels.tokenizerModel(recipe));
            for (String ref : refs) {
                Model m = models.find(ModelRef.parse(ref));
                inputs.add(new InputView(m.id, m.name, m.version, m.rootDigest, m.license, m.scanVerdict, m.status, null));
            }
        }
        MergeJob previous = session.createSelectionQuery(
                        "from MergeJob where outputName = :n and id < :id order by id desc", MergeJob.class)
                .setParameter("n", job.outputName).setParameter("id", job.id).setMaxResults(1).uniqueResult();
        List<String> diff = previous == null ? List.of() : LineDiff.unified(previous.recipe, job.recipe);
        List<Review> reviews = session.createSelectionQuery(
                        "from Decision where kind = 'review' and mergeJobId = :id order by id", Decision.class)
                .setParameter("id", mergeId).getResultList().stream().map(ReviewService::view).toList();
        return new ReviewPage(job.id, job.state, job.submittedBy, job.recipe, job.outputModelId, outputStatus, inputs,
                previous == null ? null : previous.id, diff, reviews);
    }

    private MergeJob job(long id) {
        MergeJob j = session.find(MergeJob.class, id);
        if (j == null) throw RegistryException.notFound("no merge job " + id);
        return j;
    }

    private static Review view(Decision d) {
        return new Review(d.id, d.mergeJobId, d.modelId, d.outcome, d.actor, d.reason, d.decidedAt);
    }
}
