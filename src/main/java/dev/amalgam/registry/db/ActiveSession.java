package dev.amalgam.registry.db;

import io.quarkus.hibernate.orm.PersistenceUnit;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.Session;

/**
 * Exposes the Hibernate session of the active persistence unit ({@code h2} or {@code pg}) as the
 * default {@link Session}, so services inject one {@code Session} whichever database runs.
 */
@ApplicationScoped
public class ActiveSession {
    @Inject
    @PersistenceUnit("h2")
    Instance<Session> h2;

    @Inject
    @PersistenceUnit("pg")
    Instance<Session> pg;

    @ConfigProperty(name = "amalgam.db.kind")
    String dbKind;

    @Produces
    @ApplicationScoped
    Session session() {
        return "postgresql".equals(dbKind) ? pg.get() : h2.get();
    }
}
