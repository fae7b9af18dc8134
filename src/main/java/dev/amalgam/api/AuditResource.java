package dev.amalgam.api;

import dev.amalgam.api.auth.RequiresRole;
import dev.amalgam.registry.AuditService;
import dev.amalgam.registry.Role;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;

import java.io.IOException;

/** {@code GET /api/v1/audit}: re-verifies ledger, checkpoints, blobs, signatures and database against ledger. */
@Path("/api/v1/audit")
@Produces(MediaType.APPLICATION_JSON)
@RequiresRole(Role.ADMIN)
public class AuditResource {
    @Inject
    AuditService audit;

    @GET
    @Operation(summary = "Audit everything; clean=false lists each problem (which entry, which blob, which model)")
    public AuditService.AuditReport audit() throws IOException {
        return audit.audit();
    }
}
