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
                       String ledgerHead, String sbom) {
    }

    /** The service's own CycloneDX SBOM, written at build time by the CycloneDX Maven plugin. */
    static final String SBOM_RESOURCE = "META-INF/sbom/amalgam.cdx.json";

    @GET
    @Operation(summary = "Version, git commit, database kind, data directory and ledger head")
    public Info get() {
        BuildInfo b = BuildInfo.current();
        return new Info(b.version(), b.commit(), info.databaseKind(), info.dataDirectory().toString(),
                info.ledgerHead().orElse(null),
                InfoResource.class.getClassLoader().getResource(SBOM_RESOURCE) == null ? null : "/api/v1/info/sbom");
    }

    @GET
    @jakarta.ws.rs.Path("/sbom")
    @Produces("application/vnd.cyclonedx+json")
    @Operation(summary = "The service's own CycloneDX 1.6 SBOM (its dependencies), made at build time")
    public byte[] sbom() throws java.io.IOException {
        try (var in = InfoResource.class.getClassLoader().getResourceAsStream(SBOM_RESOURCE)) {
            if (in == null) {
                throw new dev.amalgam.registry.RegistryException(dev.amalgam.registry.RegistryException.Kind.NOT_FOUND,
                        "this build carries no SBOM (it is written by the CycloneDX Maven plugin at process-resources)");
            }
            return in.readAllBytes();
        }
    }
}
