package dev.amalgam.registry;

import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.registry.entity.ModelFile;
import dev.amalgam.storage.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Resolves the model references of a registry recipe ({@code name@version}, {@code sha256:...}, id)
 * to folders the merge engine can map: the model's files hard-linked from the blob store into
 * {@code work/models/<id>/} (built once, atomically; copied where hard links are impossible).
 */
@ApplicationScoped
public class ModelMaterializer implements ModelResolver {
    @Inject
    Blobs blobs;

    @Inject
    Session session;

    @Inject
    ModelService models;

    @Inject
    RegistryConfig config;

    @Override
    @Transactional
    public Path resolve(String reference, Path recipeFolder) throws IOException {
        Model m = models.find(ModelRef.parse(reference));
        List<ModelFile> files = session.createSelectionQuery("from ModelFile where modelId = :id order by path", ModelFile.class)
                .setParameter("id", m.id).getResultList();
        return materialize(m.id, files);
    }

    private synchronized Path materialize(long modelId, List<ModelFile> files) throws IOException {
        Path root = config.settings().dataDir().resolve("work").resolve("models");
        Path dir = root.resolve(Long.toString(modelId));
        if (Files.isDirectory(dir)) return dir;
        Files.createDirectories(root);
        Path tmp = Files.createTempDirectory(root, modelId + ".tmp");
        for (ModelFile f : files) {
            Path target = new ModelPath(f.path).resolveIn(tmp);
            Files.createDirectories(target.getParent());
            BlobStore store = blobs.store();
            store.requireIntact(f.blobDigest); // a merge never reads tampered input
            Path blob = store.path(f.blobDigest);
            try {
                Files.createLink(target, blob);
            } catch (UnsupportedOperationException | IOException e) {
                Files.copy(blob, target, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        try {
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            MergeJobService.deleteTree(tmp);
        }
        return dir;
    }
}
