package dev.amalgam.api;

import dev.amalgam.api.auth.CurrentCaller;
import dev.amalgam.api.auth.RequiresRole;
import dev.amalgam.registry.EvaluationService;
import dev.amalgam.registry.ModelRef;
import dev.amalgam.registry.Role;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import org.eclipse.microprofile.openapi.annotations.Operation;

import java.util.List;

/** A model's evaluations: listed, read, and run as jobs ({@code amalgam eval} in the registry, with signed evidence). */
@Path("/api/v1/models/{ref}/evaluations")
@Produces(MediaType.APPLICATION_JSON)
public class EvaluationResource {
    @Inject
    EvaluationService evaluations;

    @Inject
    CurrentCaller caller;

    @GET
    @Operation(summary = "List the model's evaluations (queued, running, done with metrics and signed statement, failed with the error)")
    public List<EvaluationService.View> list(@PathParam("ref") String ref) {
        return evaluations.list(ModelRef.parse(ref));
    }

    @GET
    @Path("/{id}")
    @Operation(summary = "One evaluation of the model")
    public EvaluationService.View get(@PathParam("ref") String ref, @PathParam("id") long id) {
        return evaluations.get(ModelRef.parse(ref), id);
    }

    @GET
    @Path("/{id}/statement")
    @Produces("application/json")
    @Operation(summary = "The evaluation's DSSE envelope: an in-toto statement (predicate https://amalgam.dev/evaluation/v1) signed by the registry key")
    public Response statement(@PathParam("ref") String ref, @PathParam("id") long id) throws java.io.IOException {
        return Response.ok(evaluations.statement(ModelRef.parse(ref), id), "application/json").build();
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.SUBMITTER)
    @Operation(summary = "Evaluate the model as a job: body {dataset, tokens (a token file's text: one sequence of token ids per"
            + " line), references (optional model references), seqLen (optional, default 128)}; 202 with the queued evaluation")
    public Response submit(@PathParam("ref") String ref, EvaluationService.Request req) {
        EvaluationService.View v = evaluations.submit(ModelRef.parse(ref), req, caller.get());
        evaluations.start(v.id());
        return Response.accepted(v).location(UriBuilder.fromPath("/api/v1/models/{ref}/evaluations/{id}").build(ref, v.id())).build();
    }
}
