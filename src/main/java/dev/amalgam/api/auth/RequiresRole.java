package dev.amalgam.api.auth;

import dev.amalgam.registry.Role;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The role an endpoint needs (on the method, or on the resource class for all its methods).
 * An {@code /api/v1} endpoint without it still needs a valid token: reading is for every principal.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface RequiresRole {
    Role value();
}
