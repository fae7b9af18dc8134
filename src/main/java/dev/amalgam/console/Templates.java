package dev.amalgam.console;

import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;

import java.util.List;

/** The console's Qute templates (src/main/resources/templates/console); HTML templates escape every value. */
@CheckedTemplate(basePath = "console", requireTypeSafeExpressions = false)
final class Templates {
    private Templates() {
    }

    static native TemplateInstance signIn(Chrome chrome, String signin, String error);

    static native TemplateInstance error(Chrome chrome, int status, String message, List<String> reasons);

    static native TemplateInstance models(Chrome chrome, ModelPages.Filter filter, List<ModelPages.Row> rows, String next);

    static native TemplateInstance model(Chrome chrome, ModelPages.Detail d);

    static native TemplateInstance gate(Chrome chrome, ModelPages.GateResult g);

    static native TemplateInstance merges(Chrome chrome, List<MergePages.Row> rows);

    static native TemplateInstance merge(Chrome chrome, MergePages.Detail d);

    static native TemplateInstance ledger(Chrome chrome, LedgerPages.Overview l);

    static native TemplateInstance entry(Chrome chrome, LedgerPages.Entry e);

    static native TemplateInstance audit(Chrome chrome, LedgerPages.Audit a);

    static native TemplateInstance principals(Chrome chrome, List<PrincipalPages.Row> rows, PrincipalPages.Created created,
                                               List<String> roles);
}
