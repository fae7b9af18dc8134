package dev.amalgam.api;

import dev.amalgam.api.auth.CurrentCaller;
import dev.amalgam.api.auth.RequiresRole;
import dev.amalgam.registry.MergeJobService;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.ReviewService;
import dev.amalgam.registry.Role;
import dev.amalgam.registry.entity.MergeJob;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import org.eclipse.microprofile.openapi.annotations.Operation;

import java.io.IOException;
import java.time.OffsetDateTime;
import java.util.List;

/** Merge jobs: submit a mergekit recipe naming registered models, follow it, cancel it. */
@Path("/api/v1/merges")
@Produces(MediaType.APPLICATION_JSON)
public class MergeResource {
    @Inject
    MergeJobService jobs;

    @Inject
    MergeJobService.JobStateWriter states;

    @Inject
    ReviewService reviews;

    @Inject
    CurrentCaller caller;

    /** Body of {@code POST /api/v1/merges/{id}/review}. */
    public record ReviewRequest(String decision, String comment) {
    }

    /** A merge job as the API shows it. */
    public record JobView(long id, String state, Double progress, String method, String outputName,
                          String outputVersion, Long seed, String submittedBy,
                          OffsetDateTime submittedAt, OffsetDateTime startedAt, OffsetDateTime finishedAt,
                          String failureReason, Long outputModelId, String recipe) {
        static JobView of(MergeJob j) {
            return new JobView(j.id, j.state, j.progress, j.method, j.outputName, j.outputVersion, j.seed, j.submittedBy, j.submittedAt,
                    j.startedAt, j.finishedAt, j.failureReason, j.outputModelId, j.recipe);
        }
    }

    @POST
    @Consumes({"application/yaml", "application/x-yaml", "text/yaml", MediaType.TEXT_PLAIN})
    @RequiresRole(Role.SUBMITTER)
    @Operation(summary = "Submit a mergekit recipe whose models are registered (NAME@VERSION or sha256:DIGEST); 202 + Location")
    public Response submit(@QueryParam("name") String name, @QueryParam("version") String version, String yaml) {
        if (yaml != null && yaml.length() > 1_000_000) {
            throw RegistryException.tooLarge("a recipe is limited to 1,000,000 characters");
        }
        MergeJob job = jobs.submit(yaml, name, version, caller.get());
        return Response.accepted(JobView.of(job))
                .location(UriBuilder.fromPath("/api/v1/merges/{id}").build(job.id)).build();
    }

    @GET
    @Operation(summary = "Recent merge jobs, newest first")
    public List<JobView> list(@QueryParam("offset") String offset, @QueryParam("limit") String limit) {
        return states.list((int) QueryParams.integer("offset", offset, 0, 0, Integer.MAX_VALUE),
                (int) QueryParams.integer("limit", limit, 100, 1, 1000)).stream().map(JobView::of).toList();
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "State of a merge job: queued, running (with progress), succeeded, failed (with reason), cancelled")
    public JobView get(@PathParam("id") long id) {
        return JobView.of(states.get(id));
    }

    @POST
    @Path("/{id}/review")
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.REVIEWER)
    @Operation(summary = "Approve or reject a merge's output; the submitter can never review their own merge")
    public ReviewService.Review review(@PathParam("id") long id, ReviewRequest req) {
        if (req == null) throw RegistryException.badRequest("body must be {decision, comment}");
        return reviews.review(id, req.decision(), req.comment(), caller.get());
    }

    @GET
    @Path("/{id}/review")
    @Operation(summary = "Review page data: recipe, inputs with licenses and scans, diff against the previous version, reviews")
    public ReviewService.ReviewPage reviewPage(@PathParam("id") long id) {
        return reviews.page(id);
    }

    @POST
    @Path("/{id}/reproduce")
    @RequiresRole(Role.SUBMITTER)
    @Operation(summary = "Re-run the merge from its recorded recipe and inputs; reports whether the output digest is identical")
    public MergeJobService.Reproduction reproduce(@PathParam("id") long id) throws IOException {
        return jobs.reproduce(id, caller.get());
    }

    @GET
    @Path("/{id}/provenance")
    @Produces("application/vnd.in-toto+json")
    @Operation(summary = "The output's SLSA provenance v1 (DSSE envelope signed by the registry key)")
    public Response provenance(@PathParam("id") long id) throws IOException {
        return Response.ok(jobs.provenance(id), "application/vnd.in-toto+json").build();
    }

    @DELETE
    @Path("/{id}")
    @RequiresRole(Role.SUBMITTER)
    @Operation(summary = "Cancel a queued or running merge job; only its submitter or an admin (403 otherwise)")
    public JobView cancel(@PathParam("id") long id) {
        return JobView.of(jobs.cancel(id, caller.get()));
    }
}
