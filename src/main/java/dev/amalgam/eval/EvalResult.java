package dev.amalgam.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.List;

/**
 * What one evaluation measured: perplexity of the model on the data (next-token, every window),
 * the share of non-finite logits, throughput, and per reference model the mean KL divergence
 * KL(p_reference ‖ p_model) over positions and the share of positions whose top-1 token agrees.
 */
public record EvalResult(String dataDigest, long tokens, int windows, long predicted, double perplexity, double meanNll,
                         double nonFiniteFraction, double tokensPerSecond, List<Reference> references, Settings settings) {
    /** The settings that decide the numbers (threads and kernels do not: they only change the speed). */
    public record Settings(int seqLen, int threads, String kernels) {
    }

    /** The comparison with one reference model. */
    public record Reference(String name, double kl, double top1Agreement) {
    }

    public EvalResult {
        references = List.copyOf(references);
    }

    /** The metrics and settings as JSON (the evidence predicate's body; NaN and infinities as strings). */
    public ObjectNode toJson(ObjectMapper json) {
        ObjectNode o = json.createObjectNode();
        o.put("dataDigest", dataDigest);
        ObjectNode s = o.putObject("settings");
        s.put("seqLen", settings.seqLen()).put("threads", settings.threads()).put("kernels", settings.kernels());
        ObjectNode m = o.putObject("metrics");
        m.put("tokens", tokens).put("windows", windows).put("predictedPositions", predicted);
        number(m, "perplexity", perplexity);
        number(m, "meanNll", meanNll);
        number(m, "nonFiniteFraction", nonFiniteFraction);
        number(m, "tokensPerSecond", tokensPerSecond);
        ArrayNode refs = o.putArray("references");
        for (Reference r : references) {
            ObjectNode n = refs.addObject().put("name", r.name());
            number(n, "kl", r.kl());
            number(n, "top1Agreement", r.top1Agreement());
        }
        return o;
    }

    /** Reads {@link #toJson}'s form back; a missing field is an error naming it. */
    public static EvalResult fromJson(JsonNode o) {
        JsonNode s = need(o, "settings"), m = need(o, "metrics");
        List<Reference> refs = new ArrayList<>();
        for (JsonNode r : need(o, "references")) {
            refs.add(new Reference(need(r, "name").asText(), num(need(r, "kl")), num(need(r, "top1Agreement"))));
        }
        return new EvalResult(need(o, "dataDigest").asText(), need(m, "tokens").asLong(), need(m, "windows").asInt(),
                need(m, "predictedPositions").asLong(), num(need(m, "perplexity")), num(need(m, "meanNll")),
                num(need(m, "nonFiniteFraction")), num(need(m, "tokensPerSecond")), refs,
                new Settings(need(s, "seqLen").asInt(), need(s, "threads").asInt(), need(s, "kernels").asText()));
    }

    private static void number(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.put(key, Double.toString(v));
    }

    private static double num(JsonNode n) {
        return n.isNumber() ? n.doubleValue() : Double.parseDouble(n.asText());
    }

    private static JsonNode need(JsonNode o, String key) {
        JsonNode v = o == null ? null : o.get(key);
        if (v == null || v.isNull()) throw new IllegalArgumentException("evaluation result has no " + key);
        return v;
    }
}
