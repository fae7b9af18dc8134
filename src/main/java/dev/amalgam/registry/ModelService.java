package dev.amalgam.registry;

import dev.amalgam.registry.entity.Model;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.util.List;

/** Looking models up by any of their references. */
@ApplicationScoped
public class ModelService {
    @Inject
    Session session;

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
            throw new RegistryException(RegistryException.Kind.NOT_FOUND, "no model " + describe(ref));
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
    public List<dev.amalgam.registry.entity.ModelFile> files(long modelId) {
        return session.createSelectionQuery("from ModelFile where modelId = :id order by path",
                dev.amalgam.registry.entity.ModelFile.class).setParameter("id", modelId).getResultList();
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
        java.util.Map<String, Object> params = new java.util.LinkedHashMap<>();
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

    private static void filter(StringBuilder hql, java.util.Map<String, Object> params, String field, String value) {
        if (!present(value)) return;
        hql.append(" and m.").append(field).append(" = :").append(field);
        params.put(field, value.strip());
    }

    private static boolean present(String s) {
        return s != null && !s.isBlank();
    }

    /** Review, gate and release decisions about a model, newest first. */
    @Transactional
    public List<dev.amalgam.registry.entity.Decision> decisions(long modelId) {
        return session.createSelectionQuery("from Decision where modelId = :id order by id desc",
                dev.amalgam.registry.entity.Decision.class).setParameter("id", modelId).setMaxResults(200).getResultList();
    }

    /** The merge job that produced a model, if it is a merge output. */
    @Transactional
    public java.util.Optional<dev.amalgam.registry.entity.MergeJob> producedBy(long modelId) {
        return session.createSelectionQuery("from MergeJob where outputModelId = :id order by id desc",
                dev.amalgam.registry.entity.MergeJob.class).setParameter("id", modelId).setMaxResults(1)
                .uniqueResultOptional();
    }

    static String describe(ModelRef ref) {
        return switch (ref) {
            case ModelRef.ById(long id) -> "with id " + id;
            case ModelRef.ByDigest(String d) -> "with digest " + d;
            case ModelRef.ByNameVersion(String n, String v) -> n + "@" + v;
        };
    }
}
