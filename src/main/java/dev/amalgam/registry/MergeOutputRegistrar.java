package dev.amalgam.registry;

import dev.amalgam.ledger.Ledger;
import dev.amalgam.ledger.event.MergeCompleted;
import dev.amalgam.merge.MergeResult;
import dev.amalgam.merge.method.RecipeModels;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.provenance.SlsaProvenance;
import dev.amalgam.registry.entity.LineageEdge;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.registry.entity.Model;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Registers what a merge job produced: the output model (status {@code pending-review}, license
 * the AND of its inputs'), and a lineage edge to every input with its role.
 */
@ApplicationScoped
public class MergeOutputRegistrar {
    @Inject
    Session session;

    @Inject
    RegistrationService registration;

    @Inject
    ModelService models;

    @Inject
    LedgerService ledger;

    @Inject
    SigningService signing;

    @Transactional
    public Model register(long jobId, Recipe recipe, MergeResult result) throws IOException {
        MergeJob job = session.find(MergeJob.class, jobId);
        // every model whose files are in the output: the merged ones, and a tokenizer source
        Map<String, String> roles = new LinkedHashMap<>();
        for (String ref : result.inputs()) roles.put(ref, ref.equals(recipe.baseModel()) ? "base" : "input");
        if (RecipeModels.tokenizerModel(recipe) != null) roles.putIfAbsent(RecipeModels.tokenizerModel(recipe), "tokenizer");
        StringBuilder license = new StringBuilder();
        for (String ref : roles.keySet()) {
            Model in = models.find(ModelRef.parse(ref));
            if (!license.isEmpty()) license.append(" AND ");
            license.append(in.license.contains(" ") ? "(" + in.license + ")" : in.license);
        }
        RegistrationService.Registered reg = registration.register(result.output(),
                new RegistrationService.Metadata(job.outputName, job.outputVersion, license.toString(), "merge",
                        "pending-review"),
                job.submittedBy);
        Model out = reg.model();
        for (String ref : roles.keySet()) {
            Model in = models.find(ModelRef.parse(ref));
            String role = roles.get(ref);
            // identical output content may already be registered (same recipe run before): edges once
            boolean known = session.createSelectionQuery(
                            "select count(*) from LineageEdge where childId = :c and parentId = :p and role = :r", Long.class)
                    .setParameter("c", out.id).setParameter("p", in.id).setParameter("r", role).getSingleResult() > 0;
            if (known) continue;
            LineageEdge e = new LineageEdge();
            e.childId = out.id;
            e.parentId = in.id;
            e.role = role;
            e.method = recipe.mergeMethod();
            e.mergeJobId = jobId;
            session.persist(e);
        }
        job.seed = result.seed();
        List<MergeCompleted.Input> inputs = new ArrayList<>();
        for (String ref : roles.keySet()) {
            Model in = models.find(ModelRef.parse(ref));
            inputs.add(new MergeCompleted.Input(ref, in.rootDigest, in.license, roles.get(ref)));
        }
        List<SlsaProvenance.Input> deps = new ArrayList<>();
        for (String ref : roles.keySet()) {
            Model in = models.find(ModelRef.parse(ref));
            deps.add(new SlsaProvenance.Input(ref, "amalgam:model/" + in.name + "@" + in.version,
                    in.rootDigest.substring("sha256:".length())));
        }
        job.provenanceDigest = signing.signStatement(SlsaProvenance.forMerge(
                out.name + "@" + out.version, out.rootDigest.substring("sha256:".length()), deps,
                Files.readString(result.output().resolve("amalgam-recipe.yml")), result.seed(),
                result.engineVersion(), job.startedAt.toInstant(), Instant.now()));
        job.finishedAt = OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS);
        Ledger.Receipt receipt = ledger.append(job.submittedBy, new MergeCompleted(jobId, job.outputName, job.outputVersion,
                result.method(), job.recipe, result.seed(), result.engineVersion(), out.rootDigest, inputs,
                "sha256:" + job.provenanceDigest, text(job.submittedAt), text(job.startedAt), text(job.finishedAt)));
        job.ledgerSeq = receipt.seq();
        job.ledgerHash = receipt.entryHash();
        return out;
    }

    private static String text(OffsetDateTime t) {
        return t == null ? null : t.toString();
    }
}
