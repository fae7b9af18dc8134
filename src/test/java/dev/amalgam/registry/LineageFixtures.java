package dev.amalgam.registry;

import dev.amalgam.registry.entity.LineageEdge;
import dev.amalgam.registry.entity.Model;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;

import java.security.MessageDigest;
import java.time.OffsetDateTime;
import java.util.HexFormat;

/** Writes models and lineage edges straight into the database for lineage tests. */
@ApplicationScoped
public class LineageFixtures {
    @Inject
    Session session;

    @Transactional
    public long model(String name, String status) {
        Model m = new Model();
        m.name = name;
        m.version = "1";
        m.rootDigest = "sha256:" + sha256(name);
        m.license = "apache-2.0";
        m.origin = "source";
        m.status = status;
        m.registeredAt = OffsetDateTime.now();
        m.registeredBy = "test";
        session.persist(m);
        return m.id;
    }

    @Transactional
    public void edge(long child, long parent, String role) {
        LineageEdge e = new LineageEdge();
        e.childId = child;
        e.parentId = parent;
        e.role = role;
        e.method = "ties";
        session.persist(e);
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
