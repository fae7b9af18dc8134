package dev.amalgam.merge;

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
        if (r.chatTemplate() != null) m.put("chat_template", r.chatTemplate());
        if (seed != null) m.put("random_seed", seed);
        try {
            return YAML.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
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
