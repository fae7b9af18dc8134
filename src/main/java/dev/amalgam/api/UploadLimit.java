package dev.amalgam.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.List;

/**
 * Refuses a request whose declared {@code Content-Length} exceeds {@code amalgam.max-upload-bytes}
 * with a problem+json 413 before anything is read. Quarkus's own body-size check (a route at order
 * -2) would answer the same status with an empty body; this route runs first. amalgam's CLI and
 * {@code curl -F} declare the length. A chunked upload without one that runs past the limit still
 * gets Quarkus's bare 413 (Quarkus ends that response itself), except tar uploads, which count
 * their bytes themselves and answer problem+json.
 */
@ApplicationScoped
public class UploadLimit {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ConfigProperty(name = "amalgam.max-upload-bytes")
    long maxUploadBytes;

    void install(@Observes Router router) {
        router.route().order(-10).handler(rc -> {
            String declared = rc.request().getHeader("Content-Length");
            if (declared != null) {
                try {
                    long length = Long.parseLong(declared.trim());
                    if (length > maxUploadBytes) {
                        rc.response().setStatusCode(413).putHeader("Content-Type", Problem.MEDIA_TYPE)
                                .putHeader("Connection", "close").end(body(length, rc.request().path()));
                        return;
                    }
                } catch (NumberFormatException e) {
                    // not a number: let the HTTP layer reject it
                }
            }
            rc.next();
        });
    }

    private String body(long length, String path) {
        String detail = "the request body of " + length + " bytes exceeds the upload limit of " + maxUploadBytes
                + " bytes (AMALGAM_MAX_UPLOAD_BYTES)";
        try {
            return JSON.writeValueAsString(new Problem("about:blank", "Payload Too Large", 413, detail, path, List.of()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
