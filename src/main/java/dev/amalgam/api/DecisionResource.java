package dev.amalgam.api;

import dev.amalgam.registry.GateService;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;

import java.io.IOException;

/** Signed gate decisions, for anyone who must prove later what the gate said. */
@Path("/api/v1/decisions")
public class DecisionResource {
    @Inject
    GateService gates;

    @GET
    @Path("/{id}/statement")
    @Produces("application/vnd.in-toto+json")
    @Operation(summary = "The gate decision as an SLSA verification summary (DSSE envelope signed by the registry key)")
    public Response statement(@PathParam("id") long id) throws IOException {
        return Response.ok(gates.statement(id), "application/vnd.in-toto+json").build();
    }
}
