package dev.amalgam.registry;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/** What a principal may do. {@code admin} may do everything. */
public enum Role {
    ADMIN, SUBMITTER, REVIEWER, DEPLOYER, READER;

    @JsonValue
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    @JsonCreator
    public static Role parse(String s) {
        for (Role r : values()) {
            if (r.id().equals(s.trim().toLowerCase(Locale.ROOT))) return r;
        }
        throw new IllegalArgumentException("unknown role '" + s.trim()
                + "' (known: admin, submitter, reviewer, deployer, reader)");
    }

    /** Parses a comma-separated list; at least one role. */
    public static Set<Role> parseList(String csv) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        if (csv != null) {
            for (String part : csv.split(",")) {
                if (!part.isBlank()) roles.add(parse(part));
            }
        }
        if (roles.isEmpty()) throw new IllegalArgumentException("at least one role is required");
        return roles;
    }

    public static String format(Set<Role> roles) {
        return roles.stream().sorted().map(Role::id).collect(Collectors.joining(","));
    }
}
