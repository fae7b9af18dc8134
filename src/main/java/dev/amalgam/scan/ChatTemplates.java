package dev.amalgam.scan;

import dev.amalgam.scan.jinja.TemplateJudge;
import dev.amalgam.scan.jinja.TemplateSyntaxError;

import java.util.List;

/**
 * Chat templates, judged on their syntax tree by our strict Jinja parser wherever they live:
 * {@code tokenizer_config.json}, {@code chat_template.json}, {@code *.jinja} files and GGUF
 * {@code tokenizer.chat_template} metadata (transformers renders them in an
 * {@code ImmutableSandboxedEnvironment}; a sandbox escape needs Python internals, which the judge
 * reports however they are reached).
 */
final class ChatTemplates {
    private ChatTemplates() {
    }

    static void judge(String template, String file, List<Finding> out) {
        List<TemplateJudge.Violation> found;
        try {
            found = TemplateJudge.judge(template);
        } catch (TemplateSyntaxError e) {
            out.add(new Finding(file, Rule.UNSCANNABLE_TEMPLATE,
                    "the chat template is not one our strict Jinja parser accepts, so it cannot be judged", e.getMessage()));
            return;
        } catch (RuntimeException e) { // a parser bug must fail closed, never pass
            out.add(new Finding(file, Rule.UNSCANNABLE_TEMPLATE, "the chat template could not be analysed", null));
            return;
        }
        for (TemplateJudge.Violation v : found) {
            out.add(new Finding(file, Rule.TEMPLATE_SANDBOX_ESCAPE, "the chat template reaches Python internals (Jinja sandbox escape): "
                    + v.what(), "line " + v.line()));
        }
    }
}
