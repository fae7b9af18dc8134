package dev.amalgam.api.auth;

import dev.amalgam.registry.Caller;
import jakarta.enterprise.context.RequestScoped;

/** The authenticated caller of the current request, set by {@link BearerTokenFilter}. */
@RequestScoped
public class CurrentCaller {
    private Caller caller;

    void set(Caller caller) {
        this.caller = caller;
    }

    /** The caller; every {@code /api/v1} request that reaches a resource has one. */
    public Caller get() {
        if (caller == null) throw new IllegalStateException("no authenticated caller for this request");
        return caller;
    }
}
