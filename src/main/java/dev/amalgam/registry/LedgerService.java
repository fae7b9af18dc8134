package dev.amalgam.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.ledger.CommitSigning;
import dev.amalgam.ledger.Ledger;
import dev.amalgam.ledger.LedgerKeys;
import dev.amalgam.ledger.Witness;
import dev.amalgam.ledger.event.EventCodec;
import dev.amalgam.ledger.event.LedgerEvent;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The registry's ledger ({@code ledger.git} in the data directory): every registration, merge,
 * review and decision is appended here, and the database row records the entry's sequence number.
 */
@ApplicationScoped
public class LedgerService {
    private static final Logger LOG = Logger.getLogger(LedgerService.class);

    @Inject
    RegistryConfig config;

    @Inject
    LedgerGuard guard;

    @Inject
    TransactionSynchronizationRegistry transactions;

    /** Entries appended by transactions still open: their rows are not in the database yet, and that is no finding. */
    private final Set<Long> inFlight = ConcurrentHashMap.newKeySet();

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
                        ledger = Ledger.open(s.ledgerDir(), LedgerKeys.loadOrCreate(s.keysDir(), config.ledgerOrigin()),
                                CommitSigning.loadOrCreate(s.keysDir()), config.ledgerOrigin());
                        config.ledgerRemote().filter(r -> !r.isBlank()).ifPresent(ledger::replicateTo);
                        witness(ledger, s.keysDir());
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot open the ledger", e);
                    }
                }
            }
        }
        return ledger;
    }

    private void witness(Ledger l, Path keysDir) throws IOException {
        Path dir = config.witnessDir().map(Path::of).orElse(config.settings().dataDir().resolve("witness"));
        Witness w = Witness.open(dir, config.witnessName(), LedgerKeys.loadOrCreate(keysDir, config.ledgerOrigin()));
        l.witnessedBy(w);
        if (w.latest().isEmpty() && l.size() > 0) {
            // first start with a witness (an installation from before witnesses, or its folder was lost):
            // it starts from the ledger as it is now, which it cannot vouch for; say so
            LOG.warnf("The witness in %s holds no checkpoint; it now cosigns the ledger's current one (%d entries) "
                    + "and vouches only for what is appended from here on", dir, l.size());
            try {
                w.add(l.checkpoint().orElseThrow(), 0, List.of());
            } catch (Witness.Refused e) {
                throw new IOException("the witness refused the ledger's checkpoint: " + e.getMessage());
            }
        }
    }

    /** True while the transaction that appended entry {@code seq} has neither committed nor rolled back. */
    public boolean inFlight(long seq) {
        return inFlight.contains(seq);
    }

    private void track(long seq) {
        if (transactions.getTransactionKey() == null) return;
        inFlight.add(seq);
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {
            }

            @Override
            public void afterCompletion(int status) {
                inFlight.remove(seq);
            }
        });
    }

    /** The latest signed checkpoint (C2SP signed note); empty while the ledger has no entries. */
    public Optional<String> checkpoint() throws IOException {
        return ledger().checkpoint();
    }

    /** The checkpoint key as a C2SP note verifier key. */
    public String verifierKey() {
        return ledger().verifierKey();
    }

    /** The witness's verifier key and the latest checkpoint it cosigned. */
    public record WitnessState(String verifierKey, String checkpoint) {
    }

    public Optional<WitnessState> witness() throws IOException {
        Optional<Witness> w = ledger().witness();
        return w.isEmpty() ? Optional.empty() : Optional.of(new WitnessState(w.get().verifierKey(), w.get().latest().orElse(null)));
    }

    /** Entry {@code n} as stored (canonical JSON). */
    public Optional<JsonNode> entry(long n) throws IOException {
        return ledger().entry(n);
    }

    public long size() {
        return ledger().size();
    }

    /** Inclusion proof of entry {@code n} in the tree of {@code size} entries (C2SP tlog-proof text). */
    public String inclusionProof(long n, long size) throws IOException {
        return ledger().inclusionProof(n, size);
    }

    /** Consistency proof from the tree of {@code from} entries to the one of {@code to}, hashes in base64. */
    public List<String> consistencyProof(long from, long to) {
        return ledger().consistencyProof(from, to);
    }

    /** Appends an event and returns its receipt (sequence number and entry hash, which the row records). */
    public Ledger.Receipt append(String actor, LedgerEvent event) {
        guard.requireWritable();
        try {
            String type = EventCodec.typeName(event);
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
