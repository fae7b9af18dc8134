package dev.amalgam.registry;

import dev.amalgam.ledger.Ledger;
import dev.amalgam.ledger.LedgerKeys;
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
    @Inject
    RegistryConfig config;

    @ConfigProperty(name = "amalgam.ledger.origin", defaultValue = "amalgam/ledger")
    String origin;

    /** AMALGAM_LEDGER_REMOTE: a Git URL every append is pushed to. */
    @ConfigProperty(name = "amalgam.ledger.remote")
    java.util.Optional<String> remote;

    private volatile Ledger ledger;

    void onStart(@Observes @Priority(3000) StartupEvent ev) throws IOException {
        ledger();
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
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot open the ledger", e);
                    }
                }
            }
        }
        return ledger;
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

    /** Appends an event and returns its sequence number. */
    public long append(String actor, LedgerEvent event) {
        try {
            String type = dev.amalgam.ledger.event.EventCodec.typeName(event);
            FaultPoints.at("appending." + type);
            long seq = ledger().append(actor, event).seq();
            track(seq);
            FaultPoints.at("appended." + type); // the entry is written, the caller's transaction not yet committed
            return seq;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the ledger", e);
        }
    }
}
