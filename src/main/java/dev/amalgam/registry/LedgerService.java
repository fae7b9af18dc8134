package dev.amalgam.registry;

import dev.amalgam.ledger.Ledger;
import dev.amalgam.ledger.LedgerKeys;
import dev.amalgam.ledger.Witness;
import dev.amalgam.ledger.event.LedgerEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The registry's ledger ({@code ledger.git} in the data directory): every registration, merge,
 * review and decision is appended here, and the database row records the entry's sequence number.
 */
@ApplicationScoped
public class LedgerService {
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(LedgerService.class);

    @Inject
    RegistryConfig config;

    @ConfigProperty(name = "amalgam.ledger.origin", defaultValue = "amalgam/ledger")
    String origin;

    /** AMALGAM_LEDGER_REMOTE: a Git URL every append is pushed to. */
    @ConfigProperty(name = "amalgam.ledger.remote")
    java.util.Optional<String> remote;

    /** AMALGAM_WITNESS_DIR: the witness's folder (key and cosigned checkpoint); default {@code <data>/witness}. */
    @ConfigProperty(name = "amalgam.witness.dir")
    java.util.Optional<String> witnessDir;

    @ConfigProperty(name = "amalgam.witness.name", defaultValue = "amalgam/witness")
    String witnessName;

    @Inject
    LedgerGuard guard;

    private volatile Ledger ledger;

    void onStart(@Observes @Priority(3000) StartupEvent ev) throws IOException {
        ledger();
    }

    /**
     * Closes the ledger and opens it again from disk, then re-runs the start-up checks: what a restart
     * does to the ledger, without restarting the server (tests of tampering with a stopped ledger use it).
     */
    synchronized void reload() throws IOException {
        if (ledger != null) ledger.close();
        ledger = null;
        ledger();
        guard.recheck();
    }

    void onStop(@Observes ShutdownEvent ev) {
        if (ledger != null) ledger.close();
    }

    public Ledger ledger() {
        if (ledger == null) {
            synchronized (this) {
                if (ledger == null) {
                    try {
                        var s = config.settings();
                        ledger = Ledger.open(s.ledgerDir(), LedgerKeys.loadOrCreate(s.keysDir(), origin),
                                dev.amalgam.ledger.CommitSigning.loadOrCreate(s.keysDir()), origin);
                        remote.ifPresent(ledger::replicateTo);
                        witness(ledger, s.keysDir());
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot open the ledger", e);
                    }
                }
            }
        }
        return ledger;
    }

    private void witness(Ledger l, java.nio.file.Path keysDir) throws IOException {
        java.nio.file.Path dir = witnessDir.map(java.nio.file.Path::of).orElse(config.settings().dataDir().resolve("witness"));
        Witness w = Witness.open(dir, witnessName, LedgerKeys.loadOrCreate(keysDir, origin));
        l.witnessedBy(w);
        if (w.latest().isEmpty() && l.size() > 0) {
            // first start with a witness (an installation from before witnesses, or its folder was lost):
            // it starts from the ledger as it is now, which it cannot vouch for; say so
            LOG.warnf("The witness in %s holds no checkpoint; it now cosigns the ledger's current one (%d entries) "
                    + "and vouches only for what is appended from here on", dir, l.size());
            try {
                w.add(l.checkpoint().orElseThrow(), 0, java.util.List.of());
            } catch (Witness.Refused e) {
                throw new IOException("the witness refused the ledger's checkpoint: " + e.getMessage());
            }
        }
    }

    @Inject
    jakarta.transaction.TransactionSynchronizationRegistry transactions;

    /** Entries appended by transactions still open: their rows are not in the database yet, and that is no finding. */
    private final java.util.Set<Long> inFlight = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** True while the transaction that appended entry {@code seq} has neither committed nor rolled back. */
    public boolean inFlight(long seq) {
        return inFlight.contains(seq);
    }

    private void track(long seq) {
        if (transactions.getTransactionKey() == null) return;
        inFlight.add(seq);
        transactions.registerInterposedSynchronization(new jakarta.transaction.Synchronization() {
            @Override
            public void beforeCompletion() {
            }

            @Override
            public void afterCompletion(int status) {
                inFlight.remove(seq);
            }
        });
    }

    /** Appends an event and returns its receipt (sequence number and entry hash, which the row records). */
    public Ledger.Receipt append(String actor, LedgerEvent event) {
        guard.requireWritable();
        try {
            String type = dev.amalgam.ledger.event.EventCodec.typeName(event);
            FaultPoints.at("appending." + type);
            Ledger.Receipt receipt = ledger().append(actor, event);
            track(receipt.seq());
            FaultPoints.at("appended." + type); // the entry is written, the caller's transaction not yet committed
            return receipt;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the ledger", e);
        }
    }
}
