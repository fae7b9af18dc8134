package dev.amalgam.policy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

import static dev.amalgam.policy.LicenseProblem.Kind;

/**
 * Combines the licenses of a merge's inputs: the merge is under the AND of its inputs' licenses.
 * Each input's expression is expanded into its OR alternatives; the first assignment of
 * alternatives (in the order written) that has no problem for the target is chosen and the choice
 * recorded. When none works, the assignment with the fewest problems is reported.
 *
 * <p>Problems of one input: unknown license, no-derivatives, non-commercial (for a commercial
 * target), excluded region, user cap, explicitly denied. Conflicts between two inputs with
 * different licenses: share-alike or own-license-only against a license whose terms the
 * derivative could not honour ({@link LicenseInfo#fitsInside}), name prefixes neither of which starts the other, and Llama 2's
 * ban on improving other models.
 */
public final class LicenseCombiner {
    /** Bound on OR alternatives tried, so hostile expressions cannot explode. */
    static final int MAX_ASSIGNMENTS = 4096;

    private final LicenseCatalogue catalogue;

    public LicenseCombiner(LicenseCatalogue catalogue) {
        this.catalogue = catalogue;
    }

    private record Term(String input, LicenseExpression expression, LicenseInfo info) {
        String label() {
            return input + " (" + expression + ")";
        }
    }

    /** Combines {@code inputs} for {@code target}. */
    public LicenseCombination combine(List<LicenseInput> inputs, LicenseTarget target) {
        if (inputs.isEmpty()) return refused(new LicenseProblem(Kind.UNKNOWN_LICENSE, "(no inputs)", null,
                "no license given: nothing to combine"));
        List<List<List<Term>>> alternatives = new ArrayList<>();
        long assignments = 1;
        for (LicenseInput in : inputs) {
            List<List<Term>> alts = expand(in);
            assignments *= Math.max(1, alts.size());
            if (alts.isEmpty() || assignments > MAX_ASSIGNMENTS) {
                return refused(new LicenseProblem(Kind.UNKNOWN_LICENSE, in.name(), null,
                        "license expressions have more than " + MAX_ASSIGNMENTS + " OR combinations; simplify them"));
            }
            alternatives.add(alts);
        }

        // try assignments in the order written; keep the first without problems, else the fewest
        int[] pick = new int[inputs.size()];
        int[] best = null;
        List<LicenseProblem> bestProblems = null;
        do {
            List<LicenseProblem> problems = problems(chosen(alternatives, pick), target);
            if (bestProblems == null || problems.size() < bestProblems.size()) {
                best = pick.clone();
                bestProblems = problems;
            }
        } while (!bestProblems.isEmpty() && advance(pick, alternatives));
        return result(inputs, alternatives, best, bestProblems);
    }

    /** The input's OR alternatives as lists of catalogue-resolved terms; empty if there are too many. */
    private List<List<Term>> expand(LicenseInput in) {
        List<List<LicenseExpression>> expanded;
        try {
            expanded = dnf(catalogue.canonicalize(in.expression()));
        } catch (IllegalArgumentException tooMany) {
            return List.of();
        }
        return expanded.stream().map(conj -> conj.stream()
                .map(t -> new Term(in.name(), t, catalogue.find(t).orElse(null))).toList()).toList();
    }

    private static LicenseCombination refused(LicenseProblem p) {
        return new LicenseCombination(false, Optional.empty(), List.of(), Obligations.NONE, List.of(p),
                List.of(p.message()));
    }

    private static LicenseCombination result(List<LicenseInput> inputs, List<List<List<Term>>> alternatives,
                                             int[] best, List<LicenseProblem> problems) {
        List<OrChoice> choices = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            LicenseInput in = inputs.get(i);
            List<Term> alt = alternatives.get(i).get(best[i]);
            String altText = LicenseExpression.and(alt.stream().map(Term::expression).toList()).toString();
            if (alternatives.get(i).size() == 1) {
                reasons.add("input " + in.name() + ": " + altText);
                continue;
            }
            String why = !problems.isEmpty()
                    ? "no alternative satisfies the environment; showing the one with the fewest problems"
                    : best[i] == 0 ? "first alternative satisfies the environment"
                    : "earlier alternatives do not satisfy the environment or conflict with other inputs";
            choices.add(new OrChoice(in.name(), in.expression().toString(), altText, why));
            reasons.add("input " + in.name() + ": chose " + altText + " from " + in.expression() + " (" + why + ")");
        }
        for (LicenseProblem p : problems) reasons.add(p.message());

