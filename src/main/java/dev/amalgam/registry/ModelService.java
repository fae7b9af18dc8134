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

    static String describe(ModelRef ref) {
        return switch (ref) {
            case ModelRef.ById(long id) -> "with id " + id;
            case ModelRef.ByDigest(String d) -> "with digest " + d;
            case ModelRef.ByNameVersion(String n, String v) -> n + "@" + v;
        };
    }
}
