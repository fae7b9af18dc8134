package dev.amalgam.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.BuildInfo;
import dev.amalgam.ledger.Ledger;
import dev.amalgam.ledger.event.ModelReleased;
import dev.amalgam.ledger.event.PolicyDecided;
import dev.amalgam.ledger.event.RuleOutcome;
import dev.amalgam.policy.Decision;
import dev.amalgam.policy.ModelFacts;
import dev.amalgam.provenance.SlsaProvenance;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The release gate: gathers the facts about a model from the registry, evaluates the release
 * policy of an environment, and records the decision. A release happens only when the gate allows.
 */
@ApplicationScoped
public class GateService {
    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();

    @Inject
    Blobs blobs;

    @Inject
    Session session;

    @Inject
    ModelService models;

    @Inject
    PolicyService policies;

    @Inject
    SigningService signing;

    @Inject
    RegistryConfig config;

    @Inject
    LedgerService ledger;

    @Inject
    EvaluationService evaluations;

    /** A rule's result as recorded and returned. */
    public record RuleView(String id, String type, String mode, String result, String message, String exception) {
    }

    /** A recorded gate decision. */
    public record GateDecision(long decisionId, long modelId, String model, String rootDigest, String environment,
                               String outcome, List<RuleView> rules, List<String> reasons, String policyDigest,
                               String catalogueDigest, String license, OffsetDateTime decidedAt, String actor,
                               String statementDigest) {
        public boolean allowed() {
            return outcome.equals("allow");
        }
    }

    @Transactional
    public GateDecision gate(ModelRef ref, String environment, Caller caller) {
        return decide(models.find(ref), environment, caller.name(), "gate");
    }

    /** The DSSE-signed verification summary of a gate decision. */
    @Transactional
    public InputStream statement(long decisionId) throws IOException {
        var d = session.find(dev.amalgam.registry.entity.Decision.class, decisionId);
        if (d == null || d.statementDigest == null) {
            throw RegistryException.notFound("no signed gate decision " + decisionId);
        }
        return blobs.store().open(d.statementDigest);
    }

    /**
     * Releases a model to an environment: the gate must allow; the model's status becomes released. A
     * denial is refused, but its gate decision stays on record (it is in the ledger already).
     */
    @Transactional(dontRollbackOn = RegistryException.class)
    public GateDecision release(ModelRef ref, String environment, Caller caller) {
        Model m = models.find(ref);
        GateDecision d = decide(m, environment, caller.name(), "gate");
        if (!d.allowed()) {
            throw RegistryException.unprocessable("the release gate of '" + environment
                    + "' denies " + m.name + "@" + m.version + " (decision " + d.decisionId() + ")", d.reasons());
        }
        m.status = "released";
        return record(m, environment, caller.name(), "release", "released", d.rules(), d.reasons(),
                d.policyDigest(), d.catalogueDigest(), d.license());
    }

    private GateDecision decide(Model m, String environment, String actor, String kind) {
        if (environment == null || environment.isBlank()) {
            throw RegistryException.badRequest("env is required, e.g. ?env=production");
        }
        Decision d = policies.policies().evaluate(facts(m), environment, Clock.systemUTC());
        List<RuleView> rules = d.rules().stream().map(r -> new RuleView(r.id(), r.type().toString(),
                r.mode().toString().toLowerCase(Locale.ROOT), r.result().id(), r.message(),
                r.exception().map(Object::toString).orElse(null))).toList();
        String license = d.license().map(c -> c.expressionText()).orElse(m.license);
        return record(m, environment, actor, kind, d.outcome().id(), rules, d.reasons(), d.policyDigest(),
                d.catalogueDigest(), license);
    }

