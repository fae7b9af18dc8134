package dev.amalgam.registry;

import dev.amalgam.hub.HubCard;
import dev.amalgam.hub.HubConfig;
import dev.amalgam.hub.HubException;
import dev.amalgam.hub.HubId;
import dev.amalgam.hub.HubSnapshot;
import dev.amalgam.ledger.event.ModelRegistered;
import dev.amalgam.policy.LicenseCatalogue;
import dev.amalgam.policy.LicenseInfo;
import dev.amalgam.registry.entity.LineageEdge;
import dev.amalgam.registry.entity.Model;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.hibernate.Session;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a model folder's Hugging Face card and config.json say, checked against what the registrant
 * declares: the card's license (through the license catalogue) must agree with {@code license}
 * unless overridden with a reason; the source identity {@code hf://ORG/NAME@REVISION}; and the
 * declared {@code base_model} entries, which become {@code declared} lineage edges to registered
 * models where they exist.
 */
@ApplicationScoped
public class HubIntake {
    /** The lineage edge role of a base model a card declares (merge edges are {@code base} and {@code input}). */
    public static final String DECLARED = "declared";

    @Inject
    PolicyService policies;

    @Inject
    Session session;

    /** What the registrant adds: the Hub source (ORG/NAME@REVISION) and a reason to override the card's license. */
    public record Request(String source, String licenseOverride) {
        public static final Request NONE = new Request(null, null);
    }

    /** The license to register and the Hub facts to record (null when the folder says nothing Hub-like). */
    public record Intake(String license, ModelRegistered.Hub hub, List<String> baseModels) {
    }

    /** Reads and checks the folder's card; {@code declaredLicense} may be blank when the card names one. */
    public Intake examine(Path folder, String declaredLicense, Request request) {
        HubId source = source(request.source());
        HubCard card;
        HubConfig config;
        try {
            card = read(folder, HubSnapshot.CARD, HubCard.MAX_CARD_BYTES).map(HubCard::parse).orElse(HubCard.empty());
            config = source != null || card.hasFrontMatter()
                    ? read(folder, HubSnapshot.CONFIG, HubConfig.MAX_BYTES).map(HubConfig::parse).orElse(null) : null;
        } catch (HubException e) {
            throw RegistryException.badRequest(e.getMessage());
        }
        String override = blankToNull(request.licenseOverride());
        String cardLicense = cardLicense(card, override);
        String license = decide(declaredLicense, cardLicense, override);
        if (source == null && !card.hasFrontMatter()) return new Intake(license, null, List.of());
        List<String> bases = card.baseModels();
        ModelRegistered.Hub hub = new ModelRegistered.Hub(source == null ? null : source.source(), cardLicense,
                cardLicense != null && !cardLicense.equals(license) ? override : null, List.of(),
                card.baseModels().isEmpty() ? null : card.baseModelRelation() == null ? "finetune" : card.baseModelRelation(),
                card.tags(), card.datasets(), config == null ? null : config.modelType(),
                config == null ? List.of() : config.architectures());
        return new Intake(license, hub, bases);
    }

    /** The Hub facts with every declared base model resolved (now, under the registration lock). */
    public ModelRegistered.Hub resolve(Intake intake) {
        if (intake.hub() == null) return null;
        List<ModelRegistered.BaseModel> bases = new ArrayList<>();
        for (String id : intake.baseModels()) {
            Model m = HubId.looksLike(id) ? find(HubId.parse(id)) : null; // a local name (an offline merge's card) stays unresolved
            bases.add(new ModelRegistered.BaseModel(id, m == null ? null : m.rootDigest));
        }
        ModelRegistered.Hub h = intake.hub();
        return new ModelRegistered.Hub(h.source(), h.cardLicense(), h.licenseOverride(), bases, h.relation(), h.tags(),
                h.datasets(), h.modelType(), h.architectures());
    }

    /** Writes the declarations and their lineage edges for a recorded model (registration and ledger replay). */
    public void recordDeclared(Model child, ModelRegistered.Hub hub) {
        if (hub == null) return;
        child.hubSource = hub.source();
        for (ModelRegistered.BaseModel b : hub.baseModels()) {
            Model parent = b.rootDigest() == null ? null : session.createSelectionQuery(
                    "from Model where rootDigest = :d", Model.class).setParameter("d", b.rootDigest()).uniqueResult();
            session.createNativeMutationQuery("insert into declared_base_model (model_id, hub_id, relation, parent_id)"
                            + " values (:m, :h, :r, :p)")
                    .setParameter("m", child.id).setParameter("h", b.model())
                    .setParameter("r", hub.relation() == null ? "finetune" : hub.relation())
                    .setParameter("p", parent == null ? null : parent.id, Long.class).executeUpdate();
            if (parent != null && !parent.id.equals(child.id)) {
                LineageEdge e = new LineageEdge();
                e.childId = child.id;
                e.parentId = parent.id;
                e.role = DECLARED;
                e.method = hub.relation() == null ? "finetune" : hub.relation();
                session.persist(e);
            }
        }
    }

    /**
     * The registered model a Hub id names: with a revision, the model whose source is
     * {@code hf://ORG/NAME@REVISION} (or registered as {@code ORG/NAME@REVISION}); without one,
     * the only model from that repository (several revisions: ambiguous, so none).
     */
    public Model find(HubId id) {
        if (id.pinned()) {
            Model m = session.createSelectionQuery("from Model where hubSource = :s order by id", Model.class)
                    .setParameter("s", id.source()).setMaxResults(1).uniqueResult();
            if (m != null) return m;
            return session.createSelectionQuery("from Model where name = :n and version = :v", Model.class)
                    .setParameter("n", id.repo()).setParameter("v", id.revision()).uniqueResult();
        }
        List<Model> found = session.createSelectionQuery(
                        "from Model where hubSource like :s or name = :n order by id", Model.class)
                .setParameter("s", HubId.SCHEME + id.repo() + "@%").setParameter("n", id.repo())
                .setMaxResults(2).getResultList();
        return found.size() == 1 ? found.getFirst() : null;
    }

    private HubId source(String s) {
        if (blankToNull(s) == null) return null;
        try {
            HubId id = HubId.parse(s);
            if (!id.pinned()) {
                throw RegistryException.badRequest("source " + s
                        + " names no revision: give ORG/NAME@REVISION (the commit the files came from)");
            }
            return id;
        } catch (HubException e) {
            throw RegistryException.badRequest("source: " + e.getMessage());
        }
    }

    /** The catalogue id of the card's license; a license the catalogue does not know is a problem, never a guess. */
    private String cardLicense(HubCard card, String override) {
        if (card.license() == null) return null;
        LicenseCatalogue catalogue = policies.policies().licenses();
        String l = card.license();
        if (l.equalsIgnoreCase("other")) {
            if (card.licenseName() != null) {
                Optional<LicenseInfo> named = catalogue.find(card.licenseName());
                if (named.isPresent() && named.get().resolved()) return named.get().id();
            }
            if (override != null) return null; // the registrant names the license and says why
            throw RegistryException.unprocessable("the model card says license: other"
                    + (card.licenseName() == null ? " without a license_name"
                    : " with license_name '" + card.licenseName() + "', which the license catalogue does not know")
                    + (card.licenseLink() == null ? "" : " (license_link " + card.licenseLink() + ")")
                    + ": add the license to policies/" + LicenseCatalogue.FILE_NAME
                    + " with its facts, or register with --license and --override-card-license REASON");
        }
        Optional<LicenseInfo> info = catalogue.find(l);
        if (info.isEmpty()) {
            if (override != null) return null;
            throw RegistryException.unprocessable("the model card's license '" + l
                    + "' is not in the license catalogue (policies/" + LicenseCatalogue.FILE_NAME + "): add it there,"
                    + " or register with --license and --override-card-license REASON");
        }
        return info.get().id();
    }

    private String decide(String declared, String cardLicense, String override) {
        if (blankToNull(declared) == null) {
            if (cardLicense == null) return declared; // no license anywhere: the metadata check reports it with the rest
            if (override != null) {
                throw RegistryException.badRequest(
                        "an override of the card's license needs the license that replaces it (license)");
            }
            return cardLicense;
        }
        String normalized = policies.normalizeLicense(declared);
        if (cardLicense == null || cardLicense.equalsIgnoreCase(normalized)) return normalized;
        if (override == null) {
            throw RegistryException.unprocessable("the license " + normalized
                    + " disagrees with the model card's license " + cardLicense + ": register without a license to take"
                    + " the card's, or override it explicitly with a reason (--override-card-license REASON;"
                    + " REST: licenseOverride), which the ledger records");
        }
        return normalized;
    }

    private static Optional<byte[]> read(Path folder, String name, int limit) {
        Path f = folder.resolve(name);
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
        try (InputStream in = Files.newInputStream(f, LinkOption.NOFOLLOW_LINKS)) {
            byte[] b = in.readNBytes(limit + 1);
            if (b.length > limit) throw new HubException(name + " is larger than " + limit + " bytes: refused");
            return Optional.of(b);
        } catch (IOException e) {
            throw new HubException("cannot read " + name + ": " + e.getMessage());
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
