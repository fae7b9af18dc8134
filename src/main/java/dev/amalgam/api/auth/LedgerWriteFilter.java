package dev.amalgam.api.auth;

import dev.amalgam.api.Problem;
import dev.amalgam.registry.LedgerGuard;
import jakarta.annotation.Priority;
import jakarta.inject.Inject;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ContainerRequestFilter;
import jakarta.ws.rs.ext.Provider;

import java.util.Set;

/**
 * While the ledger does not match the database or its witness (truncated, rolled back, forked), every
 * {@code /api/v1} request that could write is refused with 503 naming the problem; reads, proofs and the
 * audit keep working so the damage can be inspected.
 */
@Provider
@Priority(Priorities.AUTHORIZATION)
public class LedgerWriteFilter implements ContainerRequestFilter {
    private static final Set<String> READS = Set.of("GET", "HEAD", "OPTIONS");

    @Inject
    LedgerGuard guard;

    @Override
    public void filter(ContainerRequestContext ctx) {
        String path = ctx.getUriInfo().getPath();
        if (!path.startsWith("/api/") || READS.contains(ctx.getMethod()) || guard.intact()) return;
        ctx.abortWith(Problem.response(503, "Service Unavailable", "the registry refuses writes: "
                + guard.problems().getFirst() + " (run 'amalgam audit'; docs/ledger.md, Recovery)", path).build());
    }
}
