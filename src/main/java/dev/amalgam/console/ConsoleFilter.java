package dev.amalgam.console;

import dev.amalgam.registry.Caller;
import dev.amalgam.registry.PrincipalService;
import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.container.ContainerResponseContext;
import jakarta.ws.rs.container.ContainerResponseFilter;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.Cookie;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.Provider;

import java.net.URI;
import java.util.Optional;

/**
 * Sessions and headers of console pages: resolves the session cookie to a principal that is still not
 * revoked (or redirects to sign-in), and gives every console response a strict Content-Security-Policy
 * (scripts and styles only from files of this origin), no framing, no sniffing, no referrer, no caching.
 */
@Provider
@ConsolePage
@Priority(Priorities.AUTHENTICATION)
public class ConsoleFilter implements ContainerRequestFilter, ContainerResponseFilter {
    public static final String COOKIE = "amalgam_session";
    public static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    @Inject
    ConsoleSessions sessions;

    @Inject
    PrincipalService principals;

    @Inject
    ConsoleUser user;

    @Context
    ResourceInfo resource;

    @Override
    public void filter(ContainerRequestContext ctx) {
        Cookie cookie = ctx.getCookies().get(COOKIE);
        Optional<ConsoleSessions.Session> session = sessions.find(cookie == null ? null : cookie.getValue());
        if (session.isPresent()) {
            Optional<Caller> caller = principals.active(session.get().principal());
            if (caller.isPresent()) {
                user.set(caller.get(), session.get());
                return;
            }
            sessions.closeAll(session.get().principal());
        }
        if (resource.getResourceMethod() != null && resource.getResourceMethod().isAnnotationPresent(Anonymous.class)) return;
        ctx.abortWith(Response.seeOther(URI.create("/sign-in")).build());
    }

    @Override
    public void filter(ContainerRequestContext req, ContainerResponseContext res) {
        MultivaluedMap<String, Object> h = res.getHeaders();
        h.putSingle("Content-Security-Policy", CSP);
        h.putSingle("X-Frame-Options", "DENY");
        h.putSingle("X-Content-Type-Options", "nosniff");
        h.putSingle("Referrer-Policy", "no-referrer");
        h.putSingle("Cache-Control", "no-store");
    }
}
