package dev.amalgam.api;

import dev.amalgam.BuildInfo;
import dev.amalgam.registry.RegistryInfo;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;

/** {@code GET /api/v1/info}: what is running and where its state lives. */
@Path("/api/v1/info")
@Produces(MediaType.APPLICATION_JSON)
public class InfoResource {
    @Inject
    RegistryInfo info;

    /** The response body. */
    public record Info(String version, String commit, String database, String dataDirectory,
                       String ledgerHead) {
    }

    @GET
    @Operation(summary = "Version, git commit, database kind, data directory and ledger head")
    public Info get() {
        BuildInfo b = BuildInfo.current();
        return new Info(b.version(), b.commit(), info.databaseKind(), info.dataDirectory().toString(),
                info.ledgerHead().orElse(null));
    }
}
