package dev.amalgam.console;

import dev.amalgam.policy.Fact;
import dev.amalgam.policy.LicenseCatalogue;
import dev.amalgam.policy.LicenseExpression;
import dev.amalgam.policy.LicenseExpressionParser;
import dev.amalgam.policy.LicenseInfo;

import java.util.ArrayList;
import java.util.List;

/** A license expression as the console shows it: each term with its class and the obligations the catalogue records. */
final class LicenseTerms {
    private LicenseTerms() {
    }

    /** One license of an expression, with what it asks of whoever ships a derivative. */
    record Term(String id, String name, String klass, List<String> obligations) {
    }

    /** The worst class of an expression's terms: non-commercial, unknown, restricted, copyleft, permissive. */
    static String klass(LicenseCatalogue catalogue, String expression) {
        List<Term> terms = terms(catalogue, expression);
        for (String k : List.of("non-commercial", "unknown", "restricted", "copyleft")) {
            if (terms.stream().anyMatch(t -> t.klass().equals(k))) return k;
        }
        return terms.isEmpty() ? "unknown" : "permissive";
    }

    static List<Term> terms(LicenseCatalogue catalogue, String expression) {
        List<LicenseExpression> leaves = new ArrayList<>();
        try {
            collect(LicenseExpressionParser.parse(expression), leaves);
        } catch (IllegalArgumentException e) {
            return List.of(new Term(expression, "not a license expression", "unknown", List.of()));
        }
        List<Term> out = new ArrayList<>();
        for (LicenseExpression leaf : leaves) {
            var info = catalogue.find(leaf);
            out.add(info.map(i -> term(leaf.toString(), i))
                    .orElseGet(() -> new Term(leaf.toString(), "not in the license catalogue", "unknown",
                            List.of("unknown to the catalogue: every gate denies it"))));
        }
        return out;
    }

    private static Term term(String id, LicenseInfo i) {
        List<String> ob = new ArrayList<>();
        i.attribution().ifPresent(f -> ob.add("attribution: " + f.value()));
        i.notice().ifPresent(f -> ob.add("notice: " + f.value()));
        i.namePrefix().ifPresent(f -> ob.add("derivative names must start with '" + f.value() + "'"));
        i.userCap().ifPresent(f -> ob.add("covers at most " + f.value() + " monthly active users"));
        i.flowDown().ifPresent(f -> ob.add("use restrictions passed on to every user: " + String.join("; ", f.value())));
        if (i.forbidsImprovingOtherModels()) ob.add("may not be used to improve models under other licenses");
        if (!i.excludedRegionList().isEmpty()) ob.add("not granted in: " + String.join(", ", i.excludedRegionList()));
        if (on(i.shareAlike())) ob.add("share-alike: derivatives under the same terms");
        if (on(i.ownLicenseOnly())) ob.add("derivatives must be distributed under this license only");
        if (on(i.noDerivatives())) ob.add("no derivatives");
        if (!i.allowsCommercialUse()) ob.add("no commercial use");
        return new Term(id, i.name(), klass(i), ob);
    }

    private static String klass(LicenseInfo i) {
        if (!i.resolved()) return "unknown";
        if (!i.allowsCommercialUse() || on(i.noDerivatives())) return "non-commercial";
        if (i.namePrefix().isPresent() || i.flowDown().isPresent() || i.userCap().isPresent()
                || on(i.ownLicenseOnly()) || i.forbidsImprovingOtherModels()) return "restricted";
        if (on(i.shareAlike())) return "copyleft";
        return "permissive";
    }

    private static boolean on(Fact<Boolean> f) {
        return f != null && Boolean.TRUE.equals(f.value());
    }

    private static void collect(LicenseExpression e, List<LicenseExpression> out) {
        switch (e) {
            case LicenseExpression.And a -> {
                collect(a.left(), out);
                collect(a.right(), out);
            }
            case LicenseExpression.Or o -> {
                collect(o.left(), out);
                collect(o.right(), out);
            }
            default -> out.add(e);
        }
    }
}
