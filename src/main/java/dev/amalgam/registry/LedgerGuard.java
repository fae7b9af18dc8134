package dev.amalgam.registry;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.hibernate.Session;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Roll-back, truncation and fork detection, as transparency-log clients do it: the database's
 * references to ledger entries (sequence number and entry hash) must still resolve to the same bytes,
 * and the ledger must extend the checkpoint its witness cosigned. Checked at start-up (and by the
 * audit); while it fails, readiness is DOWN and every write is refused with 503, so no sequence number
 * is ever handed out twice.
 */
@ApplicationScoped
public class LedgerGuard {
    private static final Logger LOG = Logger.getLogger(LedgerGuard.class);
    /** Every entity that records the ledger entry which created it. */
    static final List<String> REFERENCING = List.of("Model", "MergeJob", "Decision", "ApiPrincipal");

    @Inject
    Session session;

    @Inject
    LedgerService ledger;

    private volatile List<String> problems = List.of();

    void onStart(@Observes @Priority(3400) StartupEvent ev) throws IOException {
        recheck();
    }

    /** Runs the checks again and remembers their outcome; returns the problems found. */
    public List<String> recheck() throws IOException {
        List<String> found = check(false);
        problems = List.copyOf(found);
        for (String p : found) LOG.errorf("Ledger integrity: %s. Writes are refused until this is resolved (docs/ledger.md, Recovery)", p);
        return found;
    }

    public boolean intact() {
        return problems.isEmpty();
    }

    public List<String> problems() {
        return problems;
    }

    /** Refuses a write while the ledger does not match the database or its witness. */
    public void requireWritable() {
        if (!problems.isEmpty()) {
            throw RegistryException.unavailable("the registry refuses writes: " + problems.getFirst() + " (run 'amalgam audit'; docs/ledger.md, Recovery)",
                    problems);
        }
    }

    /**
     * The witness comparison plus the database's references: for {@code everyRow}, each row's entry;
     * otherwise only the newest reference of each table (an entry's hash covers every entry before it
     * through the hash chain, so the newest one vouches for the prefix).
     */
    @Transactional
    public List<String> check(boolean everyRow) throws IOException {
        List<String> found = new ArrayList<>(ledger.ledger().loadProblems());
        found.addAll(ledger.ledger().checkWitness());
        long size = ledger.ledger().size();
        for (String entity : REFERENCING) {
            String q = "select id, ledgerSeq, ledgerHash from " + entity + " where ledgerSeq is not null"
                    + (everyRow ? " order by ledgerSeq" : " and ledgerSeq = (select max(ledgerSeq) from " + entity + ")");
            for (Object[] r : session.createSelectionQuery(q, Object[].class).getResultList()) {
                long seq = (Long) r[1];
                String what = label(entity) + " " + r[0];
                if (seq >= size) {
                    found.add("the ledger is behind the database: " + what + " was recorded as ledger entry " + seq
                            + " but the ledger holds only " + size + " entries (truncated or rolled back)");
                    continue;
                }
                Optional<String> hash = ledger.ledger().entryHash(seq);
                if (r[2] != null && !r[2].equals(hash.orElse(null))) {
                    found.add("the ledger forked: entry " + seq + " is not the entry " + what + " was recorded with (sha256 "
                            + r[2] + ", the ledger now has " + hash.orElse("nothing") + ")");
                }
            }
        }
        return found;
    }

    private static String label(String entity) {
        return switch (entity) {
            case "MergeJob" -> "merge";
            case "ApiPrincipal" -> "principal";
            default -> entity.toLowerCase(Locale.ROOT);
        };
    }
}
