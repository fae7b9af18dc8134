package dev.amalgam.console;

import dev.amalgam.registry.Caller;
import dev.amalgam.registry.RegistryException;
import dev.amalgam.registry.Role;
import jakarta.enterprise.context.RequestScoped;

/** The signed-in principal of a console request (set by {@link ConsoleFilter}), with its session's CSRF token. */
@RequestScoped
public class ConsoleUser {
    private Caller caller;
    private ConsoleSessions.Session session;

    void set(Caller caller, ConsoleSessions.Session session) {
        this.caller = caller;
        this.session = session;
    }

    public boolean signedIn() {
        return caller != null;
    }

    /** The caller; pages behind sign-in always have one (the filter redirects otherwise). */
    public Caller caller() {
        if (caller == null) throw new IllegalStateException("no signed-in principal for this console request");
        return caller;
    }

    public String name() {
        return caller().name();
    }

    public String csrf() {
        return session == null ? "" : session.csrf;
    }

    public boolean may(Role role) {
        return caller != null && caller.may(role);
    }

    /** Server-side role check: the page hides what a principal may not do, and this refuses it again. */
    public void require(Role role) {
        if (!may(role)) {
            throw RegistryException.forbidden("principal '" + name()
                    + "' lacks the role '" + role.id() + "' this action needs");
        }
    }

    /** Refuses a form whose CSRF token is not this session's. */
    public void checkCsrf(String token) {
        if (session == null || !ConsoleSessions.same(session.csrf, token)) {
            throw RegistryException.forbidden(
                    "the form's CSRF token does not match this session: reload the page and try again");
        }
    }

    /** Leaves a one-time message for the next page of this session. */
    public void flash(String message) {
        if (session != null) session.flash = message;
    }

    /** The pending one-time message, cleared. */
    public String takeFlash() {
        if (session == null) return null;
        String f = session.flash;
        session.flash = null;
        return f;
    }
}