    private GateDecision record(Model m, String environment, String actor, String kind, String outcome,
                                List<RuleView> rules, List<String> reasons, String policyDigest,
                                String catalogueDigest, String license) {
        dev.amalgam.registry.entity.Decision row = new dev.amalgam.registry.entity.Decision();
        row.kind = kind;
        row.modelId = m.id;
        row.environment = environment;
        row.outcome = outcome;
        row.actor = actor;
        row.policyDigest = policyDigest;
        row.decidedAt = OffsetDateTime.now(ZoneOffset.UTC);
        row.reason = reasonJson(rules, reasons, catalogueDigest, license);
        if (kind.equals("gate")) {
            var statement = SlsaProvenance.verificationSummary(m.name + "@" + m.version,
                    m.rootDigest.substring("sha256:".length()), "amalgam:model/" + m.name + "@" + m.version,
                    "amalgam:policies/release.yaml#" + environment,
                    policyDigest.startsWith("sha256:") ? policyDigest.substring(7) : policyDigest,
                    outcome.equals("allow"), BuildInfo.current().version(), row.decidedAt.toInstant());
            try {
                row.statementDigest = signing.signStatement(statement);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot store the signed decision", e);
            }
        }
        String ref = m.name + "@" + m.version;
        String statement = row.statementDigest == null ? "" : "sha256:" + row.statementDigest;
        List<RuleOutcome> outcomes = rules.stream()
                .map(r -> new RuleOutcome(r.id(), r.type(), r.mode(), r.result(), r.message(), r.exception())).toList();
        session.persist(row);
        String at = row.decidedAt.toString();
        Ledger.Receipt receipt = ledger.append(actor, kind.equals("release")
                ? new ModelReleased(ref, m.rootDigest, environment, outcome, row.policyDigest, statement, outcomes,
                        row.id, at, reasons, catalogueDigest, license)
                : new PolicyDecided(ref, m.rootDigest, environment, outcome, row.policyDigest, statement, outcomes,
                        row.id, at, reasons, catalogueDigest, license));
        row.ledgerSeq = receipt.seq();
        row.ledgerHash = receipt.entryHash();
        return new GateDecision(row.id, m.id, m.name + "@" + m.version, m.rootDigest, environment, outcome, rules,
                reasons, policyDigest, catalogueDigest, license, row.decidedAt, actor,
                row.statementDigest == null ? null : "sha256:" + row.statementDigest);
    }

