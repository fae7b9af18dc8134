package dev.amalgam.api;

import dev.amalgam.api.auth.CurrentCaller;
import dev.amalgam.api.auth.RequiresRole;
import dev.amalgam.registry.PrincipalService;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.Role;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import org.eclipse.microprofile.openapi.annotations.Operation;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Principals and their bearer tokens (admin only). */
@Path("/api/v1/tokens")
@Produces(MediaType.APPLICATION_JSON)
@RequiresRole(Role.ADMIN)
public class TokenResource {
    @Inject
    PrincipalService principals;

    @Inject
    CurrentCaller caller;

    /** Request body of {@code POST /api/v1/tokens}. */
    public record CreateRequest(String name, List<String> roles) {
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Create a principal with roles; the response shows its token once")
    public Response create(CreateRequest req) {
        if (req == null || req.name() == null) {
            throw RegistryException.badRequest("body must be {\"name\": ..., \"roles\": [...]}");
        }
        Set<Role> roles = EnumSet.noneOf(Role.class);
        try {
            for (String r : req.roles() == null ? List.<String>of() : req.roles()) roles.add(Role.parse(r));
        } catch (IllegalArgumentException e) {
            throw RegistryException.badRequest(e.getMessage());
        }
        if (roles.isEmpty()) {
            throw RegistryException.badRequest("at least one role is required");
        }
        var created = principals.create(req.name(), roles, caller.get().name());
        return Response.created(UriBuilder.fromPath("/api/v1/tokens/{name}").build(req.name()))
                .entity(created).build();
    }

    @GET
    @Operation(summary = "List principals (never their tokens)")
    public List<PrincipalService.PrincipalView> list() {
        return principals.list();
    }

    @DELETE
    @Path("/{name}")
    @Operation(summary = "Revoke a principal's token")
    public PrincipalService.PrincipalView revoke(@PathParam("name") String name) {
        return principals.revoke(name, caller.get().name());
    }
}
