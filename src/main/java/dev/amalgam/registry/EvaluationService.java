package dev.amalgam.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.BuildInfo;
import dev.amalgam.eval.EvalData;
import dev.amalgam.eval.EvalResult;
import dev.amalgam.eval.Evaluator;
import dev.amalgam.ledger.Ledger;
import dev.amalgam.ledger.event.ModelEvaluated;
import dev.amalgam.model.ModelConfig;
import dev.amalgam.provenance.Statements;
import dev.amalgam.registry.entity.Evaluation;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.storage.BlobStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Evaluations as registry jobs: the token data is stored as a blob, the model and its references
 * are run by {@link Evaluator} on a worker thread, and the result becomes signed evidence — an
 * in-toto statement (predicate {@value #PREDICATE}: data digest, settings, metrics, engine version)
 * signed with the registry key, stored as a blob and recorded as a {@code model.evaluated} ledger
 * entry. The release gate's evaluation rules read these.
 */
@ApplicationScoped
public class EvaluationService {
    /** The predicate type of an evaluation statement. */
    public static final String PREDICATE = "https://amalgam.dev/evaluation/v1";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longest window a registry evaluation may ask for (memory of the key/value caches). */
    static final int MAX_SEQ_LEN = 4096;

    @Inject
    Session session;

    @Inject
    ModelService models;

    @Inject
    ModelMaterializer materializer;

    @Inject
    SigningService signing;

    @Inject
    LedgerService ledger;

    @Inject
    RegistryConfig config;

    private ExecutorService pool;

    /** What to evaluate: a dataset name, its token file's text, reference models and the window length. */
    public record Request(String dataset, String tokens, List<String> references, Integer seqLen) {
    }

    /** An evaluation as clients see it. */
    public record View(long id, String model, String rootDigest, String dataset, String dataDigest, String status,
                       String error, JsonNode settings, JsonNode result, String statement, String actor,
                       OffsetDateTime createdAt, OffsetDateTime finishedAt) {
    }

    /** Checks the request, stores the data and queues the job (call {@link #start} after the transaction). */
    @Transactional
    public View submit(ModelRef ref, Request req, Caller caller) {
        Model m = models.find(ref);
        List<String> reasons = new ArrayList<>();
        if (req == null) throw RegistryException.badRequest("no evaluation request body");
        if (req.dataset() == null || req.dataset().isBlank() || req.dataset().length() > 200) {
            reasons.add("dataset: a name of 1 to 200 characters is required");
        }
        if (req.tokens() == null || req.tokens().isBlank()) reasons.add("tokens: the token file's text is required");
        int seqLen = req.seqLen() == null ? 128 : req.seqLen();
        if (seqLen < 2 || seqLen > MAX_SEQ_LEN) reasons.add("seqLen: must be in [2, " + MAX_SEQ_LEN + "]");
        List<String> refs = new ArrayList<>();
        for (String r : req.references() == null ? List.<String>of() : req.references()) {
            Model rm = models.find(ModelRef.parse(r));
            refs.add(rm.name + "@" + rm.version);
        }
        if (!reasons.isEmpty()) throw RegistryException.badRequest("invalid evaluation request", reasons);
        String digest;
        try {
            BlobStore blobs = new BlobStore(config.settings().blobsDir());
            digest = blobs.put(new ByteArrayInputStream(req.tokens().getBytes(StandardCharsets.UTF_8)), 1L << 30).digest();
            Path dir = materializer.resolve(m.name + "@" + m.version, null);
            EvalData.read(blobs.path(digest), ModelConfig.read(dir).vocab()); // bad ids, text, empty data: refused now
        } catch (IllegalArgumentException e) {
            throw RegistryException.unprocessable(e.getMessage());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot store the evaluation data", e);
        }
        Evaluation e = new Evaluation();
        e.modelId = m.id;
        e.dataset = req.dataset().strip();
        e.dataDigest = "sha256:" + digest;
        e.status = "queued";
        ObjectNode settings = JSON.createObjectNode();
        settings.put("seqLen", seqLen);
        refs.forEach(settings.putArray("references")::add);
        e.settings = settings.toString();
        e.actor = caller.name();
        e.createdAt = OffsetDateTime.now(ZoneOffset.UTC);
        session.persist(e);
        return view(e, m);
    }

    /** Runs a queued evaluation on the worker thread. */
    public void start(long id) {
        synchronized (this) {
            if (pool == null) {
                pool = Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "amalgam-eval");
                    t.setDaemon(true);
                    return t;
                });
            }
        }
        pool.submit(() -> run(id));
    }

    @PreDestroy
    void stop() {
        if (pool != null) pool.shutdownNow();
    }

    @Transactional
    public List<View> list(ModelRef ref) {
        Model m = models.find(ref);
        return session.createSelectionQuery("from Evaluation where modelId = :id order by id", Evaluation.class)
                .setParameter("id", m.id).getResultList().stream().map(e -> view(e, m)).toList();
    }

    @Transactional
    public View get(ModelRef ref, long id) {
        Model m = models.find(ref);
        Evaluation e = session.find(Evaluation.class, id);
        if (e == null || !e.modelId.equals(m.id)) {
            throw RegistryException.notFound("no evaluation " + id + " of " + m.name + "@" + m.version);
        }
        return view(e, m);
    }

    /** The signed statement of a finished evaluation. */
    @Transactional
    public java.io.InputStream statement(ModelRef ref, long id) throws IOException {
        View v = get(ref, id);
        if (v.statement() == null) {
            throw RegistryException.notFound("evaluation " + id + " is " + v.status() + ": no signed statement");
        }
        return new BlobStore(config.settings().blobsDir()).open(v.statement().substring("sha256:".length()));
    }

    /** The finished evaluations of a model, newest first (the gate's evidence). */
    @Transactional
    public List<Evaluation> finished(long modelId) {
        return session.createSelectionQuery("from Evaluation where modelId = :id and status = 'done' order by id desc",
                Evaluation.class).setParameter("id", modelId).getResultList();
    }

    /**
     * The gate's evidence: every finished evaluation of the model whose statement blob is intact,
     * verifies against the registry key and names this model, read from the statement (not from
     * the database row), newest first. A statement that fails any check is left out, so a rule
     * needing it reports the evaluation as missing.
     */
    @Transactional
    public List<dev.amalgam.policy.ModelFacts.Evaluation> evidence(Model m) {
        List<dev.amalgam.policy.ModelFacts.Evaluation> out = new ArrayList<>();
        BlobStore blobs = new BlobStore(config.settings().blobsDir());
        for (Evaluation e : finished(m.id)) {
            try {
                if (e.statementDigest == null || !blobs.verify(e.statementDigest)) continue;
                JsonNode env;
                try (var in = blobs.open(e.statementDigest)) {
                    env = JSON.readTree(in);
                }
                byte[] payload = java.util.Base64.getDecoder().decode(env.get("payload").asText());
                byte[] sig = java.util.Base64.getDecoder().decode(env.get("signatures").get(0).get("sig").asText());
                var key = (java.security.interfaces.ECPublicKey) signing.registryPublicKey();
                var v = java.security.Signature.getInstance(key.getParams().getCurve().getField().getFieldSize() > 256
                        ? "SHA384withECDSA" : "SHA256withECDSA");
                v.initVerify(key);
                v.update(dev.amalgam.provenance.Dsse.pae(dev.amalgam.provenance.Dsse.IN_TOTO, payload));
                if (!v.verify(sig)) continue;
                JsonNode st = JSON.readTree(payload);
                if (!PREDICATE.equals(st.path("predicateType").asText())
                        || !m.rootDigest.equals("sha256:" + st.path("subject").path(0).path("digest").path("sha256").asText())) {
                    continue;
                }
                JsonNode p = st.get("predicate");
                JsonNode data = p.path("configuration").path(0);
                java.util.Map<String, Double> kl = new java.util.LinkedHashMap<>();
                for (JsonNode r : p.path("references")) kl.put(r.path("name").asText(), number(r.path("kl")));
                out.add(new dev.amalgam.policy.ModelFacts.Evaluation(data.path("name").asText(),
                        "sha256:" + data.path("digest").path("sha256").asText(), number(p.path("metrics").path("perplexity")),
                        number(p.path("metrics").path("nonFiniteFraction")), kl));
            } catch (IOException | java.security.GeneralSecurityException | RuntimeException ex) {
                // unreadable or unverifiable evidence counts as no evidence
            }
        }
        return out;
    }

    private static double number(JsonNode n) {
        return n.isNumber() ? n.doubleValue() : Double.parseDouble(n.asText());
    }

    void run(long id) {
        Path model, data;
        List<Path> refs = new ArrayList<>();
        int seqLen;
        try {
            Evaluation e = QuarkusTransaction.requiringNew().call(() -> {
                Evaluation row = session.find(Evaluation.class, id);
                row.status = "running";
                return row;
            });
            Model m = QuarkusTransaction.requiringNew().call(() -> session.find(Model.class, e.modelId));
            model = materializer.resolve(m.name + "@" + m.version, null);
            JsonNode settings = JSON.readTree(e.settings);
            for (JsonNode r : settings.get("references")) refs.add(materializer.resolve(r.asText(), null));
            seqLen = settings.get("seqLen").asInt();
            data = new BlobStore(config.settings().blobsDir()).path(e.dataDigest.substring("sha256:".length()));
            EvalResult result = Evaluator.run(new Evaluator.Request(model, refs, data, seqLen,
                    Math.max(1, Runtime.getRuntime().availableProcessors())), null);
            QuarkusTransaction.requiringNew().run(() -> finish(id, settings, result));
        } catch (Exception ex) {
            String message = ex instanceof IllegalArgumentException || ex instanceof RegistryException ? ex.getMessage() : ex.toString();
            QuarkusTransaction.requiringNew().run(() -> {
                Evaluation row = session.find(Evaluation.class, id);
                row.status = "failed";
                row.error = message.length() > 10_000 ? message.substring(0, 10_000) : message;
                row.finishedAt = OffsetDateTime.now(ZoneOffset.UTC);
            });
        }
    }

    /** Signs the statement, stores it, appends the ledger entry and marks the row done (one transaction). */
    private void finish(long id, JsonNode settings, EvalResult result) {
        Evaluation e = session.find(Evaluation.class, id);
        Model m = session.find(Model.class, e.modelId);
        e.finishedAt = OffsetDateTime.now(ZoneOffset.UTC);
        ObjectNode body = result.toJson(JSON);
        // the references by registry name rather than the folders they were materialized in
        var names = settings.get("references");
        for (int i = 0; i < names.size(); i++) ((ObjectNode) body.get("references").get(i)).put("name", names.get(i).asText());
        body.put("dataDigest", e.dataDigest);
        e.result = body.toString();
        ObjectNode statement = statement(m, e, body);
        try {
            e.statementDigest = signing.signStatement(statement);
        } catch (IOException ex) {
            throw new java.io.UncheckedIOException("cannot store the signed evaluation", ex);
        }
        e.status = "done";
        Ledger.Receipt receipt = ledger.append(e.actor, new ModelEvaluated(m.name + "@" + m.version, m.rootDigest, e.dataset,
                e.dataDigest, "sha256:" + e.statementDigest, e.result, e.id, e.finishedAt.toString()));
        e.ledgerSeq = receipt.seq();
        e.ledgerHash = receipt.entryHash();
    }

    /** The in-toto statement: subject the model, predicate after in-toto's test-result (configuration, result) plus the metrics. */
    static ObjectNode statement(Model m, Evaluation e, ObjectNode body) {
        ObjectNode st = JSON.createObjectNode();
        st.put("_type", Statements.STATEMENT_TYPE);
        ObjectNode subject = st.putArray("subject").addObject();
        subject.put("name", m.name + "@" + m.version);
        subject.putObject("digest").put("sha256", m.rootDigest.substring("sha256:".length()));
        st.put("predicateType", PREDICATE);
        ObjectNode p = st.putObject("predicate");
        double nonFinite = EvalResult.fromJson(body).nonFiniteFraction();
        p.put("result", nonFinite == 0 ? "PASSED" : "WARNED");
        ObjectNode data = p.putArray("configuration").addObject();
        data.put("name", e.dataset);
        data.putObject("digest").put("sha256", e.dataDigest.substring("sha256:".length()));
        p.set("settings", body.get("settings"));
        p.set("metrics", body.get("metrics"));
        p.set("references", body.get("references"));
        p.putObject("engine").put("name", "amalgam").put("version", BuildInfo.current().version());
        p.put("evaluatedAt", e.finishedAt.toString());
        return st;
    }

    private static View view(Evaluation e, Model m) {
        try {
            return new View(e.id, m.name + "@" + m.version, m.rootDigest, e.dataset, e.dataDigest, e.status, e.error,
                    JSON.readTree(e.settings), e.result == null ? null : JSON.readTree(e.result),
                    e.statementDigest == null ? null : "sha256:" + e.statementDigest, e.actor, e.createdAt, e.finishedAt);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException("evaluation " + e.id + ": stored JSON does not parse", ex);
        }
    }
}
