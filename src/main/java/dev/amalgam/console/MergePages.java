package dev.amalgam.console;

import dev.amalgam.registry.MergeJobService;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.ReviewService;
import dev.amalgam.registry.Role;
import dev.amalgam.registry.entity.MergeJob;
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

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;

/** The merge queue with live progress, and a merge's page: recipe, inputs, diff, provenance, reproduce and the review form. */
@Path("/merges")
@ConsolePage
@Produces(MediaType.TEXT_HTML)
public class MergePages {
    @Inject
    ConsoleUser user;

    @Inject
    MergeJobService jobs;

    @Inject
    MergeJobService.JobStateWriter states;

    @Inject
    ReviewService reviews;

    @Inject
    dev.amalgam.registry.ModelService models;

    /** One merge job in the queue. */
    public record Row(long id, String state, int percent, String method, String output, String submittedBy,
                      String submittedAt, String failureReason, Long outputModelId) {
        static Row of(MergeJob j) {
            return new Row(j.id, j.state, MergePages.percent(j), j.method, j.outputName + "@" + j.outputVersion, j.submittedBy,
                    String.valueOf(j.submittedAt), j.failureReason, j.outputModelId);
        }

        public boolean live() {
            return state.equals("queued") || state.equals("running");
        }
    }

    @GET
    public TemplateInstance queue() {
        List<Row> rows = states.list(0, 100).stream().map(Row::of).toList();
        return Templates.merges(Chrome.of(user, "Merges", "merges"), rows);
    }

    /** What a merge's page shows, and why the signed-in principal may or may not review it. */
    public record Detail(Row job, ReviewService.ReviewPage page, List<Input> inputs, boolean canReview, String whyNot,
                         boolean canReproduce, boolean hasProvenance, Long seed) {
    }

    /** An input with its signatures: the publisher's (as verified at registration) and the registry's. */
    public record Input(ReviewService.InputView model, String publisherSignature, boolean registrySigned) {
    }

    @GET
    @Path("{id}")
    public TemplateInstance merge(@PathParam("id") long id) {
        MergeJob j = states.get(id);
        ReviewService.ReviewPage page = reviews.page(id);
        String whyNot = null;
        if (!user.may(Role.REVIEWER)) {
            whyNot = "Reviewing needs the reviewer role; '" + user.name() + "' does not have it.";
        } else if (user.name().equals(j.submittedBy)) {
            whyNot = "Four eyes: you submitted this merge, so another reviewer must approve or reject it.";
        } else if (!j.state.equals("succeeded")) {
            whyNot = "The merge is " + j.state + "; only a succeeded merge can be reviewed.";
        } else if (!"pending-review".equals(page.outputStatus())) {
            whyNot = "The output was already reviewed (status " + page.outputStatus() + ").";
        }
        List<Input> inputs = page.inputs().stream().map(i -> {
            var m = models.find(new dev.amalgam.registry.ModelRef.ById(i.id()));
            return new Input(i, m.publisherSignature, m.signatureDigest != null);
        }).toList();
        Detail d = new Detail(Row.of(j), page, inputs, whyNot == null, whyNot,
                user.may(Role.SUBMITTER) && j.state.equals("succeeded"), j.provenanceDigest != null, j.seed);
        return Templates.merge(Chrome.of(user, "Merge " + id, "merges"), d);
    }

    /** Live progress for the queue's script: a small JSON document, polled. */
    @GET
    @Path("{id}/progress")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> progress(@PathParam("id") long id) {
        MergeJob j = states.get(id);
        return Map.of("id", j.id, "state", j.state, "percent", percent(j),
                "failureReason", j.failureReason == null ? "" : j.failureReason);
    }

    @Inject
    dev.amalgam.registry.RegistryConfig config;

    @GET
    @Path("{id}/provenance")
    @Produces("application/vnd.in-toto+json")
    public Response provenance(@PathParam("id") long id) throws IOException {
        MergeJob j = states.get(id);
        if (j.provenanceDigest == null) {
            throw RegistryException.notFound("merge " + id + " has no provenance (yet)");
        }
        return Response.ok(new dev.amalgam.storage.BlobStore(config.settings().blobsDir()).open(j.provenanceDigest),
                "application/vnd.in-toto+json")
                .header("Content-Disposition", "attachment; filename=\"merge-" + id + ".provenance.json\"").build();
    }

    @POST
    @Path("{id}/review")
    public Response review(@PathParam("id") long id, @RestForm("decision") String decision,
                           @RestForm("comment") String comment, @RestForm("csrf") String csrf) {
        user.checkCsrf(csrf);
        user.require(Role.REVIEWER);
        ReviewService.Review r = reviews.review(id, decision, comment, user.caller());
        user.flash("Merge " + id + ": " + r.outcome() + " recorded (decision " + r.decisionId() + ").");
        return Response.seeOther(URI.create("/merges/" + id)).build();
    }

    @POST
    @Path("{id}/reproduce")
    public Response reproduce(@PathParam("id") long id, @RestForm("csrf") String csrf) throws IOException {
        user.checkCsrf(csrf);
        user.require(Role.SUBMITTER);
        MergeJobService.Reproduction r = jobs.reproduce(id, user.caller());
        user.flash("Merge " + id + " re-run: " + (r.identical() ? "bit-identical output (" + r.reproducedDigest() + ")"
                : "DIFFERENT output: " + r.reproducedDigest() + " instead of " + r.originalDigest()));
        return Response.seeOther(URI.create("/merges/" + id)).build();
    }

    @ServerExceptionMapper
    public Response mapError(RegistryException e) {
        return ErrorPage.of(user, e);
    }

    static int percent(MergeJob j) {
        if (j.state.equals("succeeded")) return 100;
        return j.progress == null ? 0 : (int) Math.round(Math.clamp(j.progress, 0, 1) * 100);
    }
}
