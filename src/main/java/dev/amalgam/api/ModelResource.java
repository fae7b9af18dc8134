package dev.amalgam.api;

import dev.amalgam.registry.LineageFormat;
import dev.amalgam.registry.LineageService;
import dev.amalgam.registry.ModelRef;
import dev.amalgam.registry.ModelService;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.api.auth.CurrentCaller;
import dev.amalgam.api.auth.RequiresRole;
import dev.amalgam.hub.HubException;
import dev.amalgam.hub.HubId;
import dev.amalgam.hub.HubSnapshot;
import dev.amalgam.registry.HubIntake;
import dev.amalgam.registry.ImportRoots;
import dev.amalgam.registry.ModelPath;
import dev.amalgam.registry.RegistrationService;
import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.registry.Role;
import dev.amalgam.registry.TarExtractor;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.core.UriBuilder;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
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

    @Inject
    RegistrationService registration;

    @Inject
    RegistryConfig config;

    @Inject
    CurrentCaller caller;

    @Inject
    dev.amalgam.registry.GateService gates;

    @ConfigProperty(name = "amalgam.import-roots", defaultValue = " ")
    String importRoots;

    @ConfigProperty(name = "amalgam.max-upload-bytes", defaultValue = "107374182400")
    long maxUploadBytes;

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
        java.nio.file.Path stage = stagingFolder();
        try {
            Set<String> seen = new HashSet<>();
            for (FileUpload f : files) {
                ModelPath path = new ModelPath(f.name());
                if (!seen.add(path.value())) {
                    throw new RegistryException(RegistryException.Kind.INVALID, "file " + path.value() + " sent twice");
                }
                java.nio.file.Path target = path.resolveIn(stage);
                Files.createDirectories(target.getParent());
                Files.move(f.uploadedFile(), target, StandardCopyOption.REPLACE_EXISTING);
            }
            dev.amalgam.registry.FaultPoints.at("upload.staged");
            return registered(registration.register(stage, meta(name, version, license),
                    new HubIntake.Request(source, licenseOverride), caller.get().name()));
        } finally {
            dev.amalgam.registry.Folders.deleteTree(stage);
        }
    }

    @POST
    @Consumes("application/x-tar")
    @RequiresRole(Role.SUBMITTER)
    @Operation(summary = "Register a model sent as a tar stream of its folder; name, version, license as query parameters")
    public Response uploadTar(@QueryParam("name") String name, @QueryParam("version") String version,
                              @QueryParam("license") String license, @QueryParam("source") String source,
                              @QueryParam("licenseOverride") String licenseOverride, InputStream body) throws IOException {
        RegistrationService.validate(meta(name, version, license == null || license.isBlank() ? "-" : license));
        java.nio.file.Path stage = stagingFolder();
        try {
            new TarExtractor(maxUploadBytes).extract(body, stage);
            return registered(registration.register(stage, meta(name, version, license),
                    new HubIntake.Request(source, licenseOverride), caller.get().name()));
        } finally {
            dev.amalgam.registry.Folders.deleteTree(stage);
        }
    }

    @POST
    @Path("/import")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.SUBMITTER)
    @Operation(summary = "Register a folder the server reads itself; only under AMALGAM_IMPORT_ROOTS")
    public Response importFolder(ImportRequest req) throws IOException {
        if (req == null) throw new RegistryException(RegistryException.Kind.INVALID, "body must be {path, name, version, license}");
        java.nio.file.Path dir = ImportRoots.parse(importRoots).admit(req.path());
        if (!HubSnapshot.isCacheLayout(dir)) {
            if (req.revision() != null) {
                throw new RegistryException(RegistryException.Kind.INVALID, "revision applies to a Hugging Face cache"
                        + " folder (models--ORG--NAME); " + req.path() + " is a plain folder: name its source instead");
            }
            return registered(registration.register(dir, meta(req.name(), req.version(), req.license()),
                    new HubIntake.Request(req.source(), req.licenseOverride()), caller.get().name()));
        }
        HubSnapshot snapshot;
        try {
            snapshot = HubSnapshot.open(dir, req.revision());
        } catch (HubException e) {
            throw new RegistryException(RegistryException.Kind.INVALID, e.getMessage());
        }
        HubId id = snapshot.id().orElseThrow();
        java.nio.file.Path stage = stagingFolder();
        try {
            snapshot.materialize(stage);
            return registered(registration.register(stage, meta(req.name() == null ? id.repo() : req.name(),
                            req.version() == null ? id.revision() : req.version(), req.license()),
                    new HubIntake.Request(id.source(), req.licenseOverride()), caller.get().name()));
        } finally {
            dev.amalgam.registry.Folders.deleteTree(stage);
        }
    }

    private static RegistrationService.Metadata meta(String name, String version, String license) {
        return new RegistrationService.Metadata(name, version, license, "source", "registered");
    }

    private Response registered(RegistrationService.Registered r) {
        ModelView v = ModelView.of(r.model());
        if (!r.created()) return Response.ok(v).build();
        return Response.created(UriBuilder.fromPath("/api/v1/models/{id}").build(v.id())).entity(v).build();
    }

    private java.nio.file.Path stagingFolder() throws IOException {
        java.nio.file.Path dir = config.settings().dataDir().resolve(dev.amalgam.registry.DataDirectory.STAGING).resolve(UUID.randomUUID().toString());
        return Files.createDirectories(dir);
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
                            @QueryParam("depth") String depth,
                            @QueryParam("format") @DefaultValue("json") String format) {
        LineageService.Direction dir = switch (direction.toLowerCase(Locale.ROOT)) {
            case "up" -> LineageService.Direction.UP;
            case "down" -> LineageService.Direction.DOWN;
            default -> throw new RegistryException(RegistryException.Kind.INVALID,
                    "direction must be 'up' or 'down', not '" + direction + "'");
        };
        LineageService.Lineage l = lineage.lineage(ModelRef.parse(ref), dir,
                (int) QueryParams.integer("depth", depth, 10, 1, LineageService.MAX_DEPTH));
        return switch (format.toLowerCase(Locale.ROOT)) {
            case "json" -> Response.ok(l, MediaType.APPLICATION_JSON).build();
            case "dot" -> Response.ok(LineageFormat.dot(l), "text/vnd.graphviz").build();
            case "mermaid" -> Response.ok(LineageFormat.mermaid(l), "text/vnd.mermaid").build();
            default -> throw new RegistryException(RegistryException.Kind.INVALID,
                    "format must be json, dot or mermaid, not '" + format + "'");
        };
    }

    /** A model's manifest: the OMS root digest and every file with its SHA-256 and size. */
    public record ManifestView(String rootDigest, String serialization, List<FileEntry> files) {
    }

    public record FileEntry(String path, String sha256, long size) {
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
        Model m = models.find(ModelRef.parse(ref));
        if (m.signatureDigest == null) throw new RegistryException(RegistryException.Kind.NOT_FOUND, "the model has no signature");
        return Response.ok(blobs().open(m.signatureDigest), "application/json")
                .header("Content-Disposition", "attachment; filename=\"model.sig\"").build();
    }

    @Inject
    dev.amalgam.registry.ReleaseArchive archive;

    @GET
    @Path("/{ref}/archive")
    @Produces("application/x-tar")
    @Operation(summary = "Download a released model: its files, model.sig, provenance, LICENSE/NOTICE files and a model card (tar)")
    public Response download(@PathParam("ref") String ref) {
        var plan = archive.plan(ModelRef.parse(ref));
        jakarta.ws.rs.core.StreamingOutput body = out -> archive.write(plan, out);
        return Response.ok(body, "application/x-tar")
                .header("Content-Disposition", "attachment; filename=\"" + plan.folder() + ".tar\"").build();
    }

    @GET
    @Path("/{ref}/scan")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The model's scan report (schema: docs/security.md)")
    public Response scan(@PathParam("ref") String ref) throws IOException {
        Model m = models.find(ModelRef.parse(ref));
        if (m.scanReportDigest == null) throw new RegistryException(RegistryException.Kind.NOT_FOUND, "the model has no scan report");
        return Response.ok(blobs().open(m.scanReportDigest), MediaType.APPLICATION_JSON).build();
    }

    @GET
    @Path("/{ref}/files/{path: .+}")
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    @Operation(summary = "Download one file of the model (streamed)")
    public Response file(@PathParam("ref") String ref, @PathParam("path") String path) throws IOException {
        Model m = models.find(ModelRef.parse(ref));
        String p = new ModelPath(path).value();
        var f = models.files(m.id).stream().filter(x -> x.path.equals(p)).findFirst()
                .orElseThrow(() -> new RegistryException(RegistryException.Kind.NOT_FOUND, "no file " + p + " in the model"));
        return Response.ok(blobs().open(f.blobDigest), MediaType.APPLICATION_OCTET_STREAM)
                .header("Content-Length", f.sizeBytes)
                .header("Content-Disposition", "attachment; filename=\"" + p.substring(p.lastIndexOf('/') + 1).replace("\"", "") + "\"")
                .build();
    }

    private dev.amalgam.storage.BlobStore blobs() {
        return new dev.amalgam.storage.BlobStore(config.settings().blobsDir());
    }

    @POST
    @Path("/{ref}/gate")
    @RequiresRole(Role.DEPLOYER)
    @Operation(summary = "May this model go to environment env? allow/deny with every rule's result, the policy digest and a decision id")
    public dev.amalgam.registry.GateService.GateDecision gate(@PathParam("ref") String ref, @QueryParam("env") String env) {
        return gates.gate(ModelRef.parse(ref), env, caller.get());
    }

    @POST
    @Path("/{ref}/releases")
    @RequiresRole(Role.DEPLOYER)
    @Operation(summary = "Release the model to environment env; only when the gate allows (422 with the reasons otherwise)")
    public dev.amalgam.registry.GateService.GateDecision release(@PathParam("ref") String ref, @QueryParam("env") String env) {
        return gates.release(ModelRef.parse(ref), env, caller.get());
    }

    @Inject
    dev.amalgam.registry.ReviewService reviews;

    @POST
    @Path("/{ref}/review")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.REVIEWER)
    @Operation(summary = "Intake review of a source model: approve or reject it once; never by the principal who registered it")
    public dev.amalgam.registry.ReviewService.Review review(@PathParam("ref") String ref, MergeResource.ReviewRequest req) {
        if (req == null) throw new RegistryException(RegistryException.Kind.INVALID, "body must be {decision, comment}");
        return reviews.reviewModel(ModelRef.parse(ref), req.decision(), req.comment(), caller.get());
    }

    @GET
    @Path("/{ref}/impact")
    @Operation(summary = "Every released model that descends from this one (for recalls)")
    public List<LineageService.Node> impact(@PathParam("ref") String ref) {
        return lineage.releasedDescendants(ModelRef.parse(ref));
    }
}
