package dev.amalgam.merge.method;

import dev.amalgam.merge.recipe.ParameterDef;

import java.util.List;

/**
 * A merge method whose declarations (name, reference, base model, determinism note, method-wide
 * and per-model parameters) are given once to the constructor; subclasses add their math and,
 * where they need them, input-count and plan checks.
 */
abstract class DeclaredMethod implements MergeMethod {
    private final String name;
    private final String reference;
    private final boolean needsBaseModel;
    private final String determinism;
    private final List<ParameterDef> parameters;
    private final List<ParameterDef> tensorParameters;

    DeclaredMethod(String name, String reference, boolean needsBaseModel, String determinism,
                   List<ParameterDef> parameters, List<ParameterDef> tensorParameters) {
        this.name = name;
        this.reference = reference;
        this.needsBaseModel = needsBaseModel;
        this.determinism = determinism;
        this.parameters = List.copyOf(parameters);
        this.tensorParameters = List.copyOf(tensorParameters);
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String reference() {
        return reference;
    }

    @Override
    public final boolean needsBaseModel() {
        return needsBaseModel;
    }

    @Override
    public final String determinism() {
        return determinism;
    }

    @Override
    public final List<ParameterDef> parameters() {
        return parameters;
    }

    @Override
    public final List<ParameterDef> tensorParameters() {
        return tensorParameters;
    }
}
