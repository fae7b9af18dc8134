package dev.amalgam.api;

import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.registry.RegistryKeys;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import org.eclipse.microprofile.openapi.annotations.Operation;

import java.io.IOException;
import java.nio.file.Files;

/** The registry's public signing key, to verify the {@code model.sig} of downloaded models and bundles. */
@Path("/api/v1/signing-key")
public class SigningKeyResource {
    @Inject
    RegistryConfig config;

    @GET
    @Produces("application/x-pem-file")
    @Operation(summary = "The registry's public key (PEM) that verifies every model.sig it issues; compare its SHA-256 with the one a model card prints")
    public String key() throws IOException {
        return Files.readString(config.settings().keysDir().resolve(RegistryKeys.SIGNING_PUBLIC_KEY));
    }
}
