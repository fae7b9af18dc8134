package dev.amalgam.dam;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.model.TokenFile;
import dev.amalgam.safetensors.StagedDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * {@code amalgam dam fit} as a job: reads the models and token files, splits off held-out
 * sequences, runs {@link DamFit}, and writes the coefficients folder (the safetensors
 * coefficients and {@value #REPORT}). The folder holds nothing that varies between runs, so the
 * same inputs and settings give the same bytes.
 */
public final class FitJob {
    public static final String REPORT = "dam-fit.json";

    /**
     * {@code heldOut} null: the lines of {@code tokens} are shuffled with {@code seed} and the
     * last ⌈fraction·lines⌉ are held out (before cutting into windows of {@code seqLen}).
     */
    public record Request(List<Path> models, Path tokens, Path heldOut, double heldOutFraction, int seqLen, long seed,
                          DamFit.Settings settings, Path out) {
    }

    public record Outcome(DamFit.Result result, Path out, int trainSequences, int heldOutSequences, long trainPositions,
                          long heldOutPositions) {
    }

    private FitJob() {
    }

    public static Outcome run(Request req, Consumer<DamFit.Step> progress) throws IOException {
        if (req.seqLen() < 1) throw new IllegalArgumentException("--seq-len must be at least 1");
        LlamaConfig config = sameConfig(req.models());
        Layout layout = Layout.of(config);
        List<float[][]> sources = new ArrayList<>();
        for (Path m : req.models()) sources.add(Weights.read(m, layout));

        List<int[]> lines = TokenFile.read(req.tokens(), config.vocab());
        List<int[]> trainLines, heldLines;
        if (req.heldOut() != null) {
            trainLines = lines;
            heldLines = TokenFile.read(req.heldOut(), config.vocab());
        } else {
            if (!(req.heldOutFraction() > 0 && req.heldOutFraction() < 1)) {
                throw new IllegalArgumentException("--held-out-fraction must be between 0 and 1 (exclusive)");
            }
            List<int[]> shuffled = new ArrayList<>(lines);
            Collections.shuffle(shuffled, new Random(req.seed()));
            int held = (int) Math.ceil(req.heldOutFraction() * shuffled.size());
            if (held >= shuffled.size()) {
                throw new IllegalArgumentException(req.tokens() + ": " + lines.size()
                        + " sequence(s) leave none for training after holding out " + held + "; add lines or use --held-out FILE");
            }
            trainLines = shuffled.subList(0, shuffled.size() - held);
            heldLines = shuffled.subList(shuffled.size() - held, shuffled.size());
        }
        List<int[]> train = TokenFile.windows(trainLines, req.seqLen()), heldOut = TokenFile.windows(heldLines, req.seqLen());
        DamFit.Result result = new DamFit(layout, sources, train, heldOut, req.seqLen(), req.settings()).run(progress);

        try (StagedDirectory stage = StagedDirectory.begin(req.out())) {
            result.coefficients().write(stage.path());
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            json.writeValue(stage.path().resolve(REPORT).toFile(), report(req, result, train, heldOut));
            stage.commit();
        }
        return new Outcome(result, req.out().toAbsolutePath().normalize(), train.size(), heldOut.size(),
                positions(train), positions(heldOut));
    }

    /** Held-out divergence of a merged model: Σ over models and mean per position of KL(p_model ‖ p_merged), temperature 1. */
    public record Divergence(double total, double[] perModel, int sequences, long positions) {
    }

    /**
     * The divergence of any merged model folder (for example the output of {@code amalgam merge})
     * from the source models on the sequences of a token file, as {@code dam fit} reports it.
     */
    public static Divergence divergence(List<Path> models, Path merged, Path tokens, int seqLen, int threads) throws IOException {
        LlamaConfig config = sameConfig(models);
        LlamaConfig mc = LlamaConfig.read(merged);
        if (!mc.equals(config)) throw new IllegalArgumentException(merged + ": config.json differs from the source models'");
        Layout layout = Layout.of(config);
        List<float[][]> sources = new ArrayList<>();
        for (Path m : models) sources.add(Weights.read(m, layout));
        List<int[]> seqs = TokenFile.windows(TokenFile.read(tokens, config.vocab()), seqLen);
        Objective obj = new Objective(layout, sources, seqLen);
        var pool = Executors.newFixedThreadPool(threads);
        try {
            var v = obj.evaluate(Weights.read(merged, layout), obj.targets(seqs, 1.0, pool), 1.0, false, pool);
            return new Divergence(v.kl(), v.klPerModel(), seqs.size(), positions(seqs));
        } finally {
            pool.shutdownNow();
        }
    }

    private static LlamaConfig sameConfig(List<Path> models) throws IOException {
        if (models.size() < 2) throw new IllegalArgumentException("--models needs at least 2 model folders");
        LlamaConfig config = null;
        for (Path m : models) {
            LlamaConfig c = LlamaConfig.read(m);
            if (config != null && !config.equals(c)) {
                throw new IllegalArgumentException(m + ": config.json differs from " + models.getFirst()
                        + " (" + c + " vs " + config + "); dam merges models of one shape");
            }
            config = c;
        }
        return config;
    }

    private static long positions(List<int[]> seqs) {
        long n = 0;
        for (int[] s : seqs) n += s.length;
        return n;
    }

    private static ObjectNode report(Request req, DamFit.Result r, List<int[]> train, List<int[]> heldOut) throws IOException {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("format", "amalgam dam-fit report v1");
        o.put("paper", "https://arxiv.org/abs/2410.08371");
        ArrayNode models = o.putArray("models");
        for (Path m : req.models()) models.add(m.getFileName().toString());
        o.put("tokens_sha256", sha256(req.tokens()));
        if (req.heldOut() != null) o.put("held_out_sha256", sha256(req.heldOut()));
        else o.put("held_out_fraction", req.heldOutFraction());
        o.put("seed", req.seed());
        o.put("seq_len", req.seqLen());
        o.put("train_sequences", train.size());
        o.put("train_positions", positions(train));
        o.put("held_out_sequences", heldOut.size());
        o.put("held_out_positions", positions(heldOut));
        var s = req.settings();
        ObjectNode fit = o.putObject("fit");
        fit.put("optimizer", "gradient descent (full batch)");
        fit.put("steps", s.steps());
        fit.put("learning_rate", s.learningRate());
        fit.put("temperature", s.temperature());
        fit.put("lambda_cos", s.lambdaCos());
        fit.put("lambda_l1", s.lambdaL1());
        fit.put("lambda_l2", s.lambdaL2());
        fit.put("learned", s.linearOnly() ? "linear layers (embeddings and norms fixed at 1/M)" : "every tensor");
        fit.put("train_loss_first", r.firstTrainLoss());
        fit.put("train_loss_last", r.lastTrainLoss());
        ObjectNode held = o.putObject("held_out_kl");
        held.put("definition", "mean over held-out positions of sum over models of KL(p_model || p_merged), temperature 1");
        held.put("linear_equal_weights", r.linearHeldOutKl());
        held.put("dam", r.fittedHeldOutKl());
        ArrayNode lin = held.putArray("linear_per_model"), dam = held.putArray("dam_per_model");
        for (double v : r.linearPerModel()) lin.add(v);
        for (double v : r.fittedPerModel()) dam.add(v);
        ArrayNode hist = o.putArray("history");
        for (DamFit.Step st : r.history()) {
            ObjectNode h = hist.addObject();
            h.put("step", st.step());
            h.put("train_loss", st.trainLoss());
            if (!Double.isNaN(st.heldOutKl())) h.put("held_out_kl", st.heldOutKl());
        }
        return o;
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
