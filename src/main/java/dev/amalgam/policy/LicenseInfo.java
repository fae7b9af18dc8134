package dev.amalgam.policy;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the catalogue knows about one model license: its id (SPDX or {@code LicenseRef-…}), the
 * Hub ids and {@code license_name} aliases that mean it, and the facts that matter when a model
 * under it is merged, released or deployed, each with its source.
 *
 * @param resolved false for placeholders such as {@code unknown}/{@code other}: nothing is known,
 *                 so every gate denies them
 * @param ownLicenseOnly derivatives must be distributed under exactly this license
 * @param namePrefix a derivative model's name must start with this
 * @param flowDown use-based restrictions that must be passed on to every downstream user
 * @param userCap the largest number of monthly active users the grant covers
 * @param noImprovingOtherModels the model (or its output) may not be used to improve a model under another license
 * @param excludedRegions regions (ISO 3166 codes or {@code EU}) whose residents are not granted the license
 */
public record LicenseInfo(
        String id, String name, String text, List<String> hubIds, List<String> aliases, boolean resolved,
        Fact<Boolean> commercialUse, Fact<Boolean> nonCommercial, Fact<Boolean> noDerivatives,
        Fact<Boolean> shareAlike, Fact<Boolean> ownLicenseOnly,
        Optional<Fact<String>> namePrefix, Optional<Fact<String>> attribution, Optional<Fact<String>> notice,
        Optional<Fact<List<String>>> flowDown, Optional<Fact<Long>> userCap,
        Optional<Fact<Boolean>> noImprovingOtherModels, Optional<Fact<List<String>>> excludedRegions) {

    public LicenseInfo {
        Objects.requireNonNull(id, "id");
        hubIds = List.copyOf(hubIds);
        aliases = List.copyOf(aliases);
    }

    /** A placeholder about which nothing is known; every gate denies it. */
    static LicenseInfo unresolved(String id, String name) {
        Fact<Boolean> no = new Fact<>(false, "nothing is known: treated as all rights reserved");
        Fact<Boolean> yes = new Fact<>(true, "nothing is known: treated as all rights reserved");
        return new LicenseInfo(id, name, "https://spdx.org/licenses/", List.of(), List.of(), false,
                no, no, yes, no, yes, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty());
    }

    public boolean allowsCommercialUse() {
        return resolved && commercialUse.value() && !nonCommercial.value();
    }

    public boolean forbidsImprovingOtherModels() {
        return noImprovingOtherModels.map(Fact::value).orElse(false);
    }

    public List<String> flowDownRestrictions() {
        return flowDown.map(Fact::value).orElse(List.of());
    }

    public List<String> excludedRegionList() {
        return excludedRegions.map(Fact::value).orElse(List.of());
    }

    /**
     * Whether a derivative licensed under {@code host} (a share-alike or own-license-only
     * license) can still honour every term of this license: true only for terms no stronger
     * than attribution, plus non-commercial when the host is non-commercial too.
     */
    boolean fitsInside(LicenseInfo host) {
        return resolved && !ownLicenseOnly.value() && !shareAlike.value() && !noDerivatives.value()
                && flowDownRestrictions().isEmpty() && userCap.isEmpty() && namePrefix.isEmpty()
                && !forbidsImprovingOtherModels() && excludedRegionList().isEmpty()
                && (allowsCommercialUse() || !host.allowsCommercialUse());
    }
}
