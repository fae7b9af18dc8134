package dev.amalgam.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.api.auth.RequiresRole;
import dev.amalgam.registry.LedgerReplay;
import dev.amalgam.registry.LedgerService;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.Role;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.openapi.annotations.Operation;

import java.io.IOException;
import java.util.List;

/** The ledger: signed checkpoints, entries, inclusion and consistency proofs. */
@Path("/api/v1/ledger")
public class LedgerResource {
    @Inject
    LedgerService ledger;

    @Inject
    LedgerReplay replay;

    @GET
    @Path("/checkpoint")
    @Produces(MediaType.TEXT_PLAIN)
    @Operation(summary = "The latest checkpoint (C2SP signed note over the Merkle root of all entries)")
    public String checkpoint() throws IOException {
        return ledger.checkpoint().orElseThrow(() ->
                RegistryException.notFound("the ledger has no entries yet"));
    }

    @GET
    @Path("/key")
    @Produces(MediaType.TEXT_PLAIN)
    @Operation(summary = "The checkpoint signing key as a C2SP note verifier key (clients remember it on first use)")
    public String key() {
        return ledger.verifierKey() + "\n";
    }

    /** The witness's verifier key and the latest checkpoint it cosigned. */
    public record WitnessView(String witness, String checkpoint) {
    }

    @GET
    @Path("/witness")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "The witness's verifier key and the latest checkpoint it cosigned (C2SP tlog-cosignature)")
    public WitnessView witness() throws IOException {
        var w = ledger.witness().orElseThrow(() -> RegistryException.notFound("this registry has no witness"));
        return new WitnessView(w.verifierKey(), w.checkpoint());
    }

    @GET
    @Path("/entries/{n}")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Ledger entry n (canonical JSON)")
    public JsonNode entry(@PathParam("n") long n) throws IOException {
        return ledger.entry(n).orElseThrow(() ->
                RegistryException.notFound("no ledger entry " + n));
    }

    @GET
    @Path("/entries/{n}/proof")
    @Produces(MediaType.TEXT_PLAIN)
    @Operation(summary = "Inclusion proof of entry n in the tree of the given size (default: current size)")
    public String proof(@PathParam("n") long n, @QueryParam("size") String size) throws IOException {
        long s = QueryParams.integer("size", size, ledger.size(), 0, Long.MAX_VALUE);
        try {
            return ledger.inclusionProof(n, s);
        } catch (IllegalArgumentException e) {
            throw RegistryException.badRequest(e.getMessage());
        }
    }

    /** How many ledger entries were applied to the database. */
    public record Replayed(int applied) {
    }

    @POST
    @Path("/replay")
    @Produces(MediaType.APPLICATION_JSON)
    @RequiresRole(Role.ADMIN)
    @Operation(summary = "Rebuild an empty database from the ledger alone (409 when the database already holds models)")
    public Replayed replay() throws IOException {
        return new Replayed(replay.replay());
    }

    /** Consistency proof between two tree sizes, hashes in base64. */
    public record Consistency(long from, long to, List<String> proof) {
    }

    @GET
    @Path("/consistency")
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Consistency proof between tree sizes from and to (a mirror checks history was never rewritten)")
    public Consistency consistency(@QueryParam("from") String fromText, @QueryParam("to") String toText) {
        long from = QueryParams.integer("from", fromText, 0, 0, Long.MAX_VALUE);
        long to = QueryParams.integer("to", toText, 0, 0, Long.MAX_VALUE);
        try {
            return new Consistency(from, to, ledger.consistencyProof(from, to));
        } catch (IllegalArgumentException e) {
            throw RegistryException.badRequest(e.getMessage());
        }
    }
}
