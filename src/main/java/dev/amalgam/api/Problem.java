package dev.amalgam.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.core.Response;

import java.util.List;

/**
 * An RFC 9457 problem detail: every error the API returns has this shape, with media type
 * {@code application/problem+json}. {@code errors} lists every reason when there are several.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record Problem(String type, String title, int status, String detail, String instance,
                      List<String> errors) {
    public static final String MEDIA_TYPE = "application/problem+json";

    public static Response.ResponseBuilder response(int status, String title, String detail,
                                                    String instance) {
        return response(status, title, detail, instance, List.of());
    }

    public static Response.ResponseBuilder response(int status, String title, String detail,
                                                    String instance, List<String> errors) {
        Problem p = new Problem("about:blank", title, status, detail, instance, errors);
        return Response.status(status).type(MEDIA_TYPE).entity(p);
    }
}
