package dev.amalgam.scan;

import java.util.List;
import java.util.regex.Pattern;

/** Chat templates (Jinja), judged wherever they live (to be replaced by a syntax-tree judge). */
final class ChatTemplates {
    private static final Pattern JINJA_ESCAPE = Pattern.compile(
            "__(class|mro|subclasses|globals|builtins|import|init|base|bases|code|dict|getattribute|reduce|reduce_ex)__");

    private ChatTemplates() {
    }

    static void judge(String template, String file, List<Finding> out) {
        var m = JINJA_ESCAPE.matcher(template);
        if (m.find()) {
            out.add(new Finding(file, Rule.TEMPLATE_SANDBOX_ESCAPE, "the chat template reaches Python internals", m.group()));
        }
    }
}
