package dev.amalgam.registry;

import dev.amalgam.merge.SampleModel;
import dev.amalgam.safetensors.DType;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The database is an index of the ledger: rows lost after the ledger append are rebuilt from it. */
@QuarkusTest
class LedgerReconcileTest {
    @Inject
    RegistrationService registration;

    @Inject
    LedgerReplay replay;

    @Inject
    ModelService models;

    @Inject
    Session session;

    @Test
    void aRegistrationTheDatabaseLostIsRebuiltFromTheLedger() throws Exception {
        String name = "lost-" + UUID.randomUUID().toString().substring(0, 6);
        Path dir = Files.createDirectories(Path.of("target/test-models").toAbsolutePath().resolve(name));
        SampleModel.write(dir, new SampleModel.Spec("llama", 1, 16, 32, 64, 901, DType.BF16), null, 0);
        var reg = registration.register(dir, new RegistrationService.Metadata(name, "1", "apache-2.0", "source", "registered"), "alice");
        String digest = reg.model().rootDigest;
        int files = reg.model().fileCount;
        forget(name); // as if the database commit had failed after the ledger append
        assertTrue(replay.reconcile() >= 1);
        var back = models.find(ModelRef.parse(name + "@1"));
        assertEquals(digest, back.rootDigest);
        assertEquals(files, models.files(back.id).size());
        assertEquals("alice", back.registeredBy);
        assertEquals("Apache-2.0", back.license);
        assertEquals(0, replay.reconcile(), "nothing left to apply");
    }

    @Transactional
    void forget(String name) {
        session.createMutationQuery("delete from ModelFile where modelId = (select id from Model where name = :n)")
                .setParameter("n", name).executeUpdate();
        session.createMutationQuery("delete from Model where name = :n").setParameter("n", name).executeUpdate();
    }
}
