package dev.amalgam.cli;

import dev.amalgam.merge.MergeEngine;
import dev.amalgam.merge.MergePlan;
import dev.amalgam.merge.RecipeChecker;
import dev.amalgam.merge.method.MethodTable;
import dev.amalgam.merge.method.RecipeModels;
import dev.amalgam.merge.recipe.ModelResolver;
import dev.amalgam.merge.recipe.Recipe;
import dev.amalgam.merge.recipe.RecipeException;
import dev.amalgam.merge.recipe.RecipeParser;
import dev.amalgam.merge.recipe.RecipeYaml;
import dev.amalgam.safetensors.SafetensorsFormatException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code amalgam recipe ...}: work with recipes without merging. */
@Command(name = "recipe", mixinStandardHelpOptions = true, description = "Validate merge recipes.",
        subcommands = {RecipeCommand.Check.class, RecipeCommand.Methods.class},
        footer = {"", "Example:", "  amalgam recipe check merge.yml --resolve"})
final class RecipeCommand {
    // no call(): without a subcommand picocli reports the missing one and exits 2, as for ledger, models, token, dam

    /** {@code amalgam recipe check RECIPE.yml [--resolve]}. */
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Check a recipe's syntax and semantics; --resolve also opens the models and checks"
                    + " tensor names, shapes and dtypes, reporting every problem at once.")
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "RECIPE.yml")
        Path recipe;

        @Option(names = "--resolve", description = "open the models and plan the merge")
        boolean resolve;

        @Override
        public Integer call() throws IOException {
            var out = spec.commandLine().getOut();
            Recipe r;
            try {
                r = RecipeParser.parse(recipe);
            } catch (RecipeException e) {
                throw new CliException(e.getMessage());
            }
            var result = RecipeChecker.check(r);
            for (String note : result.notes()) out.println("note: " + note);
            if (!result.ok()) throw new CliException(new RecipeException(r.source(), result.problems()).getMessage());
            out.printf("ok: %s, %s, %d model(s)%n", recipe, r.mergeMethod(), RecipeModels.referenced(r).size());
            out.print(RecipeYaml.write(r, r.randomSeed())); // the recipe as it was understood
            out.flush();
            if (resolve) {
                try {
                    MergePlan plan = MergeEngine.resolve(r, ModelResolver.local());
                    out.printf("resolved: architecture %s, %d output tensors, %d layers%n",
                            plan.architecture().name(), plan.tensors().size(), plan.outputLayers());
                    if (plan.roundedInputs() > 0) {
                        // mergekit's dtype semantics, easy to miss with F32 checkpoints: say it
                        out.printf("dtype %s: %d of %d input tensors are rounded to it before merging"
                                        + " (for full precision: dtype: float32 with out_dtype)%n",
                                r.dtype(), plan.roundedInputs(), plan.inputTensors());
                    }
                } catch (RecipeException | SafetensorsFormatException e) {
                    throw new CliException(e.getMessage());
                }
            }
            return 0;
        }
    }

    /** {@code amalgam recipe methods}: the methods table, from the methods' own declarations. */
    @Command(name = "methods", mixinStandardHelpOptions = true,
            description = "List the merge methods with their parameters and defaults (Markdown).")
    static final class Methods implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().print(MethodTable.markdown());
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
