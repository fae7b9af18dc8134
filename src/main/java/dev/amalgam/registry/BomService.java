package dev.amalgam.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.BuildInfo;
import dev.amalgam.bom.ModelBom;
import dev.amalgam.merge.method.MergeMethods;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's CycloneDX ML-BOM from the registry's records (files, lineage, merge job), and its DSSE
 * envelope: an in-toto statement whose subject is the model's root digest and whose predicate is
 * the BOM, signed with the registry key.
 */
@ApplicationScoped
public class BomService {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    Session session;

    @Inject
    ModelService models;

    @Inject
    LineageService lineage;

    @Inject
    SigningService signing;

    /** The BOM's JSON text. */
    @Transactional
    public String json(ModelRef ref) {
        Model m = models.find(ref);
        return json(m);
    }

    String json(Model m) {
        List<ModelBom.FileEntry> files = new ArrayList<>();
        for (ModelFile f : models.files(m.id)) files.add(new ModelBom.FileEntry(f.path, f.blobDigest, f.sizeBytes));
        LineageService.Lineage up = lineage.lineage(new ModelRef.ById(m.id), LineageService.Direction.UP, LineageService.MAX_DEPTH);
        Map<Long, String> roles = new HashMap<>();
        for (LineageService.Edge e : up.edges()) roles.merge(e.parent(), e.child() == m.id ? e.role() : "ancestor", (a, b) -> a);
        List<ModelBom.Ancestor> ancestors = new ArrayList<>();
        for (LineageService.Node n : up.nodes()) {
            Model a = session.find(Model.class, n.id());
            ancestors.add(new ModelBom.Ancestor(a.name, a.version, a.rootDigest, a.license, roles.getOrDefault(a.id, "ancestor"),
                    a.hubSource));
        }
        MergeJob job = session.createSelectionQuery("from MergeJob where outputModelId = :id order by id", MergeJob.class)
                .setParameter("id", m.id).setMaxResults(1).uniqueResult();
        ModelBom.Merge merge = job == null ? null : new ModelBom.Merge(job.method,
                MergeMethods.find(job.method).map(x -> x.reference()).orElse(null), job.recipe, job.seed);
        return ModelBom.json(new ModelBom.Subject(m.name, m.version, m.rootDigest, m.license, m.origin, m.hubSource,
                m.registeredAt.toInstant()), files, ancestors, merge, BuildInfo.current().version());
    }

    /** The DSSE envelope (JSON) over an in-toto statement carrying the BOM. */
    @Transactional
    public byte[] envelope(ModelRef ref) {
        return envelope(models.find(ref));
    }

    byte[] envelope(Model m) {
        try {
            ObjectNode st = JSON.createObjectNode();
            st.put("_type", "https://in-toto.io/Statement/v1");
            st.putArray("subject").addObject().put("name", m.name + "@" + m.version)
                    .putObject("digest").put("sha256", m.rootDigest.substring("sha256:".length()));
            st.put("predicateType", ModelBom.PREDICATE_TYPE);
            st.set("predicate", JSON.readTree(json(m)));
            return signing.envelope(st);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
