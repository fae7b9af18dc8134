package dev.amalgam.api;

import dev.amalgam.api.auth.CurrentCaller;
import dev.amalgam.api.auth.RequiresRole;
import dev.amalgam.registry.BomService;
import dev.amalgam.registry.GateService;
import dev.amalgam.registry.HubIntake;
import dev.amalgam.registry.LineageFormat;
import dev.amalgam.registry.LineageService;
import dev.amalgam.registry.ModelRef;
import dev.amalgam.registry.ModelService;
import dev.amalgam.registry.RegistrationService;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.ReleaseArchive;
import dev.amalgam.registry.ReviewService;
import dev.amalgam.registry.Role;
import dev.amalgam.registry.UploadService;
import dev.amalgam.registry.entity.Model;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import jakarta.ws.rs.core.UriBuilder;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

import java.io.IOException;
import java.io.InputStream;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Locale;

/** Registering models, reading them and their lineage. {@code {ref}} is an id, NAME@VERSION or sha256:DIGEST. */
@Path("/api/v1/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelResource {
    @Inject
    ModelService models;

    @Inject
    UploadService uploads;

    @Inject
    LineageService lineage;

    @Inject
    BomService boms;

    @Inject
    GateService gates;

    @Inject
    ReviewService reviews;

    @Inject
    ReleaseArchive archive;

    @Inject
    CurrentCaller caller;

    /**
     * Body of {@code POST /api/v1/models/import}. {@code path} may be a Hugging Face cache folder
     * ({@code models--ORG--NAME}, with {@code revision} a commit or ref, default {@code main}) or one of
     * its snapshots; name, version and license then default to ORG/NAME, the commit and the card's license.
     */
    public record ImportRequest(String path, String name, String version, String license, String revision,
                                String source, String licenseOverride) {
    }

    /** A model as the API shows it. */
    public record ModelView(long id, String name, String version, String rootDigest, String license,
                            String origin, String status, long sizeBytes, int fileCount, String scanVerdict,
                            String finiteWeights, String publisherSignature, String publisherKey,
                            OffsetDateTime registeredAt, String registeredBy, Long ledgerSeq, String source) {
        static ModelView of(Model m) {
            return new ModelView(m.id, m.name, m.version, m.rootDigest, m.license, m.origin, m.status,
                    m.sizeBytes, m.fileCount, m.scanVerdict, m.finiteWeights, m.publisherSignature, m.publisherKey,
                    m.registeredAt, m.registeredBy, m.ledgerSeq, m.hubSource);
        }
    }

    /** A model's manifest: the OMS root digest and every file with its SHA-256 and size. */
    public record ManifestView(String rootDigest, String serialization, List<FileEntry> files) {
    }

    /** One file of a manifest. */
    public record FileEntry(String path, String sha256, long size) {
    }

    @GET
    @Operation(summary = "List models")
    public List<ModelView> list(@QueryParam("offset") String offset, @QueryParam("limit") String limit) {
        return models.list((int) QueryParams.integer("offset", offset, 0, 0, Integer.MAX_VALUE),
                (int) QueryParams.integer("limit", limit, 100, 1, 1000)).stream().map(ModelView::of).toList();
    }

    @POST
    @Consumes(MediaType.MULTIPART_FORM_DATA)
    @RequiresRole(Role.SUBMITTER)
    @Operation(summary = "Register a model uploaded as multipart/form-data: fields name, version, license; "
            + "one file part per file, named by its relative path (model.sig: the publisher's signature). "
            + "201 when new, 200 when identical content is already registered")
    public Response upload(@RestForm("name") String name, @RestForm("version") String version,
                           @RestForm("license") String license, @RestForm("source") String source,
                           @RestForm("licenseOverride") String licenseOverride,
                           @RestForm(FileUpload.ALL) List<FileUpload> files) throws IOException {
        List<UploadService.Part> parts = files.stream().map(f -> new UploadService.Part(f.name(), f.uploadedFile())).toList();
        return registered(uploads.registerParts(parts, name, version, license,
                new HubIntake.Request(source, licenseOverride), caller.get()));
    }

    @POST
    @Consumes("application/x-tar")
    @RequiresRole(Role.SUBMITTER)
    @Operation(summary = "Register a model sent as a tar stream of its folder; name, version, license as query parameters")
    public Response uploadTar(@QueryParam("name") String name, @QueryParam("version") String version,
                              @QueryParam("license") String license, @QueryParam("source") String source,
                              @QueryParam("licenseOverride") String licenseOverride, InputStream body) throws IOException {
        return registered(uploads.registerTar(body, name, version, license,
                new HubIntake.Request(source, licenseOverride), caller.get()));
    }

    @POST
    @Path("/import")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.SUBMITTER)
    @Operation(summary = "Register a folder the server reads itself; only under AMALGAM_IMPORT_ROOTS")
    public Response importFolder(ImportRequest req) throws IOException {
        if (req == null) throw RegistryException.badRequest("body must be {path, name, version, license}");
        return registered(uploads.importFolder(req.path(), req.name(), req.version(), req.license(), req.revision(),
                new HubIntake.Request(req.source(), req.licenseOverride()), caller.get()));
    }

    private static Response registered(RegistrationService.Registered r) {
        ModelView v = ModelView.of(r.model());
        if (!r.created()) return Response.ok(v).build();
        return Response.created(UriBuilder.fromPath("/api/v1/models/{id}").build(v.id())).entity(v).build();
    }

    @GET
    @Path("/{ref}")
    @Operation(summary = "One model, by id, NAME@VERSION or sha256:DIGEST")
    public ModelView get(@PathParam("ref") String ref) {
        return ModelView.of(models.find(ModelRef.parse(ref)));
    }

    @GET
    @Path("/{ref}/bom")
    @Produces(dev.amalgam.bom.ModelBom.MEDIA_TYPE)
    @Operation(summary = "The model's CycloneDX 1.6 ML-BOM (JSON): the model with its root digest, license, ancestors"
            + " as pedigree, the merge in the modelCard, its files")
    public String bom(@PathParam("ref") String ref) {
        return boms.json(ModelRef.parse(ref));
    }

    @GET
    @Path("/{ref}/bom.dsse")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The ML-BOM as an in-toto statement (predicateType https://cyclonedx.org/bom) in a DSSE"
            + " envelope signed by the registry key")
    public byte[] bomEnvelope(@PathParam("ref") String ref) {
        return boms.envelope(ModelRef.parse(ref));
    }

    @GET
    @Path("/{ref}/lineage")
    @Operation(summary = "Ancestors (direction=up) or descendants (down), transitive to a depth; json, dot or mermaid")
    public Response lineage(@PathParam("ref") String ref,
                            @QueryParam("direction") @DefaultValue("up") String direction,
                            @QueryParam("depth") String depth,
                            @QueryParam("format") @DefaultValue("json") String format) {
        LineageService.Direction dir = switch (direction.toLowerCase(Locale.ROOT)) {
            case "up" -> LineageService.Direction.UP;
            case "down" -> LineageService.Direction.DOWN;
            default -> throw RegistryException.badRequest("direction must be 'up' or 'down', not '" + direction + "'");
        };
        LineageService.Lineage l = lineage.lineage(ModelRef.parse(ref), dir,
                (int) QueryParams.integer("depth", depth, 10, 1, LineageService.MAX_DEPTH));
        return switch (format.toLowerCase(Locale.ROOT)) {
            case "json" -> Response.ok(l, MediaType.APPLICATION_JSON).build();
            case "dot" -> Response.ok(LineageFormat.dot(l), "text/vnd.graphviz").build();
            case "mermaid" -> Response.ok(LineageFormat.mermaid(l), "text/vnd.mermaid").build();
            default -> throw RegistryException.badRequest("format must be json, dot or mermaid, not '" + format + "'");
        };
    }

    @GET
    @Path("/{ref}/manifest")
    @Operation(summary = "The model's OMS manifest: root digest and every file's SHA-256")
    public ManifestView manifest(@PathParam("ref") String ref) {
        Model m = models.find(ModelRef.parse(ref));
        List<FileEntry> files = models.files(m.id).stream()
                .map(f -> new FileEntry(f.path, f.blobDigest, f.sizeBytes)).toList();
        return new ManifestView(m.rootDigest, "files", files);
    }

    @GET
    @Path("/{ref}/signature")
    @Produces("application/json")
    @Operation(summary = "The registry's OMS signature bundle over the model (model.sig)")
    public Response signature(@PathParam("ref") String ref) throws IOException {
        return Response.ok(models.signature(ModelRef.parse(ref)), "application/json")
                .header("Content-Disposition", "attachment; filename=\"model.sig\"").build();
    }

    @GET
    @Path("/{ref}/archive")
    @Produces("application/x-tar")
    @Operation(summary = "Download a released model: its files, model.sig, provenance, LICENSE/NOTICE files and a model card (tar)")
    public Response download(@PathParam("ref") String ref) {
        var plan = archive.plan(ModelRef.parse(ref));
        StreamingOutput body = out -> archive.write(plan, out);
        return Response.ok(body, "application/x-tar")
                .header("Content-Disposition", "attachment; filename=\"" + plan.folder() + ".tar\"").build();
    }

    @GET
    @Path("/{ref}/scan")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The model's scan report (schema: docs/security.md)")
    public Response scan(@PathParam("ref") String ref) throws IOException {
        return Response.ok(models.scanReport(ModelRef.parse(ref)), MediaType.APPLICATION_JSON).build();
    }

    @GET
    @Path("/{ref}/files/{path: .+}")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    @Operation(summary = "Download one file of the model (streamed)")
    public Response file(@PathParam("ref") String ref, @PathParam("path") String path) throws IOException {
        ModelService.FileContent f = models.file(ModelRef.parse(ref), path);
        return Response.ok(f.content(), MediaType.APPLICATION_OCTET_STREAM)
                .header("Content-Length", f.size())
                .header("Content-Disposition", "attachment; filename=\"" + f.name().replace("\"", "") + "\"")
                .build();
    }

    @POST
    @Path("/{ref}/gate")
    @RequiresRole(Role.DEPLOYER)
    @Operation(summary = "May this model go to environment env? allow/deny with every rule's result, the policy digest and a decision id")
    public GateService.GateDecision gate(@PathParam("ref") String ref, @QueryParam("env") String env) {
        return gates.gate(ModelRef.parse(ref), env, caller.get());
    }

    @POST
    @Path("/{ref}/releases")
    @RequiresRole(Role.DEPLOYER)
    @Operation(summary = "Release the model to environment env; only when the gate allows (422 with the reasons otherwise)")
    public GateService.GateDecision release(@PathParam("ref") String ref, @QueryParam("env") String env) {
        return gates.release(ModelRef.parse(ref), env, caller.get());
    }

    @POST
    @Path("/{ref}/review")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.REVIEWER)
    @Operation(summary = "Intake review of a source model: approve or reject it once; never by the principal who registered it")
    public ReviewService.Review review(@PathParam("ref") String ref, MergeResource.ReviewRequest req) {
        if (req == null) throw RegistryException.badRequest("body must be {decision, comment}");
        return reviews.reviewModel(ModelRef.parse(ref), req.decision(), req.comment(), caller.get());
    }

    @GET
    @Path("/{ref}/impact")
    @Operation(summary = "Every released model that descends from this one (for recalls)")
    public List<LineageService.Node> impact(@PathParam("ref") String ref) {
        return lineage.releasedDescendants(ModelRef.parse(ref));
    }
}
