package dev.amalgam.api.health;

import dev.amalgam.registry.LedgerGuard;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready only while the ledger matches the database's references and its witness (see LedgerGuard). */
@Readiness
@ApplicationScoped
public class LedgerHealthCheck implements HealthCheck {
    @Inject
    LedgerGuard guard;

    @Override
    public HealthCheckResponse call() {
        var b = HealthCheckResponse.named("ledger").status(guard.intact());
        if (!guard.intact()) b.withData("problem", guard.problems().getFirst());
        return b.build();
    }
}
