package dev.amalgam.dam;

import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergeRequest;
import dev.amalgam.merge.SampleModel;
import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.RecipeParser;
import dev.amalgam.safetensors.DType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * dam fit on two tiny fine-tune-like llama models with calibration sequences sampled from each:
 * it must beat the equal-weight linear merge on held-out sequences, write the same bytes for
 * any thread count, and the merge engine must turn its coefficients into exactly the model it
 * evaluated.
 */
class DamFitTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void models() throws IOException {
        var spec = new SampleModel.Spec("llama", 1, 32, 48, 64, 1, DType.F32);
        SampleModel.write(dir.resolve("base"), spec, null, 0);
        SampleModel.write(dir.resolve("a"), new SampleModel.Spec("llama", 1, 32, 48, 64, 2, DType.F32), dir.resolve("base"), 0.08);
        SampleModel.write(dir.resolve("b"), new SampleModel.Spec("llama", 1, 32, 48, 64, 3, DType.F32), dir.resolve("base"), 0.08);
        write(dir.resolve("train.txt"), Sampler.sample(dir.resolve("a"), 16, 16, 1.0, 10), Sampler.sample(dir.resolve("b"), 16, 16, 1.0, 11));
        write(dir.resolve("held.txt"), Sampler.sample(dir.resolve("a"), 8, 16, 1.0, 20), Sampler.sample(dir.resolve("b"), 8, 16, 1.0, 21));
    }

    @SafeVarargs
    static void write(Path file, List<int[]>... parts) throws IOException {
        StringBuilder b = new StringBuilder("# sampled calibration sequences\n");
        for (List<int[]> part : parts) {
            for (int[] s : part) {
                for (int i = 0; i < s.length; i++) b.append(i == 0 ? "" : " ").append(s[i]);
                b.append("\n\n");
            }
        }
        Files.writeString(file, b.toString());
    }

    FitJob.Outcome fit(String out, int threads) throws IOException {
        var settings = new DamFit.Settings(12, 10, 1.0, 0.01, 1e-6, 1e-6, false, threads, 4);
        List<DamFit.Step> steps = new ArrayList<>();
        var o = FitJob.run(new FitJob.Request(List.of(dir.resolve("a"), dir.resolve("b")), dir.resolve("train.txt"),
                dir.resolve("held.txt"), 0, 16, 0, settings, dir.resolve(out)), steps::add);
        assertEquals(13, steps.size());
        return o;
    }

    @Test
    void fittedCoefficientsBeatTheEqualWeightLinearMergeOnHeldOutSequences() throws IOException {
        var one = fit("fit-1", 1);
        var r = one.result();
        assertTrue(r.fittedHeldOutKl() < 0.95 * r.linearHeldOutKl(),
                "held-out KL " + r.fittedHeldOutKl() + " vs linear " + r.linearHeldOutKl());
        assertTrue(r.lastTrainLoss() < r.firstTrainLoss());
        assertEquals(16, one.heldOutSequences());
        assertTrue(Files.isRegularFile(dir.resolve("fit-1").resolve(FitJob.REPORT)));

        // the same bytes whatever the number of threads
        fit("fit-2", 2);
        for (String f : new String[]{"model-00001-of-00001.safetensors", FitJob.REPORT}) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("fit-1").resolve(f)), Files.readAllBytes(dir.resolve("fit-2").resolve(f)), f);
        }

        // merged by the engine with the coefficients: exactly the model the fit evaluated
        var recipe = RecipeParser.parse("""
                merge_method: dam
                models: [{model: a}, {model: b}]
                parameters: {coefficients: fit-1}
                dtype: float32
                """, dir, "dam.yml");
        MergeEngine.run(MergeRequest.of(recipe, ModelResolver.local(), dir.resolve("merged")));
        var d = FitJob.divergence(List.of(dir.resolve("a"), dir.resolve("b")), dir.resolve("merged"), dir.resolve("held.txt"), 16, 2);
        assertEquals(r.fittedHeldOutKl(), d.total(), 1e-12);
    }

    @Test
    void coefficientsRoundTripThroughTheirFolder() throws IOException {
        var o = fit("fit-rt", 2);
        Coefficients back = Coefficients.read(dir.resolve("fit-rt"));
        assertEquals(o.result().coefficients().byTensor().keySet(), back.byTensor().keySet());
        for (var e : back.byTensor().entrySet()) {
            assertArrayEquals(o.result().coefficients().byTensor().get(e.getKey()), e.getValue(), e.getKey());
        }
        assertEquals(2, back.models());
    }
}
