package dev.amalgam.console;

import dev.amalgam.registry.RegistryException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.List;

/** Registry errors on console pages become an HTML page with the same status codes as the API's problem+json. */
final class ErrorPage {
    private ErrorPage() {
    }

    static Response of(ConsoleUser user, RegistryException e) {
        int status = switch (e.kind()) {
            case INVALID -> 400;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case FORBIDDEN -> 403;
            case UNPROCESSABLE -> 422;
            case TOO_LARGE -> 413;
            case UNAVAILABLE -> 503;
        };
        String html = Templates.error(Chrome.of(user, "Error " + status, ""), status, e.getMessage(),
                e.reasons() == null ? List.of() : e.reasons()).render();
        return Response.status(status).type(MediaType.TEXT_HTML_TYPE.withCharset("UTF-8")).entity(html).build();
    }
}
