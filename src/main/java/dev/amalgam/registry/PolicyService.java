package dev.amalgam.registry;

import dev.amalgam.policy.LicenseExpressionException;
import dev.amalgam.policy.LicenseExpressionParser;
import dev.amalgam.policy.Policies;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.time.Instant;

/**
 * The policy files ({@code AMALGAM_POLICIES}, default {@code ./policies}), loaded and validated
 * first thing at start: a bad file stops the registry with the file's own one-line message.
 */
@ApplicationScoped
public class PolicyService {
    private static final Logger LOG = Logger.getLogger(PolicyService.class);

    @Inject
    RegistryConfig config;

    private volatile Policies policies;

    void onStart(@Observes @Priority(100) StartupEvent ev) {
        policies = Policies.load(config.settings().policiesDir());
        policies.release().expiredAt(Instant.now()).forEach(e ->
                LOG.warnf("Policy exception has expired and no longer applies: %s", e));
        LOG.infof("Policies loaded from %s", config.settings().policiesDir());
    }

    /**
     * A declared license as the registry stores it: a Hub id or alias becomes its catalogue id
     * ({@code llama3.1} to the Llama 3.1 LicenseRef), an SPDX expression is parsed and printed
     * canonically. Unknown ids stay as written (the gate denies them); bad syntax is refused.
     */
    public String normalizeLicense(String declared) {
        if (declared == null || declared.isBlank()) {
            throw RegistryException.badRequest("license: required");
        }
        var catalogue = policies().licenses();
        var single = catalogue.find(declared.strip());
        if (single.isPresent()) return single.get().id();
        try {
            return catalogue.canonicalize(LicenseExpressionParser.parse(declared.strip())).toString();
        } catch (LicenseExpressionException e) {
            throw RegistryException.badRequest("license: " + e.getMessage());
        }
    }

    public Policies policies() {
        Policies p = policies;
        if (p == null) throw new IllegalStateException("policies are not loaded yet");
        return p;
    }
}
