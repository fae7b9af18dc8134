package dev.amalgam.registry;

import dev.amalgam.registry.entity.Decision;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Looking models up by any of their references. */
@ApplicationScoped
public class ModelService {
    @Inject
    Session session;

    @Inject
    Blobs blobs;

    /** One of a model's files, ready to stream: its name (last path segment), size and verified bytes. */
    public record FileContent(String name, long size, InputStream content) {
    }

    /** @throws RegistryException (not found) naming the reference */
    @Transactional
    public Model find(ModelRef ref) {
        Model m = switch (ref) {
            case ModelRef.ById(long id) -> session.find(Model.class, id);
            case ModelRef.ByDigest(String d) -> session.createSelectionQuery(
                    "from Model where rootDigest = :d", Model.class).setParameter("d", d).uniqueResult();
            case ModelRef.ByNameVersion(String n, String v) -> byNameOrHubSource(n, v);
        };
        if (m == null) {
            throw RegistryException.notFound("no model " + describe(ref));
        }
        return m;
    }

    /** NAME@VERSION, else (ORG/NAME@REVISION) the model registered from {@code hf://ORG/NAME@REVISION}. */
    private Model byNameOrHubSource(String n, String v) {
        Model m = session.createSelectionQuery("from Model where name = :n and version = :v", Model.class)
                .setParameter("n", n).setParameter("v", v).uniqueResult();
        if (m != null || !dev.amalgam.hub.HubId.looksLike(n + "@" + v)) return m;
        return session.createSelectionQuery("from Model where hubSource = :s order by id", Model.class)
                .setParameter("s", dev.amalgam.hub.HubId.parse(n + "@" + v).source()).setMaxResults(1).uniqueResult();
    }

    @Transactional
    public List<ModelFile> files(long modelId) {
        return session.createSelectionQuery("from ModelFile where modelId = :id order by path",
                ModelFile.class).setParameter("id", modelId).getResultList();
    }

    @Transactional
    public boolean exists(String name, String version) {
        return session.createSelectionQuery("select count(*) from Model where name = :n and version = :v", Long.class)
                .setParameter("n", name).setParameter("v", version).getSingleResult() > 0;
    }

    @Transactional
    public List<Model> list(int offset, int limit) {
        return session.createSelectionQuery("from Model order by id", Model.class)
                .setFirstResult(offset).setMaxResults(limit).getResultList();
    }

    /**
     * One page of a model search, newest first, by keyset ({@code beforeId}: the last id of the previous
     * page) so a page costs the same at 100k models as at 10. Blank filters match everything; {@code name}
     * matches a prefix; {@code releasedIn} keeps models with a release decision for that environment.
     */
    public record Search(String name, String license, String status, String scanVerdict, String origin,
                         String releasedIn, Long beforeId, int limit) {
    }

    @Transactional
    public List<Model> search(Search q) {
        StringBuilder hql = new StringBuilder("from Model m where 1 = 1");
        Map<String, Object> params = new LinkedHashMap<>();
        if (present(q.name())) {
            hql.append(" and m.name like :name escape '!'");
            params.put("name", q.name().strip().replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%");
        }
        filter(hql, params, "license", q.license());
        filter(hql, params, "status", q.status());
        filter(hql, params, "scanVerdict", q.scanVerdict());
        filter(hql, params, "origin", q.origin());
        if (present(q.releasedIn())) {
            hql.append(" and exists (select 1 from Decision d where d.modelId = m.id and d.kind = 'release'"
                    + " and d.environment = :env)");
            params.put("env", q.releasedIn().strip());
        }
        if (q.beforeId() != null) {
            hql.append(" and m.id < :before");
            params.put("before", q.beforeId());
        }
        var query = session.createSelectionQuery(hql.append(" order by m.id desc").toString(), Model.class);
        params.forEach(query::setParameter);
        return query.setMaxResults(Math.clamp(q.limit(), 1, 1000)).getResultList();
    }

    private static void filter(StringBuilder hql, Map<String, Object> params, String field, String value) {
        if (!present(value)) return;
        hql.append(" and m.").append(field).append(" = :").append(field);
        params.put(field, value.strip());
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }

    /** Review, gate and release decisions about a model, newest first. */
    @Transactional
    public List<Decision> decisions(long modelId) {
        return session.createSelectionQuery("from Decision where modelId = :id order by id desc",
                Decision.class).setParameter("id", modelId).setMaxResults(200).getResultList();
    }

    /** The merge job that produced a model, if it is a merge output. */
    @Transactional
    public Optional<MergeJob> producedBy(long modelId) {
        return session.createSelectionQuery("from MergeJob where outputModelId = :id order by id desc",
                MergeJob.class).setParameter("id", modelId).setMaxResults(1)
                .uniqueResultOptional();
    }

    /** The model's scan report (JSON), verified against its digest. */
    public InputStream scanReport(ModelRef ref) throws IOException {
        Model m = find(ref);
        if (m.scanReportDigest == null) throw RegistryException.notFound("the model has no scan report");
        return blobs.open(m.scanReportDigest);
    }

    /** The registry's OMS signature bundle over the model, verified against its digest. */
    public InputStream signature(ModelRef ref) throws IOException {
        Model m = find(ref);
        if (m.signatureDigest == null) throw RegistryException.notFound("the model has no signature");
        return blobs.open(m.signatureDigest);
    }

    /** One file of the model by its relative path (checked as {@link ModelPath}), verified against its digest. */
    public FileContent file(ModelRef ref, String path) throws IOException {
        Model m = find(ref);
        String p = new ModelPath(path).value();
        ModelFile f = files(m.id).stream().filter(x -> x.path.equals(p)).findFirst()
                .orElseThrow(() -> RegistryException.notFound("no file " + p + " in the model"));
        return new FileContent(p.substring(p.lastIndexOf('/') + 1), f.sizeBytes, blobs.open(f.blobDigest));
    }

    static String describe(ModelRef ref) {
        return switch (ref) {
            case ModelRef.ById(long id) -> "with id " + id;
            case ModelRef.ByDigest(String d) -> "with digest " + d;
            case ModelRef.ByNameVersion(String n, String v) -> n + "@" + v;
        };
    }
}