    /** A gate or release decision's stored reason: its rules, reasons, catalogue digest and license (replay writes the same). */
    static String reasonJson(List<RuleView> rules, List<String> reasons, String catalogueDigest, String license) {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("rules", rules);
        detail.put("reasons", reasons);
        detail.put("catalogueDigest", catalogueDigest);
        detail.put("license", license);
        try {
            return JSON.writeValueAsString(detail);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the registry knows about a model, as the policy engine's facts (unknown facts fail closed). */
    ModelFacts facts(Model m) {
        List<ModelFile> files = files(m);
        ModelFacts.Builder b = ModelFacts.builder(m.name + "@" + m.version, m.rootDigest)
                .formats(formats(files))
                .scan(scanVerdict(m.scanVerdict))
                .finiteWeights("passed".equals(m.finiteWeights) ? ModelFacts.Check.PASSED
                        : "failed".equals(m.finiteWeights) ? ModelFacts.Check.FAILED : ModelFacts.Check.NOT_CHECKED)
                .signature(signature(m, files))
                .license(m.license);
        List<ModelFacts.Input> inputs = new ArrayList<>();
        for (Model in : session.createSelectionQuery(
                "select m from LineageEdge e, Model m where e.parentId = m.id and e.childId = :c and e.role <> 'declared' order by m.id", Model.class)
                .setParameter("c", m.id).getResultList()) {
            inputs.add(new ModelFacts.Input(in.name + "@" + in.version, in.rootDigest, in.license, signature(in, files(in))));
        }
        b.inputs(inputs);
        b.review(review(m));
        b.evaluations(evaluations.evidence(m));
        if (m.origin.equals("merge")) {
            var last = session.createSelectionQuery(
                            "from Decision where kind = 'reproduce' and modelId = :id order by id desc",
                            dev.amalgam.registry.entity.Decision.class)
                    .setParameter("id", m.id).setMaxResults(1).uniqueResult();
            b.reproducible(last == null ? ModelFacts.Check.NOT_CHECKED
                    : last.outcome.equals("identical") ? ModelFacts.Check.PASSED : ModelFacts.Check.FAILED);
        }
        return b.build();
    }

    private List<ModelFile> files(Model m) {
        return session.createSelectionQuery("from ModelFile where modelId = :id", ModelFile.class)
                .setParameter("id", m.id).getResultList();
    }

    /**
     * A model's signature fact. Its stored bytes must still match the registry's own signature
     * (a tampered blob makes it INVALID). Then a merge output counts as signed by the registry
     * that produced it; a source model by its publisher's signature, trusted only if a key in
     * {@code policies/keys/} verified it.
     */
    private ModelFacts.Signature signature(Model m, List<ModelFile> files) {
        Map<String, String> byPath = new LinkedHashMap<>();
        files.forEach(f -> byPath.put(f.path, f.blobDigest));
        SigningService.Integrity integrity;
        try {
            integrity = signing.integrity(m.signatureDigest, byPath);
        } catch (IOException e) {
            integrity = new SigningService.Integrity(false, e.getMessage());
        }
        if (!integrity.intact()) return new ModelFacts.Signature(ModelFacts.SignatureState.INVALID, "registry: " + integrity.problem());
        if (m.origin.equals("merge")) return ModelFacts.Signature.trusted("amalgam-registry");
        return switch (m.publisherSignature) {
            case "trusted" -> ModelFacts.Signature.trusted(m.publisherKey);
            case "untrusted" -> new ModelFacts.Signature(ModelFacts.SignatureState.UNTRUSTED, null);
            case "invalid" -> new ModelFacts.Signature(ModelFacts.SignatureState.INVALID, m.publisherKey);
            default -> ModelFacts.Signature.MISSING;
        };
    }

    private ModelFacts.Review review(Model m) {
        var last = session.createSelectionQuery(
                        "from Decision where kind = 'review' and modelId = :id order by id desc",
                        dev.amalgam.registry.entity.Decision.class)
                .setParameter("id", m.id).setMaxResults(1).uniqueResult();
        String submitter = m.origin.equals("source") ? m.registeredBy : session.createSelectionQuery(
                        "select j.submittedBy from MergeJob j where j.outputModelId = :id", String.class)
                .setParameter("id", m.id).setMaxResults(1).uniqueResult();
        if (last == null) {
            // a source model without an intake review has none (not one waiting: nobody asked for it)
            return m.origin.equals("source") ? ModelFacts.Review.NONE
                    : new ModelFacts.Review(ModelFacts.ReviewState.PENDING, submitter, null);
        }
        return new ModelFacts.Review(last.outcome.equals("approve") ? ModelFacts.ReviewState.APPROVED
                : ModelFacts.ReviewState.REJECTED, submitter, last.actor);
    }

    static ModelFacts.ScanVerdict scanVerdict(String v) {
        if (v == null) return ModelFacts.ScanVerdict.NOT_SCANNED;
        return switch (v) {
            case "clean" -> ModelFacts.ScanVerdict.CLEAN;
            case "findings" -> ModelFacts.ScanVerdict.FINDINGS;
            default -> ModelFacts.ScanVerdict.ERROR;
        };
    }

    /** Weight formats of a model: the content-sniffed format of each weight file (text and configs are not weights). */

    static Set<String> formats(List<ModelFile> files) {
        Set<String> out = new TreeSet<>();
        for (ModelFile f : files) {
            if (f.format != null) {
                if (!f.format.equals("text") && !f.format.equals("binary")) out.add(f.format);
                continue;
            }
            String p = f.path.toLowerCase(Locale.ROOT);
            if (p.endsWith(".safetensors")) out.add("safetensors");
            else if (p.endsWith(".gguf")) out.add("gguf");
            else if (p.endsWith(".bin") || p.endsWith(".pt") || p.endsWith(".pth") || p.endsWith(".ckpt")
                    || p.endsWith(".pkl") || p.endsWith(".pickle")) out.add("pickle");
            else if (p.endsWith(".npy") || p.endsWith(".npz")) out.add("numpy");
            else if (p.endsWith(".onnx")) out.add("onnx");
        }
        return out;
    }
}
