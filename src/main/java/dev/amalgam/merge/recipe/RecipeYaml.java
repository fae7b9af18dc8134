package dev.amalgam.merge.recipe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes a recipe back as normalised mergekit YAML (fixed key order, the seed made explicit). */
public final class RecipeYaml {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

    private RecipeYaml() {
    }

    public static String write(Recipe r, Long seed) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("merge_method", r.mergeMethod());
        if (r.baseModel() != null) m.put("base_model", r.baseModel());
        if (!r.models().isEmpty()) {
            List<Object> models = new ArrayList<>();
            for (var im : r.models()) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("model", im.model());
                if (!im.parameters().isEmpty()) e.put("parameters", params(im.parameters()));
                models.add(e);
            }
            m.put("models", models);
        }
        if (!r.slices().isEmpty()) {
            List<Object> slices = new ArrayList<>();
            for (var s : r.slices()) {
                Map<String, Object> e = new LinkedHashMap<>();
                List<Object> sources = new ArrayList<>();
                for (var src : s.sources()) {
                    Map<String, Object> se = new LinkedHashMap<>();
                    se.put("model", src.model());
                    se.put("layer_range", List.of(src.start(), src.end()));
                    if (!src.parameters().isEmpty()) se.put("parameters", params(src.parameters()));
                    sources.add(se);
                }
                e.put("sources", sources);
                if (s.baseModel() != null) e.put("base_model", s.baseModel());
                if (!s.parameters().isEmpty()) e.put("parameters", params(s.parameters()));
                slices.add(e);
            }
            m.put("slices", slices);
        }
        if (!r.parameters().isEmpty()) m.put("parameters", params(r.parameters()));
        if (r.dtype() != null) m.put("dtype", r.dtype());
        if (r.outDtype() != null) m.put("out_dtype", r.outDtype());
        if (r.tokenizerSource() != null) m.put("tokenizer_source", r.tokenizerSource());
        if (r.tokenizer() != null) m.put("tokenizer", tokenizer(r.tokenizer()));
        if (r.chatTemplate() != null) m.put("chat_template", r.chatTemplate());
        if (seed != null) m.put("random_seed", seed);
        try {
            return YAML.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, Object> tokenizer(TokenizerSpec t) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("source", t.source());
        if (!t.tokens().isEmpty()) {
            Map<String, Object> tokens = new LinkedHashMap<>();
            t.tokens().forEach((token, e) -> {
                Map<String, Object> entry = new LinkedHashMap<>();
                switch (e.kind()) {
                    case MODEL -> entry.put("source", e.model());
                    case ZERO -> entry.put("source", Map.of("kind", "zero"));
                    case MODEL_TOKEN -> {
                        Map<String, Object> src = new LinkedHashMap<>();
                        src.put("kind", "model_token");
                        src.put("model", e.model());
                        if (e.token() != null) src.put("token", e.token());
                        else src.put("token_id", e.tokenId());
                        entry.put("source", src);
                    }
                }
                if (e.force()) entry.put("force", true);
                tokens.put(token, entry);
            });
            out.put("tokens", tokens);
        }
        if (t.padToMultipleOf() != null) out.put("pad_to_multiple_of", t.padToMultipleOf());
        return out;
    }

    private static Map<String, Object> params(Map<String, ParameterSetting> p) {
        Map<String, Object> out = new LinkedHashMap<>();
        p.forEach((k, v) -> out.put(k, value(v)));
        return out;
    }

    private static Object value(ParameterSetting s) {
        return switch (s) {
            case ParameterSetting.Scalar sc -> sc.value();
            case ParameterSetting.Gradient g -> g.points();
            case ParameterSetting.Steps st -> st.values();
            case ParameterSetting.Conditional c -> {
                List<Object> conds = new ArrayList<>();
                for (var cond : c.conditions()) {
                    Map<String, Object> e = new LinkedHashMap<>();
                    if (cond.filter() != null) e.put("filter", cond.filter());
                    e.put("value", value(cond.value()));
                    conds.add(e);
                }
                yield conds;
            }
        };
    }
}
