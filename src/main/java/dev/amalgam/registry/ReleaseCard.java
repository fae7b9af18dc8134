package dev.amalgam.registry;

import dev.amalgam.merge.ModelCard;
import dev.amalgam.policy.LicenseCatalogue;
import dev.amalgam.policy.LicenseCombination;
import dev.amalgam.policy.LicenseExpression;
import dev.amalgam.policy.LicenseInfo;
import dev.amalgam.registry.entity.MergeJob;
import dev.amalgam.registry.entity.Model;
import org.hibernate.Session;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Hub conventions of a release's {@code MODEL_CARD.md}: its front matter (the model's direct
 * ancestors as {@code base_model}, the relation, the license as a Hub id or {@code other} with the
 * expression and the bundle's license index) and the recipe section of a merge.
 */
final class ReleaseCard {
    /** The bundle file listing every license involved; {@code license_link} of an expression points here. */
    static final String LICENSES_INDEX = "LICENSES.md";

    private ReleaseCard() {
    }

    static String frontMatter(Model m, LicenseCombination c, LineageService.Lineage up, LicenseCatalogue catalogue,
                              Session session) {
        boolean merge = m.origin.equals("merge");
        List<String> bases = new ArrayList<>();
        String relation = merge ? "merge" : null;
        for (LineageService.Edge e : up.edges()) {
            if (e.child() != m.id) continue;
            if (!merge && relation == null) relation = e.method();
            Model parent = session.find(Model.class, e.parent());
            String name = parent.hubSource != null ? ModelCard.hubBaseModel(parent.hubSource) : parent.name;
            if (!bases.contains(name)) bases.add(name);
        }
        for (LineageService.Declared d : up.declared()) {
            if (d.model() != m.id || d.resolved() != null) continue;
            if (relation == null) relation = d.relation();
            String name = ModelCard.hubBaseModel(d.hubId());
            if (!bases.contains(name)) bases.add(name); // declared by the card, not registered here
        }
        String license;
        String licenseName = null;
        String licenseLink = null;
        Optional<LicenseExpression> expr = c.expression();
        Optional<LicenseInfo> single = expr.filter(x -> x instanceof LicenseExpression.License l && !l.orLater())
                .flatMap(catalogue::find);
        if (expr.isEmpty() && catalogue.find(m.license).isPresent()) single = catalogue.find(m.license);
        if (single.isPresent() && single.get().resolved() && !single.get().hubIds().isEmpty()
                && !single.get().hubIds().getFirst().equals("other")) {
            license = single.get().hubIds().getFirst();
            licenseLink = single.get().text();
        } else {
            license = "other";
            licenseName = expr.map(Object::toString).orElse(m.license);
            licenseLink = dev.amalgam.provenance.ModelHasher.BUNDLE_FOLDER + "/" + LICENSES_INDEX;
        }
        List<String> tags = merge ? ModelCard.MERGE_TAGS : List.of("amalgam");
        return ModelCard.frontMatter(new ModelCard.FrontMatter(bases, bases.isEmpty() ? null : relation, license,
                licenseName, licenseLink, tags, "transformers"));
    }

    /** The merge's method with its reference and its recipe; empty for a source model. */
    static String recipe(MergeJob job) {
        if (job == null) return "";
        return "\n## Recipe\n\nMethod: " + ModelCard.methodReference(job.method) + ".\n\n```yaml\n" + job.recipe
                + (job.recipe.endsWith("\n") ? "" : "\n") + "```\n";
    }

    /** LICENSES.md: one line per license file of the bundle. */
    static String licensesIndex(List<String[]> licenses) {
        StringBuilder b = new StringBuilder("# Licenses\n\nThis model is distributed under the terms of every license below"
                + " (the card's license_name is their SPDX expression).\n\n");
        for (String[] l : licenses) {
            String first = l[1].lines().findFirst().orElse(l[0]);
            b.append("- [").append(first).append("](").append(l[0]).append(")\n");
        }
        return b.toString();
    }
}
