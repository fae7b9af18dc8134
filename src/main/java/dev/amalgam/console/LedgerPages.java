package dev.amalgam.console;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.ledger.Ledger;
import dev.amalgam.registry.AuditService;
import dev.amalgam.registry.LedgerService;
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

import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The ledger: latest checkpoint and witness cosignature, recent entries, an entry with its inclusion proof
 * for the browser to verify itself (proof.js, WebCrypto SHA-256), and the audit for admins.
 */
@Path("/ledger")
@ConsolePage
@Produces(MediaType.TEXT_HTML)
public class LedgerPages {
    static final int RECENT = 25;

    @Inject
    ConsoleUser user;

    @Inject
    LedgerService ledger;

    @Inject
    AuditService audit;

    /** A line of the recent entries. */
    public record Line(long seq, String type, String actor, String time) {
    }

    public record Overview(long size, String checkpoint, String witnessKey, String witnessCheckpoint,
                           List<Line> recent, boolean mayAudit) {
    }

    @GET
    public TemplateInstance overview() throws IOException {
        Ledger l = ledger.ledger();
        long size = l.size();
        List<Line> recent = new ArrayList<>();
        for (long seq = size - 1; seq >= 0 && seq >= size - RECENT; seq--) {
            JsonNode e = l.entry(seq).orElse(null);
            if (e == null) continue;
            recent.add(new Line(seq, e.path("type").asText(), e.path("actor").asText(), e.path("timestamp").asText()));
        }
        String wKey = null;
        String wCp = null;
        var w = l.witness();
        if (w.isPresent()) {
            wKey = w.get().verifierKey();
            wCp = w.get().latest().orElse(null);
        }
        return Templates.ledger(Chrome.of(user, "Ledger", "ledger"), new Overview(size, l.checkpoint().orElse(null),
                wKey, wCp, recent, user.may(Role.ADMIN)));
    }

    /** An entry, its bytes for the browser to hash, and a tlog-proof against the latest checkpoint. */
    public record Entry(long seq, long size, String json, String bytesBase64, String proof) {
    }

    @GET
    @Path("entries/{seq}")
    public TemplateInstance entry(@PathParam("seq") long seq) throws IOException {
        Ledger l = ledger.ledger();
        byte[] bytes = l.entryBytes(seq).orElseThrow(() ->
                RegistryException.notFound("no ledger entry " + seq));
        long size = l.size();
        String json = l.entry(seq).map(JsonNode::toPrettyString).orElse("");
        return Templates.entry(Chrome.of(user, "Ledger entry " + seq, "ledger"), new Entry(seq, size, json,
                Base64.getEncoder().encodeToString(bytes), l.inclusionProof(seq, size)));
    }

    /** The audit's answer. */
    public record Audit(AuditService.AuditReport report) {
    }

    @POST
    @Path("audit")
    public TemplateInstance runAudit(@RestForm("csrf") String csrf) throws IOException {
        user.checkCsrf(csrf);
        user.require(Role.ADMIN);
        return Templates.audit(Chrome.of(user, "Audit", "ledger"), new Audit(audit.audit()));
    }

    @ServerExceptionMapper
    public Response mapError(RegistryException e) {
        return ErrorPage.of(user, e);
    }
}
