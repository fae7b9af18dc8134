package dev.amalgam.registry;

import java.util.Set;

/** An authenticated API caller. */
public record Caller(String name, Set<Role> roles) {
    public Caller {
        roles = Set.copyOf(roles);
    }

    /** True when the caller holds the role, or is admin (admin may do everything). */
    public boolean may(Role role) {
        return roles.contains(Role.ADMIN) || roles.contains(role);
    }
}
