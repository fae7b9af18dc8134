package dev.amalgam.policy;

import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What an environment needs from a license: commercial use, the region it serves, how many
 * monthly active users it reaches, and licenses it refuses outright.
 *
 * @param region ISO 3166 code or {@code EU}, or null when the environment names none
 * @param users expected monthly active users, 0 when not stated
 * @param denied license ids (catalogue ids, any case) the environment never accepts
 */
public record LicenseTarget(boolean commercial, String region, long users, Set<String> denied) {
    /** No commercial use, no region, no users: only the environment-independent conflicts apply. */
    public static final LicenseTarget ANY = new LicenseTarget(false, null, 0);

    public LicenseTarget {
        if (users < 0) throw new IllegalArgumentException("users must not be negative");
        region = region == null || region.isBlank() ? null : region.strip().toUpperCase(Locale.ROOT);
        denied = denied.stream().map(s -> s.toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    }

    public LicenseTarget(boolean commercial, String region, long users) {
        this(commercial, region, users, Set.of());
    }

    boolean denies(String licenseId) {
        return denied.contains(licenseId.toLowerCase(Locale.ROOT));
    }
}