        List<Term> chosen = chosen(alternatives, best);
        Set<LicenseExpression> distinct = new LinkedHashSet<>();
        for (Term t : chosen) distinct.add(t.expression());
        LicenseExpression expression = LicenseExpression.and(List.copyOf(distinct));
        reasons.add("combined license: " + expression);
        return new LicenseCombination(problems.isEmpty(), Optional.of(expression), choices, obligations(chosen),
                problems, reasons);
    }

    private static List<Term> chosen(List<List<List<Term>>> alternatives, int[] pick) {
        List<Term> out = new ArrayList<>();
        for (int i = 0; i < pick.length; i++) out.addAll(alternatives.get(i).get(pick[i]));
        return out;
    }

    /** Odometer over the alternatives, last input fastest: earlier-written branches are tried first. */
    private static boolean advance(int[] pick, List<List<List<Term>>> alternatives) {
        for (int i = pick.length - 1; i >= 0; i--) {
            if (++pick[i] < alternatives.get(i).size()) return true;
            pick[i] = 0;
        }
        return false;
    }

    /** Disjunctive normal form: a list of alternatives, each a list of terms that all apply. */
    static List<List<LicenseExpression>> dnf(LicenseExpression e) {
        return switch (e) {
            case LicenseExpression.License l -> List.of(List.of(l));
            case LicenseExpression.With w -> List.of(List.of(w));
            case LicenseExpression.Or o -> {
                List<List<LicenseExpression>> out = new ArrayList<>(dnf(o.left()));
                out.addAll(dnf(o.right()));
                if (out.size() > MAX_ASSIGNMENTS) throw new IllegalArgumentException("too many OR alternatives");
                yield out;
            }
            case LicenseExpression.And a -> {
                List<List<LicenseExpression>> out = new ArrayList<>();
                for (List<LicenseExpression> l : dnf(a.left())) {
                    for (List<LicenseExpression> r : dnf(a.right())) {
                        List<LicenseExpression> both = new ArrayList<>(l);
                        both.addAll(r);
                        out.add(both);
                        if (out.size() > MAX_ASSIGNMENTS) throw new IllegalArgumentException("too many OR alternatives");
                    }
                }
                yield out;
            }
        };
    }

    private static List<LicenseProblem> problems(List<Term> terms, LicenseTarget target) {
        List<LicenseProblem> out = new ArrayList<>();
        for (Term t : terms) single(t, target, out);
        for (int i = 0; i < terms.size(); i++) {
            for (int j = i + 1; j < terms.size(); j++) {
                Term a = terms.get(i), b = terms.get(j);
                if (a.input().equals(b.input()) || a.info() == null || b.info() == null) continue;
                if (a.info().id().equals(b.info().id())) continue;
                pair(a, b, out);
            }
        }
        return out;
    }

    private static void single(Term t, LicenseTarget target, List<LicenseProblem> out) {
        LicenseInfo i = t.info();
        if (i == null) {
            out.add(new LicenseProblem(Kind.UNKNOWN_LICENSE, t.label(), null,
                    "input " + t.label() + ": license '" + t.expression() + "' is not in the license catalogue; add it to licenses.yaml"));
            return;
        }
        if (!i.resolved()) {
            out.add(new LicenseProblem(Kind.UNKNOWN_LICENSE, t.label(), null,
                    "input " + t.label() + ": license is unknown (" + i.name() + "); add it to licenses.yaml or fix the model's license"));
            return;
        }
        if (target.denies(i.id())) {
            out.add(new LicenseProblem(Kind.NOT_ALLOWED, t.label(), null,
                    "input " + t.label() + " is under a license this environment denies"));
        }
        if (i.noDerivatives().value()) {
            out.add(new LicenseProblem(Kind.NO_DERIVATIVES, t.label(), null,
                    "input " + t.label() + " forbids sharing derivatives, and a merge is one ("
                            + i.noDerivatives().source() + ")"));
        }
        if (target.commercial() && !i.allowsCommercialUse()) {
            Fact<Boolean> why = i.nonCommercial().value() ? i.nonCommercial() : i.commercialUse();
            out.add(new LicenseProblem(Kind.NON_COMMERCIAL, t.label(), null,
                    "input " + t.label() + " does not allow commercial use, which the environment requires ("
                            + why.source() + ")"));
        }
        if (target.region() != null && i.excludedRegionList().contains(target.region())) {
            out.add(new LicenseProblem(Kind.REGION, t.label(), null,
                    "input " + t.label() + " grants no license in region " + target.region()
                            + " (" + i.excludedRegions().orElseThrow().source() + ")"));
        }
        if (i.userCap().isPresent() && target.users() > i.userCap().get().value()) {
            out.add(new LicenseProblem(Kind.USER_CAP, t.label(), null,
                    "input " + t.label() + " covers at most " + i.userCap().get().value()
                            + " monthly active users but the environment expects " + target.users()
                            + " (" + i.userCap().get().source() + ")"));
        }
    }

    private static void pair(Term a, Term b, List<LicenseProblem> out) {
        LicenseInfo x = a.info(), y = b.info();
        if (!x.resolved() || !y.resolved()) return;
        if (x.shareAlike().value() && !y.fitsInside(x) || y.shareAlike().value() && !x.fitsInside(y)) {
            Term sa = x.shareAlike().value() && !y.fitsInside(x) ? a : b, other = sa == a ? b : a;
            out.add(new LicenseProblem(Kind.SHARE_ALIKE, sa.label(), other.label(),
                    "conflict: " + sa.label() + " is share-alike: the merge must be under " + sa.info().id()
                            + ", which cannot carry the further terms of " + other.label()));
        } else if (x.ownLicenseOnly().value() && !y.fitsInside(x) || y.ownLicenseOnly().value() && !x.fitsInside(y)) {
            Term own = x.ownLicenseOnly().value() && !y.fitsInside(x) ? a : b, other = own == a ? b : a;
            out.add(new LicenseProblem(Kind.OWN_LICENSE_ONLY, own.label(), other.label(),
                    "conflict: derivatives of " + own.label() + " must keep exactly " + own.info().id()
                            + ", which cannot carry the terms of " + other.label()));
        }
        if (x.namePrefix().isPresent() && y.namePrefix().isPresent()) {
            String p = x.namePrefix().get().value(), q = y.namePrefix().get().value();
            if (!p.startsWith(q) && !q.startsWith(p)) {
                out.add(new LicenseProblem(Kind.NAME_PREFIX, a.label(), b.label(),
                        "conflict: " + a.label() + " requires names to begin with '" + p + "' but "
                                + b.label() + " requires '" + q + "'"));
            }
        }
        if (x.forbidsImprovingOtherModels() || y.forbidsImprovingOtherModels()) {
            Term bound = x.forbidsImprovingOtherModels() ? a : b, other = bound == a ? b : a;
            out.add(new LicenseProblem(Kind.IMPROVE_OTHER_MODELS, bound.label(), other.label(),
                    "conflict: " + bound.label() + " may not be used to improve another model, but "
                            + other.label() + " is under a different license ("
                            + bound.info().noImprovingOtherModels().orElseThrow().source() + ")"));
        }
    }

    private static Obligations obligations(List<Term> terms) {
        Set<String> licenses = new LinkedHashSet<>(), attributions = new LinkedHashSet<>(),
                notices = new LinkedHashSet<>(), flowDown = new LinkedHashSet<>(), regions = new LinkedHashSet<>();
        String prefix = null;
        long cap = Long.MAX_VALUE;
        for (Term t : terms) {
            LicenseInfo i = t.info();
            if (i == null) continue;
            licenses.add(i.id());
            i.attribution().ifPresent(f -> attributions.add(f.value()));
            i.notice().ifPresent(f -> notices.add(f.value()));
            flowDown.addAll(i.flowDownRestrictions());
            regions.addAll(i.excludedRegionList());
            if (i.namePrefix().isPresent()) {
                String p = i.namePrefix().get().value();
                if (prefix == null || p.length() > prefix.length()) prefix = p;
            }
            if (i.userCap().isPresent()) cap = Math.min(cap, i.userCap().get().value());
        }
        return new Obligations(List.copyOf(licenses), List.copyOf(attributions), List.copyOf(notices),
                Optional.ofNullable(prefix), List.copyOf(flowDown),
                cap == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(cap), List.copyOf(regions));
    }
}
