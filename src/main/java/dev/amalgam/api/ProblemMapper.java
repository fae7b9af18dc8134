package dev.amalgam.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.amalgam.registry.Blobs;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.UniqueViolation;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.Optional;
import java.util.UUID;

/**
 * The one exception mapper: every error becomes problem+json. Client errors say what was wrong;
 * server errors say only that something failed, with an id to find the stack trace in the log
 * (never a stack trace or an internal path in a response).
 */
@Provider
public class ProblemMapper implements ExceptionMapper<Throwable> {
    private static final Logger LOG = Logger.getLogger(ProblemMapper.class);
    private static final String FORM_PARSER = "org.jboss.resteasy.reactive.server.core.multipart.";

    @Context
    UriInfo uri;

    @Override
    public Response toResponse(Throwable t) {
        String instance = uri == null ? null : uri.getRequestUri().getPath();
        if (t instanceof RegistryException re) {
            return Problem.response(status(re.kind()), title(re.kind()), re.getMessage(), instance,
                    re.reasons()).build();
        }
        if (t instanceof WebApplicationException wae) {
            Response.StatusType st = wae.getResponse().getStatusInfo();
            String detail = t instanceof NotFoundException ? "no such resource" : clientMessage(wae);
            if (st.getStatusCode() >= 500) return internal(t, instance);
            return Problem.response(st.getStatusCode(), st.getReasonPhrase(), detail, instance).build();
        }
        if (t instanceof JsonProcessingException jpe) {
            return Problem.response(400, "Bad Request",
                    "malformed JSON: " + jpe.getOriginalMessage(), instance).build();
        }
        Optional<String> corrupt = Blobs.integrityFailure(t);
        if (corrupt.isPresent()) {
            String id = UUID.randomUUID().toString();
            LOG.errorf("Integrity failure %s on %s: %s", id, instance, corrupt.get());
            return Problem.response(500, "Internal Server Error", "stored content failed its integrity check and was not served; "
                    + "error id " + id + " is in the server log, and 'amalgam audit' reports the blob", instance).build();
        }
        if (t instanceof IOException && readingForm(t)) {
            // a truncated or malformed multipart body: the client's fault, and nothing was stored
            return Problem.response(400, "Bad Request", "malformed or truncated multipart/form-data body: "
                    + t.getMessage(), instance).build();
        }
        if (UniqueViolation.in(t)) {
            // two requests raced for the same name or content and the database kept one: not a server fault
            return Problem.response(409, "Conflict", "a concurrent request recorded the same model, name or"
                    + " principal first; nothing was recorded for this one: look it up, or retry", instance).build();
        }
        return internal(t, instance);
    }

    /** True when the exception comes from parsing the request's form body (before any resource ran). */
    private static boolean readingForm(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith(FORM_PARSER)) return true;
        }
        return false;
    }

    private static Response internal(Throwable t, String instance) {
        String id = UUID.randomUUID().toString();
        LOG.errorf(t, "Internal error %s on %s", id, instance);
        return Problem.response(500, "Internal Server Error",
                "the request failed on the server; error id " + id + " is in the server log", instance).build();
    }

    private static String clientMessage(WebApplicationException e) {
        String m = e.getMessage();
        // JAX-RS default messages are "HTTP 400 Bad Request": say nothing more than the status then
        return m == null || m.startsWith("HTTP ") ? e.getResponse().getStatusInfo().getReasonPhrase() : m;
    }

    static int status(RegistryException.Kind kind) {
        return switch (kind) {
            case INVALID -> 400;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case FORBIDDEN -> 403;
            case UNPROCESSABLE -> 422;
            case TOO_LARGE -> 413;
            case UNAVAILABLE -> 503;
        };
    }

    static String title(RegistryException.Kind kind) {
        return switch (kind) {
            case INVALID -> "Bad Request";
            case NOT_FOUND -> "Not Found";
            case CONFLICT -> "Conflict";
            case FORBIDDEN -> "Forbidden";
            case UNPROCESSABLE -> "Unprocessable Content";
            case TOO_LARGE -> "Content Too Large";
            case UNAVAILABLE -> "Service Unavailable";
        };
    }
}
