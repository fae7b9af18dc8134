package dev.amalgam.registry;

import dev.amalgam.ledger.event.LedgerEvent;
import dev.amalgam.ledger.event.MergeCompleted;
import dev.amalgam.ledger.event.MergeReviewed;
import dev.amalgam.ledger.event.ModelReviewed;
import dev.amalgam.ledger.event.ModelRegistered;
import dev.amalgam.ledger.event.ModelReleased;
import dev.amalgam.ledger.event.PolicyDecided;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The audit: the ledger's hash chain and signed checkpoints, every stored blob against its digest,
 * every model's registry signature, and the database against the ledger (every model row points
 * at a ledger entry that names it).
 */
@ApplicationScoped
public class AuditService {
    @Inject
    Session session;

    @Inject
    LedgerService ledger;

    @Inject
    SigningService signing;

    public record AuditReport(boolean clean, long ledgerEntries, int models, List<String> problems) {
    }

    @Transactional
    public AuditReport audit() throws IOException {
        List<String> problems = new ArrayList<>(ledger.ledger().verify().stream().map(p -> "ledger: " + p).toList());
        List<Model> models = session.createSelectionQuery("from Model order by id", Model.class).getResultList();
        for (Model m : models) {
            Map<String, String> files = new LinkedHashMap<>();
            for (ModelFile f : session.createSelectionQuery("from ModelFile where modelId = :id", ModelFile.class)
                    .setParameter("id", m.id).getResultList()) {
                files.put(f.path, f.blobDigest);
            }
            var integrity = signing.integrity(m.signatureDigest, files);
            if (!integrity.intact()) problems.add("model " + m.name + "@" + m.version + ": " + integrity.problem());
            if (m.ledgerSeq == null) {
                problems.add("model " + m.name + "@" + m.version + ": no ledger entry");
            } else {
                var entry = ledger.ledger().event(m.ledgerSeq);
                if (entry.isEmpty() || !m.rootDigest.equals(modelOf(entry.get().event()))) {
                    problems.add("model " + m.name + "@" + m.version + ": ledger entry " + m.ledgerSeq + " does not record it");
                }
            }
        }
        // every registration in the ledger must still be in the database
        long size = ledger.ledger().size();
        for (long seq = 0; seq < size; seq++) {
            if (!(ledger.ledger().event(seq).orElseThrow().event() instanceof ModelRegistered r)) continue;
            if (ledger.inFlight(seq)) continue; // appended by a transaction that has not committed yet
            String digest = r.rootDigest();
            Long n = session.createSelectionQuery("select count(*) from Model where rootDigest = :d", Long.class)
                    .setParameter("d", digest).getSingleResult();
            if (n == 0) problems.add("ledger entry " + seq + ": model " + digest + " is missing from the database");
        }
        return new AuditReport(problems.isEmpty(), size, models.size(), problems);
    }

    /**
     * The model a model row's ledger entry must record: a registration names it, a merge names its output
     * (a row pointing at a merge entry is the merge's output); decisions record no model row of their own.
     */
    private static String modelOf(LedgerEvent event) {
        return switch (event) {
            case ModelRegistered r -> r.rootDigest();
            case MergeCompleted c -> c.output();
            case MergeReviewed r -> null;
            case ModelReviewed r -> null;
            case PolicyDecided d -> null;
            case ModelReleased d -> null;
        };
    }
}
