package dev.amalgam.registry;

import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

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
            case ModelRef.ByNameVersion(String n, String v) -> session.createSelectionQuery(
                    "from Model where name = :n and version = :v", Model.class)
                    .setParameter("n", n).setParameter("v", v).uniqueResult();
        };
        if (m == null) {
            throw RegistryException.notFound("no model " + describe(ref));
        }
        return m;
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
