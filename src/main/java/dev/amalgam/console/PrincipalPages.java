package dev.amalgam.console;

import dev.amalgam.registry.PrincipalService;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.Role;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.net.URI;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Principals, for admins: create one (its token is shown once, in the response to the POST), list, revoke. */
@Path("/principals")
@ConsolePage
@Produces(MediaType.TEXT_HTML)
public class PrincipalPages {
    @Inject
    ConsoleUser user;

    @Inject
    PrincipalService principals;

    @Inject
    ConsoleSessions sessions;

    public record Row(String name, String roles, String createdAt, String createdBy, boolean revoked) {
    }

    /** A principal just created, with the token shown this once. */
    public record Created(String name, String token) {
    }

    @GET
    public TemplateInstance list() {
        user.require(Role.ADMIN);
        return page(null);
    }

    @POST
    public TemplateInstance create(@RestForm("name") String name, @RestForm("roles") List<String> roles,
                                   @RestForm("csrf") String csrf) {
        user.checkCsrf(csrf);
        user.require(Role.ADMIN);
        Set<Role> set = EnumSet.noneOf(Role.class);
        try {
            for (String r : roles == null ? List.<String>of() : roles) set.add(Role.parse(r));
        } catch (IllegalArgumentException e) {
            throw RegistryException.badRequest(e.getMessage());
        }
        if (set.isEmpty()) throw RegistryException.badRequest("choose at least one role");
        var created = principals.create(name == null ? null : name.strip(), set, user.name());
        return page(new Created(created.principal().name(), created.token()));
    }

    @POST
    @Path("{name}/revoke")
    public Response revoke(@PathParam("name") String name, @RestForm("csrf") String csrf) {
        user.checkCsrf(csrf);
        user.require(Role.ADMIN);
        principals.revoke(name, user.name());
        sessions.closeAll(name);
        user.flash("'" + name + "' was revoked; its token and console sessions no longer work.");
        return Response.seeOther(URI.create("/principals")).build();
    }

    @ServerExceptionMapper
    public Response mapError(RegistryException e) {
        return ErrorPage.of(user, e);
    }

    private TemplateInstance page(Created created) {
        List<Row> rows = principals.list().stream().map(p -> new Row(p.name(), Role.format(p.roles()),
                String.valueOf(p.createdAt()), p.createdBy(), p.revoked())).toList();
        return Templates.principals(Chrome.of(user, "Principals", "principals"), rows, created,
                List.of("reader", "submitter", "reviewer", "deployer", "admin"));
    }
}
