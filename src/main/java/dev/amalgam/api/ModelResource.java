package dev.amalgam.api;

import dev.amalgam.registry.LineageFormat;
import dev.amalgam.registry.LineageService;
import dev.amalgam.registry.ModelRef;
import dev.amalgam.registry.ModelService;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.entity.Model;
import jakarta.inject.Inject;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Locale;

/** Reading models and their lineage. {@code {ref}} is an id, NAME@VERSION or sha256:DIGEST. */
@Path("/api/v1/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelResource {
    @Inject
    ModelService models;

    @Inject
    LineageService lineage;

    /** A model as the API shows it. */
    public record ModelView(long id, String name, String version, String rootDigest, String license,
                            String origin, String status, long sizeBytes, int fileCount, String scanVerdict,
                            OffsetDateTime registeredAt, String registeredBy, Long ledgerSeq) {
        static ModelView of(Model m) {
            return new ModelView(m.id, m.name, m.version, m.rootDigest, m.license, m.origin, m.status,
                    m.sizeBytes, m.fileCount, m.scanVerdict, m.registeredAt, m.registeredBy, m.ledgerSeq);
        }
    }

    @GET
    @Operation(summary = "List models")
    public List<ModelView> list(@QueryParam("offset") @DefaultValue("0") int offset,
                                @QueryParam("limit") @DefaultValue("100") int limit) {
        if (offset < 0 || limit < 1 || limit > 1000) {
            throw new RegistryException(RegistryException.Kind.INVALID, "offset >= 0 and 1 <= limit <= 1000");
        }
        return models.list(offset, limit).stream().map(ModelView::of).toList();
    }

    @GET
    @Path("/{ref}")
    @Operation(summary = "One model, by id, NAME@VERSION or sha256:DIGEST")
    public ModelView get(@PathParam("ref") String ref) {
        return ModelView.of(models.find(ModelRef.parse(ref)));
    }

    @GET
    @Path("/{ref}/lineage")
    @Produces({MediaType.APPLICATION_JSON, "text/vnd.graphviz", "text/vnd.mermaid"})
    @Operation(summary = "Ancestors (direction=up) or descendants (down), transitive to a depth; json, dot or mermaid")
    public Response lineage(@PathParam("ref") String ref,
                            @QueryParam("direction") @DefaultValue("up") String direction,
                            @QueryParam("depth") @DefaultValue("10") int depth,
                            @QueryParam("format") @DefaultValue("json") String format) {
        LineageService.Direction dir = switch (direction.toLowerCase(Locale.ROOT)) {
            case "up" -> LineageService.Direction.UP;
            case "down" -> LineageService.Direction.DOWN;
            default -> throw new RegistryException(RegistryException.Kind.INVALID,
                    "direction must be 'up' or 'down', not '" + direction + "'");
        };
        LineageService.Lineage l = lineage.lineage(ModelRef.parse(ref), dir, depth);
        return switch (format.toLowerCase(Locale.ROOT)) {
            case "json" -> Response.ok(l, MediaType.APPLICATION_JSON).build();
            case "dot" -> Response.ok(LineageFormat.dot(l), "text/vnd.graphviz").build();
            case "mermaid" -> Response.ok(LineageFormat.mermaid(l), "text/vnd.mermaid").build();
            default -> throw new RegistryException(RegistryException.Kind.INVALID,
                    "format must be json, dot or mermaid, not '" + format + "'");
        };
    }

    @GET
    @Path("/{ref}/impact")
    @Operation(summary = "Every released model that descends from this one (for recalls)")
    public List<LineageService.Node> impact(@PathParam("ref") String ref) {
        return lineage.releasedDescendants(ModelRef.parse(ref));
    }
}
