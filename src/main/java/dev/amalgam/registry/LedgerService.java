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

    /** Appends an event and returns its sequence number. */
    public long append(String actor, LedgerEvent event) {
        try {
            String type = dev.amalgam.ledger.event.EventCodec.typeName(event);
            FaultPoints.at("appending." + type);
            long seq = ledger().append(actor, event).seq();
            FaultPoints.at("appended." + type); // the entry is written, the caller's transaction not yet committed
            return seq;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to the ledger", e);
        }
    }
}
