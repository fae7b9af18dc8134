package dev.amalgam.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.registry.GateService;
import dev.amalgam.registry.LineageService;
import dev.amalgam.registry.ModelRef;
import dev.amalgam.registry.ModelService;
import dev.amalgam.registry.PolicyService;
import dev.amalgam.registry.RegistryConfig;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.ReleaseArchive;
import dev.amalgam.registry.Role;
import dev.amalgam.registry.entity.Decision;
import dev.amalgam.registry.entity.Model;
import dev.amalgam.storage.BlobStore;
import io.quarkus.qute.TemplateInstance;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.io.IOException;
import java.io.InputStream;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** The models list (search, filters, keyset pages), a model's page with its lineage picture, gate and release. */
@Path("/")
@ConsolePage
@Produces(MediaType.TEXT_HTML)
public class ModelPages {
    static final int PAGE = 50;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> SEVERITIES = List.of("critical", "high", "warning", "medium", "low", "info");

    @Inject
    ConsoleUser user;

    @Inject
    ModelService models;

    @Inject
    LineageService lineage;

    @Inject
    GateService gates;

    @Inject
    PolicyService policies;

    @Inject
    RegistryConfig config;

    @Inject
    ReleaseArchive archive;

    /** The list's filters, echoed into the form. */
    public record Filter(String name, String license, String status, String scan, String origin, String released,
                         List<String> environments) {
        public List<String> statuses() {
            return List.of("registered", "pending-review", "approved", "rejected", "released", "revoked");
        }

        public List<String> verdicts() {
            return List.of("clean", "findings", "could-not-scan");
        }
    }

    /** One row of the list. */
    public record Row(long id, String name, String version, String license, String licenseClass, String origin,
                      String status, String scanVerdict, OffsetDateTime registeredAt) {
    }

    @GET
    @Path("models")
    public TemplateInstance list(@QueryParam("name") String name, @QueryParam("license") String license,
                                 @QueryParam("status") String status, @QueryParam("scan") String scan,
                                 @QueryParam("origin") String origin, @QueryParam("released") String released,
                                 @QueryParam("before") Long before) {
        var catalogue = policies.policies().licenses();
        List<Model> page = models.search(new ModelService.Search(name, license, status, scan, origin, released,
                before, PAGE + 1));
        List<Row> rows = page.stream().limit(PAGE).map(m -> new Row(m.id, m.name, m.version, m.license,
                LicenseTerms.klass(catalogue, m.license), m.origin, m.status, m.scanVerdict, m.registeredAt)).toList();
        String next = null;
        if (page.size() > PAGE) {
            next = "/models?" + query("name", name) + query("license", license) + query("status", status)
                    + query("scan", scan) + query("origin", origin) + query("released", released)
                    + "before=" + rows.getLast().id();
        }
        Filter f = new Filter(blank(name), blank(license), blank(status), blank(scan), blank(origin), blank(released),
                policies.policies().release().environmentNames());
        return Templates.models(Chrome.of(user, "Models", "models"), f, rows, next);
    }

    /** A finding of the scan report. */
    public record Finding(String file, String rule, String severity, String message, String detail) {
    }

    /** Findings of one severity. */
    public record SeverityGroup(String severity, List<Finding> findings) {
    }

    public record FileRow(String path, long size, String digest) {
    }

    public record DecisionRow(long id, String kind, String environment, String outcome, String actor,
                              OffsetDateTime at, String reason, boolean statement, Long ledgerSeq) {
    }

    /** Everything on a model's page. */
    public record Detail(Model model, List<LicenseTerms.Term> licenses, String scanVerdict, List<SeverityGroup> scan,
                         List<FileRow> files, List<DecisionRow> releases, List<DecisionRow> decisions,
                         List<Long> ledgerSeqs, Long mergeId, LineagePicture.Picture picture, int depth,
                         List<Integer> depths, List<LineageService.Node> impact, List<String> environments,
                         boolean mayGate) {
    }

    @GET
    @Path("models/{id}")
    public TemplateInstance model(@PathParam("id") long id, @QueryParam("depth") Integer depthParam) {
        int depth = depthParam == null ? 3 : Math.clamp(depthParam, 1, 10);
        Model m = models.find(new ModelRef.ById(id));
        var catalogue = policies.policies().licenses();
        List<FileRow> files = models.files(m.id).stream().map(f -> new FileRow(f.path, f.sizeBytes, f.blobDigest)).toList();
        List<DecisionRow> decisions = models.decisions(m.id).stream().map(ModelPages::row).toList();
        List<DecisionRow> releases = decisions.stream().filter(d -> d.kind().equals("release")).toList();
        Long mergeId = models.producedBy(m.id).map(j -> j.id).orElse(null);
        TreeSet<Long> seqs = new TreeSet<>();
        if (m.ledgerSeq != null) seqs.add(m.ledgerSeq);
        models.producedBy(m.id).ifPresent(j -> {
            if (j.ledgerSeq != null) seqs.add(j.ledgerSeq);
        });
        decisions.forEach(d -> {
            if (d.ledgerSeq() != null) seqs.add(d.ledgerSeq());
        });
        LineagePicture.Picture picture = picture(m, depth, catalogue);
        List<LineageService.Node> impact = lineage.releasedDescendants(new ModelRef.ById(m.id));
        Detail d = new Detail(m, LicenseTerms.terms(catalogue, m.license), m.scanVerdict, scan(m), files, releases,
                decisions, List.copyOf(seqs.descendingSet()), mergeId, picture, depth, List.of(1, 2, 3, 5, 10), impact,
                policies.policies().release().environmentNames(), user.may(Role.DEPLOYER));
        return Templates.model(Chrome.of(user, m.name + "@" + m.version, "models"), d);
    }

