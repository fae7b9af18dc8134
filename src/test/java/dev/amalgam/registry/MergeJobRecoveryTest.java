package dev.amalgam.registry;

import dev.amalgam.merge.SampleModel;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.safetensors.DType;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A job a crashed run left "running" is taken up again on start and finishes; no half output is registered. */
@QuarkusTest
class MergeJobRecoveryTest {
    @Inject
    RegistrationService registration;

    @Inject
    MergeJobService jobs;

    @Inject
    MergeJobService.JobStateWriter states;

    @Inject
    Session session;

    @Test
    void interruptedJobIsResumedAndCompletes() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 6);
        Path dir = Files.createDirectories(Path.of("target/test-models").toAbsolutePath().resolve("recover-" + tag));
        SampleModel.write(dir.resolve("a"), new SampleModel.Spec("llama", 1, 16, 32, 64, 501, DType.BF16), null, 0);
        SampleModel.write(dir.resolve("b"), new SampleModel.Spec("llama", 1, 16, 32, 64, 502, DType.BF16), dir.resolve("a"), 0.01);
        registration.register(dir.resolve("a"), new RegistrationService.Metadata("ra-" + tag, "1", "mit", "source", "registered"), "test");
        registration.register(dir.resolve("b"), new RegistrationService.Metadata("rb-" + tag, "1", "mit", "source", "registered"), "test");
        long id = crashedJob("""
                merge_method: linear
                models:
                  - model: ra-%1$s@1
                    parameters: {weight: 0.5}
                  - model: rb-%1$s@1
                    parameters: {weight: 0.5}
                """.formatted(tag), "rec-" + tag);
        assertTrue(jobs.resumeInterrupted() >= 1, "the running job is taken up again");
        MergeJob j = states.get(id);
        for (int i = 0; i < 600 && !j.state.equals("succeeded") && !j.state.equals("failed"); i++) {
            Thread.sleep(100);
            j = states.get(id);
        }
        assertEquals("succeeded", j.state, j.failureReason);
        assertNotNull(j.outputModelId);
    }

    @Inject
    LedgerService ledger;

    /** A job from before merge.submitted existed (no entry) that fails gets both entries when it ends, so a rebuild has it. */
    @Test
    void aJobWithoutASubmissionEntryGetsOneWhenItEnds() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 6);
        long id = crashedJob("merge_method: linear\nmodels:\n  - model: gone-" + tag + "@1\n    parameters: {weight: 1}\n", "lost-" + tag);
        jobs.resumeInterrupted();
        MergeJob j = states.get(id);
        for (int i = 0; i < 600 && !j.state.equals("failed") && !j.state.equals("succeeded"); i++) {
            Thread.sleep(100);
            j = states.get(id);
        }
        assertEquals("failed", j.state);
        assertNotNull(j.ledgerSeq);
        var end = ledger.ledger().event(j.ledgerSeq).orElseThrow();
        var failed = assertInstanceOf(dev.amalgam.ledger.event.MergeFailed.class, end.event());
        assertEquals(id, failed.merge());
        assertEquals(j.failureReason, failed.reason());
        boolean submitted = false;
        for (long seq = j.ledgerSeq - 1; seq >= 0 && !submitted; seq--) {
            submitted = ledger.ledger().event(seq).orElseThrow().event() instanceof dev.amalgam.ledger.event.MergeSubmitted s
                    && s.merge() == id && s.recipe().equals(states.get(id).recipe);
        }
        assertTrue(submitted, "a merge.submitted entry for job " + id + " precedes its end");
    }

    @Transactional
    long crashedJob(String recipe, String name) {
        MergeJob j = new MergeJob();
        j.recipe = recipe;
        j.method = "linear";
        j.outputName = name;
        j.outputVersion = "1";
        j.state = "running"; // as a crash mid-merge leaves it
        j.progress = 0.4;
        j.submittedBy = "test";
        j.submittedAt = OffsetDateTime.now();
        j.startedAt = OffsetDateTime.now();
        session.persist(j);
        return j.id;
    }
}
