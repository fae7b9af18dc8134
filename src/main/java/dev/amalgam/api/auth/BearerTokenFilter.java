package dev.amalgam.api.auth;

import dev.amalgam.api.Problem;
import dev.amalgam.registry.Caller;
import dev.amalgam.registry.PrincipalService;
import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.ext.Provider;

import java.util.Optional;

/**
 * Every {@code /api/v1} request needs {@code Authorization: Bearer <token>}: 401 without a valid
 * token, 403 when the caller lacks the endpoint's {@link RequiresRole}; both as problem+json.
 */
@Provider
@Priority(Priorities.AUTHENTICATION)
public class BearerTokenFilter implements ContainerRequestFilter {
    @Inject
    PrincipalService principals;

    @Inject
    CurrentCaller current;

    @Context
    ResourceInfo resource;

    @Override
    public void filter(ContainerRequestContext ctx) {
        String path = ctx.getUriInfo().getPath();
        if (!path.startsWith("/api/")) return;
        Optional<Caller> caller = bearer(ctx.getHeaderString(HttpHeaders.AUTHORIZATION))
                .flatMap(principals::authenticate);
        if (caller.isEmpty()) {
            ctx.abortWith(Problem.response(401, "Unauthorized",
                    "a valid bearer token is required (Authorization: Bearer <token>)",
                    path)
                    .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"amalgam\"").build());
            return;
        }
        RequiresRole need = required();
        if (need != null && !caller.get().may(need.value())) {
            ctx.abortWith(Problem.response(403, "Forbidden",
                    "principal '" + caller.get().name() + "' lacks the role '" + need.value().id()
                            + "' this operation needs", path).build());
            return;
        }
        current.set(caller.get());
    }

    private RequiresRole required() {
        if (resource == null || resource.getResourceMethod() == null) return null;
        RequiresRole r = resource.getResourceMethod().getAnnotation(RequiresRole.class);
        return r != null ? r : resource.getResourceClass().getAnnotation(RequiresRole.class);
    }

    static Optional<String> bearer(String header) {
        if (header == null) return Optional.empty();
        String h = header.trim();
        if (h.length() < 7 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return Optional.empty();
        String token = h.substring(7).trim();
        return token.isEmpty() ? Optional.empty() : Optional.of(token);
    }
}