    private LineagePicture.Picture picture(Model m, int depth, dev.amalgam.policy.LicenseCatalogue catalogue) {
        var up = lineage.lineage(new ModelRef.ById(m.id), LineageService.Direction.UP, depth);
        var down = lineage.lineage(new ModelRef.ById(m.id), LineageService.Direction.DOWN, depth);
        Map<Long, LineageService.Node> nodes = new LinkedHashMap<>();
        nodes.put(up.root().id(), up.root());
        up.nodes().forEach(n -> nodes.putIfAbsent(n.id(), n));
        down.nodes().forEach(n -> nodes.putIfAbsent(n.id(), n));
        Map<String, LineageService.Edge> edges = new LinkedHashMap<>();
        for (var e : up.edges()) edges.putIfAbsent(e.child() + ">" + e.parent() + ">" + e.role(), e);
        for (var e : down.edges()) edges.putIfAbsent(e.child() + ">" + e.parent() + ">" + e.role(), e);
        java.util.Set<Long> children = new java.util.HashSet<>();
        edges.values().forEach(e -> children.add(e.child()));
        return LineagePicture.layout(m.id, nodes, List.copyOf(edges.values()),
                n -> children.contains(n.id()) ? "merge" : "source", l -> LicenseTerms.klass(catalogue, l));
    }

    private List<SeverityGroup> scan(Model m) {
        if (m.scanReportDigest == null) return List.of();
        Map<String, List<Finding>> bySeverity = new TreeMap<>((a, b) -> Integer.compare(rank(a), rank(b)));
        try (InputStream in = blobs().open(m.scanReportDigest)) {
            JsonNode report = JSON.readTree(in);
            for (JsonNode f : report.path("findings")) {
                String sev = f.path("severity").asText("info");
                bySeverity.computeIfAbsent(sev, k -> new ArrayList<>()).add(new Finding(f.path("file").asText(),
                        f.path("rule").asText(), sev, f.path("message").asText(),
                        f.hasNonNull("detail") ? f.path("detail").asText() : null));
            }
        } catch (IOException e) {
            throw RegistryException.unavailable("cannot read the scan report of "
                    + m.name + "@" + m.version + ": " + e.getMessage(), List.of());
        }
        List<SeverityGroup> out = new ArrayList<>();
        bySeverity.forEach((k, v) -> out.add(new SeverityGroup(k, v)));
        return out;
    }

    private static int rank(String severity) {
        int i = SEVERITIES.indexOf(severity);
        return i < 0 ? SEVERITIES.size() : i;
    }

    /** The outcome of a gate or release asked from the console. */
    public record GateResult(Model model, GateService.GateDecision decision, String action, String refusal) {
    }

    @POST
    @Path("models/{id}/gate")
    public TemplateInstance gate(@PathParam("id") long id, @RestForm("env") String env, @RestForm("csrf") String csrf) {
        user.checkCsrf(csrf);
        user.require(Role.DEPLOYER);
        Model m = models.find(new ModelRef.ById(id));
        GateService.GateDecision d = gates.gate(new ModelRef.ById(id), env, user.caller());
        return Templates.gate(Chrome.of(user, "Gate: " + m.name + "@" + m.version, "models"),
                new GateResult(m, d, "gate", null));
    }

    @POST
    @Path("models/{id}/release")
    public Response release(@PathParam("id") long id, @RestForm("env") String env, @RestForm("csrf") String csrf) {
        user.checkCsrf(csrf);
        user.require(Role.DEPLOYER);
        Model m = models.find(new ModelRef.ById(id));
        gates.release(new ModelRef.ById(id), env, user.caller());
        user.flash(m.name + "@" + m.version + " was released to " + env + ".");
        return Response.seeOther(java.net.URI.create("/models/" + id)).build();
    }

    @GET
    @Path("models/{id}/bundle")
    @Produces("application/x-tar")
    public Response bundle(@PathParam("id") long id) {
        var plan = archive.plan(new ModelRef.ById(id));
        StreamingOutput body = out -> archive.write(plan, out);
        return Response.ok(body, "application/x-tar")
                .header("Content-Disposition", "attachment; filename=\"" + plan.folder() + ".tar\"").build();
    }

    @GET
    @Path("decisions/{id}/statement")
    @Produces("application/vnd.in-toto+json")
    public Response statement(@PathParam("id") long id) throws IOException {
        return Response.ok(gates.statement(id), "application/vnd.in-toto+json")
                .header("Content-Disposition", "attachment; filename=\"decision-" + id + ".intoto.json\"").build();
    }

    @ServerExceptionMapper
    public Response mapError(RegistryException e) {
        return ErrorPage.of(user, e);
    }

    private static DecisionRow row(Decision d) {
        return new DecisionRow(d.id, d.kind, d.environment, d.outcome, d.actor, d.decidedAt, d.reason,
                d.statementDigest != null, d.ledgerSeq);
    }

    private BlobStore blobs() {
        return new BlobStore(config.settings().blobsDir());
    }

    private static String blank(String s) {
        return s == null ? "" : s.strip();
    }

    private static String query(String key, String value) {
        if (value == null || value.isBlank()) return "";
        return key + "=" + java.net.URLEncoder.encode(value.strip(), java.nio.charset.StandardCharsets.UTF_8) + "&";
    }
}
