package dev.amalgam.api;

import dev.amalgam.api.auth.CurrentCaller;
import dev.amalgam.api.auth.RequiresRole;
import dev.amalgam.registry.GateService;
import dev.amalgam.registry.ModelRef;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.Role;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;

/** {@code POST /api/v1/gate}: the gate for pipelines that only have the files (their root digest). */
@Path("/api/v1/gate")
@Produces(MediaType.APPLICATION_JSON)
public class GateResource {
    @Inject
    GateService gates;

    @Inject
    CurrentCaller caller;

    /** Body: the OMS root digest ({@code amalgam digest DIR}) and the environment. */
    public record GateRequest(String digest, String env) {
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.DEPLOYER)
    @Operation(summary = "Gate by root digest: allow/deny for env; an unknown digest is a 404")
    public GateService.GateDecision gate(GateRequest req) {
        if (req == null || req.digest() == null) {
            throw RegistryException.badRequest("body must be {\"digest\": \"sha256:...\", \"env\": \"...\"}");
        }
        ModelRef ref = ModelRef.parse(req.digest());
        if (!(ref instanceof ModelRef.ByDigest)) {
            throw RegistryException.badRequest("digest must be sha256:<64 hex digits>");
        }
        return gates.gate(ref, req.env(), caller.get());
    }
}
