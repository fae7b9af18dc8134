package dev.amalgam.console;

import dev.amalgam.registry.Caller;
import dev.amalgam.registry.PrincipalService;
import dev.amalgam.registry.RegistryException;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.CookieParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.NewCookie;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.net.URI;
import java.util.Optional;

/**
 * Sign-in trades an API token for a session cookie (HttpOnly, SameSite=Strict, Secure over https); the
 * token travels once in a POST body and is never kept. The sign-in form itself is protected by a
 * double-submit token in a SameSite=Strict cookie, so another site cannot sign a browser in.
 */
@Path("/")
@ConsolePage
@Produces(MediaType.TEXT_HTML)
public class SignInResource {
    static final String SIGNIN_COOKIE = "amalgam_signin";

    @Inject
    ConsoleUser user;

    @Inject
    ConsoleSessions sessions;

    @Inject
    PrincipalService principals;

    @Context
    UriInfo uri;

    @Context
    jakarta.ws.rs.core.HttpHeaders headers;

    @GET
    @Anonymous
    public Response home() {
        return Response.seeOther(URI.create(user.signedIn() ? "/models" : "/sign-in")).build();
    }

    @GET
    @Path("sign-in")
    @Anonymous
    public Response signInPage() {
        if (user.signedIn()) return Response.seeOther(URI.create("/models")).build();
        return form(200, null);
    }

    @POST
    @Path("sign-in")
    @Anonymous
    public Response signIn(@RestForm("token") String token, @RestForm("signin") String signin,
                           @CookieParam(SIGNIN_COOKIE) String signinCookie) {
        if (signinCookie == null || !ConsoleSessions.same(signinCookie, signin)) {
            return form(403, "The sign-in form expired or came from another site: please sign in again.");
        }
        Optional<Caller> caller = principals.authenticate(token == null ? null : token.strip());
        if (caller.isEmpty()) return form(401, "That token is not valid (unknown or revoked).");
        String id = sessions.open(caller.get().name(), caller.get().roles());
        return Response.seeOther(URI.create("/models"))
                .cookie(cookie(ConsoleFilter.COOKIE, id, (int) ConsoleSessions.ABSOLUTE.toSeconds()),
                        cookie(SIGNIN_COOKIE, "", 0))
                .build();
    }

    @POST
    @Path("sign-out")
    public Response signOut(@RestForm("csrf") String csrf, @CookieParam(ConsoleFilter.COOKIE) String session) {
        user.checkCsrf(csrf);
        sessions.close(session);
        return Response.seeOther(URI.create("/sign-in")).cookie(cookie(ConsoleFilter.COOKIE, "", 0)).build();
    }

    @ServerExceptionMapper
    public Response mapError(RegistryException e) {
        return ErrorPage.of(user, e);
    }

    private Response form(int status, String error) {
        String signin = ConsoleSessions.random();
        TemplateInstance page = Templates.signIn(Chrome.of(user, "Sign in", "sign-in"), signin, error);
        return Response.status(status).type(MediaType.TEXT_HTML_TYPE.withCharset("UTF-8")).entity(page.render())
                .cookie(cookie(SIGNIN_COOKIE, signin, 600)).build();
    }

    /**
     * A console cookie: HttpOnly, SameSite=Strict, Secure when the request came over https or a TLS-terminating
     * proxy says so ({@code X-Forwarded-Proto: https}; a client that forges it only makes its own cookie https-only).
     */
    private NewCookie cookie(String name, String value, int maxAge) {
        boolean tls = "https".equalsIgnoreCase(uri.getRequestUri().getScheme())
                || "https".equalsIgnoreCase(headers.getHeaderString("X-Forwarded-Proto"));
        return new NewCookie.Builder(name).value(value).path("/").httpOnly(true)
                .secure(tls)
                .sameSite(NewCookie.SameSite.STRICT).maxAge(maxAge).build();
    }
}
